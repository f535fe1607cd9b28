//! The findings model: what a scanner found, where, and what state it is in.
//!
//! Every later stage (resolver, rewriter, reports) works on [`Finding`]s. The
//! names serialized here (`status`, `kind`) are part of the JSON contract.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use serde::Serialize;

/// The kind of file an image reference was found in; one scanner per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Dockerfile,
    Compose,
    GithubActions,
    Kubernetes,
    GitlabCi,
    Devcontainer,
}

impl FileKind {
    pub const ALL: [FileKind; 6] = [
        FileKind::Dockerfile,
        FileKind::Compose,
        FileKind::GithubActions,
        FileKind::Kubernetes,
        FileKind::GitlabCi,
        FileKind::Devcontainer,
    ];

    /// The stable kebab-case name used in output and in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Dockerfile => "dockerfile",
            FileKind::Compose => "compose",
            FileKind::GithubActions => "github-actions",
            FileKind::Kubernetes => "kubernetes",
            FileKind::GitlabCi => "gitlab-ci",
            FileKind::Devcontainer => "devcontainer",
        }
    }

    pub fn from_name(name: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
    /// Pinned, but the text is not a valid reference (e.g. a truncated digest).
    Invalid,
    /// `--verify`: the tag now points to another digest.
    Stale,
    /// `--verify`: the digest no longer exists in the repository.
    Missing,
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
            Status::Invalid => "invalid",
            Status::Stale => "stale",
            Status::Missing => "missing",
        }
    }

    /// Whether `--check` fails because of a finding in this state.
    pub fn fails_check(self) -> bool {
        matches!(
            self,
            Status::Unpinned | Status::Invalid | Status::Stale | Status::Missing
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
}
