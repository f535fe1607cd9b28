//! Scanners: one module per file kind, each turning a file's text into
//! [`Occurrence`]s with exact byte spans. Scanners never resolve, never print
//! and never panic on user input; they return [`ScanError`] instead.
//!
//! This module dispatches by [`FileKind`], strips a UTF-8 BOM (spans stay
//! relative to the file's bytes), applies inline `imagepin: ignore` comments
//! and classifies each occurrence into a [`Finding`] with a [`Status`].

pub mod compose;
pub mod devcontainer;
pub mod dockerfile;
pub mod github_actions;
pub mod gitlab_ci;
pub mod kubernetes;
pub mod yaml;

use std::ops::Range;
use std::path::Path;

use thiserror::Error;

use crate::finding::{FileKind, Finding, Status};
use crate::reference::Reference;

/// What a scanner knows about an occurrence beyond its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// An image reference: classify it by the grammar (pinned, unpinned, dynamic…).
    Image,
    /// Known to be dynamic (templating the grammar check might not see).
    Dynamic,
    /// A Dockerfile stage name or index.
    Stage,
    /// `FROM scratch`.
    Scratch,
    /// The image a local build produces or a local build context.
    LocalBuild,
    /// A value written with escapes or across lines: imagepin cannot pin it
    /// in place, so it is reported as `invalid` (the span covers its first line).
    Unreadable,
}

/// One image reference as a scanner found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// Byte range in the text given to the scanner (without quotes).
    pub span: Range<usize>,
    pub hint: Hint,
    /// Where it was found: `FROM`, `# syntax`, `services.web.image`, ….
    pub context: String,
}

impl Occurrence {
    pub fn new(span: Range<usize>, hint: Hint, context: impl Into<String>) -> Occurrence {
        Occurrence {
            span,
            hint,
            context: context.into(),
        }
    }
}

