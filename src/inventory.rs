//! The image inventory for a compliance report (`imagepin inventory`):
//! every image the scanned files use, grouped by image, each use with its
//! tag, digest, status, the files and lines that use it and, for a digest,
//! what the registry says of it (creation date and its age, platforms,
//! via [`DigestSource::describe`]; unknown when it can't say).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::audit::Place;
use crate::finding::{Finding, Status};
use crate::reference::Reference;
use crate::report::RepoRoot;
use crate::resolve::{DigestRef, DigestSource};

/// Every image, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Inventory {
    pub images: Vec<ImageEntry>,
}

/// One image (normalized repository) and its uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ImageEntry {
    /// `docker.io/library/python`; the text as written when it isn't a
    /// valid reference (dynamic, invalid).
    pub image: String,
    pub uses: Vec<Use>,
}

/// One (tag, digest, status) of an image and where it is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Use {
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub status: Status,
    /// When the digest's image was created (RFC 3339), when known.
    pub created: Option<String>,
    /// Where that date came from.
    pub created_source: Option<String>,
    /// Whole days from `created` to today.
    pub age_days: Option<i64>,
    /// `os/arch[/variant]` of the digest, when known.
    pub platforms: Vec<String>,
    pub files: Vec<Place>,
}

/// The inventory of `findings`. Stages and `scratch` are not images and are
/// left out. `source` is asked once per unique digest; `today` is a day
/// number (days since 1970-01-01) for ages.
pub(crate) fn build(
    findings: &[Finding],
    source: Option<&dyn DigestSource>,
    root: &RepoRoot,
    today: i64,
) -> Inventory {
    type Key = (Option<String>, Option<String>, Status);
    let mut images: BTreeMap<String, BTreeMap<Key, Vec<Place>>> = BTreeMap::new();
    let mut digests: Vec<DigestRef> = Vec::new();
    for f in findings {
        if matches!(f.status, Status::Stage | Status::Scratch) {
            continue;
        }
        let (image, tag, digest) = match Reference::parse(f.image()) {
            Ok(r) if f.status != Status::Dynamic => {
                if let Some(d) = &r.digest {
                    digests.push(DigestRef {
                        registry: r.registry().to_string(),
                        repository: r.repository(),
                        digest: d.clone(),
                    });
                }
                (
                    format!("{}/{}", r.registry(), r.repository()),
                    r.tag.clone(),
                    r.digest.clone(),
                )
            }
            _ => (f.image().to_string(), None, None),
        };
        let place = Place {
            path: root.locate(&f.path).as_str().to_string(),
            line: f.line,
        };
        let places = images
            .entry(image)
            .or_default()
            .entry((tag, digest, f.status))
            .or_default();
        if !places.contains(&place) {
            places.push(place);
        }
    }
    digests.sort();
    digests.dedup();
    let facts = source
        .map(|s| crate::audit::describe(s, &digests))
        .unwrap_or_default();
    let images = images
        .into_iter()
        .map(|(image, uses)| {
            let uses = uses
                .into_iter()
                .map(|((tag, digest, status), mut files)| {
                    files.sort();
                    let fact = digest
                        .as_ref()
                        .and_then(|d| facts.get(&(image.clone(), d.clone())));
                    let created = fact.and_then(|f| f.created.as_ref());
                    Use {
                        tag,
                        digest,
                        status,
                        created: created.map(|c| crate::audit::rfc3339(c.unix)),
                        created_source: created.map(|c| c.source.clone()),
                        age_days: created.map(|c| (today - c.unix.div_euclid(86_400)).max(0)),
                        platforms: fact
                            .map(|f| f.platforms.iter().map(ToString::to_string).collect())
                            .unwrap_or_default(),
                        files,
                    }
                })
                .collect();
            ImageEntry { image, uses }
        })
        .collect();
    Inventory { images }
}

