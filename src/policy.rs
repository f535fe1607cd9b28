//! Policies on pinned digests that need to know what a digest is
//! ([`DigestSource::describe`]): `--max-age` (`too-old`, and `age-unknown`
//! or a warning when no source gives a date), `--require-platforms`
//! (`platforms-missing`), and the rule that keeps a platform-specific pin
//! platform-specific ([`platform_successor`], used by `--verify` and
//! `--update`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::config::Date;
use crate::finding::{FileError, Status};
use crate::reference::Reference;
use crate::resolve::cause::root_cause;
use crate::resolve::{Created, DigestRef, DigestSource, ImageFacts, Platform};
use crate::scan::batch::ScannedFile;

/// A platform a policy names: `linux/arm64`, `linux/arm/v7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpec {
    pub os: String,
    pub architecture: String,
    /// `None`: any variant matches.
    pub variant: Option<String>,
}

impl PlatformSpec {
    /// `OS/ARCH[/VARIANT]`.
    pub fn parse(text: &str) -> Result<PlatformSpec, String> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(PlatformSpec {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, v] if ok(os) && ok(arch) && ok(v) => Ok(PlatformSpec {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(v.to_string()),
            }),
            _ => Err(format!(
                "{text:?} is not a platform OS/ARCH[/VARIANT] (e.g. linux/arm64)"
            )),
        }
    }

    /// Whether an image's platform is this one: a spec without a variant
    /// matches every variant (`linux/arm64` matches `linux/arm64/v8`).
    pub fn matches(&self, p: &Platform) -> bool {
        self.os == p.os
            && self.architecture == p.architecture
            && self
                .variant
                .as_ref()
                .is_none_or(|v| Some(v) == normalized_variant(p).as_ref())
    }
}

impl std::fmt::Display for PlatformSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A platform's variant, with the defaults the OCI spec and Docker imply
/// (`arm64` is `v8`).
fn normalized_variant(p: &Platform) -> Option<String> {
    match (&p.variant, p.architecture.as_str()) {
        (Some(v), _) => Some(v.clone()),
        (None, "arm64") => Some("v8".to_string()),
        (None, _) => None,
    }
}

/// Whether two platforms are the same (os, architecture, variant).
fn same_platform(a: &Platform, b: &Platform) -> bool {
    a.os == b.os
        && a.architecture == b.architecture
        && normalized_variant(a) == normalized_variant(b)
}

/// For a pin whose digest differs from the tag's current digest: the
/// current index's child the pin corresponds to, when the pin is
/// platform-specific. That is the child whose digest is the pin (the pin
/// is fresh), or, for a single-platform pin, the child of the same
/// platform (the pin should move there). `None`: compare with the whole
/// digest, as before.
pub(crate) fn platform_successor<'c>(
    pinned_digest: &str,
    pinned: Option<&ImageFacts>,
    current: &'c ImageFacts,
) -> Option<&'c Platform> {
    if !current.index {
        return None;
    }
    if let Some(child) = current.platforms.iter().find(|p| p.digest == pinned_digest) {
        return Some(child);
    }
    let pinned = pinned.filter(|f| !f.index)?;
    let [mine] = pinned.platforms.as_slice() else {
        return None;
    };
    current.platforms.iter().find(|p| same_platform(p, mine))
}

/// `created 2026-10-01, 12 days ago`.
pub(crate) fn created_text(c: &Created, now: i64) -> String {
    let date = Date::from_unix(u64::try_from(c.unix).unwrap_or(0));
    format!("created {date}, {}", days_ago(now - c.unix))
}

fn days_ago(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    match days {
        d if d < 0 => "in the future".to_string(),
        0 => "today".to_string(),
        1 => "1 day ago".to_string(),
        d => format!("{d} days ago"),
    }
}

/// The policies of one `--check` run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    pub max_age: Option<Duration>,
    pub max_age_unknown_fails: bool,
    pub require_platforms: Vec<PlatformSpec>,
}

impl Policy {
    /// Whether any policy asks about digests.
    pub(crate) fn active(&self) -> bool {
        self.max_age.is_some() || !self.require_platforms.is_empty()
    }
}

/// What [`apply`] found besides statuses.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Digests that could not be described.
    pub errors: Vec<FileError>,
    /// `path:line: image …` for unknown dates when they only warn.
    pub warnings: Vec<String>,
}

