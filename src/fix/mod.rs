//! The `--fix`, `--diff`, `--verify` and `--update` flows (and `imagepin
//! set`'s, which gives one image a given digest): collect what needs
//! a digest across all files, resolve it in one batch, plan byte-exact edits
//! with [`crate::rewrite`], check them, show unified diffs and write files
//! atomically; and mark pins whose tag moved (`stale`) or whose digest is gone
//! (`missing`). A pin to one platform's image follows that platform's child
//! of the tag's index (see [`crate::policy::platform_successor`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use similar::{ChangeTag, TextDiff};

use crate::finding::FileError;
use crate::finding::{DigestSlot, Finding, Status};
use crate::reference::Reference;
use crate::report::escape::{git_path, visible_keep_tabs};
use crate::resolve::cause::{RootCause, root_cause};
use crate::resolve::{DigestRef, DigestSource, ImageFacts, Platform, ResolveError, TagRef};
use crate::rewrite::{self, Edit, atomic};
use crate::scan::batch::ScannedFile;

/// What `--fix`/`--diff` may do.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// Write files (`--fix`); false prints the diff only (`--diff`).
    pub write: bool,
    /// Also rewrite stale digests to the tag's current digest (`--update`).
    pub update: bool,
    /// Colour the diff.
    pub color: bool,
    /// Leave out the diff (`--quiet`).
    pub quiet: bool,
    /// `--only`: touch only references to these images.
    pub only: Option<crate::config::ImagePatterns>,
    /// `imagepin set`: give every reference to this image (and tag) this
    /// digest, and do nothing else. The digest's existence is checked by
    /// the caller.
    pub set: Option<SetTarget>,
}

/// What `imagepin set IMAGE[:TAG]@DIGEST` sets: every reference to the
/// repository (with that tag, when one is given) gets `digest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetTarget {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: String,
}

impl SetTarget {
    /// From `IMAGE[:TAG]@sha256:DIGEST`; the digest is required.
    pub fn parse(text: &str) -> Result<SetTarget, String> {
        let r = Reference::parse(text).map_err(|e| format!("{text}: {e}"))?;
        let digest = r.digest.clone().ok_or_else(|| {
            format!("{text}: give the digest to set, as IMAGE[:TAG]@sha256:DIGEST")
        })?;
        Ok(SetTarget {
            registry: r.registry().to_string(),
            repository: r.repository(),
            tag: r.tag.clone(),
            digest,
        })
    }

    /// The digest in its repository, for the existence check.
    pub fn digest_ref(&self) -> DigestRef {
        DigestRef {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            digest: self.digest.clone(),
        }
    }

    /// Whether a reference is to this image (and tag). A reference written
    /// with only a digest has no tag to compare, so it matches only when no
    /// tag is given.
    pub fn matches(&self, r: &Reference) -> bool {
        if r.registry() != self.registry || r.repository() != self.repository {
            return false;
        }
        let tag = match (&r.tag, &r.digest) {
            (Some(t), _) => Some(t.as_str()),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        };
        self.tag.as_deref().is_none_or(|want| tag == Some(want))
    }
}

impl std::fmt::Display for SetTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        write!(f, "@{}", self.digest)
    }
}

/// What a fix run did.
#[derive(Debug, Default)]
pub struct FixOutcome {
    /// Files changed (or, without `write`, that would change).
    pub changed: Vec<PathBuf>,
    /// References that received a digest.
    pub pinned: usize,
    /// Stale digests replaced (`--update`).
    pub updated: usize,
    /// References that could not be resolved and files that could not be written.
    pub errors: Vec<FileError>,
    /// Every reference that received a digest, in file order (for `--format json`).
    pub changes: Vec<Change>,
}

/// One reference that received (or, without `write`, would receive) a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    /// As used before the change ([`Finding::image`]: put together when
    /// written in parts).
    pub reference: String,
    /// The digest it was pinned to before (`--update`).
    pub old_digest: Option<String>,
    pub new_digest: String,
}

/// What one finding needs from the registry.
enum Need {
    /// Unpinned: the tag's digest is inserted.
    Pin(TagRef),
    /// Pinned with a tag, under `--update`: replaced when the tag moved.
    Update(TagRef, String),
    /// `imagepin set`: the target's digest, replacing this one if any.
    Set(Option<String>),
}