/// A file that could not be scanned. Line and column are 1-based when known.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ScanError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl ScanError {
    pub fn new(message: impl Into<String>) -> ScanError {
        ScanError {
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub fn at(message: impl Into<String>, line: usize, column: usize) -> ScanError {
        ScanError {
            message: message.into(),
            line: Some(line),
            column: Some(column),
        }
    }
}

/// Runs the scanner for `kind` over `text` (BOM handled here).
pub fn scan_text(kind: FileKind, text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let (offset, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (3, rest),
        None => (0, text),
    };
    let mut found = match kind {
        FileKind::Dockerfile => dockerfile::scan(body)?,
        FileKind::Compose => compose::scan(body)?,
        FileKind::GithubActions => github_actions::scan(body)?,
        FileKind::Kubernetes => kubernetes::scan(body)?,
        FileKind::GitlabCi => gitlab_ci::scan(body)?,
        FileKind::Devcontainer => devcontainer::scan(body)?,
    };
    for o in &mut found {
        if o.hint == Hint::Unreadable {
            if let Some(nl) = body.get(o.span.clone()).and_then(|t| t.find(['\r', '\n'])) {
                o.span.end = o.span.start + nl;
            }
        }
        o.span = o.span.start + offset..o.span.end + offset;
        debug_assert!(text.get(o.span.clone()).is_some(), "span off char boundary");
    }
    found.retain(|o| text.get(o.span.clone()).is_some());
    found.sort_by_key(|o| o.span.start);
    found.dedup_by_key(|o| o.span.clone());
    Ok(found)
}

/// Scans one file's text into findings. `ignore_image` decides configuration
/// suppressions (`ignore-images`).
pub fn scan_file(
    path: &Path,
    kind: FileKind,
    text: &str,
    ignore_image: &dyn Fn(&str) -> bool,
) -> Result<Vec<Finding>, ScanError> {
    let occurrences = scan_text(kind, text)?;
    let lines = LineIndex::new(text);
    Ok(occurrences
        .into_iter()
        .map(|o| {
            let reference = text[o.span.clone()].to_string();
            let (line, column) = lines.line_col(text, o.span.start);
            let (mut status, note) = classify(o.hint, &reference);
            if status != Status::Stage
                && status != Status::Scratch
                && (lines.has_ignore_comment(text, line) || ignore_image(&reference))
            {
                status = Status::Ignored;
            }
            Finding {
                path: path.to_path_buf(),
                kind,
                span: o.span,
                line,
                column,
                reference,
                status,
                context: o.context,
                note,
            }
        })
        .collect())
}

/// Whether a reference text contains templating that only a later stage
/// (shell, Compose, Actions, Helm, Tekton) fills in.
pub fn is_templated(text: &str) -> bool {
    text.contains('$') || text.contains("{{") || text.contains("}}")
}

/// Decides the status of one occurrence from its hint and text.
pub fn classify(hint: Hint, text: &str) -> (Status, Option<String>) {
    match hint {
        Hint::Stage => (Status::Stage, None),
        Hint::Scratch => (Status::Scratch, None),
        Hint::LocalBuild => (Status::LocalBuild, None),
        Hint::Dynamic => (Status::Dynamic, None),
        Hint::Unreadable => (
            Status::Invalid,
            Some("written with escapes or across lines; write the reference as one plain line so it can be pinned".into()),
        ),
        Hint::Image if is_templated(text) => (Status::Dynamic, None),
        Hint::Image => match Reference::parse(text) {
            Ok(r) if r.digest.is_some() => (Status::Pinned, None),
            Ok(_) => (Status::Unpinned, None),
            Err(e) if text.contains('@') => (Status::Invalid, Some(e.to_string())),
            Err(e) => (Status::Invalid, Some(e.to_string())),
        },
    }
}

/// Maps byte offsets to 1-based lines and character columns.
pub struct LineIndex {
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line and column (in characters; a BOM is not counted).
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let prefix = text.get(start..offset).unwrap_or("");
        let prefix = prefix.strip_prefix('\u{feff}').unwrap_or(prefix);
        (line, prefix.chars().count() + 1)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).map_or(text.len(), |&e| e);
        text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// An `imagepin: ignore` comment on this line or alone on the line above.
    pub fn has_ignore_comment(&self, text: &str, line: usize) -> bool {
        let marker = |l: &str| {
            l.find("imagepin:").is_some_and(|i| {
                l[i + "imagepin:".len()..]
                    .trim_start()
                    .starts_with("ignore")
            }) && (l.contains('#') || l.contains("//"))
        };
        if marker(self.line_text(text, line)) {
            return true;
        }
        let above = self.line_text(text, line.wrapping_sub(1)).trim_start();
        line > 1 && (above.starts_with('#') || above.starts_with("//")) && marker(above)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_statuses() {
        assert_eq!(classify(Hint::Image, "python:3").0, Status::Unpinned);
        assert_eq!(classify(Hint::Image, "python").0, Status::Unpinned);
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            classify(Hint::Image, &format!("python@{d}")).0,
            Status::Pinned
        );
        assert_eq!(
            classify(Hint::Image, "python:${PY}-slim").0,
            Status::Dynamic
        );
        assert_eq!(
            classify(Hint::Image, "${{ matrix.image }}").0,
            Status::Dynamic
        );
        assert_eq!(
            classify(Hint::Image, "myimage@sha256:0ecb2ad60").0,
            Status::Invalid
        );
        assert_eq!(classify(Hint::Stage, "builder").0, Status::Stage);
    }

    #[test]
    fn line_columns_count_characters() {
        let t = "\u{feff}a\r\nxé: img\n";
        let idx = LineIndex::new(t);
        assert_eq!(idx.line_col(t, 3), (1, 1));
        let off = t.find("img").unwrap();
        assert_eq!(idx.line_col(t, off), (2, 5));
        assert_eq!(idx.line_text(t, 2), "xé: img");
    }

    #[test]
    fn ignore_comments_same_line_or_above() {
        let t = "FROM a # imagepin: ignore\n# imagepin: ignore\nFROM b\nFROM c\n";
        let idx = LineIndex::new(t);
        assert!(idx.has_ignore_comment(t, 1));
        assert!(idx.has_ignore_comment(t, 3));
        assert!(!idx.has_ignore_comment(t, 4));
    }
}
