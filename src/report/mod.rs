//! Reports: one renderer per `--format` over the same findings and file
//! errors, each writing to a `&mut dyn Write` (tests render into a `Vec<u8>`).
//! The wording shared by several formats (what is wrong with a finding, the
//! summary line, the stable fingerprint of a result) lives here; paths for CI
//! formats come from [`root`], escaping for people from [`escape`].

pub(crate) use crate::escape;
pub(crate) mod github;
pub(crate) mod gitlab;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod root;
pub(crate) mod sarif;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::finding::FileError;
use crate::finding::{Finding, Status};
pub(crate) use root::RepoRoot;

/// The report formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// One line per problem and a summary.
    #[default]
    Human,
    /// Every reference with its status; with --fix/--diff, what changed.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations) and a step summary.
    Github,
    /// GitLab Code Quality report.
    Gitlab,
}

/// Everything a report shows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Report<'a> {
    /// Every finding, whatever its status, in file order.
    pub findings: &'a [Finding],
    /// Files that could not be read or parsed, and failed lookups.
    pub errors: &'a [FileError],
    /// How many files were scanned.
    pub files: usize,
}

/// Presentation switches.
#[derive(Debug, Clone, Default)]
pub(crate) struct RenderOptions {
    /// ANSI colour in the human format.
    pub color: bool,
    /// Leave out the per-finding lines.
    pub quiet: bool,
    /// What SARIF, GitHub and GitLab paths are relative to.
    pub root: RepoRoot,
    /// `$GITHUB_STEP_SUMMARY`: `--format github` appends a Markdown summary here.
    pub step_summary: Option<PathBuf>,
}

/// Renders `report` in `format`.
pub(crate) fn render(
    format: Format,
    report: &Report<'_>,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, opts, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, &opts.root, out),
        Format::Github => {
            github::render(report, &opts.root, opts.step_summary.is_some(), out)?;
            match &opts.step_summary {
                Some(path) => github::append_step_summary(report, &opts.root, path),
                None => Ok(()),
            }
        }
        Format::Gitlab => gitlab::render(report, &opts.root, out),
    }
}

/// The findings that fail the check, in report order.
pub(crate) fn failing<'a>(report: &Report<'a>) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.status.fails_check())
        .collect()
}

/// A stable identity for each of `findings` (the failing ones, in order),
/// for SARIF `partialFingerprints` and GitLab `fingerprint`: a hash of the
/// status, the path relative to the root, the context and the reference,
/// plus which occurrence of that same combination it is in the file.
/// It does not contain the line, so moving a reference keeps its identity;
/// pinning it (the reference text changes) ends it.
pub(crate) fn fingerprints(findings: &[&Finding], root: &RepoRoot) -> Vec<String> {
    let mut seen: HashMap<[u8; 32], usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let key = hash(&[
                f.status.as_str(),
                root.locate(&f.path).as_str(),
                &f.context,
                f.image(),
            ]);
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            hex(&hash(&[&hex(&key), &n.to_string()]))
        })
        .collect()
}

/// A stable identity for a file error: path, line and message.
pub(crate) fn error_fingerprint(e: &FileError, root: &RepoRoot) -> String {
    let line = e.line.map(|l| l.to_string()).unwrap_or_default();
    hex(&hash(&[
        "error",
        root.locate(&e.path).as_str(),
        &line,
        &e.message,
    ]))
}

