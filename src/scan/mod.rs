//! Scanners: one module per file kind, each turning a file's text into
//! [`Occurrence`]s with exact byte spans. Scanners never resolve, never print
//! and never panic on user input; they return [`ScanError`] instead.
//!
//! The kinds are registered in one place, [`KINDS`] (the `kinds!` list
//! below): a new kind is one module that declares `pub static KIND:
//! kind::Kind` and one line in that list. This module also strips a UTF-8
//! BOM (spans stay relative to the file's bytes), applies inline
//! `imagepin: ignore` comments and classifies each occurrence into a
//! [`Finding`] with a [`Status`]; [`batch`] reads and scans many files.

pub mod batch;
pub mod kind;
pub mod template;
#[cfg(test)]
mod test_helpers;
pub mod yaml;

use std::ops::Range;
use std::path::Path;

use thiserror::Error;

use crate::finding::{FileKind, Finding, Status};
use crate::reference::Reference;

pub use kind::{Kind, Syntax};

/// Declares the scanner modules and lists their kinds in [`KINDS`], in the
/// order name rules and content sniffs are tried.
macro_rules! kinds {
    ($($module:ident),+ $(,)?) => {
        $(pub mod $module;)+
        /// Every file kind imagepin reads, in the order their name rules and
        /// sniffs are tried.
        pub static KINDS: &[&Kind] = &[$(&$module::KIND),+];
    };
}

kinds! {
    dockerfile,
    earthfile,
    compose,
    github_actions,
    gitlab_ci,
    devcontainer,
    kubernetes,
}

/// The registry entry of a kind; `None` only for a module that declares a
/// `KIND` but is missing from the `kinds!` list.
pub fn kind(id: FileKind) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.id == id)
}

/// The kind of this name (`[[files]] kind =`), if there is one.
pub fn kind_named(name: &str) -> Option<FileKind> {
    KINDS.iter().map(|k| k.id).find(|id| id.as_str() == name)
}

/// The kind a file's name reveals: the first registered kind that claims it.
pub fn kind_by_name(path: &Path) -> Option<FileKind> {
    KINDS.iter().find(|k| (k.names)(path)).map(|k| k.id)
}

/// The kind a YAML text of no named kind shows: the first registered sniff
/// that accepts it.
pub fn kind_by_content(text: &str) -> Option<FileKind> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    KINDS
        .iter()
        .find(|k| k.sniff.is_some_and(|sniff| sniff(text)))
        .map(|k| k.id)
}

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
    let scanner = self::kind(kind)
        .ok_or_else(|| ScanError::new(format!("internal error: no scanner for kind {kind}")))?;
    let mut found = (scanner.scan)(body)?;
    for o in &mut found {
        // A reference never spans lines: a value written across lines can't
        // be pinned in place, and is shown by its first line.
        if let Some(nl) = body.get(o.span.clone()).and_then(|t| t.find(['\r', '\n'])) {
            o.span.end = o.span.start + nl;
            if o.hint == Hint::Image {
                o.hint = Hint::Unreadable;
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
