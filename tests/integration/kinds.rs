//! Every kind's fixtures (tests/fixtures/<kind>/), as a user sees them: one
//! snapshot per kind with each finding's place, kind, status, reference,
//! context, the image a default stands for and the note, then the errors.
//! A changed status, context or message, a finding lost or gained, shows
//! as a diff of that snapshot.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;

use crate::support::cli::imagepin;
use crate::support::snapshot;

/// `imagepin --format json` in `tests/fixtures/<dir>`, one line per finding
/// and error (the fixtures' own `.imagepin.toml` stops the configuration
/// search there).
fn findings(dir: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let run = imagepin(&root, &["--format", "json"]);
    assert!(
        run.code == 0 || run.code == 1 || run.code == 2,
        "{}",
        run.stderr
    );
    let doc = run.json();
    let mut out = String::new();
    for f in doc["findings"].as_array().unwrap() {
        let s = |k: &str| f[k].as_str().unwrap_or("");
        write!(
            out,
            "{}:{}:{} {} {} {}",
            s("path"),
            f["line"],
            f["column"],
            s("kind"),
            s("status"),
            s("reference"),
        )
        .unwrap();
        if !s("context").is_empty() {
            write!(out, " [{}]", s("context")).unwrap();
        }
        if !s("image").is_empty() && s("image") != s("reference") {
            write!(out, " = {}", s("image")).unwrap();
        }
        if !s("note").is_empty() {
            write!(out, " -- {}", s("note")).unwrap();
        }
        out.push('\n');
    }
    for e in doc["errors"].as_array().unwrap() {
        writeln!(
            out,
            "error: {}:{}: {}",
            e["path"].as_str().unwrap_or(""),
            e["line"],
            e["message"].as_str().unwrap_or("")
        )
        .unwrap();
    }
    writeln!(out, "({} files)", doc["files"]).unwrap();
    out
}

macro_rules! kinds {
    ($($test:ident: $dir:literal,)*) => {$(
        #[test]
        fn $test() {
            let _redacted = snapshot::redacted();
            insta::assert_snapshot!(findings($dir));
        }
    )*};
}

kinds! {
    azure_pipelines: "azure-pipelines",
    bitbucket_pipelines: "bitbucket-pipelines",
    buildkite: "buildkite",
    circleci: "circleci",
    cloudbuild: "cloudbuild",
    compose: "compose",
    devcontainer: "devcontainer",
    dockerfile: "dockerfile",
    drone: "drone",
    earthfile: "earthfile",
    github_actions: "github-actions",
    gitlab_ci: "gitlab-ci",
    jenkinsfile: "jenkinsfile",
    helm_values: "helm",
    kubernetes: "kubernetes",
    kustomize: "kustomize",
    woodpecker: "woodpecker",
    fix_inputs: "fix",
    cli_inputs: "cli",
}
