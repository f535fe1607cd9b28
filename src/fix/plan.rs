//! Planning `--fix`/`--diff`/`--update`/`set`: which findings need which
//! registry answer, which tags to ask about (once each, across all files),
//! and, given the answers, the byte-exact edits of one file and the changes
//! they make. Nothing here talks to the registry or writes a file.

use std::collections::{BTreeMap, BTreeSet};

use super::lookup::{Moved, pin_ref};
use super::{Change, FixOptions, SetTarget, error_at};
use crate::finding::{DigestSlot, FileError, Finding, Status};
use crate::reference::Reference;
use crate::resolve::{DigestRef, ResolveError, TagRef};
use crate::rewrite::{self, Edit};
use crate::scan::batch::ScannedFile;

/// What one finding needs from the registry.
pub(super) enum Need {
    /// Unpinned: the tag's digest is inserted.
    Pin(TagRef),
    /// Pinned with a tag, under `--update`: replaced when the tag moved.
    Update(TagRef, String),
    /// `imagepin set`: the target's digest, replacing this one if any.
    Set(Option<String>),
}

/// The needs of one file: (index of the finding, what it needs).
pub(super) type FileNeeds = Vec<(usize, Need)>;

/// What each finding of each file needs (in file order), under `--only`,
/// `--update` and `set`. A reference that cannot be parsed is an error.
pub(super) fn needs(
    files: &[ScannedFile],
    opts: &FixOptions,
    errors: &mut Vec<FileError>,
) -> Vec<FileNeeds> {
    let mut needs: Vec<FileNeeds> = Vec::with_capacity(files.len());
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
                Err(e) => errors.push(e),
            }
        }
        needs.push(v);
    }
    needs
}

/// The unique tags to resolve, in order.
pub(super) fn tags(needs: &[FileNeeds]) -> Vec<TagRef> {
    let tags: BTreeSet<&TagRef> = needs
        .iter()
        .flatten()
        .filter_map(|(_, n)| match n {
            Need::Pin(t) | Need::Update(t, _) => Some(t),
            Need::Set(_) => None,
        })
        .collect();
    tags.into_iter().cloned().collect()
}

/// Pins whose tag moved, as (pin, the tag's digest now): a
/// platform-specific pin moves to the same platform's child of the tag's
/// new index, not to the index, so these are described before planning.
pub(super) fn moved(
    needs: &[FileNeeds],
    answers: &BTreeMap<TagRef, Result<String, ResolveError>>,
) -> BTreeSet<(DigestRef, String)> {
    needs
        .iter()
        .flatten()
        .filter_map(|(_, n)| match n {
            Need::Update(t, cur) => match answers.get(t) {
                Some(Ok(now)) if now != cur => Some((pin_ref(t, cur), now.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// What the registry answered, for planning each file.
pub(super) struct Answers<'a> {
    /// Each asked tag's digest.
    pub tags: &'a BTreeMap<TagRef, Result<String, ResolveError>>,
    /// What is known about the pins whose tag moved.
    pub moves: &'a BTreeMap<(DigestRef, String), Moved>,
    /// `imagepin set`'s target.
    pub set: Option<&'a SetTarget>,
    /// Every lookup failed for one reason, said once for the run: no
    /// error per reference.
    pub one_cause: bool,
}

/// The edits of one file and what they change.
#[derive(Default)]
pub(super) struct Planned {
    pub edits: Vec<Edit>,
    pub changes: Vec<Change>,
    /// References that received a digest.
    pub pinned: usize,
    /// Digests replaced.
    pub updated: usize,
}

/// Plans the edits of one file from its needs and the answers. A reference
/// whose lookup failed, or whose edit cannot be made, is left as written
/// and reported in `errors`.
pub(super) fn edits(
    file: &ScannedFile,
    needs: FileNeeds,
    answers: &Answers<'_>,
    errors: &mut Vec<FileError>,
) -> Planned {
    let mut planned = Planned::default();
    for (i, n) in needs {
        let f = &file.findings[i];
        let (tag, current) = match &n {
            Need::Pin(t) => (Some(t), None),
            Need::Update(t, d) => (Some(t), Some(d)),
            Need::Set(d) => (None, d.as_ref()),
        };
        let answer = match (tag, answers.set) {
            (Some(tag), _) => answers
                .tags
                .get(tag)
                .map(|a| a.as_ref().map_err(|e| (tag, e))),
            (None, Some(target)) => Some(Ok(&target.digest)),
            (None, None) => None,
        };
        let digest = match answer {
            Some(Ok(d)) => d,
            Some(Err((tag, e))) => {
                if !answers.one_cause {
                    errors.push(lookup_error(f, tag, e));
                }
                continue;
            }
            None => continue,
        };
        let mut digest = digest.clone();
        if let Need::Update(t, cur) = &n {
            if let Some(child) = answers
                .moves
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
                    planned.updated += 1;
                } else {
                    planned.pinned += 1;
                }
                planned.edits.push(e);
                planned.changes.push(Change {
                    path: file.path.clone(),
                    line: f.line,
                    column: f.column,
                    reference: f.image().to_string(),
                    old_digest: current.cloned(),
                    new_digest: digest,
                });
            }
            Err(e) => errors.push(error_at(f, e.to_string())),
        }
    }
    planned
}

/// Whether a finding's digest has no place it can safely be written (a
/// default behind a variable that is used elsewhere too, …): `--fix` leaves
/// it as it is, for the user, like an invalid reference.
pub(crate) fn unpinnable(f: &Finding) -> bool {
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
