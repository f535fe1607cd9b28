//! Reading what a registry's JSON says about an image, for
//! [`super::DigestSource::describe`]: an index's platform children
//! (attestation entries left out), an image manifest's config blob, a
//! config's platform and `created` date, and the
//! `org.opencontainers.image.created` annotation. Pure functions on bytes
//! the caller has already read with a cap; any shape the registry sends
//! (wrong types, missing keys, absurd dates) gives an error or "unknown",
//! never a panic.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Platform;
use super::error::RegistryError;
use crate::reference::validate_digest;

/// The annotation that says when an image was created (RFC 3339).
pub(crate) const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// BuildKit's annotation on an index entry that is an attestation manifest.
const REFERENCE_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";
/// Config blobs larger than this are refused (real ones are a few KiB).
pub(crate) const MAX_CONFIG_BYTES: usize = 1 << 20;
/// An index with more children than this is refused.
const MAX_CHILDREN: usize = 4096;
/// Dates before this (2000-01-01) are placeholders (the epoch, Go's zero
/// time, `SOURCE_DATE_EPOCH=0`, 1980-01-01 of reproducible builds), not
/// creation dates: no container image is that old.
pub(crate) const EARLIEST_REAL_DATE: i64 = 946_684_800;

/// A manifest fetched by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Manifest {
    /// An OCI index or Docker manifest list.
    Index {
        /// Platform children, attestations left out.
        platforms: Vec<Platform>,
        /// The index's own `created` annotation.
        created: Option<i64>,
        /// The `created` annotation on a platform child's entry in the
        /// index (Docker's official images carry one per entry), by the
        /// child's digest.
        entry_created: BTreeMap<String, i64>,
    },
    /// One image: its config blob's digest.
    Image {
        config: String,
        created: Option<i64>,
    },
}

/// What an image config says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ImageConfig {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub created: Option<i64>,
}

fn parse_json(bytes: &[u8], what: &str) -> Result<Value, RegistryError> {
    serde_json::from_slice(bytes)
        .map_err(|e| RegistryError::invalid_answer(format!("{what} is not valid JSON ({e})")))
}

/// A short string field (a name, not an essay); anything else is absent.
fn short_str<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 128 && !s.chars().any(char::is_control))
}

fn created_annotation(v: &Value) -> Option<i64> {
    v.get("annotations")
        .and_then(|a| a.get(CREATED_ANNOTATION))
        .and_then(Value::as_str)
        .and_then(parse_date)
}

/// Parses a manifest or index. Errors say what is wrong, for a message.
pub(crate) fn parse_manifest(bytes: &[u8]) -> Result<Manifest, RegistryError> {
    let v = parse_json(bytes, "the manifest")?;
    if !v.is_object() {
        return Err(RegistryError::invalid_answer(
            "the manifest is not a JSON object",
        ));
    }
    let created = created_annotation(&v);
    if let Some(list) = v.get("manifests") {
        let list = list.as_array().ok_or_else(|| {
            RegistryError::invalid_answer("the index's `manifests` is not a list")
        })?;
        if list.len() > MAX_CHILDREN {
            return Err(RegistryError::invalid_answer(format!(
                "the index lists {} manifests (more than {MAX_CHILDREN})",
                list.len()
            )));
        }
        let platforms: Vec<Platform> = list.iter().filter_map(platform_child).collect();
        let entry_created = list
            .iter()
            .filter_map(|e| Some((platform_child(e)?.digest, created_annotation(e)?)))
            .collect();
        return Ok(Manifest::Index {
            platforms,
            created,
            entry_created,
        });
    }
    let config = v
        .get("config")
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RegistryError::invalid_answer(
                "the manifest has no config digest (not an OCI or Docker v2 manifest)",
            )
        })?;
    validate_digest(config)
        .map_err(|e| RegistryError::invalid_answer(format!("the manifest's config digest: {e}")))?;
    Ok(Manifest::Image {
        config: config.to_string(),
        created,
    })
}

/// An index entry that is a platform's image: one with a valid digest and
/// a `platform`, that is not an attestation (`unknown/unknown`, or
/// BuildKit's `vnd.docker.reference.type` annotation).
fn platform_child(entry: &Value) -> Option<Platform> {
    let digest = entry.get("digest").and_then(Value::as_str)?;
    validate_digest(digest).ok()?;
    if entry
        .get("annotations")
        .and_then(|a| a.get(REFERENCE_TYPE_ANNOTATION))
        .is_some()
    {
        return None;
    }
    let p = entry.get("platform")?;
    let os = short_str(p, "os")?;
    let architecture = short_str(p, "architecture")?;
    if os == "unknown" || architecture == "unknown" {
        return None;
    }
    Some(Platform {
        os: os.to_string(),
        architecture: architecture.to_string(),
        variant: short_str(p, "variant").map(str::to_string),
        digest: digest.to_string(),
    })
}

/// Parses an image config blob.
pub(crate) fn parse_config(bytes: &[u8]) -> Result<ImageConfig, RegistryError> {
    let v = parse_json(bytes, "the image config")?;
    if !v.is_object() {
        return Err(RegistryError::invalid_answer(
            "the image config is not a JSON object",
        ));
    }
    Ok(ImageConfig {
        os: short_str(&v, "os").map(str::to_string),
        architecture: short_str(&v, "architecture").map(str::to_string),
        variant: short_str(&v, "variant").map(str::to_string),
        created: v
            .get("created")
            .and_then(Value::as_str)
            .and_then(parse_date),
    })
}

