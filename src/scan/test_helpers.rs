//! Test-only helpers shared by the scanners' unit tests: run a scanner through
//! [`scan_text`] or the whole [`scan_file`] pipeline and return rows that are
//! easy to compare.

use std::path::Path;

use super::{Hint, scan_file, scan_text};
use crate::finding::{FileKind, Status};

/// (reference text, hint, context) for each occurrence after dedup, in file order.
pub(super) fn found(kind: FileKind, text: &str) -> Vec<(&str, Hint, String)> {
    scan_text(kind, text)
        .unwrap()
        .into_iter()
        .map(|o| (&text[o.span], o.hint, o.context))
        .collect()
}

/// (reference text, context) for each occurrence, each of which must be an
/// image (not a stage, a local build…).
pub(super) fn images(kind: FileKind, text: &str) -> Vec<(&str, String)> {
    found(kind, text)
        .into_iter()
        .map(|(r, h, c)| {
            assert_eq!(h, Hint::Image, "{r}");
            (r, c)
        })
        .collect()
}

/// The reference texts only.
pub(super) fn refs(kind: FileKind, text: &str) -> Vec<&str> {
    found(kind, text).into_iter().map(|(r, _, _)| r).collect()
}

/// One finding of the whole pipeline: (line, column, reference, status, context).
pub(super) type Row = (usize, usize, String, Status, String);

/// Scans a fixture through the whole pipeline (no ignore-images).
pub(super) fn fixture(kind: FileKind, path: &str, text: &str) -> Vec<Row> {
    scan_file(Path::new(path), kind, text, &|_| false)
        .unwrap()
        .into_iter()
        .map(|f| (f.line, f.column, f.reference, f.status, f.context))
        .collect()
}

pub(super) fn row(
    line: usize,
    column: usize,
    reference: &str,
    status: Status,
    context: &str,
) -> Row {
    (
        line,
        column,
        reference.to_string(),
        status,
        context.to_string(),
    )
}
