//! The SARIF 2.1.0 format for GitHub code scanning: one rule per status that
//! fails the check (`unpinned`, `invalid`, `stale`, `missing`, `too-old`,
//! `age-unknown`, `platforms-missing`) with its
//! `security-severity`, Markdown help and a link to the README; one result
//! per failing finding with a physical location (a URI relative to the
//! repository root, `%SRCROOT%`, and a region in Unicode code points) and a
//! `partialFingerprints` entry that survives line moves; file errors as tool
//! execution notifications.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::root::RootPath;
use super::{RepoRoot, Report, failing, fingerprints, problem};
use crate::finding::FileError;
use crate::finding::{Finding, Status};

pub(crate) const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The `uriBaseId` of every relative location: the repository root.
pub(crate) const SRCROOT: &str = "%SRCROOT%";
/// The `partialFingerprints` key of imagepin's own identity (see
/// [`super::fingerprints`]). GitHub computes its `primaryLocationLineHash`
/// itself; that one is left to it.
pub(crate) const FINGERPRINT_KEY: &str = "imagepin/v1";
/// Where the statuses are explained.
pub(crate) const HELP_URI: &str = "https://github.com/imagepin/imagepin#statuses";

/// The project's home: Cargo.toml's `repository` when set.
pub(crate) fn information_uri() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => "https://github.com/imagepin/imagepin",
        repo => repo,
    }
}

/// One rule: a status that fails `--check`.
pub(crate) struct Rule {
    pub status: Status,
    pub name: &'static str,
    pub short: &'static str,
    /// Plain text, also the first paragraph of the Markdown help.
    pub full: &'static str,
    /// The rest of the Markdown help: how to fix it.
    pub fix: &'static str,
    /// GitHub's `security-severity` (0.1–3.9 low, 4.0–6.9 medium).
    pub security_severity: &'static str,
}

/// The rules, in the order of the `ruleIndex`.
pub(crate) const RULES: [Rule; 7] = [
    Rule {
        status: Status::Unpinned,
        name: "UnpinnedImage",
        short: "Container image is not pinned to a digest",
        full: "A tag can be moved to other content at any time, so a build or a deployment \
               may run an image nobody reviewed. Pin the image to its sha256 digest.",
        fix: "Run `imagepin --fix`: it inserts `@sha256:…` after the tag and changes nothing \
              else. For example `FROM python:3.12-slim` becomes \
              `FROM python:3.12-slim@sha256:<digest>`. Renovate or Dependabot can keep the \
              digest current.",
        security_severity: "5.0",
    },
    Rule {
        status: Status::Invalid,
        name: "InvalidImageReference",
        short: "Container image reference is not valid",
        full: "The reference does not follow the distribution reference grammar \
               (for example a truncated digest); it cannot be pulled as written, and a pin \
               that was meant to protect it does not.",
        fix: "Correct the reference by hand: imagepin does not guess. The result's message \
              says what is wrong with it.",
        security_severity: "4.0",
    },
    Rule {
        status: Status::Stale,
        name: "StaleImageDigest",
        short: "Pinned digest no longer matches its tag",
        full: "The tag now points to another digest, so the pinned image misses what was \
               published since, security fixes included.",
        fix: "Run `imagepin --fix --update` to move the pin to the tag's current digest.",
        security_severity: "3.0",
    },
    Rule {
        status: Status::Missing,
        name: "MissingImageDigest",
        short: "Pinned digest no longer exists in the repository",
        full: "The registry no longer has the pinned digest; pulls will fail.",
        fix: "Pin a digest that exists: `imagepin --fix --update` when the reference has a \
              tag, otherwise choose one by hand.",
        security_severity: "4.0",
    },
    Rule {
        status: Status::TooOld,
        name: "ImageTooOld",
        short: "Pinned image is older than max-age",
        full: "The pinned image was created longer ago than the configured `max-age`, so it \
               likely misses security fixes published since.",
        fix: "Run `imagepin --fix --update` to move the pin to the tag's current digest, or \
              pick a newer tag.",
        security_severity: "3.0",
    },
    Rule {
        status: Status::AgeUnknown,
        name: "ImageAgeUnknown",
        short: "Pinned image has no known creation date",
        full: "`max-age` is checked and `max-age-unknown = \"fail\"`, but neither the \
               `org.opencontainers.image.created` annotation nor the image config gives a \
               real creation date (zero and epoch dates are unknown).",
        fix: "Pin an image that records its creation date, or declare an exception.",
        security_severity: "2.0",
    },
    Rule {
        status: Status::PlatformsMissing,
        name: "ImagePlatformsMissing",
        short: "Pinned digest lacks required platforms",
        full: "`require-platforms` names platforms every pinned digest must offer; this \
               digest is not an index containing them all (the result names the missing ones).",
        fix: "Pin the multi-platform index of the tag (`imagepin --fix --update`), or an \
              image that is published for every required platform.",
        security_severity: "3.0",
    },
];

pub(crate) fn render(report: &Report<'_>, root: &RepoRoot, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report, root))?;
    writeln!(out)
}

