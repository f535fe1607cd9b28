//! The GitLab Code Quality format (`--format gitlab`): a JSON array with one
//! issue per failing finding and per file error, each with the fields GitLab
//! requires, `description`, `check_name`, `fingerprint`, `severity` and
//! `location: {path, lines: {begin}}`, and nothing else. Paths are relative
//! to the repository root ([`super::root`]), as the merge request widget
//! expects. Fingerprints are those of SARIF, so they survive line moves.

use std::io::{self, Write};

use serde::Serialize;

use super::{RepoRoot, Report, error_fingerprint, failing, fingerprints, problem};
use crate::finding::Status;

/// One Code Quality issue.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Issue {
    pub description: String,
    /// `imagepin/<status>`, or `imagepin/error`.
    pub check_name: String,
    pub fingerprint: String,
    /// `info`, `minor`, `major`, `critical` or `blocker`.
    pub severity: &'static str,
    pub location: Location,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Location {
    pub path: String,
    pub lines: Lines,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Lines {
    pub begin: usize,
}

/// How urgent a status is for GitLab.
pub(crate) fn severity(status: Status) -> &'static str {
    match status {
        Status::Unpinned | Status::Invalid | Status::Missing => "major",
        _ => "minor",
    }
}

/// The issues of `report`.
pub(crate) fn issues(report: &Report<'_>, root: &RepoRoot) -> Vec<Issue> {
    let failing = failing(report);
    let prints = fingerprints(&failing, root);
    let mut list: Vec<Issue> = failing
        .iter()
        .zip(prints)
        .map(|(f, fingerprint)| Issue {
            description: format!("{}: {}", f.kind, problem(f)),
            check_name: format!("imagepin/{}", f.status),
            fingerprint,
            severity: severity(f.status),
            location: Location {
                path: root.locate(&f.path).as_str().to_string(),
                lines: Lines { begin: f.line },
            },
        })
        .collect();
    list.extend(report.errors.iter().map(|e| Issue {
        description: e.message.clone(),
        check_name: "imagepin/error".into(),
        fingerprint: error_fingerprint(e, root),
        severity: "critical",
        location: Location {
            path: root.locate(&e.path).as_str().to_string(),
            lines: Lines {
                begin: e.line.unwrap_or(1),
            },
        },
    }));
    list
}

pub(crate) fn render(report: &Report<'_>, root: &RepoRoot, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &issues(report, root))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::super::testdata::sample;
    use super::*;

    #[test]
    fn the_fields_gitlab_requires() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        let mut out = Vec::new();
        render(&r, &RepoRoot::default(), &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let list = v.as_array().unwrap();
        assert_eq!(list.len(), 2, "one failing finding, one error");
        let issue = &list[0];
        let mut keys: Vec<&str> = issue
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "check_name",
                "description",
                "fingerprint",
                "location",
                "severity"
            ]
        );
        assert_eq!(
            issue["description"],
            "dockerfile: python:3.12-slim is not pinned to a digest"
        );
        assert_eq!(issue["check_name"], "imagepin/unpinned");
        assert_eq!(issue["severity"], "major");
        assert_eq!(
            issue["location"],
            serde_json::json!({"path": "app/Dockerfile", "lines": {"begin": 3}})
        );
        assert_eq!(issue["fingerprint"].as_str().unwrap().len(), 32);
        assert_eq!(list[1]["check_name"], "imagepin/error");
        assert_eq!(list[1]["severity"], "critical");
        assert_eq!(list[1]["location"]["lines"]["begin"], 4);
        assert_ne!(list[0]["fingerprint"], list[1]["fingerprint"]);
    }
}
