//! Orchestration of one invocation: configuration → files → scan → (resolve,
//! rewrite) → report → exit code. Owned by the CLI layer; the stages it calls
//! live in their own modules.

use std::path::PathBuf;

use crate::finding::{FileKind, Finding};

/// One file that was read and scanned.
#[derive(Debug, Clone)]
pub struct ScannedFile {
    /// As given on the command line, or relative to the cwd when walking.
    pub path: PathBuf,
    pub kind: FileKind,
    /// The file's full text (BOM included), exactly as read.
    pub text: String,
    pub findings: Vec<Finding>,
}

/// A file that could not be read or parsed; the run goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}
