//! The JSON format, a contract other tools rely on:
//! `{"findings": [{"path", "line", "column", "reference", "status", "kind", …}], "errors": […]}`
//! with one entry for every finding whatever its status. Serialized through
//! the DTOs below, never through [`Finding`] itself, so internal changes
//! cannot change the format.

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use crate::finding::FileError;
use crate::finding::Finding;

/// The document.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub findings: Vec<JsonFinding<'a>>,
    pub errors: Vec<JsonError>,
    /// How many files were scanned.
    pub files: usize,
}

/// One finding. The first six names are the contract.
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    /// As given, or relative to the cwd when walking.
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Exactly as written, without quotes.
    pub reference: &'a str,
    pub status: &'static str,
    /// The file kind (`dockerfile`, `compose`, `github-actions`, …).
    pub kind: &'static str,
    /// Where in the file it was found (`FROM`, `services.web.image`).
    pub context: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
    /// For a reference whose parts are written apart (an `ARG` default
    /// behind `FROM golang:${GO_VERSION}`, Compose `redis:${TAG:-7}`): the
    /// image they make up, which is what is resolved and pinned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<&'a str>,
}

/// A file that could not be read or parsed, or a failed lookup.
#[derive(Debug, Serialize)]
pub struct JsonError {
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
            status: f.status.as_str(),
            kind: f.kind.as_str(),
            context: &f.context,
            note: f.note.as_deref(),
            image: f.split.as_ref().map(|s| s.image.as_str()),
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

pub fn render(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonReport {
        findings: report.findings.iter().map(JsonFinding::from).collect(),
        errors: report.errors.iter().map(JsonError::from).collect(),
        files: report.files,
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
    }
}
