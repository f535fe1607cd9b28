//! The SARIF 2.1.0 format for GitHub code scanning: one rule per status that
//! fails the check (`unpinned`, `invalid`, `stale`, `missing`), one result per
//! failing finding with a physical location (relative URI, region in
//! Unicode code points), and file errors as tool execution notifications.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Report, problem, slash_path};
use crate::finding::FileError;
use crate::finding::{Finding, Status};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The project's home: Cargo.toml's `repository` when set.
pub fn information_uri() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => "https://github.com/imagepin/imagepin",
        repo => repo,
    }
}

/// The rules: every status that fails `--check`, with its description.
pub const RULES: [(Status, &str, &str, &str); 4] = [
    (
        Status::Unpinned,
        "UnpinnedImage",
        "Container image is not pinned to a digest",
        "A tag can be moved to other content at any time. Pin the image to its sha256 digest \
         (`imagepin --fix` inserts `@sha256:…` after the tag).",
    ),
    (
        Status::Invalid,
        "InvalidImageReference",
        "Container image reference is not valid",
        "The reference does not follow the distribution reference grammar \
         (for example a truncated digest); it cannot be pulled as written.",
    ),
    (
        Status::Stale,
        "StaleImageDigest",
        "Pinned digest no longer matches its tag",
        "The tag now points to another digest. Run `imagepin --fix --update` to move the pin.",
    ),
    (
        Status::Missing,
        "MissingImageDigest",
        "Pinned digest no longer exists in the repository",
        "The registry no longer has the pinned digest; pulls will fail. Pin a current digest.",
    ),
];

pub fn render(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    writeln!(out)
}

/// The SARIF log as a JSON value.
pub fn document(report: &Report<'_>) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(status, name, short, full)| {
            json!({
                "id": status.as_str(),
                "name": name,
                "shortDescription": { "text": short },
                "fullDescription": { "text": full },
                "help": { "text": full },
                "helpUri": information_uri(),
                "defaultConfiguration": { "level": "error" },
                "properties": { "tags": ["security", "supply-chain"] },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| f.status.fails_check())
        .map(result)
        .collect();
    let notifications: Vec<Value> = report.errors.iter().map(notification).collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "imagepin",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": information_uri(),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}

fn rule_index(status: Status) -> usize {
    RULES.iter().position(|r| r.0 == status).unwrap_or(0)
}

fn result(f: &Finding) -> Value {
    let width = f.reference.chars().count().max(1);
    json!({
        "ruleId": f.status.as_str(),
        "ruleIndex": rule_index(f.status),
        "level": "error",
        "message": { "text": format!("{}: {}", f.kind, problem(f)) },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&f.path) },
                "region": {
                    "startLine": f.line,
                    "startColumn": f.column,
                    "endLine": f.line,
                    "endColumn": f.column + width,
                    "snippet": { "text": f.reference },
                },
            },
        }],
    })
}

fn notification(e: &FileError) -> Value {
    let mut location = json!({ "artifactLocation": { "uri": uri(&e.path) } });
    if let Some(line) = e.line {
        location["region"] = json!({ "startLine": line });
    }
    json!({
        "level": "error",
        "message": { "text": e.message },
        "locations": [{ "physicalLocation": location }],
    })
}

/// A URI reference for a path: forward slashes, percent-encoded; relative
/// paths stay relative, absolute ones become `file://` URIs.
pub fn uri(path: &std::path::Path) -> String {
    let s = slash_path(path);
    let mut enc = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                enc.push(b as char);
            }
            _ => enc.push_str(&format!("%{b:02X}")),
        }
    }
    if enc.starts_with('/') {
        format!("file://{enc}")
    } else {
        enc
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::sample;
    use super::*;

    #[test]
    fn shape() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        let v = document(&r);
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "imagepin");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<_> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["unpinned", "invalid", "stale", "missing"]);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "only failing findings");
        let res = &results[0];
        assert_eq!(res["ruleId"], "unpinned");
        assert_eq!(res["level"], "error");
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "app/Dockerfile");
        assert_eq!(loc["region"]["startLine"], 3);
        assert_eq!(loc["region"]["startColumn"], 6);
        assert_eq!(loc["region"]["endColumn"], 6 + "python:3.12-slim".len());
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    }

    #[test]
    fn uris() {
        use std::path::Path;
        assert_eq!(uri(Path::new("./a b/Dockerfile")), "a%20b/Dockerfile");
        assert_eq!(uri(Path::new("/abs/x.yml")), "file:///abs/x.yml");
    }
}
