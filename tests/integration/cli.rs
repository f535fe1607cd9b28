//! End-to-end tests of the `imagepin` binary for scanning and reporting: exit
//! codes, the human/JSON/SARIF/GitHub formats, which files are walked, the
//! configuration and `--staged`. Fixtures live in tests/fixtures/cli/; trees
//! that need a `.gitignore` or a git repository are built in temporary
//! directories.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cli")
        .join(name)
}

use crate::support::cli::{CliRun as Run, imagepin, imagepin_env};

/// The findings of a JSON report as (path, reference) → finding.
fn finding<'v>(doc: &'v Value, path: &str, reference: &str) -> &'v Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path && f["reference"] == reference)
        .unwrap_or_else(|| panic!("no finding {path} {reference} in {doc:#}"))
}

/// Writes `files` (path, content) under a new temporary directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
    dir
}

fn listed(run: &Run) -> Vec<String> {
    run.stdout.lines().map(str::to_string).collect()
}

// ---- exit codes -------------------------------------------------------------

#[test]
fn exit_0_when_everything_is_pinned() {
    let run = imagepin(&fixture("pinned"), &["--check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("in 1 file"), "{}", run.stdout);
}

#[test]
fn exit_1_when_something_is_unpinned() {
    let run = imagepin(&fixture("statuses"), &["--check"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
}

#[test]
fn exit_2_for_a_missing_path_naming_it() {
    let run = imagepin(&fixture("pinned"), &["Dockerfile", "no-such-file"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("no-such-file: error: cannot read"),
        "{}",
        run.stdout
    );
}

#[test]
fn exit_2_for_usage_errors() {
    let dir = fixture("pinned");
    let _redacted = support::snapshot::redacted();
    for (name, args) in [
        ("update_without_fix", &["--update"][..]),
        ("check_and_fix", &["--check", "--fix"]),
        ("staged_and_paths", &["--staged", "Dockerfile"]),
        ("unknown_format", &["--format", "xml"]),
    ] {
        let run = imagepin(&dir, args);
        assert_eq!(run.code, 2, "{args:?}");
        insta::assert_snapshot!(format!("usage_error_{name}"), run.transcript());
    }
}

#[test]
fn a_file_that_is_not_utf8_is_an_error_and_the_others_are_scanned() {
    let dir = tree(&[("compose.yaml", "services:\n  db:\n    image: postgres:16\n")]);
    fs::write(dir.path().join("Dockerfile"), b"FROM alpine\n# caf\xe9\n").unwrap();
    let run = imagepin(dir.path(), &[]);
    assert_eq!(run.code, 2, "errors win over unpinned: {}", run.stdout);
    assert!(
        run.stdout
            .contains("Dockerfile:2: error: not valid UTF-8 (invalid byte at offset 17)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("in 1 file; 1 error"), "{}", run.stdout);
}

#[test]
fn a_malformed_file_is_an_error_naming_it_while_the_others_are_scanned() {
    let run = imagepin(&fixture("malformed"), &["--format", "json"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{doc:#}");
    assert_eq!(errors[0]["path"], "compose.yaml");
    assert!(run.stderr.contains("compose.yaml"), "{}", run.stderr);
    let f = finding(&doc, "Dockerfile", "python:3.12");
    assert_eq!(f["status"], "unpinned");
}

#[test]
fn a_malformed_file_in_human_format() {
    let run = imagepin(&fixture("malformed"), &[]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn configuration_errors_name_the_file_and_the_key() {
    let _redacted = support::snapshot::redacted();
    let run = imagepin(&fixture("bad-config"), &[]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "", "nothing is scanned");
    insta::assert_snapshot!("config_error_unknown_key", run.transcript());
    let dir = tree(&[("Dockerfile", "FROM alpine\n")]);
    let run = imagepin(dir.path(), &["--config", "missing.toml"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("config_error_missing_file", run.transcript());
    let dir = tree(&[
        ("Dockerfile", "FROM alpine\n"),
        ("x.toml", "[[files]]\nglob = \"*.yml\"\nkind = \"helm\"\n"),
    ]);
    let run = imagepin(dir.path(), &["--config", "x.toml"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("config_error_unknown_kind", run.transcript());
}

// ---- human format -------------------------------------------------------------

#[test]
fn human_lines_for_failing_findings_then_a_summary() {
    // One line per reference that fails `--check` (passing ones get none),
    // then the summary; no colour when stdout is not a terminal.
    let run = imagepin(&fixture("statuses"), &["--color", "never"]);
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when not a terminal"
    );
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn quiet_leaves_only_the_summary() {
    let run = imagepin(&fixture("statuses"), &["--quiet"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let dir = fixture("pinned");
    let run = imagepin(&dir, &["--color", "always"]);
    assert!(run.stdout.contains("\x1b["), "{:?}", run.stdout);
    let run = imagepin_env(&dir, &["--color", "always"], &[("NO_COLOR", "1")]);
    assert!(
        run.stdout.contains("\x1b["),
        "--color always wins over NO_COLOR"
    );
    let run = imagepin_env(&dir, &[], &[("NO_COLOR", "1")]);
    assert!(!run.stdout.contains('\x1b'));
    let run = imagepin(&dir, &["--color", "never"]);
    assert!(!run.stdout.contains('\x1b'));
}

#[test]
fn force_color_paints_a_pipe_unless_no_color_or_the_flag_says_otherwise() {
    // Stdout is a pipe here: colour only when the environment forces it
    // (as CI logs that render ANSI ask for), never against `NO_COLOR` or
    // `--color never`.
    let dir = fixture("statuses");
    let painted = |run: &Run| run.stdout.contains("\x1b[");
    for force in ["FORCE_COLOR", "CLICOLOR_FORCE"] {
        let run = imagepin_env(&dir, &[], &[(force, "1")]);
        assert!(painted(&run), "{force}=1: {:?}", run.stdout);
        assert!(
            run.stdout.contains("\x1b[33mpython:3.12-slim\x1b[0m"),
            "{force}=1 paints the image: {:?}",
            run.stdout
        );
        let run = imagepin_env(&dir, &[], &[(force, "1"), ("NO_COLOR", "1")]);
        assert!(!painted(&run), "NO_COLOR wins over {force}");
        let run = imagepin_env(&dir, &["--color", "never"], &[(force, "1")]);
        assert!(!painted(&run), "--color never wins over {force}");
        let run = imagepin_env(&dir, &[], &[(force, "0")]);
        assert!(!painted(&run), "{force}=0 forces nothing");
    }
    let run = imagepin_env(&dir, &["--color", "always"], &[("CLICOLOR", "0")]);
    assert!(painted(&run), "--color always wins over CLICOLOR=0");
    let run = imagepin(&dir, &[]);
    assert!(!painted(&run), "a pipe is not painted by default");
}

// ---- JSON contract --------------------------------------------------------------

#[test]
fn json_lists_every_finding_whatever_its_status() {
    let run = imagepin(&fixture("statuses"), &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let findings = doc["findings"].as_array().unwrap();
    for f in findings {
        for key in ["path", "line", "column", "reference", "status", "kind"] {
            assert!(!f[key].is_null(), "{key} missing in {f}");
        }
    }
    let mut statuses: Vec<&str> = findings
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    statuses.sort();
    statuses.dedup();
    assert_eq!(
        statuses,
        [
            "dynamic",
            "ignored",
            "invalid",
            "local-build",
            "pinned",
            "scratch",
            "stage",
            "unpinned"
        ]
    );
    // What to look for in the snapshot: `FROM ${BASE}` is reported on the
    // ARG line (where the pin goes); a quoted value's reference is the text
    // inside the quotes; the devcontainer's column counts characters
    // (`"café ☕", ` before it: 29 characters, 32 bytes); both `build`
    // stages are `stage`.
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_paths_as_given_or_relative_when_walking() {
    let statuses = fixture("statuses");
    let parent = statuses.parent().unwrap();
    // A directory argument: walked paths start with it, without `./`.
    let doc = imagepin(parent, &["--format", "json", "./statuses"]).json();
    finding(&doc, "statuses/compose.yaml", "postgres:16");
    finding(
        &doc,
        "statuses/.github/workflows/ci.yml",
        "${{ matrix.image }}",
    );
    // A file argument: exactly as given.
    let doc = imagepin(parent, &["--format", "json", "./statuses/compose.yaml"]).json();
    finding(&doc, "./statuses/compose.yaml", "postgres:16");
    // No argument: relative to the current directory.
    let doc = imagepin(&statuses, &["--format", "json"]).json();
    finding(&doc, "compose.yaml", "postgres:16");
    // An absolute directory under the current directory: relative again.
    let abs = statuses.canonicalize().unwrap();
    let doc = imagepin(&abs, &["--format", "json", abs.to_str().unwrap()]).json();
    finding(&doc, "compose.yaml", "postgres:16");
}

#[test]
fn output_order_is_stable() {
    let dir = fixture("statuses");
    let a = imagepin(&dir, &["--format", "json"]).stdout;
    let b = imagepin(&dir, &["--format", "json"]).stdout;
    assert_eq!(a, b);
    let doc: Value = serde_json::from_str(&a).unwrap();
    let paths: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "files in path order");
}

// ---- SARIF and GitHub ------------------------------------------------------------

#[test]
fn sarif_for_code_scanning() {
    // The fixture is inside this repository: `--root .` keeps its paths short.
    let run = imagepin(&fixture("statuses"), &["--format", "sarif", "--root", "."]);
    assert_eq!(run.code, 1);
    let doc = run.json();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.starts_with("./") && !uri.contains('\\'),
            "{uri}"
        );
        let region = &loc["region"];
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[key].as_u64().unwrap() >= 1, "{key} in {region}");
        }
    }
    // Rules, levels, regions (columns in characters), fingerprints; passing
    // references are not results.
    let _redacted = support::snapshot::redacted();
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn github_workflow_commands() {
    let run = imagepin(&fixture("statuses"), &["--format", "github", "--root", "."]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.transcript());
    let run = imagepin(
        &fixture("malformed"),
        &["--format", "github", "--root", "."],
    );
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("github_workflow_commands_malformed", run.transcript());
}

#[test]
fn gitlab_code_quality() {
    // Severity by status, the check name, a stable fingerprint per finding.
    let run = imagepin(&fixture("statuses"), &["--format", "gitlab", "--root", "."]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.transcript());
}

// ---- which files --------------------------------------------------------------------

fn walk_tree() -> tempfile::TempDir {
    let k8s = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      image: nginx:1.27\n";
    tree(&[
        (".gitignore", "ignored/\n*.gen.yaml\n"),
        ("Dockerfile", "FROM alpine:3.20\n"),
        ("ignored/Dockerfile", "FROM alpine:3.20\n"),
        ("manifest.gen.yaml", k8s),
        (
            ".github/workflows/ci.yml",
            "jobs:\n  a:\n    runs-on: x\n    container: node:20\n",
        ),
        (".gitlab-ci.yml", "image: ruby:3.3\n"),
        (
            ".devcontainer/devcontainer.json",
            "{\"image\": \"python:3\"}\n",
        ),
        (".git/Dockerfile", "FROM alpine:3.20\n"),
        (".git/config", "[core]\n"),
        ("sub/compose.yaml", "services:\n  a:\n    image: redis:7\n"),
        ("sub/notes.yaml", "title: not a manifest\nkind: notes\n"),
        ("k8s/pod.yaml", k8s),
        ("README.md", "FROM alpine\n"),
        ("Dockerfile.md", "FROM alpine\n"),
    ])
}

#[test]
fn walking_respects_gitignore_includes_hidden_dirs_and_never_git() {
    let dir = walk_tree();
    let run = imagepin(dir.path(), &["--list-files"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        listed(&run),
        [
            ".devcontainer/devcontainer.json\tdevcontainer",
            ".github/workflows/ci.yml\tgithub-actions",
            ".gitlab-ci.yml\tgitlab-ci",
            "Dockerfile\tdockerfile",
            "k8s/pod.yaml\tkubernetes",
            "sub/compose.yaml\tcompose",
        ]
    );
    let run = imagepin(dir.path(), &["--list-files", "sub", "./k8s"]);
    assert_eq!(
        listed(&run),
        ["sub/compose.yaml\tcompose", "k8s/pod.yaml\tkubernetes"]
    );
}

#[test]
fn walking_finds_references_in_hidden_directories() {
    let dir = walk_tree();
    let doc = imagepin(dir.path(), &["--format", "json"]).json();
    finding(&doc, ".github/workflows/ci.yml", "node:20");
    finding(&doc, ".gitlab-ci.yml", "ruby:3.3");
    finding(&doc, ".devcontainer/devcontainer.json", "python:3");
    finding(&doc, "k8s/pod.yaml", "nginx:1.27");
    let paths: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        !paths
            .iter()
            .any(|p| p.starts_with(".git/") || p.starts_with("ignored/")),
        "{paths:?}"
    );
}

#[test]
fn named_files_are_scanned_as_given_and_unknown_ones_skipped() {
    let dir = walk_tree();
    // .gitignore applies to walking, not to files named on the command line.
    let run = imagepin(
        dir.path(),
        &[
            "--list-files",
            "ignored/Dockerfile",
            "README.md",
            "sub/notes.yaml",
            "manifest.gen.yaml",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        listed(&run),
        [
            "ignored/Dockerfile\tdockerfile",
            "manifest.gen.yaml\tkubernetes"
        ]
    );
    let run = imagepin(dir.path(), &["--check", "README.md", "Dockerfile.md"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

// ---- the user's global git excludes file ---------------------------------------------

/// A sandboxed git repository (HOME and XDG_CONFIG_HOME are the workspace's,
/// no system git configuration) holding `files`.
fn global_excludes_repo(files: &[(&str, &str)]) -> support::Workspace {
    let mut ws = support::Workspace::new();
    ws.set_env("GIT_CONFIG_NOSYSTEM", "1");
    ws.set_env("GIT_CONFIG_SYSTEM", "/dev/null");
    for (path, content) in files {
        ws.write(path, content);
    }
    git(&ws.dir, &["init", "-q"]);
    ws
}

/// The Dockerfiles git itself lists as untracked and not ignored, with the
/// workspace's HOME, XDG_CONFIG_HOME and extra variables.
fn git_untracked_dockerfiles(ws: &support::Workspace, env: &[(&str, &str)]) -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files", "--others", "--exclude-standard"])
        .current_dir(&ws.dir)
        .env("HOME", &ws.home)
        .env("XDG_CONFIG_HOME", ws.home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_CONFIG_GLOBAL")
        .envs(env.iter().copied())
        .output()
        .expect("git must be installed");
    assert!(out.status.success(), "git ls-files");
    let mut names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains("Dockerfile"))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// The paths `imagepin --list-files` walks to.
fn walked(ws: &support::Workspace) -> Vec<String> {
    let run = ws.imagepin(&["--list-files"]);
    assert_eq!(run.code, Some(0), "{run}");
    run.stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn the_global_excludes_file_hides_files_from_the_walk_as_in_git() {
    let ws = global_excludes_repo(&[
        ("Dockerfile", "FROM alpine:3.20\n"),
        ("generated/Dockerfile", "FROM alpine:3.20\n"),
        ("dev.local.Dockerfile", "FROM alpine:3.20\n"),
        ("keep.local.Dockerfile", "FROM alpine:3.20\n"),
        // The repository's `.gitignore` re-includes one of them.
        (".gitignore", "!keep.local.Dockerfile\n"),
    ]);
    // No core.excludesFile: git's default, $XDG_CONFIG_HOME/git/ignore.
    fs::create_dir_all(ws.home.join(".config/git")).unwrap();
    fs::write(
        ws.home.join(".config/git/ignore"),
        "generated/\n*.local.Dockerfile\n",
    )
    .unwrap();
    let expected = ["Dockerfile", "keep.local.Dockerfile"];
    assert_eq!(walked(&ws), expected);
    assert_eq!(git_untracked_dockerfiles(&ws, &[]), expected);
    // Files named on the command line are scanned even so (pre-commit).
    let run = ws.imagepin(&["--check", "generated/Dockerfile", "dev.local.Dockerfile"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains("generated/Dockerfile:1:6")
            && run.stdout.contains("dev.local.Dockerfile:1:6"),
        "{run}"
    );
}

#[test]
fn the_global_excludes_file_applies_in_a_repository_without_subdirectories() {
    let ws = global_excludes_repo(&[
        ("Dockerfile", "FROM alpine:3.20\n"),
        ("dev.local.Dockerfile", "FROM alpine:3.20\n"),
    ]);
    fs::create_dir_all(ws.home.join(".config/git")).unwrap();
    fs::write(ws.home.join(".config/git/ignore"), "*.local.Dockerfile\n").unwrap();
    assert_eq!(walked(&ws), ["Dockerfile"]);
    assert_eq!(git_untracked_dockerfiles(&ws, &[]), ["Dockerfile"]);
}

#[test]
fn core_excludes_file_is_read_from_the_users_git_configuration() {
    let mut ws = global_excludes_repo(&[
        ("Dockerfile", "FROM alpine:3.20\n"),
        ("home/Dockerfile", "FROM alpine:3.20\n"),
        ("xdg/Dockerfile", "FROM alpine:3.20\n"),
        ("default/Dockerfile", "FROM alpine:3.20\n"),
        ("env/Dockerfile", "FROM alpine:3.20\n"),
    ]);
    let config = ws.home.join(".config/git");
    fs::create_dir_all(&config).unwrap();
    fs::write(ws.home.join("home-excludes"), "home/\n").unwrap();
    fs::write(ws.home.join("xdg-excludes"), "xdg/\n").unwrap();
    fs::write(ws.home.join("env-excludes"), "env/\n").unwrap();
    // Not read while a configuration names another file.
    fs::write(config.join("ignore"), "default/\n").unwrap();
    let all = [
        "Dockerfile",
        "default/Dockerfile",
        "env/Dockerfile",
        "home/Dockerfile",
        "xdg/Dockerfile",
    ];
    let without = |hidden: &str| -> Vec<String> {
        all.iter()
            .filter(|p| !p.starts_with(hidden))
            .map(|p| p.to_string())
            .collect()
    };

    // $XDG_CONFIG_HOME/git/config, `~/` expanded.
    fs::write(
        config.join("config"),
        "[core]\n\texcludesfile = ~/xdg-excludes\n",
    )
    .unwrap();
    assert_eq!(walked(&ws), without("xdg/"));
    assert_eq!(git_untracked_dockerfiles(&ws, &[]), without("xdg/"));

    // ~/.gitconfig is read after it, so it wins (any case, quotes).
    fs::write(
        ws.home.join(".gitconfig"),
        "[user]\n\tname = x\n[Core]\n\tExcludesFile = \"~/home-excludes\"\n",
    )
    .unwrap();
    assert_eq!(walked(&ws), without("home/"));
    assert_eq!(git_untracked_dockerfiles(&ws, &[]), without("home/"));

    // GIT_CONFIG_GLOBAL replaces both.
    let global = ws.home.join("global.gitconfig");
    fs::write(&global, "[core]\n\texcludesFile = ~/env-excludes\n").unwrap();
    let global = global.to_str().unwrap().to_string();
    ws.set_env("GIT_CONFIG_GLOBAL", &global);
    assert_eq!(walked(&ws), without("env/"));
    assert_eq!(
        git_untracked_dockerfiles(&ws, &[("GIT_CONFIG_GLOBAL", &global)]),
        without("env/")
    );
}

#[test]
fn exclude_applies_to_named_files_too() {
    let dir = fixture("config");
    let run = imagepin(&dir, &["--list-files"]);
    assert_eq!(
        listed(&run),
        ["Dockerfile\tdockerfile", "ci/build.yml\tgitlab-ci"]
    );
    let run = imagepin(&dir, &["--list-files", "vendor/Dockerfile"]);
    assert_eq!(run.stdout, "");
    let run = imagepin(&dir, &["--check", "vendor/Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("in 0 files"), "{}", run.stdout);
}

#[test]
fn declared_kinds_ignore_images_and_inline_ignores() {
    let run = imagepin(&fixture("config"), &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let f = finding(&doc, "ci/build.yml", "ruby:3.3");
    assert_eq!(f["kind"], "gitlab-ci");
    assert_eq!(f["status"], "unpinned");
    assert_eq!(
        finding(&doc, "Dockerfile", "localhost:5000/base:1")["status"],
        "ignored"
    );
    assert_eq!(
        finding(&doc, "Dockerfile", "alpine:3.20")["status"],
        "ignored"
    );
    // Once the declared file is pinned there is nothing left to report.
    let run = imagepin(&fixture("config"), &["Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn config_is_found_from_the_current_directory_upward() {
    let dir = fixture("config");
    let run = imagepin(&dir.join("ci"), &["--list-files", "build.yml"]);
    assert_eq!(listed(&run), ["build.yml\tgitlab-ci"]);
    // With --config the discovered file is not used.
    let other = tree(&[("empty.toml", "")]);
    let cfg = other.path().join("empty.toml");
    let run = imagepin(&dir, &["--list-files", "--config", cfg.to_str().unwrap()]);
    assert_eq!(
        listed(&run),
        ["Dockerfile\tdockerfile", "vendor/Dockerfile\tdockerfile"]
    );
}

// ---- --staged ---------------------------------------------------------------------

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
        .status()
        .expect("git must be installed for the --staged tests");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn staged_scans_the_files_staged_in_git_relative_to_the_cwd() {
    let dir = tree(&[
        ("app/Dockerfile", "FROM python:3.12\n"),
        ("app/README.md", "FROM x\n"),
        ("ops/compose.yaml", "services:\n  a:\n    image: redis:7\n"),
        ("ops/Dockerfile.unstaged", "FROM alpine:3.20\n"),
        ("gone/Dockerfile", "FROM alpine:3.20\n"),
    ]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "app", "ops/compose.yaml"]);
    let app = dir.path().join("app");
    let run = imagepin(&app, &["--staged", "--list-files"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        listed(&run),
        ["Dockerfile\tdockerfile", "../ops/compose.yaml\tcompose"]
    );
    let run = imagepin(&app, &["--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    finding(&doc, "Dockerfile", "python:3.12");
    finding(&doc, "../ops/compose.yaml", "redis:7");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 2, "{doc:#}");
}

#[test]
fn staged_outside_a_git_repository_is_an_error() {
    let dir = tree(&[("Dockerfile", "FROM alpine:3.20\n")]);
    let run = imagepin(dir.path(), &["--staged"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--staged"), "{}", run.stderr);
}

// ---- hostile files: devices, FIFOs, non-UTF-8 names (issue 8, items 5 and 11) -----------

/// Runs in a sandbox, killed (and failing the test) if it hangs.
fn bounded(ws: &support::Workspace, args: &[&str]) -> support::Run {
    let run = ws.imagepin_within(args, std::time::Duration::from_secs(20));
    assert!(!run.timed_out, "hung: {run}");
    run
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(unix)]
#[test]
fn a_config_that_is_a_device_or_fifo_is_refused_naming_it() {
    use std::os::unix::fs::symlink;
    let ws = support::Workspace::new();
    ws.write("Dockerfile", "FROM alpine:3.20\n");
    for args in [
        &["--config", "/dev/zero", "--check"][..],
        &["--config", "/dev/zero", "resolve", "alpine:3.20"][..],
    ] {
        let run = bounded(&ws, args);
        assert_eq!(run.code, Some(2), "{run}");
        assert!(
            run.stderr
                .contains("/dev/zero: cannot read configuration: not a regular file (a device)"),
            "{run}"
        );
    }
    // A committed `.imagepin.toml` that links to a device is not skipped
    // either (that would drop the repository's settings silently).
    symlink("/dev/zero", ws.path(".imagepin.toml")).unwrap();
    let run = bounded(&ws, &["--check"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains(".imagepin.toml: cannot read configuration: not a regular file"),
        "{run}"
    );
    fs::remove_file(ws.path(".imagepin.toml")).unwrap();
    if mkfifo(&ws.path("fifo.toml")) {
        let run = bounded(&ws, &["--config", "fifo.toml"]);
        assert_eq!(run.code, Some(2), "{run}");
        assert!(
            run.stderr
                .contains("fifo.toml: cannot read configuration: not a regular file (a FIFO)"),
            "{run}"
        );
    }
}

#[cfg(unix)]
#[test]
fn files_that_are_links_to_fifos_or_devices_are_refused_naming_them() {
    use std::os::unix::fs::symlink;
    let ws = support::Workspace::new();
    ws.write("ok.Dockerfile", "FROM alpine:3.20\n");
    assert!(mkfifo(&ws.path("pipe")), "mkfifo");
    symlink("pipe", ws.path("fifo.Dockerfile")).unwrap();
    symlink("/dev/zero", ws.path("zero.yaml")).unwrap();
    for args in [
        &["--check", "fifo.Dockerfile", "ok.Dockerfile"][..],
        &["--check", "zero.yaml", "ok.Dockerfile"][..],
        &["--list-files", "zero.yaml"][..],
    ] {
        let run = bounded(&ws, args);
        assert_eq!(run.code, Some(2), "{run}");
        let name = args[1];
        let named = |out: &str| {
            out.lines()
                .any(|l| l.contains(name) && l.contains("cannot read: not a regular file"))
        };
        assert!(named(&run.stdout) || named(&run.stderr), "{run}");
        if args[0] == "--check" {
            assert!(run.stdout.contains("ok.Dockerfile:1:6"), "{run}");
        }
    }
}

#[cfg(unix)]
#[test]
fn a_staged_link_to_a_device_is_refused_naming_it() {
    use std::os::unix::fs::symlink;
    let ws = support::Workspace::new();
    git(&ws.dir, &["init", "-q"]);
    symlink("/dev/zero", ws.path("Dockerfile")).unwrap();
    ws.write("compose.yaml", "services:\n  a:\n    image: redis:7\n");
    git(&ws.dir, &["add", "Dockerfile", "compose.yaml"]);
    let run = bounded(&ws, &["--staged", "--format", "json"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("Dockerfile: cannot read: not a regular file (a device)"),
        "{run}"
    );
    assert!(run.stdout.contains("redis:7"), "{run}");
}

#[cfg(unix)]
#[test]
fn a_dockerfile_whose_name_is_not_utf8_is_scanned() {
    use std::os::unix::ffi::OsStrExt;
    let ws = support::Workspace::new();
    let name = std::ffi::OsStr::from_bytes(b"Dockerfile\xff");
    fs::write(ws.dir.join(name), "FROM alpine:3.20\n").unwrap();
    let dir = std::ffi::OsStr::from_bytes(b"svc-\xfe");
    fs::create_dir(ws.dir.join(dir)).unwrap();
    fs::write(ws.dir.join(dir).join("Dockerfile"), "FROM redis:7\n").unwrap();
    let run = bounded(&ws, &["--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let refs: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["alpine:3.20", "redis:7"], "{doc:#}");
    let run = bounded(&ws, &["--list-files"]);
    assert_eq!(
        run.stdout, "Dockerfile\\xff\tdockerfile\nsvc-\\xfe/Dockerfile\tdockerfile\n",
        "{run}"
    );
    // People see the names' real bytes, never U+FFFD.
    let run = bounded(&ws, &["--check"]);
    assert!(
        run.stdout
            .starts_with("Dockerfile\\xff:1:6: dockerfile: alpine:3.20 is not pinned")
            && run
                .stdout
                .contains("\nsvc-\\xfe/Dockerfile:1:6: dockerfile: redis:7"),
        "{run}"
    );
}

// ---- the bundled example ---------------------------------------------------------------

#[test]
fn the_quick_start_runs_on_the_examples() {
    // README: `cd examples && imagepin --check` (the repository's own
    // .imagepin.toml excludes examples/, so the quick start runs from there).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = imagepin(&root.join("examples"), &["--check"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for expected in [
        "Dockerfile:1:10: dockerfile: docker/dockerfile:1.7 is not pinned to a digest",
        "compose.yaml:3:10: compose: postgres:16-alpine is not pinned to a digest",
        ".github/workflows/ci.yml:7:16: github-actions: python:3.12-bookworm is not pinned to a digest",
        "deploy/app.yaml:16:18: kubernetes: ghcr.io/example/app:1.4.2 is not pinned to a digest",
        ".gitlab-ci.yml:2:10: gitlab-ci: node:20-alpine is not pinned to a digest",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == expected),
            "missing {expected:?} in\n{}",
            run.stdout
        );
    }
    let run = imagepin(&root.join("examples"), &["--list-files"]);
    assert_eq!(run.stdout.lines().count(), 6, "{}", run.stdout);
    assert!(run.stdout.contains("deploy/app.yaml\tkubernetes"));
}

// ---- --fix, --diff and --verify through the binary, against a real registry --------------

#[test]
fn fix_diff_verify_and_update_against_a_registry() {
    use crate::support::{Format, Image, Registry, Workspace};

    let reg = Registry::anonymous();
    let pusher = reg.pusher();
    let first = pusher.push(
        "library/python",
        "3.12",
        &Image::multi_arch("py-1", Format::Oci),
    );
    let ws = Workspace::new();
    ws.config(&format!(
        "[registries.\"docker.io\"]\nendpoint = \"{}\"\n",
        reg.url()
    ));
    let original = "# syntax check\nFROM python:3.12 AS app\nFROM app\n";
    ws.write("Dockerfile", original);
    let read = || fs::read_to_string(ws.path("Dockerfile")).unwrap();

    let run = ws.imagepin(&["--check"]);
    assert_eq!(run.code, Some(1), "{run}");

    // --diff: the diff on stdout, the summary on stderr, nothing written.
    let run = ws.imagepin(&["--diff"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout
            .contains(&format!("+FROM python:3.12@{first} AS app")),
        "{run}"
    );
    assert!(
        run.stderr.contains("would pin 1 reference in 1 file"),
        "{run}"
    );
    assert_eq!(read(), original);

    // --fix: pinned in place; exit 1 because a file changed.
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        read(),
        original.replace("python:3.12", &format!("python:3.12@{first}"))
    );
    assert!(run.stderr.contains("pinned 1 reference in 1 file"), "{run}");
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(0), "nothing left to change: {run}");
    let run = ws.imagepin(&["--check", "--verify"]);
    assert_eq!(run.code, Some(0), "{run}");

    // The tag moves: --verify reports the pin as stale, --update moves it.
    let second = pusher.push(
        "library/python",
        "3.12",
        &Image::multi_arch("py-2", Format::Oci),
    );
    assert_ne!(first, second);
    let run = ws.imagepin(&["--check", "--verify", "--no-cache", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        finding(&doc, "Dockerfile", &format!("python:3.12@{first}"))["status"],
        "stale"
    );
    let run = ws.imagepin(&["--check", "--verify", "--no-cache"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains(&format!(
            "Dockerfile:2:6: dockerfile: python:3.12@{first} is stale: tag now points to {second}"
        )),
        "{run}"
    );
    let run = ws.imagepin(&["--fix", "--update", "--no-cache"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        read(),
        original.replace("python:3.12", &format!("python:3.12@{second}"))
    );
}

#[test]
fn fix_reports_what_it_cannot_resolve_and_exits_2() {
    use crate::support::{Format, Image, Registry, Workspace};

    let reg = Registry::anonymous();
    let digest = reg.pusher().push(
        "library/alpine",
        "3.20",
        &Image::single("alpine", Format::Oci),
    );
    let ws = Workspace::new();
    ws.config(&format!(
        "[registries.\"docker.io\"]\nendpoint = \"{}\"\n",
        reg.url()
    ));
    ws.write("Dockerfile", "FROM alpine:3.20\nFROM nosuch/image:1\n");
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("nosuch/image"), "{run}");
    assert_eq!(
        fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        format!("FROM alpine:3.20@{digest}\nFROM nosuch/image:1\n")
    );
}

// ---- --fix on hostile terminals and file systems (issue 8, items 9 and 10) -------------

/// Every file under `dir` whose name marks it as an imagepin temporary file.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(leftovers(&p));
        } else if p.to_string_lossy().contains("imagepin-tmp") {
            out.push(p);
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn sigint_and_sigterm_during_fix_leave_no_temporary_file_and_no_half_file() {
    use crate::support::{Format, Image, Proxy, ProxyOpts, Registry, Workspace};
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};

    let reg = Registry::anonymous();
    let digest = reg
        .pusher()
        .push("library/python", "3.12", &Image::single("py", Format::Oci));
    // A slow registry: the signal can also land while tags are resolved.
    let mut opts = ProxyOpts::to(reg.addr());
    opts.latency = Duration::from_millis(150);
    let proxy = Proxy::start(opts);
    let ws = Workspace::new();
    ws.config(&format!(
        "[registries.\"docker.io\"]\nendpoint = \"{}\"\n",
        proxy.url()
    ));
    let files: Vec<String> = (0..300).map(|i| format!("s{i:03}/Dockerfile")).collect();
    let old = "# app\r\nFROM python:3.12 AS app\r\n";
    let new = old.replace("python:3.12", &format!("python:3.12@{digest}"));
    // (signal, when): a delay after start, or after the first file changed.
    let moments: [(&str, i32, Option<u64>, u64); 6] = [
        ("INT", 2, None, 50),
        ("TERM", 15, None, 200),
        ("INT", 2, Some(0), 0),
        ("TERM", 15, Some(0), 0),
        ("INT", 2, Some(5), 0),
        ("TERM", 15, Some(30), 0),
    ];
    let mut interrupted_mid_write = 0;
    for (name, number, after_first, delay) in moments {
        for f in &files {
            ws.write(f, old);
        }
        let mut child = ws
            .command(&["--fix", "--no-cache"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        match after_first {
            None => std::thread::sleep(Duration::from_millis(delay)),
            Some(ms) => {
                let first = ws.path(&files[0]);
                while fs::read_to_string(&first).unwrap() == old
                    && start.elapsed() < Duration::from_secs(30)
                    && child.try_wait().unwrap().is_none()
                {
                    std::thread::sleep(Duration::from_micros(200));
                }
                std::thread::sleep(Duration::from_millis(ms));
            }
        }
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-s", name, &pid]).status();
        let status = child.wait().unwrap();
        // Ended by the signal (or finished first, having written everything).
        assert!(
            status.signal() == Some(number) || status.code() == Some(1),
            "SIG{name}: {status:?}"
        );
        assert_eq!(leftovers(&ws.dir), Vec::<PathBuf>::new(), "SIG{name}");
        let mut changed = 0;
        for f in &files {
            let text = fs::read_to_string(ws.path(f)).unwrap();
            assert!(text == old || text == new, "SIG{name}: {f} is {text:?}");
            changed += usize::from(text == new);
        }
        if after_first.is_none() && delay < 100 {
            assert_eq!(changed, 0, "SIG{name} while resolving");
        }
        if changed > 0 && changed < files.len() {
            interrupted_mid_write += 1;
        }
    }
    // Most of the signals sent after the first write land mid-write; one
    // suffices to show the cleanup (the others still check old-or-new).
    assert!(interrupted_mid_write > 0, "no signal landed while writing");
}

#[cfg(unix)]
#[test]
fn fix_refuses_files_the_user_may_not_write_by_access_not_mode_bits() {
    use crate::support::{Format, Image, Registry, Workspace};
    use std::os::unix::fs::{PermissionsExt, chown};

    // Needs root (to make files of two users) and setpriv (to run as nobody).
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    let has_setpriv = Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !is_root || !has_setpriv {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let reg = Registry::anonymous();
    let digest = reg
        .pusher()
        .push("library/python", "3.12", &Image::single("py", Format::Oci));
    let ws = Workspace::new();
    ws.config(&format!(
        "[registries.\"docker.io\"]\nendpoint = \"{}\"\n",
        reg.url()
    ));
    let mode = |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    mode(ws.root(), 0o755);
    // The project directory is one the user may write (world-writable).
    for d in [&ws.dir, &ws.cache, &ws.home] {
        mode(d, 0o777);
    }
    let old = "FROM python:3.12\n";
    let new = format!("FROM python:3.12@{digest}\n");
    // root's 0644 file: only mode bits said "writable" (by its owner).
    ws.write("root.Dockerfile", old);
    mode(&ws.path("root.Dockerfile"), 0o644);
    // root's 0666 file: writable, but replacing it would make it nobody's.
    ws.write("shared.Dockerfile", old);
    mode(&ws.path("shared.Dockerfile"), 0o666);
    // nobody's own file, setgid: pinned, mode kept.
    ws.write("mine.Dockerfile", old);
    chown(ws.path("mine.Dockerfile"), Some(65534), Some(65534)).unwrap();
    mode(&ws.path("mine.Dockerfile"), 0o2754);

    let inner = ws.command(&["--fix"]);
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(&ws.dir)
        .env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let run = ws.run_bounded(
        cmd,
        &["--fix (as nobody)"],
        std::time::Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("root.Dockerfile: error: you may not write this file"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("shared.Dockerfile: error: the file belongs to another user"),
        "{run}"
    );
    assert_eq!(fs::read_to_string(ws.path("root.Dockerfile")).unwrap(), old);
    assert_eq!(
        fs::read_to_string(ws.path("shared.Dockerfile")).unwrap(),
        old
    );
    assert_eq!(fs::read_to_string(ws.path("mine.Dockerfile")).unwrap(), new);
    let m = fs::metadata(ws.path("mine.Dockerfile")).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o2754);
    assert_eq!(leftovers(&ws.dir), Vec::<PathBuf>::new());
}

#[test]
fn resolve_prints_ref_tab_digest() {
    use crate::support::{Format, Image, Registry, Workspace};

    let reg = Registry::anonymous();
    let digest = reg
        .pusher()
        .push("org/app", "1", &Image::single("app", Format::Oci));
    let ws = Workspace::new();
    let reference = format!("{}/org/app:1", reg.host());
    let run = ws.imagepin(&["resolve", &reference]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.stdout, format!("{reference}\t{digest}\n"));
}

/// A tree with one active and one expiring `[[allow]]` exception.
fn allow_tree() -> tempfile::TempDir {
    tree(&[
        (
            ".imagepin.toml",
            r#"
[[allow]]
paths = ["compose.override.yaml"]
reason = "local development floats"

[[allow]]
paths = ["Dockerfile"]
images = ["python"]
reason = "waiting for the CVE-2026-1 base image"
expires = "2026-10-01"
"#,
        ),
        (
            "compose.override.yaml",
            "services:\n  app:\n    image: myapp:dev\n",
        ),
        (
            "Dockerfile",
            &format!("FROM python:3.12\nFROM alpine:3@{DIGEST}\n"),
        ),
    ])
}

#[test]
fn allowed_references_pass_the_check_until_their_exception_expires() {
    let dir = allow_tree();
    fn today(d: &str) -> [(&str, &str); 1] {
        [("IMAGEPIN_TODAY", d)]
    }

    // Active: both unpinned references are allowed; nothing fails.
    let run = imagepin_env(dir.path(), &["--check"], &today("2026-10-01"));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        "3 image references (1 pinned, 2 allowed) in 2 files\n"
    );
    let run = imagepin_env(dir.path(), &["--format", "json"], &today("2026-10-01"));
    assert_eq!(run.code, 0);
    let doc = run.json();
    let py = finding(&doc, "Dockerfile", "python:3.12");
    assert_eq!(py["status"], "allowed");
    assert_eq!(
        py["note"],
        "allowed until 2026-10-01 by [[allow]] #2 (\"waiting for the CVE-2026-1 base image\")"
    );
    assert_eq!(py["repository"], "library/python");
    let app = finding(&doc, "compose.override.yaml", "myapp:dev");
    assert_eq!(app["status"], "allowed");
    assert_eq!(
        app["note"],
        "allowed by [[allow]] #1 (\"local development floats\")"
    );
    // Not failing, so not a code-scanning alert.
    let run = imagepin_env(dir.path(), &["--format", "sarif"], &today("2026-10-01"));
    assert_eq!(run.code, 0);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"], Value::Array(vec![]));

    // Expired: the python reference fails again, and says which rule expired.
    let run = imagepin_env(dir.path(), &["--check"], &today("2026-10-02"));
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "Dockerfile:1:6: dockerfile: python:3.12 is not pinned to a digest: \
         allowed until 2026-10-01 by [[allow]] #2 (\"waiting for the CVE-2026-1 base image\"); \
         that exception has expired\n\
         3 image references (1 unpinned, 1 pinned, 1 allowed) in 2 files\n"
    );
    let run = imagepin_env(dir.path(), &["--format", "json"], &today("2026-10-02"));
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(
        finding(&doc, "Dockerfile", "python:3.12")["status"],
        "unpinned"
    );
    assert_eq!(
        finding(&doc, "compose.override.yaml", "myapp:dev")["status"],
        "allowed"
    );
}

#[test]
fn a_bad_allow_rule_or_today_is_an_error() {
    let dir = tree(&[
        (
            ".imagepin.toml",
            "[[allow]]\npaths = [\"Dockerfile\"]\nexpires = \"2026-10-01\"\n",
        ),
        ("Dockerfile", "FROM python:3.12\n"),
    ]);
    let run = imagepin(dir.path(), &["--check"]);
    assert_eq!(run.code, 2);
    let config = dir.path().join(".imagepin.toml");
    assert_eq!(
        run.stderr,
        format!(
            "imagepin: error: {}:1:1: `allow`: missing field `reason`\n",
            config.display()
        )
    );
    let dir = allow_tree();
    let run = imagepin_env(dir.path(), &["--check"], &[("IMAGEPIN_TODAY", "2026-10")]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "imagepin: error: IMAGEPIN_TODAY: \"2026-10\" is not a date YYYY-MM-DD\n"
    );
}
