//! Turning a file's planned edits into its new text and putting it on disk:
//! the edits applied, the result checked by re-scanning (every byte outside
//! the edits unchanged, every other finding where it was), then written
//! atomically by [`crate::rewrite::atomic`]. A file that fails either step
//! is left as it was and reported.

use std::path::Path;

use crate::finding::FileError;
use crate::rewrite::{self, Edit, atomic};
use crate::scan::batch::ScannedFile;

/// The file's text with `edits` applied, once the safety check passed. A
/// failed check is imagepin's bug, and says so.
pub(super) fn checked_text(file: &ScannedFile, edits: &[Edit]) -> Result<String, FileError> {
    rewrite::apply(&file.text, edits)
        .and_then(|new| {
            rewrite::check(file.kind, &file.text, &new, &file.findings, edits).map(|()| new)
        })
        .map_err(|e| FileError {
            path: file.path.clone(),
            line: None,
            message: format!("{e}; please report this as an imagepin bug"),
        })
}

/// Replaces the file at `path` (which read as `old`) with `new`, atomically.
pub(super) fn replace(path: &Path, old: &str, new: &str) -> Result<(), FileError> {
    match atomic::replace_file(path, old, new) {
        Ok(_) => Ok(()),
        Err(e) => Err(FileError {
            path: path.to_path_buf(),
            line: None,
            message: e.message,
        }),
    }
}
