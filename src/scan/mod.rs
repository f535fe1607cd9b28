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

pub(crate) mod batch;
mod digest_slot;
pub(crate) mod kind;
pub(crate) mod template;
#[cfg(test)]
mod test_helpers;
pub mod yaml;
mod yaml_image;

use std::ops::Range;
use std::path::Path;

use thiserror::Error;

use crate::finding::{DigestSlot, FileKind, Finding, Split, Status};
use crate::reference::Reference;

pub use kind::{Kind, Syntax};

/// Declares the scanner modules and lists their kinds in [`KINDS`], in the
/// order name rules and content sniffs are tried.
macro_rules! kinds {
    ($($module:ident),+ $(,)?) => {
        $(pub(crate) mod $module;)+
        /// Every file kind imagepin reads, in the order their name rules and
        /// sniffs are tried.
        pub static KINDS: &[&Kind] = &[$(&$module::KIND),+];
    };
}

kinds! {
    dockerfile,
    earthfile,
    jenkinsfile,
    compose,
    github_actions,
    gitlab_ci,
    woodpecker,
    drone,
    bitbucket,
    cloudbuild,
    circleci,
    azure_pipelines,
    buildkite,
    devcontainer,
    kubernetes,
    helm_values,
    kustomize,
}

/// The registry entry of a kind; `None` only for a module that declares a
/// `KIND` but is missing from the `kinds!` list.
pub fn registry_entry(id: FileKind) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.id == id)
}

/// The kind whose id (its stable name: `compose`, `helm-values`, as in
/// `[[files]] kind =` and in output) is `id`, if there is one.
pub fn kind_from_id(id: &str) -> Option<FileKind> {
    KINDS.iter().map(|k| k.id).find(|k| k.as_str() == id)
}

/// The kind a path's name rules give: the first registered kind that
/// claims it. Configuration is not consulted (see
/// [`crate::files::declared_or_path_kind`]).
pub fn kind_for_path(path: &Path) -> Option<FileKind> {
    KINDS.iter().find(|k| (k.names)(path)).map(|k| k.id)
}

/// The kind a YAML text shows, for a file whose path gives none: the first
/// registered sniff that accepts it.
pub fn kind_sniffed(text: &str) -> Option<FileKind> {
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
    /// For a reference whose parts are written apart: what they make up and
    /// where its digest goes. `None`: the text at `span` is the reference.
    pub split: Option<Split>,
}

impl Occurrence {
    pub fn new(span: Range<usize>, hint: Hint, context: impl Into<String>) -> Occurrence {
        Occurrence {
            span,
            hint,
            context: context.into(),
            split: None,
        }
    }

    /// An occurrence reported at `span` whose reference is `split.image`.
    pub fn split(
        span: Range<usize>,
        hint: Hint,
        context: impl Into<String>,
        split: Split,
    ) -> Occurrence {
        Occurrence {
            span,
            hint,
            context: context.into(),
            split: Some(split),
        }
    }