/// The SARIF log as a JSON value.
pub(crate) fn document(report: &Report<'_>, root: &RepoRoot) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.status.as_str(),
                "name": r.name,
                "shortDescription": { "text": r.short },
                "fullDescription": { "text": r.full },
                "help": {
                    "text": format!("{} {}", r.full, r.fix),
                    "markdown": format!("**{}**\n\n{}\n\n{}\n\nSee [statuses]({HELP_URI}).", r.short, r.full, r.fix),
                },
                "helpUri": HELP_URI,
                "defaultConfiguration": { "level": "error" },
                "properties": {
                    "tags": ["security", "supply-chain"],
                    "precision": "very-high",
                    "security-severity": r.security_severity,
                },
            })
        })
        .collect();
    let failing = failing(report);
    let prints = fingerprints(&failing, root);
    let results: Vec<Value> = failing
        .iter()
        .zip(&prints)
        .map(|(f, print)| result(f, print, root))
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| notification(e, root))
        .collect();
    let mut run = json!({
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
    });
    if let Some(dir) = root.dir() {
        let mut uri = file_uri(&super::slash_path(dir));
        if !uri.ends_with('/') {
            uri.push('/');
        }
        run["originalUriBaseIds"] = json!({ SRCROOT: {
            "uri": uri,
            "description": { "text": "The repository root." },
        }});
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

fn rule_index(status: Status) -> usize {
    RULES.iter().position(|r| r.status == status).unwrap_or(0)
}

fn result(f: &Finding, fingerprint: &str, root: &RepoRoot) -> Value {
    let width = f.reference.chars().count().max(1);
    json!({
        "ruleId": f.status.as_str(),
        "ruleIndex": rule_index(f.status),
        "level": "error",
        "message": { "text": format!("{}: {}", f.kind, problem(f)) },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact(&root.locate(&f.path)),
                "region": {
                    "startLine": f.line,
                    "startColumn": f.column,
                    "endLine": f.line,
                    "endColumn": f.column + width,
                    "snippet": { "text": f.reference },
                },
            },
        }],
        "partialFingerprints": { FINGERPRINT_KEY: fingerprint },
    })
}

fn notification(e: &FileError, root: &RepoRoot) -> Value {
    let mut location = json!({ "artifactLocation": artifact(&root.locate(&e.path)) });
    if let Some(line) = e.line {
        location["region"] = json!({ "startLine": line });
    }
    json!({
        "level": "error",
        "message": { "text": e.message },
        "locations": [{ "physicalLocation": location }],
    })
}

/// An `artifactLocation`: relative to `%SRCROOT%` inside the root, a
/// `file://` URI outside it.
fn artifact(path: &RootPath) -> Value {
    match path {
        RootPath::Inside(p) => json!({ "uri": encode(p), "uriBaseId": SRCROOT }),
        RootPath::Outside(p) => json!({ "uri": file_uri(p) }),
    }
}

fn file_uri(abs: &str) -> String {
    let enc = encode(abs);
    if enc.starts_with('/') {
        format!("file://{enc}")
    } else if let [d, b':', ..] = abs.as_bytes()
        && d.is_ascii_alphabetic()
    {
        // A Windows path (`C:/x`): the drive's colon stays a colon.
        format!("file:///{}:{}", *d as char, encode(&abs[2..]))
    } else {
        format!("file:///{enc}")
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode(s: &str) -> String {
    let mut enc = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                enc.push(b as char);
            }
            _ => enc.push_str(&format!("%{b:02X}")),
        }
    }
    enc
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
        let v = document(&r, &RepoRoot::default());
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "imagepin");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<_> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "unpinned",
                "invalid",
                "stale",
                "missing",
                "too-old",
                "age-unknown",
                "platforms-missing"
            ]
        );
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
        assert_eq!(loc["artifactLocation"]["uriBaseId"], SRCROOT);
        let print = res["partialFingerprints"][FINGERPRINT_KEY]
            .as_str()
            .unwrap();
        assert_eq!(
            print,
            fingerprints(&[&findings[0]], &RepoRoot::default())[0]
        );
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
        assert!(run.get("originalUriBaseIds").is_none(), "no root, no base");
    }

    #[test]
    fn the_root_is_the_base_of_every_location() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        let t = tempfile::tempdir().unwrap();
        let top = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join(".git")).unwrap();
        std::fs::create_dir_all(top.join("app")).unwrap();
        let root = RepoRoot::discover(&top.join("app"), None, None).unwrap();
        let v = document(&r, &root);
        let run = &v["runs"][0];
        assert_eq!(
            run["originalUriBaseIds"][SRCROOT]["uri"],
            format!("{}/", file_uri(&crate::report::slash_path(&top)))
        );
        let loc = &run["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "app/app/Dockerfile");
        let note = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "app/bad/compose.yaml"
        );
    }

    #[test]
    fn uris() {
        assert_eq!(encode("a b/Dockerfile"), "a%20b/Dockerfile");
        assert_eq!(file_uri("/abs/x.yml"), "file:///abs/x.yml");
        assert_eq!(file_uri("C:/x y"), "file:///C:/x%20y");
    }
}
