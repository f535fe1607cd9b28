//! The JSON format, a contract other tools rely on:
//! `{"version": 1, "findings": [{"path", "line", "column", "reference", "status", "kind", …}], "errors": […]}`
//! with one entry for every finding whatever its status, and for `--fix` and
//! `--diff` `{"version": 1, "changes": [{"path", "line", "reference",
//! "old_digest", "new_digest", …}], …}`. Both are described by
//! `schema/imagepin-report.v1.json`. Serialized through the DTOs below,
//! never through [`Finding`] itself, so internal changes cannot change the
//! format.

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use crate::finding::{FileError, Finding, Status};
use crate::fix::Change;
use crate::reference::Reference;

/// The format's version: raised when a name changes meaning or goes away
/// (new names may be added within a version).
pub(crate) const VERSION: u32 = 1;

/// The document.
#[derive(Debug, Serialize)]
pub(crate) struct JsonReport<'a> {
    pub version: u32,
    pub findings: Vec<JsonFinding<'a>>,
    pub errors: Vec<JsonError>,
    /// How many files were scanned.
    pub files: usize,
}

/// One finding. The first six names are the contract.
#[derive(Debug, Serialize)]
pub(crate) struct JsonFinding<'a> {
    /// As given, or relative to the cwd when walking.
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Exactly as written, without quotes.
    pub reference: &'a str,
    /// The reference as used, for one written in parts (Helm values,
    /// Kustomize images, a default behind a variable); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<&'a str>,
    pub status: &'static str,
    /// The file kind (`dockerfile`, `compose`, `github-actions`, …).
    pub kind: &'static str,
    /// Where in the file it was found (`FROM`, `services.web.image`).
    pub context: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
    /// The normalized parts (`docker.io`, `library/python`, `3.12`, digest),
    /// each `null` when the finding is not an image reference that parses
    /// (stage, scratch, dynamic, invalid).
    #[serde(flatten)]
    pub parts: Parts,
}

/// A reference's normalized parts.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Parts {
    /// The registry host, Docker Hub's aliases as `docker.io`.
    pub registry: Option<String>,
    /// The repository, with `library/` for one-component Docker Hub names.
    pub repository: Option<String>,
    /// The tag as written, or `latest` when neither a tag nor a digest is.
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Parts {
    pub(crate) fn of(f: &Finding) -> Parts {
        if matches!(
            f.status,
            Status::Stage | Status::Scratch | Status::Dynamic | Status::Invalid
        ) {
            return Parts::default();
        }
        match Reference::parse(f.image()) {
            Ok(r) => Parts {
                registry: Some(r.registry().to_string()),
                repository: Some(r.repository()),
                tag: match (&r.tag, &r.digest) {
                    (None, Some(_)) => None,
                    _ => Some(r.tag_or_latest().to_string()),
                },
                digest: r.digest.clone(),
            },
            Err(_) => Parts::default(),
        }
    }
}

/// A file that could not be read or parsed, or a failed lookup.
#[derive(Debug, Serialize)]
pub(crate) struct JsonError {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> JsonFinding<'a> {
        JsonFinding {
            path: f.path.to_string_lossy().into_owned(),
            line: f.line,
            column: f.column,
            reference: &f.reference,
            image: f.split.as_ref().map(|s| s.image.as_str()),
            status: f.status.as_str(),
            kind: f.kind.as_str(),
            context: &f.context,
            note: f.note.as_deref(),
            parts: Parts::of(f),
        }
    }
}

impl From<&FileError> for JsonError {
    fn from(e: &FileError) -> JsonError {
        JsonError {
            path: e.path.to_string_lossy().into_owned(),
            line: e.line,
            message: e.message.clone(),
        }
    }
}

pub(crate) fn render(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonReport {
        version: VERSION,
        findings: report.findings.iter().map(JsonFinding::from).collect(),
        errors: report.errors.iter().map(JsonError::from).collect(),
        files: report.files,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The `--fix`/`--diff` document: what changed (or would change).
#[derive(Debug, Serialize)]
pub(crate) struct JsonFixReport<'a> {
    pub version: u32,
    /// `true` for `--fix` (the files were written), `false` for `--diff`.
    pub written: bool,
    pub changes: Vec<JsonChange<'a>>,
    pub errors: Vec<JsonError>,
    /// How many files were scanned.
    pub files: usize,
}

/// One reference that received (or would receive) a digest.
#[derive(Debug, Serialize)]
pub(crate) struct JsonChange<'a> {
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// As written before the change.
    pub reference: &'a str,
    /// The digest it was pinned to before (`--update`), else `null`.
    pub old_digest: Option<&'a str>,
    pub new_digest: &'a str,
}

impl<'a> From<&'a Change> for JsonChange<'a> {
    fn from(c: &'a Change) -> JsonChange<'a> {
        JsonChange {
            path: c.path.to_string_lossy().into_owned(),
            line: c.line,
            column: c.column,
            reference: &c.reference,
            old_digest: c.old_digest.as_deref(),
            new_digest: &c.new_digest,
        }
    }
}

/// Writes the `--fix`/`--diff` document.
pub(crate) fn render_fix(
    changes: &[Change],
    errors: &[FileError],
    written: bool,
    files: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let doc = JsonFixReport {
        version: VERSION,
        written,
        changes: changes.iter().map(JsonChange::from).collect(),
        errors: errors.iter().map(JsonError::from).collect(),
        files,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::super::testdata::sample;
    use super::*;

    #[test]
    fn every_finding_with_the_contract_names() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        let mut out = Vec::new();
        render(&r, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let list = v["findings"].as_array().unwrap();
        assert_eq!(list.len(), 3);
        let first = &list[0];
        assert_eq!(first["path"], "app/Dockerfile");
        assert_eq!(first["line"], 3);
        assert_eq!(first["column"], 6);
        assert_eq!(first["reference"], "python:3.12-slim");
        assert_eq!(first["status"], "unpinned");
        assert_eq!(first["kind"], "dockerfile");
        assert_eq!(list[2]["status"], "stage");
        assert_eq!(v["errors"][0]["path"], "bad/compose.yaml");
        assert_eq!(v["errors"][0]["line"], 4);
        assert_eq!(v["version"], 1);
    }

    #[test]
    fn normalized_parts() {
        use crate::report::testdata::finding;
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let parts = |r: &str, s: Status| {
            let v = serde_json::to_value(Parts::of(&finding("Dockerfile", 1, 1, r, s))).unwrap();
            (
                v["registry"].clone(),
                v["repository"].clone(),
                v["tag"].clone(),
                v["digest"].clone(),
            )
        };
        use serde_json::Value::Null;
        let j = |s: &str| serde_json::Value::from(s);
        assert_eq!(
            parts("python:3.12", Status::Unpinned),
            (j("docker.io"), j("library/python"), j("3.12"), Null)
        );
        assert_eq!(
            parts("python", Status::Unpinned),
            (j("docker.io"), j("library/python"), j("latest"), Null)
        );
        assert_eq!(
            parts(&format!("ghcr.io/org/app@{d}"), Status::Pinned),
            (j("ghcr.io"), j("org/app"), Null, j(d))
        );
        assert_eq!(
            parts(&format!("localhost:5000/a:1@{d}"), Status::Stale),
            (j("localhost:5000"), j("a"), j("1"), j(d))
        );
        assert_eq!(parts("builder", Status::Stage), (Null, Null, Null, Null));
        assert_eq!(parts("${IMG}", Status::Dynamic), (Null, Null, Null, Null));
    }
}
