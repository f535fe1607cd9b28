//! `--verify`: asks the registry about every pinned reference and marks it
//! `stale` (its tag moved) or `missing` (its digest is gone), following a
//! platform-specific pin to the same platform's child of the tag's index.

use std::collections::BTreeSet;

use super::error_at;
use super::lookup::{ask, describe_moves, failures, lookup, run_wide};
use crate::finding::{FileError, Status};
use crate::reference::Reference;
use crate::resolve::cause::root_cause;
use crate::resolve::{DigestRef, DigestSource, TagRef};
use crate::scan::batch::ScannedFile;

/// `--verify`: asks the registry about every pinned finding and sets its
/// status to `Stale` (its tag now points to another digest; the note names
/// it) or `Missing` (the digest no longer exists in the repository; this
/// wins over stale). A digest-only reference can only be missing or fine.
/// Returns the lookups that failed.
///
/// A platform-specific pin (one platform's image) whose tag now points to
/// an index is fresh when it is that index's child for its platform, and
/// stale (naming the child) when the child differs. A stale note says
/// when the tag's current image was created, when that is known, as an
/// age at `now` (seconds since the epoch; the run's clock or
/// `IMAGEPIN_TODAY`).
pub fn verify(files: &mut [ScannedFile], source: &dyn DigestSource, now: i64) -> Vec<FileError> {
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