/// Checks every `pinned` finding against the policies: one `describe`
/// batch for the unique digests. `now` is seconds since the epoch.
pub(crate) fn apply(
    files: &mut [ScannedFile],
    source: &dyn DigestSource,
    policy: &Policy,
    now: i64,
) -> Outcome {
    let mut out = Outcome::default();
    if !policy.active() {
        return out;
    }
    let mut pins: Vec<(usize, usize, DigestRef)> = Vec::new();
    for (fi, file) in files.iter().enumerate() {
        for (i, f) in file.findings.iter().enumerate() {
            if f.status != Status::Pinned {
                continue;
            }
            let Ok(r) = Reference::parse(f.image()) else {
                continue;
            };
            let Some(digest) = r.digest.clone() else {
                continue;
            };
            pins.push((
                fi,
                i,
                DigestRef {
                    registry: r.registry().to_string(),
                    repository: r.repository(),
                    digest,
                },
            ));
        }
    }
    let unique: Vec<DigestRef> = pins
        .iter()
        .map(|p| p.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if unique.is_empty() {
        return out;
    }
    let answers: BTreeMap<DigestRef, _> = unique
        .iter()
        .cloned()
        .zip(source.describe(&unique))
        .collect();
    let failed: Vec<_> = answers
        .values()
        .filter_map(|a| a.as_ref().err().cloned())
        .collect();
    let cause = root_cause(&failed);
    for (fi, i, dref) in &pins {
        let f = &mut files[*fi].findings[*i];
        let facts = match answers.get(dref) {
            Some(Ok(facts)) => facts,
            Some(Err(e)) => {
                if cause.is_none() {
                    out.errors.push(FileError {
                        path: f.path.clone(),
                        line: Some(f.line),
                        message: format!(
                            "could not check the policies for {} ({dref}): {}",
                            f.image(),
                            e.message
                        ),
                    });
                }
                continue;
            }
            None => continue,
        };
        let mut notes: Vec<String> = Vec::new();
        let mut status = Status::Pinned;
        if let Some(max) = policy.max_age {
            // A date in the future is a publisher's claim that would keep
            // an image young for ever: it counts as no date.
            let future = facts
                .created
                .as_ref()
                .filter(|c| c.unix > now.saturating_add(FUTURE_SLACK_SECS));
            let unknown = match future {
                Some(c) => format!(
                    "the image claims to be created in the future ({}, from the {}), which \
                     is not trusted",
                    Date::from_unix(u64::try_from(c.unix).unwrap_or(0)),
                    c.source
                ),
                None => UNKNOWN_DATE.to_string(),
            };
            match facts.created.as_ref().filter(|_| future.is_none()) {
                Some(c) if now - c.unix > i64::try_from(max.as_secs()).unwrap_or(i64::MAX) => {
                    status = Status::TooOld;
                    notes.push(format!(
                        "{} (from the {}); max-age is {}",
                        created_text(c, now),
                        c.source,
                        duration_text(max)
                    ));
                }
                Some(_) => {}
                None if policy.max_age_unknown_fails => {
                    status = Status::AgeUnknown;
                    notes.push(unknown);
                }
                None => out.warnings.push(format!(
                    "{}:{}: {}: {unknown}, so max-age cannot be checked (max-age-unknown = \"fail\" fails it)",
                    crate::escape::path(&f.path),
                    f.line,
                    f.image()
                )),
            }
        }
        if !policy.require_platforms.is_empty() {
            let missing: Vec<String> = policy
                .require_platforms
                .iter()
                .filter(|want| !(facts.index && facts.platforms.iter().any(|p| want.matches(p))))
                .map(ToString::to_string)
                .collect();
            if !missing.is_empty() {
                if status == Status::Pinned {
                    status = Status::PlatformsMissing;
                }
                let has: Vec<String> = facts.platforms.iter().map(ToString::to_string).collect();
                let what = if facts.index {
                    format!("an index of {}", list_or_none(&has))
                } else {
                    format!("a single-platform image ({})", list_or_none(&has))
                };
                notes.push(format!(
                    "missing {}; the digest is {what}",
                    missing.join(", ")
                ));
            }
        }
        if status != Status::Pinned {
            f.status = status;
            f.note = Some(notes.join("; "));
        }
    }
    if let Some(c) = cause {
        out.errors.push(FileError {
            path: std::path::PathBuf::new(),
            line: None,
            message: format!("{}; {}", c.summary, c.advice),
        });
    }
    out
}

/// How far in the future a creation date may be (clock skew between the
/// build machine and this one) before it counts as no date.
const FUTURE_SLACK_SECS: i64 = 86_400;

const UNKNOWN_DATE: &str = "no source says when this image was created (no \
org.opencontainers.image.created annotation, no real date in its config)";

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "no known platform".to_string()
    } else {
        items.join(", ")
    }
}

