//! The `--fix`, `--diff`, `--verify` and `--update` flows (and `imagepin
//! set`'s, which gives one image a given digest): collect what needs
//! a digest across all files, resolve it in one batch, plan byte-exact edits
//! with [`crate::rewrite`], check them, show unified diffs and write files
//! atomically; and mark pins whose tag moved (`stale`) or whose digest is gone
//! (`missing`). A pin to one platform's image follows that platform's child
//! of the tag's index (see [`crate::policy::platform_successor`]).
//!
//! [`fix`] runs the stages; each has its module: `plan` (which reference
//! gets which digest, and the edits), `lookup` (batched registry questions,
//! shared with [`verify()`]), `write` (checked, atomic writes), `diff`
//! (rendering) and `set_target` (`imagepin set`'s image).

mod diff;
mod lookup;
mod plan;
mod set_target;
mod verify;
mod write;

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use crate::finding::{FileError, Finding};
use crate::resolve::DigestSource;
use crate::resolve::cause::root_cause;
use crate::scan::batch::ScannedFile;
use lookup::{ask, describe_moves, failures, lookup, run_wide};

pub(crate) use plan::unpinnable;
pub(crate) use set_target::SetTarget;
pub use verify::verify;

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
    let needs = plan::needs(files, opts, &mut outcome.errors);
    let tags = plan::tags(&needs);
    let tag_answers = lookup(&tags, ask(&tags, |t| source.resolve_tags(t)));
    // When every lookup failed for one network-wide reason, it is said once.
    let cause = root_cause(&failures(&tag_answers));
    let moves = describe_moves(source, &plan::moved(&needs, &tag_answers));
    let answers = plan::Answers {
        tags: &tag_answers,
        moves: &moves,
        set: opts.set.as_ref(),
        one_cause: cause.is_some(),
    };

    // Per file: plan, apply, check, write, show. The same file named
    // twice (`Dockerfile` and `./Dockerfile`, or a symlink and its target)
    // is handled once.
    let mut seen: HashSet<PathBuf> = HashSet::new();
    for (file, needs) in files.iter().zip(needs) {
        let real = std::fs::canonicalize(&file.path).unwrap_or_else(|_| file.path.clone());
        if !seen.insert(real) {
            continue;
        }
        let planned = plan::edits(file, needs, &answers, &mut outcome.errors);
        if planned.edits.is_empty() {
            continue;
        }
        let new = match write::checked_text(file, &planned.edits) {
            Ok(new) => new,
            Err(e) => {
                outcome.errors.push(e);
                continue;
            }
        };
        // Written first, so the diff shows only what happened.
        if opts.write {
            if let Err(e) = write::replace(&file.path, &file.text, &new) {
                outcome.errors.push(e);
                continue;
            }
        }
        if !opts.quiet {
            diff::write_diff(out, &file.path, &file.text, &new, opts.color)?;
        }
        outcome.changed.push(file.path.clone());
        outcome.changes.extend(planned.changes);
        outcome.pinned += planned.pinned;
        outcome.updated += planned.updated;
    }
    outcome.errors.extend(cause.map(run_wide));
    Ok(outcome)
}

/// An error at a finding's line.
fn error_at(f: &Finding, message: String) -> FileError {
    FileError {
        path: f.path.clone(),
        line: Some(f.line),
        message,
    }
}