/// Pins every unpinned finding of `files` (and stale ones with `update`),
/// printing a unified diff per changed file to `out` unless `quiet`.
///
/// All lookups go to `source` in one batch. A reference that cannot be
/// resolved stays as written and is reported; the others are still pinned.
/// A file whose edit fails the safety check, or cannot be written, is left
/// untouched and reported.
pub fn fix(
    files: &[ScannedFile],
    source: &dyn DigestSource,
    opts: &FixOptions,
    out: &mut dyn Write,
) -> std::io::Result<FixOutcome> {
    let mut outcome = FixOutcome::default();

    // 1. What each finding needs, across all files.
    let mut needs: Vec<Vec<(usize, Need)>> = Vec::with_capacity(files.len());
    for file in files {
        let mut v = Vec::new();
        for (i, f) in file.findings.iter().enumerate() {
            if opts
                .only
                .as_ref()
                .is_some_and(|only| !only.matches(f.image()))
            {
                continue;
            }
            let needed = match &opts.set {
                Some(target) => Ok(set_need(f, target)),
                None => need(f, opts.update),
            };
            match needed {
                Ok(Some(n)) => v.push((i, n)),
                Ok(None) => {}
                Err(e) => outcome.errors.push(e),
            }
        }
        needs.push(v);
    }

    // 2. One batch of unique tags.
    let tags: BTreeSet<&TagRef> = needs
        .iter()
        .flatten()
        .filter_map(|(_, n)| match n {
            Need::Pin(t) | Need::Update(t, _) => Some(t),
            Need::Set(_) => None,
        })
        .collect();
    let tags: Vec<TagRef> = tags.into_iter().cloned().collect();
    let answers = lookup(&tags, ask(&tags, |t| source.resolve_tags(t)));
    // When every lookup failed for one network-wide reason, it is said once.
    let cause = root_cause(&failures(&answers));
    // Pins whose tag moved: a platform-specific pin moves to the same
    // platform's child of the tag's new index, not to the index.
    let moved: BTreeSet<(DigestRef, String)> = needs
        .iter()
        .flatten()
        .filter_map(|(_, n)| match n {
            Need::Update(t, cur) => match answers.get(t) {
                Some(Ok(now)) if now != cur => Some((pin_ref(t, cur), now.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let moves = describe_moves(source, &moved);

    // 3. Per file: plan, apply, check, show, write. The same file named
    // twice (`Dockerfile` and `./Dockerfile`, or a symlink and its target)
    // is handled once.
    let mut seen: HashSet<PathBuf> = HashSet::new();
    for (file, needs) in files.iter().zip(needs) {
        let real = std::fs::canonicalize(&file.path).unwrap_or_else(|_| file.path.clone());
        if !seen.insert(real) {
            continue;
        }
        let mut edits: Vec<Edit> = Vec::new();
        let mut changes: Vec<Change> = Vec::new();
        let (mut pinned, mut updated) = (0, 0);
        for (i, n) in needs {
            let f = &file.findings[i];
            let (tag, current) = match &n {
                Need::Pin(t) => (Some(t), None),
                Need::Update(t, d) => (Some(t), Some(d)),
                Need::Set(d) => (None, d.as_ref()),
            };
            let answer = match (tag, &opts.set) {
                (Some(tag), _) => answers.get(tag).map(|a| a.as_ref().map_err(|e| (tag, e))),
                (None, Some(target)) => Some(Ok(&target.digest)),
                (None, None) => None,
            };
            let digest = match answer {
                Some(Ok(d)) => d,
                Some(Err((tag, e))) => {
                    if cause.is_none() {
                        outcome.errors.push(lookup_error(f, tag, e));
                    }
                    continue;
                }
                None => continue,
            };
            let mut digest = digest.clone();
            if let Need::Update(t, cur) = &n {
                if let Some(child) = moves
                    .get(&(pin_ref(t, cur), digest.clone()))
                    .and_then(|m| m.successor.as_ref())
                {
                    digest = child.digest.clone();
                }
            }
            let edit = match current {
                None => rewrite::pin_edit(&file.text, &file.findings, i, &digest),
                Some(cur) if *cur == digest => continue,
                Some(_) => rewrite::update_edit(&file.text, &file.findings, i, &digest),
            };
            match edit {
                Ok(e) => {
                    if current.is_some() {
                        updated += 1;
                    } else {
                        pinned += 1;
                    }
                    edits.push(e);
                    changes.push(Change {
                        path: file.path.clone(),
                        line: f.line,
                        column: f.column,
                        reference: f.image().to_string(),
                        old_digest: current.cloned(),
                        new_digest: digest,
                    });
                }
                Err(e) => outcome.errors.push(error_at(f, e.to_string())),
            }
        }
        if edits.is_empty() {
            continue;
        }
        let new = match rewrite::apply(&file.text, &edits).and_then(|new| {
            rewrite::check(file.kind, &file.text, &new, &file.findings, &edits).map(|()| new)
        }) {
            Ok(new) => new,
            Err(e) => {
                outcome.errors.push(FileError {
                    path: file.path.clone(),
                    line: None,
                    message: format!("{e}; please report this as an imagepin bug"),
                });
                continue;
            }
        };
        // Written first, so the diff shows only what happened.
        if opts.write {
            if let Err(e) = atomic::replace_file(&file.path, &file.text, &new) {
                outcome.errors.push(FileError {
                    path: file.path.clone(),
                    line: None,
                    message: e.message,
                });
                continue;
            }
        }
        if !opts.quiet {
            write_diff(out, &file.path, &file.text, &new, opts.color)?;
        }
        outcome.changed.push(file.path.clone());
        outcome.changes.append(&mut changes);
        outcome.pinned += pinned;
        outcome.updated += updated;
    }
    outcome.errors.extend(cause.map(run_wide));
    Ok(outcome)
}

/// Whether a finding's digest has no place it can safely be written (a
/// default behind a variable that is used elsewhere too, …): `--fix` leaves
/// it as it is, for the user, like an invalid reference.
pub fn unpinnable(f: &Finding) -> bool {
    matches!(
        f.split.as_ref().map(|s| &s.digest),
        Some(DigestSlot::Nowhere(_))
    )
}

/// What `imagepin set` does to a finding: every reference to the target
/// image that is unpinned or pinned (stale and missing pins too) gets its
/// digest. Ignored, allowed, dynamic and invalid ones, and those whose
/// digest has no safe place, are left alone.
fn set_need(f: &Finding, target: &SetTarget) -> Option<Need> {
    if !matches!(
        f.status,
        Status::Unpinned | Status::Pinned | Status::Stale | Status::Missing
    ) || unpinnable(f)
    {
        return None;
    }
    let r = Reference::parse(f.image()).ok()?;
    target.matches(&r).then(|| Need::Set(r.digest.clone()))
}

/// Which lookup a finding needs, if any. Only unpinned findings (and, with
/// `update`, pinned ones that carry a tag) are touched: dynamic, stage,
/// scratch, local-build, ignored and invalid ones are left alone.
fn need(f: &Finding, update: bool) -> Result<Option<Need>, FileError> {
    let pinned = matches!(f.status, Status::Pinned | Status::Stale | Status::Missing);
    if f.status != Status::Unpinned && !(update && pinned) {
        return Ok(None);
    }
    // No lookup for a digest that has nowhere to go: the reference is left
    // for the user, and its note says why (see `unpinnable`).
    if unpinnable(f) {
        return Ok(None);
    }
    let r = Reference::parse(f.image()).map_err(|e| error_at(f, format!("{}: {e}", f.image())))?;
    Ok(match r.digest.clone() {
        None => Some(Need::Pin(TagRef::from_reference(&r))),
        Some(d) if r.tag.is_some() => Some(Need::Update(TagRef::from_reference(&r), d)),
        Some(_) => None,
    })
}

/// A pinned digest in its tag's repository.
fn pin_ref(t: &TagRef, digest: &str) -> DigestRef {
    DigestRef {
        registry: t.registry.clone(),
        repository: t.repository.clone(),
        digest: digest.to_string(),
    }
}

/// What is known about a pin whose tag now points elsewhere.
#[derive(Debug, Default)]
struct Moved {
    /// The child of the tag's current index that the (platform-specific)
    /// pin corresponds to: see [`crate::policy::platform_successor`].
    successor: Option<Platform>,
    /// What the tag's current digest is.
    current: Option<ImageFacts>,
}

/// Describes, in one batch, the pinned and the current digest of every
/// `(pin, current digest)` pair. A source that cannot describe leaves the
/// pair unknown (compared as whole digests, as before).
fn describe_moves(
    source: &dyn DigestSource,
    moved: &BTreeSet<(DigestRef, String)>,
) -> BTreeMap<(DigestRef, String), Moved> {
    let refs: Vec<DigestRef> = moved
        .iter()
        .flat_map(|(pin, now)| {
            [
                pin.clone(),
                DigestRef {
                    digest: now.clone(),
                    ..pin.clone()
                },
            ]
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let facts = lookup(&refs, ask(&refs, |d| source.describe(d)));
    moved
        .iter()
        .map(|(pin, now)| {
            let current_ref = DigestRef {
                digest: now.clone(),
                ..pin.clone()
            };
            let pinned = facts.get(pin).and_then(|f| f.as_ref().ok());
            let current = facts.get(&current_ref).and_then(|f| f.as_ref().ok());
            let successor = current
                .and_then(|c| crate::policy::platform_successor(&pin.digest, pinned, c))
                .cloned();
            (
                (pin.clone(), now.clone()),
                Moved {
                    successor,
                    current: current.cloned(),
                },
            )
        })
        .collect()
}

/// Asks the source about `keys`, unless there are none (no client work, no
/// progress line for nothing).
fn ask<K, V>(keys: &[K], f: impl FnOnce(&[K]) -> Vec<V>) -> Vec<V> {
    if keys.is_empty() { Vec::new() } else { f(keys) }
}

/// Pairs each asked key with its answer; a source that answers fewer than
/// asked leaves the rest as errors rather than guessing.
fn lookup<K: Ord + Clone + std::fmt::Display, V>(
    keys: &[K],
    answers: Vec<Result<V, ResolveError>>,
) -> BTreeMap<K, Result<V, ResolveError>> {
    let mut answers = answers.into_iter();
    keys.iter()
        .map(|k| {
            let a = answers.next().unwrap_or_else(|| {
                Err(ResolveError {
                    image: k.to_string(),
                    message: "no answer from the resolver".into(),
                })
            });
            (k.clone(), a)
        })
        .collect()
}

fn error_at(f: &Finding, message: String) -> FileError {
    FileError {
        path: f.path.clone(),
        line: Some(f.line),
        message,
    }
}

/// The failed answers of a batch.
fn failures<K, V>(answers: &BTreeMap<K, Result<V, ResolveError>>) -> Vec<ResolveError> {
    answers
        .values()
        .filter_map(|a| a.as_ref().err().cloned())
        .collect()
}

/// One error for the whole run (no file, no line): the root cause and what
/// to do about it.
fn run_wide(cause: RootCause) -> FileError {
    FileError {
        path: PathBuf::new(),
        line: None,
        message: format!("{}; {}", cause.summary, cause.advice),
    }
}

fn lookup_error(f: &Finding, tag: &TagRef, e: &ResolveError) -> FileError {
    error_at(
        f,
        format!(
            "could not resolve {} ({tag}): {}; left as it is",
            f.image(),
            e.message
        ),
    )
}

/// Writes a unified diff of one file: `--- a/path`, `+++ b/path`, hunks with
/// three lines of context; a missing final newline is marked as `diff` does.
///
/// Uncoloured (a pipe, `--color never`), every line carries its exact bytes,
/// CR and BOM included, so `imagepin --diff > p.patch` applies with `git
/// apply` or `patch -p1` (a terminal shows a CRLF line like any other).
/// Coloured (a terminal), the CR and the BOM are left out and other control
/// characters are shown as escapes, so nothing but the text reaches the
/// screen. A path with a control character, `"` or `\` is quoted in the
/// headers as git quotes it (`"a/x\ny"`), which `git apply` reads.
pub fn write_diff(
    out: &mut dyn Write,
    path: &Path,
    old: &str,
    new: &str,
    color: bool,
) -> std::io::Result<()> {
    const RED: &str = "\x1b[31m";
    const GREEN: &str = "\x1b[32m";
    const CYAN: &str = "\x1b[36m";
    const BOLD: &str = "\x1b[1m";
    const RESET: &str = "\x1b[0m";
    let paint = |c: &'static str| if color { c } else { "" };
    let reset = if color { RESET } else { "" };

    let shown = display_path(path);
    let diff = TextDiff::from_lines(old, new);
    let (old_name, new_name) = (git_path("a/", &shown), git_path("b/", &shown));
    writeln!(out, "{}--- {old_name}{reset}", paint(BOLD))?;
    writeln!(out, "{}+++ {new_name}{reset}", paint(BOLD))?;
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        writeln!(out, "{}{}{reset}", paint(CYAN), hunk.header())?;
        for change in hunk.iter_changes() {
            let (sign, c) = match change.tag() {
                ChangeTag::Delete => ('-', paint(RED)),
                ChangeTag::Insert => ('+', paint(GREEN)),
                ChangeTag::Equal => (' ', ""),
            };
            let line = change.value();
            let mut content = Cow::Borrowed(line.strip_suffix('\n').unwrap_or(line));
            if color {
                let text = content.strip_suffix('\r').unwrap_or(&content);
                let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                content = Cow::Owned(visible_keep_tabs(text).into_owned());
            }
            let r = if c.is_empty() { "" } else { reset };
            writeln!(out, "{c}{sign}{content}{r}")?;
            if change.missing_newline() {
                writeln!(out, "\\ No newline at end of file")?;
            }
        }
    }
    Ok(())
}

/// The path for diff headers: forward slashes, no leading `./` or `/`.
fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let s = s.trim_start_matches("./");
    s.trim_start_matches('/').to_string()
}

/// `--verify`: asks the registry about every pinned finding and sets its
/// status to `Stale` (its tag now points to another digest; the note names
/// it) or `Missing` (the digest no longer exists in the repository; this
/// wins over stale). A digest-only reference can only be missing or fine.
/// Returns the lookups that failed.
///
/// A platform-specific pin (one platform's image) whose tag now points to
/// an index is fresh when it is that index's child for its platform, and
/// stale (naming the child) when the child differs. A stale note says
/// when the tag's current image was created, when that is known.
pub fn verify(files: &mut [ScannedFile], source: &dyn DigestSource) -> Vec<FileError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    verify_at(files, source, now)
}

/// [`verify`] with "now" (seconds since the epoch) given, for ages.
pub fn verify_at(files: &mut [ScannedFile], source: &dyn DigestSource, now: i64) -> Vec<FileError> {
    let mut errors = Vec::new();
    // (file, finding, tag, digest ref) for every pinned finding.
    let mut pins: Vec<(usize, usize, Option<TagRef>, DigestRef)> = Vec::new();
    for (fi, file) in files.iter().enumerate() {
        for (i, f) in file.findings.iter().enumerate() {
            if f.status != Status::Pinned {
                continue;
            }
            let r = match Reference::parse(f.image()) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(error_at(f, format!("{}: {e}", f.image())));
                    continue;
                }
            };
            let Some(digest) = r.digest.clone() else {
                continue;
            };
            let tag = r.tag.is_some().then(|| TagRef::from_reference(&r));
            let dref = DigestRef {
                registry: r.registry().to_string(),
                repository: r.repository(),
                digest,
            };
            pins.push((fi, i, tag, dref));
        }
    }

    let tags: Vec<TagRef> = pins
        .iter()
        .filter_map(|p| p.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let tag_answers = lookup(&tags, ask(&tags, |t| source.resolve_tags(t)));

    // A tag that still points to the pinned digest proves the digest exists;
    // only the others are asked about.
    let current = |p: &(usize, usize, Option<TagRef>, DigestRef)| {
        p.2.as_ref().and_then(|t| tag_answers[t].as_ref().ok())
    };
    let moved: BTreeSet<(DigestRef, String)> = pins
        .iter()
        .filter_map(|p| {
            current(p)
                .filter(|d| **d != p.3.digest)
                .map(|d| (p.3.clone(), d.clone()))
        })
        .collect();
    let moves = describe_moves(source, &moved);
    let move_of = |p: &(usize, usize, Option<TagRef>, DigestRef)| {
        current(p).and_then(|d| moves.get(&(p.3.clone(), d.clone())))
    };
    // A pin that is a child of the tag's current index exists, and is fresh.
    let child_of_current = |p: &(usize, usize, Option<TagRef>, DigestRef)| {
        move_of(p)
            .and_then(|m| m.successor.as_ref())
            .is_some_and(|c| c.digest == p.3.digest)
    };
    let digests: Vec<DigestRef> = pins
        .iter()
        .filter(|p| current(p) != Some(&p.3.digest) && !child_of_current(p))
        .map(|p| p.3.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let exist_answers = lookup(&digests, ask(&digests, |d| source.digests_exist(d)));
    let mut failed = failures(&tag_answers);
    failed.extend(failures(&exist_answers));
    let cause = root_cause(&failed);

    for p in &pins {
        let (fi, i, tag, dref) = p;
        let current_digest = current(p);
        let f = &files[*fi].findings[*i];
        let mut status = Status::Pinned;
        let mut note = None;
        if let Some(t) = tag.as_ref().filter(|_| cause.is_none()) {
            if let Err(e) = &tag_answers[t] {
                errors.push(error_at(
                    f,
                    format!("could not verify {} ({t}): {}", f.image(), e.message),
                ));
            }
        }
        if let Some(d) = current_digest.filter(|d| **d != dref.digest) {
            let m = move_of(p);
            let since = m
                .and_then(|m| m.current.as_ref())
                .and_then(|c| c.created.as_ref())
                .map(|c| crate::policy::created_text(c, now));
            match m.and_then(|m| m.successor.as_ref()) {
                Some(child) if child.digest == dref.digest => {}
                Some(child) => {
                    status = Status::Stale;
                    note = Some(format!(
                        "the tag's {child} image is now {} (in the index {d}{})",
                        child.digest,
                        since.map(|s| format!(", {s}")).unwrap_or_default()
                    ));
                }
                None => {
                    status = Status::Stale;
                    note = Some(format!(
                        "tag now points to {d}{}",
                        since.map(|s| format!(" ({s})")).unwrap_or_default()
                    ));
                }
            }
        }
        match exist_answers.get(dref) {
            Some(Ok(false)) => {
                status = Status::Missing;
                let gone = format!(
                    "{} no longer exists in {}/{}",
                    dref.digest, dref.registry, dref.repository
                );
                note = Some(match note {
                    Some(n) => format!("{gone}; {n}"),
                    None => gone,
                });
            }
            Some(Err(e)) if cause.is_none() => errors.push(error_at(
                f,
                format!("could not verify {} ({dref}): {}", f.image(), e.message),
            )),
            Some(Err(_)) => {}
            Some(Ok(true)) | None => {}
        }
        let f = &mut files[*fi].findings[*i];
        f.status = status;
        if note.is_some() {
            f.note = note;
        }
    }
    errors.extend(cause.map(run_wide));
    errors
}

#[cfg(test)]
mod set_target_tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn r(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    #[test]
    fn set_targets_match_the_repository_and_the_tag_when_given() {
        let tagged = SetTarget::parse(&format!("python:3.12@{D}")).unwrap();
        assert_eq!(
            tagged.to_string(),
            format!("docker.io/library/python:3.12@{D}")
        );
        assert!(tagged.matches(&r("python:3.12")));
        assert!(tagged.matches(&r(&format!("docker.io/library/python:3.12@{D}"))));
        assert!(!tagged.matches(&r("python:3.11")));
        assert!(!tagged.matches(&r(&format!("python@{D}"))));
        assert!(!tagged.matches(&r("ghcr.io/library/python:3.12")));
        let latest = SetTarget::parse(&format!("python:latest@{D}")).unwrap();
        assert!(latest.matches(&r("python")));
        let any = SetTarget::parse(&format!("index.docker.io/library/python@{D}")).unwrap();
        assert!(any.matches(&r("python:3.11")) && any.matches(&r(&format!("python@{D}"))));
        assert_eq!(
            SetTarget::parse("python:3.12").unwrap_err(),
            "python:3.12: give the digest to set, as IMAGE[:TAG]@sha256:DIGEST"
        );
        assert!(SetTarget::parse("python@sha256:12").is_err());
    }
}