/// `90 days`, `36 h`, as the user likely wrote it.
fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    if s % 86_400 == 0 {
        format!("{} day{}", s / 86_400, if s == 86_400 { "" } else { "s" })
    } else {
        crate::resolve::age(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(os: &str, arch: &str, variant: Option<&str>, digest: &str) -> Platform {
        Platform {
            os: os.into(),
            architecture: arch.into(),
            variant: variant.map(Into::into),
            digest: digest.into(),
        }
    }

    #[test]
    fn platform_specs() {
        let arm = PlatformSpec::parse("linux/arm64").unwrap();
        assert!(arm.matches(&p("linux", "arm64", Some("v8"), "d")));
        assert!(arm.matches(&p("linux", "arm64", None, "d")));
        assert!(!arm.matches(&p("linux", "amd64", None, "d")));
        let v8 = PlatformSpec::parse("linux/arm64/v8").unwrap();
        assert!(v8.matches(&p("linux", "arm64", None, "d")));
        let v7 = PlatformSpec::parse("linux/arm/v7").unwrap();
        assert!(!v7.matches(&p("linux", "arm", Some("v6"), "d")));
        assert_eq!(v7.to_string(), "linux/arm/v7");
        for bad in ["linux", "", "linux/", "a/b/c/d", "linux/amd 64", "/amd64"] {
            assert!(PlatformSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn successors_keep_platform_pins_platform_specific() {
        let index = ImageFacts {
            index: true,
            platforms: vec![
                p("linux", "amd64", None, "A2"),
                p("linux", "arm64", Some("v8"), "B2"),
            ],
            created: None,
        };
        // The pin is a child of the current index: fresh.
        assert_eq!(
            platform_successor("B2", None, &index).map(|c| c.digest.as_str()),
            Some("B2")
        );
        // A single-platform pin moves to the same platform's child.
        let old_amd = ImageFacts {
            index: false,
            platforms: vec![p("linux", "amd64", None, "A1")],
            created: None,
        };
        assert_eq!(
            platform_successor("A1", Some(&old_amd), &index).map(|c| c.digest.as_str()),
            Some("A2")
        );
        let old_arm = ImageFacts {
            platforms: vec![p("linux", "arm64", None, "B1")],
            ..old_amd.clone()
        };
        assert_eq!(
            platform_successor("B1", Some(&old_arm), &index).map(|c| c.digest.as_str()),
            Some("B2")
        );
        // An index pin, a platform the index lacks, a single current image:
        // the whole digest.
        let old_index = ImageFacts {
            index: true,
            ..index.clone()
        };
        assert!(platform_successor("I1", Some(&old_index), &index).is_none());
        let s390 = ImageFacts {
            platforms: vec![p("linux", "s390x", None, "S1")],
            ..old_amd.clone()
        };
        assert!(platform_successor("S1", Some(&s390), &index).is_none());
        assert!(platform_successor("A1", Some(&old_amd), &old_amd).is_none());
    }

    /// Facts by digest; anything else cannot be described.
    struct Facts(Vec<(&'static str, ImageFacts)>);

    impl DigestSource for Facts {
        fn resolve_tags(
            &self,
            refs: &[crate::resolve::TagRef],
        ) -> Vec<Result<String, crate::resolve::ResolveError>> {
            refs.iter().map(|_| unreachable!()).collect()
        }
        fn digests_exist(
            &self,
            refs: &[DigestRef],
        ) -> Vec<Result<bool, crate::resolve::ResolveError>> {
            refs.iter().map(|_| unreachable!()).collect()
        }
        fn describe(
            &self,
            refs: &[DigestRef],
        ) -> Vec<Result<ImageFacts, crate::resolve::ResolveError>> {
            refs.iter()
                .map(|r| {
                    self.0
                        .iter()
                        .find(|(d, _)| r.digest.ends_with(d))
                        .map(|(_, f)| f.clone())
                        .ok_or_else(|| crate::resolve::ResolveError {
                            image: r.to_string(),
                            kind: crate::resolve::ErrorKind::ServerError,
                            message: "HTTP 500".into(),
                        })
                })
                .collect()
        }
    }

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn files(digests: &[char]) -> Vec<ScannedFile> {
        let text: String = digests
            .iter()
            .map(|&c| format!("FROM r.test/app:1@{}\n", digest(c)))
            .collect();
        let kind = crate::scan::kind_from_id("dockerfile").unwrap();
        let path = std::path::Path::new("Dockerfile");
        let findings = crate::scan::scan_file(path, kind, &text, &|_| false).unwrap();
        vec![ScannedFile {
            path: path.to_path_buf(),
            kind,
            text: String::new(),
            findings,
        }]
    }

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_790_812_800;

    fn dated(days_old: i64) -> ImageFacts {
        ImageFacts {
            index: false,
            platforms: vec![],
            created: Some(Created {
                unix: NOW - days_old * DAY,
                source: "image config".into(),
            }),
        }
    }

    #[test]
    fn max_age_boundary_unknown_dates_and_errors() {
        let source = Facts(vec![
            ("a", dated(90)),
            ("b", dated(91)),
            ("c", ImageFacts::default()),
        ]);
        let policy = Policy {
            max_age: Some(Duration::from_secs(90 * 86_400)),
            ..Policy::default()
        };
        let mut f = files(&['a', 'b', 'c', 'd']);
        let out = apply(&mut f, &source, &policy, NOW);
        let statuses: Vec<Status> = f[0].findings.iter().map(|f| f.status).collect();
        // Exactly max-age old is still fine; a day more is not.
        assert_eq!(
            statuses,
            [
                Status::Pinned,
                Status::TooOld,
                Status::Pinned,
                Status::Pinned
            ]
        );
        assert_eq!(
            f[0].findings[1].note.as_deref(),
            Some("created 2026-07-02, 91 days ago (from the image config); max-age is 90 days")
        );
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].starts_with("Dockerfile:3: r.test/app:1@sha256:ccc"));
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert_eq!(out.errors[0].line, Some(4));
        assert!(out.errors[0].message.contains("HTTP 500"));
        let fail = Policy {
            max_age_unknown_fails: true,
            ..policy
        };
        let mut f = files(&['c']);
        let out = apply(&mut f, &source, &fail, NOW);
        assert_eq!(f[0].findings[0].status, Status::AgeUnknown);
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn too_old_and_platforms_missing_are_both_said() {
        let source = Facts(vec![("a", dated(400))]);
        let policy = Policy {
            max_age: Some(Duration::from_secs(90 * 86_400)),
            require_platforms: vec![PlatformSpec::parse("linux/amd64").unwrap()],
            ..Policy::default()
        };
        let mut f = files(&['a']);
        apply(&mut f, &source, &policy, NOW);
        let finding = &f[0].findings[0];
        assert_eq!(finding.status, Status::TooOld);
        let note = finding.note.as_deref().unwrap();
        assert!(
            note.contains("400 days ago")
                && note.ends_with(
                    "missing linux/amd64; the digest is a single-platform image (no known platform)"
                ),
            "{note}"
        );
    }

    #[test]
    fn a_date_in_the_future_is_no_date() {
        let source = Facts(vec![("a", dated(-30)), ("b", dated(0))]);
        let policy = Policy {
            max_age: Some(Duration::from_secs(90 * 86_400)),
            ..Policy::default()
        };
        let mut f = files(&['a', 'b']);
        let out = apply(&mut f, &source, &policy, NOW);
        assert!(f[0].findings.iter().all(|f| f.status == Status::Pinned));
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(
            out.warnings[0].contains(
                "the image claims to be created in the future (2026-10-31, from the image \
                 config), which is not trusted, so max-age cannot be checked"
            ),
            "{}",
            out.warnings[0]
        );
        let fail = Policy {
            max_age_unknown_fails: true,
            ..policy
        };
        let mut f = files(&['a']);
        apply(&mut f, &source, &fail, NOW);
        assert_eq!(f[0].findings[0].status, Status::AgeUnknown);
    }

    #[test]
    fn ages_in_days() {
        let c = Created {
            unix: 1_790_812_800,
            source: "x".into(),
        };
        assert_eq!(
            created_text(&c, c.unix + 12 * 86_400 + 5),
            "created 2026-10-01, 12 days ago"
        );
        assert_eq!(
            created_text(&c, c.unix + 86_400),
            "created 2026-10-01, 1 day ago"
        );
        assert_eq!(created_text(&c, c.unix), "created 2026-10-01, today");
        assert_eq!(
            created_text(&c, c.unix - 86_400),
            "created 2026-10-01, in the future"
        );
        assert_eq!(duration_text(Duration::from_secs(90 * 86_400)), "90 days");
        assert_eq!(duration_text(Duration::from_secs(36 * 3600)), "36 h");
    }
}