    /// The reference as used: the split image, or the text at the span.
    pub fn image<'t>(&'t self, text: &'t str) -> &'t str {
        match &self.split {
            Some(s) => &s.image,
            None => text.get(self.span.clone()).unwrap_or(""),
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
    let scanner = registry_entry(kind)
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
        if let Some(split) = &mut o.split {
            let slot = std::mem::replace(&mut split.digest, DigestSlot::Nowhere(String::new()));
            split.digest = slot.shifted(offset);
        }
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
    // Lines are counted only as far as the last occurrence's line (its end
    // included, for its ignore comment): occurrences come sorted.
    let lines = match occurrences.last() {
        Some(last) => LineIndex::through_line_of(text, last.span.start),
        None => return Ok(Vec::new()),
    };
    // Occurrences come sorted by offset: positions and ignore comments are
    // found in one pass over the text, however many share a line.
    let mut positions = lines.positions(text);
    Ok(occurrences
        .into_iter()
        .map(|o| {
            let reference = text[o.span.clone()].to_string();
            let image = o.split.as_ref().map_or(reference.as_str(), |s| &s.image);
            let (line, column) = positions.line_col(o.span.start);
            let (mut status, mut note) = classify(o.hint, image);
            if status != Status::Stage
                && status != Status::Scratch
                && (positions.has_ignore_comment(line)
                    || ignore_image(&reference)
                    || ignore_image(image))
            {
                status = Status::Ignored;
            }
            if let Some(split) = &o.split {
                // Where the parts come from, and why the digest has no place
                // when it has none (said once, whoever wrote it first).
                let mut why = split.note.clone().unwrap_or_default();
                if let DigestSlot::Nowhere(reason) = &split.digest {
                    if !reason.is_empty() && !why.contains(reason.as_str()) {
                        if !why.is_empty() {
                            why.push_str("; ");
                        }
                        why.push_str("imagepin can't write its digest in place: ");
                        why.push_str(reason);
                    }
                }
                if !why.is_empty() {
                    note = Some(match note {
                        Some(n) => format!("{why}; {n}"),
                        None => why,
                    });
                }
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
                split: o.split,
            }
        })
        .collect())
}

/// Whether a reference text contains templating that only a later stage
/// (shell, Compose, Actions, Helm, Tekton) fills in.
pub(crate) fn is_templated(text: &str) -> bool {
    text.contains('$') || text.contains("{{") || text.contains("}}")
}

/// Decides the status of one occurrence from its hint and text.
pub(crate) fn classify(hint: Hint, text: &str) -> (Status, Option<String>) {
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
pub(crate) struct LineIndex {
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The index of `text` as far as the line holding `offset` and the start
    /// of the next: answers as [`LineIndex::new`] does for offsets up to the
    /// end of that line and for the lines up to it.
    pub(crate) fn through_line_of(text: &str, offset: usize) -> LineIndex {
        let end = text
            .get(offset..)
            .and_then(|rest| rest.find('\n'))
            .map_or(text.len(), |i| offset + i + 1);
        LineIndex::new(text.get(..end).unwrap_or(text))
    }

    /// 1-based line and column (in characters; a BOM is not counted).
    pub(crate) fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let prefix = text.get(start..offset).unwrap_or("");
        let prefix = prefix.strip_prefix('\u{feff}').unwrap_or(prefix);
        (line, prefix.chars().count() + 1)
    }

    /// The text of a 1-based line, without its line ending.
    pub(crate) fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).map_or(text.len(), |&e| e);
        text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// A cursor for looking up many offsets of `text` in increasing order, in
    /// time linear in the text (see [`Positions`]).
    pub(crate) fn positions<'a>(&'a self, text: &'a str) -> Positions<'a> {
        Positions {
            index: self,
            text,
            last: None,
            ignore: None,
        }
    }

    /// An `imagepin: ignore` comment on this line or alone on the line above.
    pub(crate) fn has_ignore_comment(&self, text: &str, line: usize) -> bool {
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

/// [`LineIndex::line_col`] and [`LineIndex::has_ignore_comment`] for offsets
/// visited in increasing order: the column of an offset is counted on from the
/// previous one on the same line, and a line's ignore comment is looked for
/// once. Thousands of references on one line cost one pass over it, not one
/// pass each. Offsets out of order are still answered correctly, from the line
/// start.
pub(crate) struct Positions<'a> {
    index: &'a LineIndex,
    text: &'a str,
    /// The previous answer: offset, line, column.
    last: Option<(usize, usize, usize)>,
    /// The previous ignore-comment answer: line, whether ignored.
    ignore: Option<(usize, bool)>,
}

impl Positions<'_> {
    /// 1-based line and column (in characters; a BOM is not counted).
    pub(crate) fn line_col(&mut self, offset: usize) -> (usize, usize) {
        let answer = match self.last {
            Some((at, line, column))
                if at <= offset && self.index.starts.get(line).is_none_or(|&s| offset < s) =>
            {
                match self.text.get(at..offset) {
                    Some(between) => {
                        let between = if at == 0 {
                            between.strip_prefix('\u{feff}').unwrap_or(between)
                        } else {
                            between
                        };
                        (line, column + between.chars().count())
                    }
                    None => self.index.line_col(self.text, offset),
                }
            }
            _ => self.index.line_col(self.text, offset),
        };
        self.last = Some((offset, answer.0, answer.1));
        answer
    }

    /// [`LineIndex::has_ignore_comment`], remembered for the last line asked.
    pub(crate) fn has_ignore_comment(&mut self, line: usize) -> bool {
        match self.ignore {
            Some((l, answer)) if l == line => answer,
            _ => {
                let answer = self.index.has_ignore_comment(self.text, line);
                self.ignore = Some((line, answer));
                answer
            }
        }
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
    fn positions_agree_with_line_col_on_a_long_line() {
        // 40,000 references on one line (issue 8, item 14): every column
        // right, and the cursor agrees with the per-offset lookup.
        let mut t = String::from("\u{feff}x:\n");
        let refs: Vec<usize> = (0..40_000)
            .map(|i| {
                t.push_str(if i % 2 == 0 { "é " } else { "a " });
                let at = t.len();
                t.push_str(&format!("img{i}:1,"));
                at
            })
            .collect();
        t.push_str(" # imagepin: ignore\nnext: b\n");
        let idx = LineIndex::new(&t);
        let mut pos = idx.positions(&t);
        let mut column = 0;
        for (i, &at) in refs.iter().enumerate() {
            let (line, col) = pos.line_col(at);
            assert_eq!(line, 2);
            let width = if i == 0 {
                2
            } else {
                format!("img{}:1,", i - 1).len() + 2
            };
            column = if i == 0 { 3 } else { column + width };
            assert_eq!(col, column, "reference {i}");
            assert!(pos.has_ignore_comment(line));
        }
        for at in [refs[7], refs[3], t.len() - 2, 0] {
            assert_eq!(pos.line_col(at), idx.line_col(&t, at));
        }
        assert_eq!(pos.line_col(t.len() - 2), (3, 7));
        assert!(!pos.has_ignore_comment(3));
    }

    #[test]
    fn scan_file_is_linear_in_references_per_line() {
        let refs = 40_000;
        let body: Vec<String> = (0..refs)
            .map(|i| format!("s{i}: {{image: é{i}:1}}"))
            .collect();
        let text = format!("{{services: {{{}}}}} # imagepin: ignore\n", body.join(", "));
        let compose = crate::scan::kind_from_id("compose").unwrap();
        let found = scan_file(Path::new("compose.yaml"), compose, &text, &|_| false).unwrap();
        assert_eq!(found.len(), refs);
        for f in [&found[0], &found[refs / 2], &found[refs - 1]] {
            let chars = text[..f.span.start].chars().count();
            assert_eq!((f.line, f.column), (1, chars + 1), "{}", f.reference);
            assert_eq!(f.status, Status::Ignored);
        }
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
