//! The findings model: what a scanner found, where, and what state it is in.
//!
//! Every later stage (resolver, rewriter, reports) works on [`Finding`]s. The
//! names serialized here (`status`, `kind`) are part of the JSON contract.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use serde::Serialize;

/// The kind of file an image reference was found in: the name of one entry
/// of the scanner registry ([`crate::scan::KINDS`]), such as `dockerfile` or
/// `helm-values`. The names are part of the JSON/SARIF contract and of
/// `[[files]] kind =` in configuration. A `FileKind` is only made by the
/// registry (each scanner module declares its own), so a kind always has a
/// scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKind(&'static str);

impl FileKind {
    /// The kind of this name. Only scanner modules call this, for their
    /// registry entry; everyone else looks kinds up with
    /// [`crate::scan::kind_from_id`].
    pub(crate) const fn new(name: &'static str) -> FileKind {
        FileKind(name)
    }

    /// The stable kebab-case name used in output and in configuration.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for FileKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// What state a reference is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// A concrete reference without a digest (tagged or not).
    Unpinned,
    /// Carries a digest, with or without a tag.
    Pinned,
    /// Built from variables or expressions (`${TAG}`, `${{ matrix.x }}`).
    Dynamic,
    /// A Dockerfile build stage name or index.
    Stage,
    /// `FROM scratch`.
    Scratch,
    /// An image built locally (Compose `build:` + `image:`, an action's `Dockerfile`).
    LocalBuild,
    /// Suppressed by configuration or an inline `imagepin: ignore` comment.
    Ignored,
    /// Unpinned, but a declared `[[allow]]` exception (not expired) covers it.
    Allowed,
    /// Pinned, but the text is not a valid reference (e.g. a truncated digest).
    Invalid,
    /// `--verify`: the tag now points to another digest.
    Stale,
    /// `--verify`: the digest no longer exists in the repository.
    Missing,
    /// `--max-age`: the pinned image was created longer ago than allowed.
    TooOld,
    /// `--max-age` with `max-age-unknown = "fail"`: no source says when the
    /// pinned image was created.
    AgeUnknown,
    /// `--require-platforms`: the pinned digest is not an index with every
    /// required platform.
    PlatformsMissing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unpinned => "unpinned",
            Status::Pinned => "pinned",
            Status::Dynamic => "dynamic",
            Status::Stage => "stage",
            Status::Scratch => "scratch",
            Status::LocalBuild => "local-build",
            Status::Ignored => "ignored",
            Status::Allowed => "allowed",
            Status::Invalid => "invalid",
            Status::Stale => "stale",
            Status::Missing => "missing",
            Status::TooOld => "too-old",
            Status::AgeUnknown => "age-unknown",
            Status::PlatformsMissing => "platforms-missing",
        }
    }

    /// Whether `--check` fails because of a finding in this state.
    pub fn fails_check(self) -> bool {
        matches!(
            self,
            Status::Unpinned
                | Status::Invalid
                | Status::Stale
                | Status::Missing
                | Status::TooOld
                | Status::AgeUnknown
                | Status::PlatformsMissing
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One image reference in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The path as given on the command line, or relative to the current
    /// directory when walking.
    pub path: PathBuf,
    pub kind: FileKind,
    /// Byte range of the reference text in the file (BOM included in offsets).
    pub span: Range<usize>,
    /// 1-based line of the reference's first character.
    pub line: usize,
    /// 1-based column of the reference's first character, in characters.
    pub column: usize,
    /// The reference exactly as written, without surrounding quotes.
    pub reference: String,
    pub status: Status,
    /// Where in the file's structure it was found (`FROM`, `services.web.image`).
    pub context: String,
    /// Why the status was chosen, when that is not obvious (e.g. grammar errors).
    pub note: Option<String>,
    /// For a reference not written as one string (see [`Split`]); `None`
    /// when `reference` is the whole reference and its digest goes at its end.
    pub split: Option<Split>,
}

impl Finding {
    /// The reference as it is used: [`Split::image`] for a split reference,
    /// else the text as written. This is what is resolved and reported.
    pub fn image(&self) -> &str {
        self.split.as_ref().map_or(&self.reference, |s| &s.image)
    }
}

/// A reference whose parts are written apart: Helm values (`repository:` and
/// `tag:` keys), Kustomize `images:` entries (`name`, `newTag`, `digest`), a
/// Dockerfile `FROM golang:${GO_VERSION}` whose ARG default supplies the tag.
/// The finding's span is where it is reported; the digest has a place of its
/// own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The reference as used: `[registry/]repository[:tag][@digest]`.
    pub image: String,
    /// Where its digest is, or goes.
    pub digest: DigestSlot,
    /// Said with the finding: where the parts come from.
    pub note: Option<String>,
}

/// Where a split reference's digest is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestSlot {
    /// The digest (`sha256:…`) is at this byte range; an update replaces it.
    At(Range<usize>),
    /// No digest yet: a pin inserts `before`, the digest and `after` at byte
    /// `at` (`@` after a tag value; a `digest: ` line with the siblings'
    /// indentation and line ending; the inside of an empty `digest: ""`).
    Insert {
        at: usize,
        before: String,
        after: String,
    },
    /// No digest, and no place one can safely go: why (reported by `--fix`).
    Nowhere(String),
}

impl DigestSlot {
    /// Moves byte offsets by `by` (a BOM stripped before scanning).
    pub fn shifted(self, by: usize) -> DigestSlot {
        match self {
            DigestSlot::At(r) => DigestSlot::At(r.start + by..r.end + by),
            DigestSlot::Insert { at, before, after } => DigestSlot::Insert {
                at: at + by,
                before,
                after,
            },
            other => other,
        }
    }
}

/// A file that could not be listed, read, parsed, resolved or written; the
/// run goes on without it. Line is 1-based when known. An empty path means
/// an error of the whole run (every lookup failed for one reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FileError {
    /// `path[:line]: message`, control characters made visible (it is for
    /// people); just the message for an error of the whole run (no path).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::escape::{self, visible};
        if self.path.as_os_str().is_empty() {
            return write!(f, "{}", visible(&self.message));
        }
        write!(f, "{}", escape::path(&self.path))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", visible(&self.message))
    }
}
