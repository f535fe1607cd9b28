//! The `--fix`, `--diff`, `--verify` and `--update` flows: resolve what needs
//! a digest, plan byte-exact edits with [`crate::rewrite`], show diffs, write
//! files atomically, and mark stale or missing pins (to be written).

use std::io::Write;
use std::path::PathBuf;

use crate::resolve::DigestSource;
use crate::run::{FileError, ScannedFile};

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
}

/// Pins every unpinned finding of `files` (and stale ones with `update`),
/// printing a unified diff per changed file to `out` unless `quiet`.
pub fn fix(
    files: &[ScannedFile],
    source: &dyn DigestSource,
    opts: &FixOptions,
    out: &mut dyn Write,
) -> std::io::Result<FixOutcome> {
    let _ = (files, source, opts, out);
    Ok(FixOutcome::default())
}

/// `--verify`: asks the registry about every pinned finding and sets its
/// status to `Stale` or `Missing` where it no longer holds. Returns the
/// lookups that failed.
pub fn verify(files: &mut [ScannedFile], source: &dyn DigestSource) -> Vec<FileError> {
    let _ = (files, source);
    Vec::new()
}