/// A Markdown table, one row per use, rows of one image together.
pub(crate) fn markdown(inv: &Inventory) -> String {
    if inv.images.is_empty() {
        return "_No images found._\n".to_string();
    }
    let mut out = String::from(
        "| Image | Tag | Digest | Created | Platforms | Status | Used in |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let code = |s: &str| crate::audit::log::code(s);
    let none = || "_none_".to_string();
    for img in &inv.images {
        for u in &img.uses {
            let created = match (&u.created, u.age_days) {
                (Some(c), Some(age)) => {
                    format!("{c} ({})", crate::report::plural(age as usize, "day"))
                }
                (Some(c), None) => c.clone(),
                _ => "_unknown_".to_string(),
            };
            let platforms = if u.platforms.is_empty() {
                "_unknown_".to_string()
            } else {
                let shown: Vec<String> = u
                    .platforms
                    .iter()
                    .map(|p| crate::escape::markdown(p))
                    .collect();
                shown.join("<br>")
            };
            let files: Vec<String> = u
                .files
                .iter()
                .map(|p| code(&format!("{}:{}", p.path, p.line)))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {created} | {} | {} | {} |",
                code(&img.image),
                u.tag.as_deref().map_or_else(none, code),
                u.digest.as_deref().map_or_else(none, code),
                platforms,
                u.status,
                files.join("<br>"),
            );
        }
    }
    out
}

/// The inventory as JSON: `{"images": [{"image", "uses": [...]}]}`.
pub(crate) fn json(inv: &Inventory) -> String {
    let mut s = serde_json::to_string_pretty(inv).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::finding;
    use crate::resolve::{Created, ImageFacts, Platform, ResolveError, TagRef};

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    struct Facts;
    impl DigestSource for Facts {
        fn resolve_tags(&self, refs: &[TagRef]) -> Vec<Result<String, ResolveError>> {
            refs.iter().map(|_| Ok(A.to_string())).collect()
        }
        fn digests_exist(&self, refs: &[DigestRef]) -> Vec<Result<bool, ResolveError>> {
            refs.iter().map(|_| Ok(true)).collect()
        }
        fn describe(&self, refs: &[DigestRef]) -> Vec<Result<ImageFacts, ResolveError>> {
            refs.iter()
                .map(|_| {
                    Ok(ImageFacts {
                        index: false,
                        platforms: vec![Platform {
                            os: "linux".into(),
                            architecture: "amd64".into(),
                            variant: None,
                            digest: A.into(),
                        }],
                        created: Some(Created {
                            unix: 1_795_147_860, // 2026-11-20T04:11:00Z
                            source: "config of linux/amd64".into(),
                        }),
                    })
                })
                .collect()
        }
    }

    #[test]
    fn uses_grouped_by_image_with_dates_ages_and_places() {
        let pinned = format!("python:3.12@{A}");
        let findings = vec![
            finding("Dockerfile", 1, 1, &pinned, Status::Pinned),
            finding("compose.yaml", 4, 1, &pinned, Status::Pinned),
            finding("Dockerfile", 3, 1, "python:3.11", Status::Unpinned),
            finding("Dockerfile", 5, 1, "builder", Status::Stage),
            finding("ci.yml", 9, 1, "${IMAGE}", Status::Dynamic),
        ];
        let today = crate::config::days_from_civil(2026, 11, 30);
        let inv = build(&findings, Some(&Facts), &RepoRoot::default(), today);
        let v = serde_json::to_value(&inv).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"images": [
                {"image": "${IMAGE}", "uses": [
                    {"tag": null, "digest": null, "status": "dynamic", "created": null,
                     "created_source": null, "age_days": null, "platforms": [],
                     "files": [{"path": "ci.yml", "line": 9}]}]},
                {"image": "docker.io/library/python", "uses": [
                    {"tag": "3.11", "digest": null, "status": "unpinned", "created": null,
                     "created_source": null, "age_days": null, "platforms": [],
                     "files": [{"path": "Dockerfile", "line": 3}]},
                    {"tag": "3.12", "digest": A, "status": "pinned",
                     "created": "2026-11-20T04:11:00Z", "created_source": "config of linux/amd64",
                     "age_days": 10, "platforms": ["linux/amd64"],
                     "files": [{"path": "Dockerfile", "line": 1}, {"path": "compose.yaml", "line": 4}]}]}
            ]})
        );
        let md = markdown(&inv);
        assert!(
            md.contains(&format!(
                "| `docker.io/library/python` | `3.12` | `{A}` | 2026-11-20T04:11:00Z (10 days) | linux/amd64 | pinned | `Dockerfile:1`<br>`compose.yaml:4` |\n"
            )),
            "{md}"
        );
        // Without a source (or when it can't tell): unknown, not an error.
        let inv = build(&findings, None, &RepoRoot::default(), today);
        let md = markdown(&inv);
        assert!(
            md.contains(&format!("| `{A}` | _unknown_ | _unknown_ | pinned |")),
            "{md}"
        );
    }
}
