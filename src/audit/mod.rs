//! The audit trail (`--audit-log FILE`): one JSON object per changed image
//! (JSON Lines), built from what [`crate::fix::fix`] changed, with the
//! registry's facts about the new digest (published date, platforms, via
//! [`DigestSource::describe`]) and the git context (commit, who). Records
//! are appended in one write per run and never rewritten. [`log`] reads a
//! log back and renders it for a pull request.

pub(crate) mod git;
pub(crate) mod log;

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fix::Change;
use crate::reference::Reference;
use crate::report::RepoRoot;
use crate::resolve::{DigestRef, DigestSource, ImageFacts};

/// What a run did to an image's pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Action {
    /// `--fix`: an unpinned reference got its first digest.
    Pin,
    /// `--fix --update`: a pin moved to the tag's current digest.
    Update,
    /// `imagepin set`: references were given a chosen digest (rollback).
    Set,
}

/// One line of the audit log. The field names are a contract (README,
/// "Audit log").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// When the run wrote it: RFC 3339, UTC, milliseconds
    /// (`2026-11-30T01:02:03.456Z`). Every record of one run has the same
    /// time, and no two runs one after the other have the same.
    pub time: String,
    pub action: Action,
    /// Normalized repository: `docker.io/library/python`.
    pub image: String,
    /// The tag as written, `None` for a reference written with only a digest.
    #[serde(default)]
    pub tag: Option<String>,
    /// The full digest before; `None` for a first pin.
    #[serde(default)]
    pub old_digest: Option<String>,
    pub new_digest: String,
    /// Every place changed, relative to the repository root.
    #[serde(default)]
    pub files: Vec<Place>,
    /// When the new digest's image was created (RFC 3339), when known.
    #[serde(default)]
    pub published: Option<String>,
    /// The new digest's platforms, `os/arch[/variant]`.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// `git rev-parse HEAD` when the change was made; `None` outside git.
    #[serde(default)]
    pub commit: Option<String>,
    /// `git config user.email`; `None` when unset.
    #[serde(default)]
    pub who: Option<String>,
    /// `--reason TEXT`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A file and line a record changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Place {
    /// Relative to the repository root, `/` separators (absolute when the
    /// file is outside it).
    pub path: String,
    pub line: usize,
}

/// What a run knows about where and by whom it ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Context {
    pub time: String,
    pub commit: Option<String>,
    pub who: Option<String>,
    pub reason: Option<String>,
    /// Paths of changes are made relative to this root.
    pub root: RepoRoot,
}

impl Context {
    /// The context of a run in `cwd` now: the clock, git's HEAD and
    /// `user.email` (each `None` when git can't tell), the repository root.
    pub(crate) fn of_run(cwd: &Path, reason: Option<String>) -> Context {
        let ceilings = std::env::var_os("GIT_CEILING_DIRECTORIES");
        let root = RepoRoot::discover(cwd, None, ceilings.as_deref()).unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        Context {
            time: rfc3339_millis(secs, now.subsec_millis()),
            commit: git::head(cwd),
            who: git::user_email(cwd),
            reason,
            root,
        }
    }
}