/// SHA-256 of the parts, each length-prefixed so no two lists collide.
fn hash(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// The first 16 bytes as lowercase hex: 32 characters.
fn hex(bytes: &[u8; 32]) -> String {
    bytes[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// What is wrong with a failing finding, as a sentence that starts with the
/// reference: `python:3.12 is not pinned to a digest`.
pub(crate) fn problem(f: &Finding) -> String {
    let r = f.image();
    let with_note = |base: String| match &f.note {
        Some(n) => format!("{base}: {n}"),
        None => base,
    };
    match f.status {
        Status::Unpinned => with_note(format!("{r} is not pinned to a digest")),
        Status::Invalid => with_note(format!("{r} is not a valid image reference")),
        Status::Stale => match &f.note {
            Some(n) => format!("{r} is stale: {n}"),
            None => format!("{r} is stale: its tag now points to another digest"),
        },
        Status::Missing => match &f.note {
            Some(n) => format!("{r} is pinned to a missing digest: {n}"),
            None => format!("{r} is pinned to a digest that no longer exists in the repository"),
        },
        Status::TooOld => with_note(format!("{r} is too old")),
        Status::AgeUnknown => with_note(format!("{r} has no known creation date")),
        Status::PlatformsMissing => with_note(format!("{r} lacks required platforms")),
        other => format!("{r} is {other}"),
    }
}

/// `3 unpinned, 5 pinned, 1 dynamic in 6 files; 1 error`.
pub(crate) fn summary(report: &Report<'_>) -> String {
    let mut counts: Vec<(Status, usize)> = Vec::new();
    let mut statuses: Vec<Status> = report.findings.iter().map(|f| f.status).collect();
    statuses.sort();
    for s in statuses {
        match counts.last_mut() {
            Some((last, n)) if *last == s => *n += 1,
            _ => counts.push((s, 1)),
        }
    }
    let files = plural(report.files, "file");
    let mut line = if counts.is_empty() {
        format!("no image references in {files}")
    } else {
        let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        format!(
            "{} ({}) in {files}",
            plural(report.findings.len(), "image reference"),
            parts.join(", ")
        )
    };
    if !report.errors.is_empty() {
        line.push_str(&format!("; {}", plural(report.errors.len(), "error")));
    }
    line
}

/// `1 file`, `2 files`.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A path for machine output: forward slashes, no leading `./`.
pub(crate) fn slash_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let s = s.replace('\\', "/");
    match s.strip_prefix("./") {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

#[cfg(test)]
pub(crate) mod testdata {
    use std::path::PathBuf;

    use crate::finding::FileError;
    use crate::finding::{Finding, Status};

    pub(crate) fn finding(
        path: &str,
        line: usize,
        column: usize,
        reference: &str,
        status: Status,
    ) -> Finding {
        Finding {
            path: PathBuf::from(path),
            kind: crate::scan::dockerfile::KIND.id,
            span: 0..reference.len(),
            line,
            column,
            reference: reference.to_string(),
            status,
            context: "FROM".to_string(),
            note: None,
            split: None,
        }
    }

    pub(crate) fn sample() -> (Vec<Finding>, Vec<FileError>) {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        (
            vec![
                finding("app/Dockerfile", 3, 6, "python:3.12-slim", Status::Unpinned),
                finding(
                    "app/Dockerfile",
                    7,
                    6,
                    &format!("alpine@{d}"),
                    Status::Pinned,
                ),
                finding("app/Dockerfile", 9, 6, "builder", Status::Stage),
            ],
            vec![FileError {
                path: PathBuf::from("bad/compose.yaml"),
                line: Some(4),
                message: "compose: column 3: invalid YAML: mapping values are not allowed".into(),
            }],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_statuses_and_errors() {
        let (findings, errors) = testdata::sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        assert_eq!(
            summary(&r),
            "3 image references (1 unpinned, 1 pinned, 1 stage) in 2 files; 1 error"
        );
        let empty = Report {
            findings: &[],
            errors: &[],
            files: 1,
        };
        assert_eq!(summary(&empty), "no image references in 1 file");
    }

    #[test]
    fn fingerprints_ignore_lines_and_tell_repeats_apart() {
        use testdata::finding;
        let root = RepoRoot::default();
        let a1 = finding("Dockerfile", 1, 6, "a:1", Status::Unpinned);
        let b = finding("Dockerfile", 2, 6, "b:1", Status::Unpinned);
        let a2 = finding("Dockerfile", 3, 6, "a:1", Status::Unpinned);
        let before = fingerprints(&[&a1, &b, &a2], &root);
        assert_eq!(before.len(), 3);
        assert!(before.iter().all(|p| p.len() == 32));
        assert_ne!(before[0], before[2], "the second a:1 is another result");
        let moved: Vec<Finding> = [&a1, &b, &a2]
            .iter()
            .map(|f| Finding {
                line: f.line + 10,
                column: f.column + 2,
                ..(*f).clone()
            })
            .collect();
        let refs: Vec<&Finding> = moved.iter().collect();
        assert_eq!(fingerprints(&refs, &root), before);
        // Another path, status or reference is another identity.
        let other = finding("x/Dockerfile", 1, 6, "a:1", Status::Unpinned);
        assert_ne!(fingerprints(&[&other], &root)[0], before[0]);
        let stale = finding("Dockerfile", 1, 6, "a:1", Status::Stale);
        assert_ne!(fingerprints(&[&stale], &root)[0], before[0]);
    }

    #[test]
    fn problem_wording() {
        let (findings, _) = testdata::sample();
        assert_eq!(
            problem(&findings[0]),
            "python:3.12-slim is not pinned to a digest"
        );
        let mut stale = findings[1].clone();
        stale.status = Status::Stale;
        stale.note = Some("tag now points to sha256:ab".into());
        assert!(problem(&stale).ends_with(" is stale: tag now points to sha256:ab"));
        stale.note = None;
        assert!(problem(&stale).ends_with(" is stale: its tag now points to another digest"));
    }
}
