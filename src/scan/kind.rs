//! What a file kind is: one entry of the scanner registry ([`super::KINDS`]).
//!
//! Each scanner module declares a `pub static KIND: Kind` — its name, which
//! file names it claims, an optional content sniff for YAML files whose name
//! says nothing, the keys it reads (for the no-panic property and for cheap
//! prefilters), and its scan function — and is registered by one line in
//! `scan/mod.rs`. File selection, `--list-files`, `[[files]] kind =`, the
//! output's kind names and the property tests all read that one table.
//!
//! The helpers below are the small pieces name rules are made of.

use std::borrow::Cow;
use std::path::{Component, Path};

use super::batch::ScannedFile;
use super::{Occurrence, ScanError};
use crate::finding::{FileError, FileKind};

/// One file kind and its scanner.
#[derive(Debug)]
pub struct Kind {
    /// The stable name (`dockerfile`, `helm-values`), used in output and in
    /// `[[files]] kind =`.
    pub id: FileKind,
    /// Whether a file of this name (path as given or walked) is of this kind.
    /// Checked in registry order; the first kind that claims a name wins.
    pub names: fn(&Path) -> bool,
    /// For a YAML file that no kind claims by name: whether its text is of this
    /// kind (a cheap test; the scanner does the real parse). Sniffs are tried
    /// in registry order.
    pub sniff: Option<fn(&str) -> bool>,
    /// Finds the references in a file's text (BOM already stripped).
    pub scan: fn(&str) -> Result<Vec<Occurrence>, ScanError>,
    /// The text format, for tools that generate inputs (the no-panic property).
    pub syntax: Syntax,
    /// Keys (or instruction words) the scanner looks for: the no-panic
    /// property builds documents from them.
    pub keys: &'static [&'static str],
    /// For kinds whose files are read together (Helm values files override
    /// each other): called once after scanning with every scanned file of
    /// this kind, texts included, to adjust their findings and add errors.
    pub relate: Option<Relate>,
}

/// A pass over all scanned files of one kind (see [`Kind::relate`]).
pub(crate) type Relate = fn(&mut [ScannedFile], &mut Vec<FileError>);

/// The text format a kind is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    /// JSON with comments (devcontainer).
    Json,
    /// Line-oriented instructions (Dockerfile, Earthfile).
    Lines,
    /// Groovy code (Jenkinsfile): calls, blocks, comments and strings.
    Groovy,
}

/// The file name, lower-cased; bytes that are not UTF-8 become U+FFFD, so
/// `Dockerfile\xff` is still a Dockerfile (a file is never skipped for its
/// name's encoding). `None` only for a path without a file name.
///
/// Borrowed from the path when it is UTF-8 with no upper-case letter (the
/// common case: every name rule of every walked file asks).
pub(crate) fn lower_name(path: &Path) -> Option<Cow<'_, str>> {
    let name = path.file_name()?.to_string_lossy();
    Some(if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        name
    })
}

/// Whether a (lower-cased) name ends in `.yml` or `.yaml`.
pub(crate) fn is_yaml_name(lower: &str) -> bool {
    lower.ends_with(".yml") || lower.ends_with(".yaml")
}

/// The names of the directories a path is in, innermost first
/// (`a/b/c.yml` → `b`, `a`). A name that is not UTF-8 is `"\u{fffd}"` (it
/// matches no rule, but keeps its place).
pub(crate) fn parents(path: &Path) -> impl Iterator<Item = &str> {
    path.parent()
        .into_iter()
        .flat_map(|p| p.components().rev())
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_str().unwrap_or("\u{fffd}")),
            _ => None,
        })
}

/// Whether the (lower-cased) file name is `stem.yml` or `stem.yaml`.
pub(crate) fn is_yaml_named(lower: &str, stem: &str) -> bool {
    lower
        .strip_prefix(stem)
        .is_some_and(|rest| rest == ".yml" || rest == ".yaml")
}

/// Whether a line of `text` (as `str::lines` splits it) starts with the
/// rest of `needle`, which is a `\n` and the prefix: a sniff that needs a
/// top-level key rejects most texts with one substring search, not a pass
/// over every line.
pub(crate) fn has_line_starting(text: &str, needle: &str) -> bool {
    let prefix = needle.strip_prefix('\n').unwrap_or(needle);
    text.starts_with(prefix) || text.contains(needle)
}

/// The no-op name rule, for kinds found only by content or configuration.
pub(crate) fn no_names(_: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_starting_with_a_prefix() {
        let needle = "\njobs:";
        assert!(has_line_starting("jobs:\n", needle));
        assert!(has_line_starting("on: push\r\njobs:\n", needle));
        assert!(!has_line_starting("x:\n  jobs:\n", needle));
        assert!(!has_line_starting("# jobs:\nx: jobs:\n", needle));
        assert!(!has_line_starting("", needle));
    }

    #[test]
    fn parents_innermost_first() {
        let p = Path::new("a/.github/workflows/ci.yml");
        assert_eq!(
            parents(p).collect::<Vec<_>>(),
            ["workflows", ".github", "a"]
        );
        assert_eq!(parents(Path::new("ci.yml")).count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_still_match() {
        use std::os::unix::ffi::OsStrExt;
        let p = |b: &[u8]| std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b));
        assert_eq!(
            lower_name(&p(b"Dockerfile\xff")).as_deref(),
            Some("dockerfile\u{fffd}")
        );
        let k = |b: &[u8]| crate::scan::kind_for_path(&p(b)).map(FileKind::as_str);
        assert_eq!(k(b"Dockerfile\xff"), Some("dockerfile"));
        assert_eq!(k(b"\xfe.Dockerfile"), Some("dockerfile"));
        assert_eq!(k(b"compose-\xff.yaml"), Some("compose"));
        assert_eq!(k(b"\xff/.github/workflows/ci.yml"), Some("github-actions"));
        assert_eq!(k(b".github/\xff/ci.yml"), None);
    }

    #[test]
    fn yaml_names() {
        assert!(is_yaml_named("values.yaml", "values"));
        assert!(is_yaml_named("values.yml", "values"));
        assert!(!is_yaml_named("values-prod.yaml", "values"));
        assert!(is_yaml_name("x.YML".to_ascii_lowercase().as_str()));
    }
}