/// The records for a run's changes: one per (image, tag, old digest, new
/// digest), in the order first changed, with every place it was changed.
/// The action is `set` for `imagepin set`, else `pin` for a first digest
/// and `update` for a moved one. The registry is asked once per unique new
/// digest what it is; when it can't say, `published` is `None` and
/// `platforms` empty.
pub(crate) fn records(
    changes: &[Change],
    set: bool,
    source: &dyn DigestSource,
    ctx: &Context,
) -> Vec<Record> {
    type Key = (String, Option<String>, Option<String>, String);
    let mut order: Vec<Key> = Vec::new();
    let mut places: BTreeMap<Key, Vec<Place>> = BTreeMap::new();
    let mut repos: BTreeMap<String, (String, String)> = BTreeMap::new();
    for c in changes {
        let (registry, repository, tag) = match Reference::parse(&c.reference) {
            Ok(r) => (r.registry().to_string(), r.repository(), r.tag.clone()),
            // fix only changes references it could parse.
            Err(_) => continue,
        };
        let image = format!("{registry}/{repository}");
        repos.insert(image.clone(), (registry, repository));
        let key = (image, tag, c.old_digest.clone(), c.new_digest.clone());
        let place = Place {
            path: ctx.root.locate(&c.path).as_str().to_string(),
            line: c.line,
        };
        let list = places.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        if !list.contains(&place) {
            list.push(place);
        }
    }
    let digests: Vec<DigestRef> = order
        .iter()
        .filter_map(|(image, _, _, new)| {
            repos.get(image).map(|(registry, repository)| DigestRef {
                registry: registry.clone(),
                repository: repository.clone(),
                digest: new.clone(),
            })
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let facts = describe(source, &digests);
    order
        .into_iter()
        .map(|key| {
            let mut files = places.remove(&key).unwrap_or_default();
            files.sort();
            let (image, tag, old_digest, new_digest) = key;
            let action = match (set, &old_digest) {
                (true, _) => Action::Set,
                (false, None) => Action::Pin,
                (false, Some(_)) => Action::Update,
            };
            let fact = facts.get(&(image.clone(), new_digest.clone()));
            Record {
                time: ctx.time.clone(),
                action,
                image,
                tag,
                old_digest,
                new_digest,
                files,
                published: fact
                    .and_then(|f| f.created.as_ref())
                    .map(|c| rfc3339(c.unix)),
                platforms: fact
                    .map(|f| f.platforms.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                commit: ctx.commit.clone(),
                who: ctx.who.clone(),
                reason: ctx.reason.clone(),
            }
        })
        .collect()
}

/// What the source says about each digest, keyed by (`registry/repository`,
/// digest); digests it can't describe are left out.
pub(crate) fn describe(
    source: &dyn DigestSource,
    digests: &[DigestRef],
) -> BTreeMap<(String, String), ImageFacts> {
    if digests.is_empty() {
        return BTreeMap::new();
    }
    digests
        .iter()
        .zip(source.describe(digests))
        .filter_map(|(d, a)| {
            a.ok().map(|facts| {
                (
                    (format!("{}/{}", d.registry, d.repository), d.digest.clone()),
                    facts,
                )
            })
        })
        .collect()
}

/// The log file of `--audit-log`, opened before anything is changed so that
/// a log that can't be written stops the run before it touches a file.
#[derive(Debug)]
pub(crate) struct LogFile {
    path: PathBuf,
    /// The name the user gave, for messages.
    shown: String,
    /// The open file, or `None` when it doesn't exist yet (it is created
    /// only when there is something to write).
    file: Option<std::fs::File>,
}

impl LogFile {
    /// Opens `path` for appending, if it exists; a missing file is fine
    /// (its directory must exist). Never truncates. `name` is the path as
    /// the user wrote it, for messages.
    pub(crate) fn open(path: &Path, name: &Path) -> Result<LogFile, String> {
        let shown = crate::escape::path(name);
        // A log committed as a symbolic link (by a hostile pull request, say)
        // would send the records to a file outside the repository, or
        // create one there: the log must be the file itself.
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!(
                "--audit-log {shown}: is a symbolic link; give the log file itself"
            ));
        }
        match std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
        {
            Ok(file) => {
                let meta = file
                    .metadata()
                    .map_err(|e| format!("--audit-log {shown}: {e}"))?;
                if !meta.is_file() {
                    return Err(format!("--audit-log {shown}: not a regular file"));
                }
                Ok(LogFile {
                    path: path.to_path_buf(),
                    shown,
                    file: Some(file),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                if !dir.is_dir() {
                    return Err(format!(
                        "--audit-log {shown}: the directory {} does not exist",
                        crate::escape::path(
                            name.parent()
                                .filter(|p| !p.as_os_str().is_empty())
                                .unwrap_or(Path::new("."))
                        )
                    ));
                }
                Ok(LogFile {
                    path: path.to_path_buf(),
                    shown,
                    file: None,
                })
            }
            Err(e) => Err(format!(
                "--audit-log {shown}: cannot open for appending: {e}"
            )),
        }
    }

    /// The path as the user wrote it, for messages.
    pub(crate) fn name(&self) -> &str {
        &self.shown
    }

    /// Appends `records`, one JSON object per line, in one write (the file
    /// is in append mode, so concurrent writers never interleave inside a
    /// run's lines). Creates the file if it doesn't exist. A file whose last
    /// line lacks its newline gets one first. Nothing is written for no
    /// records.
    pub(crate) fn append(self, records: &[Record]) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        let shown = &self.shown;
        let mut text = String::new();
        for r in records {
            let line = serde_json::to_string(r).map_err(|e| format!("--audit-log {shown}: {e}"))?;
            text.push_str(&line);
            text.push('\n');
        }
        let mut file = match self.file {
            Some(f) => f,
            // `create_new` (O_EXCL) never follows a link put there since
            // `open`.
            None => std::fs::OpenOptions::new()
                .read(true)
                .append(true)
                .create_new(true)
                .open(&self.path)
                .map_err(|e| format!("--audit-log {shown}: cannot create: {e}"))?,
        };
        if !ends_with_newline(&mut file) {
            text.insert(0, '\n');
        }
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("--audit-log {shown}: cannot append: {e}"))
    }
}

/// Whether the file is empty or its last byte is a newline (so appended
/// lines start on a line of their own).
fn ends_with_newline(file: &mut std::fs::File) -> bool {
    let mut last = [0u8; 1];
    match file.seek(SeekFrom::End(-1)) {
        Ok(_) => file.read_exact(&mut last).is_err() || last[0] == b'\n',
        // Empty: seeking before the start fails.
        Err(_) => true,
    }
}

/// RFC 3339 in UTC, to the second: `2026-11-30T01:02:03Z`.
pub(crate) fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = crate::config::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// [`rfc3339`] with milliseconds: `2026-11-30T01:02:03.456Z`.
pub(crate) fn rfc3339_millis(unix: i64, millis: u32) -> String {
    let mut s = rfc3339(unix);
    s.pop();
    format!("{s}.{:03}Z", millis.min(999))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{Created, Platform, ResolveError, TagRef};

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    /// Knows B (an index of two platforms, created 2026-11-20) only.
    struct Facts;
    impl DigestSource for Facts {
        fn resolve_tags(&self, refs: &[TagRef]) -> Vec<Result<String, ResolveError>> {
            refs.iter().map(|_| Ok(B.to_string())).collect()
        }
        fn digests_exist(&self, refs: &[DigestRef]) -> Vec<Result<bool, ResolveError>> {
            refs.iter().map(|_| Ok(true)).collect()
        }
        fn describe(&self, refs: &[DigestRef]) -> Vec<Result<ImageFacts, ResolveError>> {
            refs.iter()
                .map(|d| {
                    if d.digest != B {
                        return Err(ResolveError::new(
                            d.to_string(),
                            crate::resolve::RegistryError::other("unknown"),
                        ));
                    }
                    let p = |arch: &str, variant: Option<&str>| Platform {
                        os: "linux".into(),
                        architecture: arch.into(),
                        variant: variant.map(Into::into),
                        digest: A.into(),
                    };
                    Ok(ImageFacts {
                        index: true,
                        platforms: vec![p("amd64", None), p("arm64", Some("v8"))],
                        created: Some(Created {
                            unix: 1_763_611_860,
                            source: "annotation".into(),
                        }),
                    })
                })
                .collect()
        }
    }

    fn change(path: &str, line: usize, reference: &str, old: Option<&str>, new: &str) -> Change {
        Change {
            path: PathBuf::from(path),
            line,
            column: 6,
            reference: reference.into(),
            old_digest: old.map(Into::into),
            new_digest: new.into(),
        }
    }

    #[test]
    fn one_record_per_image_change_with_every_place_and_the_facts() {
        let ctx = Context {
            time: "2026-11-30T01:02:03Z".into(),
            commit: Some("c0ffee".into()),
            who: Some("dev@example.com".into()),
            reason: Some("weekly".into()),
            root: RepoRoot::default(),
        };
        let changes = [
            change("Dockerfile", 2, &format!("python:3.12@{A}"), Some(A), B),
            change(
                "./compose.yaml",
                7,
                &format!("docker.io/library/python:3.12@{A}"),
                Some(A),
                B,
            ),
            change("Dockerfile", 3, "alpine", None, A),
        ];
        let rs = records(&changes, false, &Facts, &ctx);
        assert_eq!(rs.len(), 2, "{rs:?}");
        let line = serde_json::to_string(&rs[0]).unwrap();
        assert_eq!(
            line,
            format!(
                r#"{{"time":"2026-11-30T01:02:03Z","action":"update","image":"docker.io/library/python","tag":"3.12","old_digest":"{A}","new_digest":"{B}","files":[{{"path":"Dockerfile","line":2}},{{"path":"compose.yaml","line":7}}],"published":"2025-11-20T04:11:00Z","platforms":["linux/amd64","linux/arm64/v8"],"commit":"c0ffee","who":"dev@example.com","reason":"weekly"}}"#
            )
        );
        // A digest the source can't describe: unknown, not an error.
        assert_eq!(rs[1].image, "docker.io/library/alpine");
        assert_eq!(rs[1].action, Action::Pin);
        assert!(
            records(&changes, true, &Facts, &ctx)
                .iter()
                .all(|r| r.action == Action::Set)
        );
        assert_eq!(rs[1].tag, None);
        assert_eq!(rs[1].published, None);
        assert!(rs[1].platforms.is_empty());
        let back: Record = serde_json::from_str(&line).unwrap();
        assert_eq!(back, rs[0]);
    }

    #[test]
    fn dates_are_rfc3339_utc() {
        use crate::config::{civil_from_days, days_from_civil};
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_000_523), "2026-11-30T01:02:03Z");
        assert_eq!(rfc3339_millis(1_796_000_523, 7), "2026-11-30T01:02:03.007Z");
        assert_eq!(days_from_civil(2026, 11, 30), 20_787);
        for days in [-1, 0, 59, 11_016, 20_000, 20_787] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn appends_in_one_write_and_never_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let rec = |n: &str| Record {
            time: "2026-11-30T01:02:03Z".into(),
            action: Action::Pin,
            image: format!("docker.io/library/{n}"),
            tag: Some("1".into()),
            old_digest: None,
            new_digest: A.into(),
            files: vec![],
            published: None,
            platforms: vec![],
            commit: None,
            who: None,
            reason: None,
        };
        LogFile::open(&path, &path).unwrap().append(&[]).unwrap();
        assert!(!path.exists(), "nothing to write: no file");
        LogFile::open(&path, &path)
            .unwrap()
            .append(&[rec("a")])
            .unwrap();
        // A last line without its newline (edited by hand) gets one.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"x\":1}").unwrap();
        LogFile::open(&path, &path)
            .unwrap()
            .append(&[rec("b"), rec("c")])
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].contains("library/a") && lines[3].contains("library/c"));
        assert_eq!(lines[1], "{\"x\":1}");
        assert!(text.ends_with('\n'));
        let missing_dir = dir.path().join("no/such/dir/audit.jsonl");
        assert!(
            LogFile::open(&missing_dir, Path::new("no/such/dir/audit.jsonl"))
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(
            LogFile::open(dir.path(), dir.path()).is_err(),
            "a directory is refused"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_log_that_is_a_symbolic_link_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "mine\n").unwrap();
        let link = dir.path().join("audit.jsonl");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let e = LogFile::open(&link, Path::new("audit.jsonl")).unwrap_err();
        assert_eq!(
            e,
            "--audit-log audit.jsonl: is a symbolic link; give the log file itself"
        );
        // A dangling link would create its target: refused too.
        let dangling = dir.path().join("dangling.jsonl");
        std::os::unix::fs::symlink(dir.path().join("new-file"), &dangling).unwrap();
        assert!(LogFile::open(&dangling, Path::new("dangling.jsonl")).is_err());
        assert!(!dir.path().join("new-file").exists());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "mine\n");
    }
}
