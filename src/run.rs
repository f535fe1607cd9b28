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

/// Exit code: nothing unpinned (or, with `--fix`, nothing changed).
pub const EXIT_OK: u8 = 0;
/// Unpinned references found (or `--fix` changed files).
pub const EXIT_FOUND: u8 = 1;
/// Usage error, configuration error, unreadable file, registry failure.
pub const EXIT_ERROR: u8 = 2;

/// Runs one invocation and returns the process exit code.
pub fn main(cli: crate::cli::Cli) -> u8 {
    if let Some(crate::cli::Command::Resolve(args)) = &cli.command {
        return crate::resolve::command::main(args);
    }
    EXIT_OK
}