/// An RFC 3339 date-time (`2026-10-01T12:00:00Z`, fractions and offsets
/// allowed; a space for `T` too) as seconds since the epoch; `None` when
/// it does not parse or is a placeholder (before [`EARLIEST_REAL_DATE`]).
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let unix = parse_rfc3339(s.trim())?;
    (unix >= EARLIEST_REAL_DATE).then_some(unix)
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    if s.len() > 64 || !s.is_ascii() {
        return None;
    }
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let date = crate::config::Date::parse(s.get(0..10)?)?;
    let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let oh = num_str(&rest[1..3])?;
            let om = num_str(&rest[4..6])?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if rb[0] == b'-' { -o } else { o }
        }
    };
    Some(date.to_unix() + h * 3600 + m * 60 + sec - offset)
}

fn num_str(s: &str) -> Option<i64> {
    if s.bytes().all(|c| c.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const E: &str = "sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-10-01T00:00:00Z"), Some(1_790_812_800));
        assert_eq!(
            parse_date("2026-10-01T02:00:00.123456789+02:00"),
            Some(1_790_812_800)
        );
        assert_eq!(parse_date("2026-09-30T22:00:00-02:00"), Some(1_790_812_800));
        assert_eq!(parse_date("2026-10-01 00:00:00Z"), Some(1_790_812_800));
        for placeholder in [
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:01Z",
            "0001-01-01T00:00:00Z",
            "1980-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_date(placeholder), None, "{placeholder}");
        }
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-10-01T25:00:00Z",
            "2026-10-01T00:00:00",
            "2026-10-01T00:00:00.Z",
            "2026-10-01T00:00:00+2:00",
            "2026-10-01",
            "２０２６-10-01T00:00:00Z",
            &"9".repeat(10_000),
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn index_children_without_attestations() {
        let index = serde_json::json!({
            "schemaVersion": 2,
            "annotations": {CREATED_ANNOTATION: "2026-10-01T00:00:00Z"},
            "manifests": [
                {"digest": D, "platform": {"os": "linux", "architecture": "amd64"}},
                {"digest": E, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                 "annotations": {CREATED_ANNOTATION: "2026-09-01T00:00:00Z"}},
                {"digest": D, "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {CREATED_ANNOTATION: "2026-08-01T00:00:00Z"}},
                {"digest": E, "platform": {"os": "linux", "architecture": "amd64"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
                {"digest": D},
                {"digest": "sha256:short", "platform": {"os": "linux", "architecture": "s390x"}},
                {"digest": D, "platform": {"os": 7, "architecture": ["x"]}},
                "not an object",
            ]
        });
        let m = parse_manifest(&serde_json::to_vec(&index).unwrap()).unwrap();
        let Manifest::Index {
            platforms,
            created,
            entry_created,
        } = m
        else {
            panic!("{m:?}")
        };
        assert_eq!(created, Some(1_790_812_800));
        // Entry dates of platform children only (the attestation's
        // digest is D, a platform child's too: its date is not taken).
        assert_eq!(entry_created.len(), 1);
        assert_eq!(entry_created.get(E), Some(&1_788_220_800));
        let names: Vec<String> = platforms.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["linux/amd64", "linux/arm64/v8"]);
        assert_eq!(platforms[1].digest, E);
    }

    #[test]
    fn image_manifest_and_config() {
        let m = format!(r#"{{"schemaVersion":2,"config":{{"digest":"{D}"}},"layers":[]}}"#);
        assert_eq!(
            parse_manifest(m.as_bytes()).unwrap(),
            Manifest::Image {
                config: D.to_string(),
                created: None
            }
        );
        let c = parse_config(
            br#"{"os":"linux","architecture":"arm","variant":"v7","created":"2026-10-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(c.variant.as_deref(), Some("v7"));
        assert_eq!(c.created, Some(1_790_812_800));
        let epoch = parse_config(br#"{"os":"linux","created":"1970-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!(epoch.created, None);
    }

    #[test]
    fn hostile_input_is_an_error_or_unknown_never_a_panic() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let huge_list = format!(
            r#"{{"manifests":[{}]}}"#,
            vec!["{}"; MAX_CHILDREN + 1].join(",")
        );
        for bad in [
            &b""[..],
            b"\xff\xfe",
            b"null",
            b"[]",
            b"\"text\"",
            b"{}",
            br#"{"manifests": {}}"#,
            br#"{"config": {"digest": 5}}"#,
            br#"{"config": {"digest": "sha256:../../etc"}}"#,
            deep.as_bytes(),
            huge_list.as_bytes(),
        ] {
            assert!(
                parse_manifest(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        for bad in [&b""[..], b"[1]", b"null", deep.as_bytes()] {
            assert!(parse_config(bad).is_err());
        }
        for odd in [
            &br#"{"created": 12}"#[..],
            br#"{"created": null, "os": {}}"#,
            br#"{"created": "99999-01-01T00:00:00Z"}"#,
            br#"{"created": "1969-12-31T23:59:59Z"}"#,
        ] {
            let c = parse_config(odd).unwrap();
            assert_eq!(c.created, None);
            assert_eq!(c.os, None);
        }
        let wrong_types = br#"{"annotations": [1], "manifests": []}"#;
        assert_eq!(
            parse_manifest(wrong_types).unwrap(),
            Manifest::Index {
                platforms: vec![],
                created: None,
                entry_created: BTreeMap::new(),
            }
        );
    }
}
