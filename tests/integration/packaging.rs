//! How imagepin is shipped, checked without building anything: the version is
//! the same everywhere a user or an installer reads it (Cargo.toml, the
//! pre-commit placeholder package, the README's snippets, the Action), every
//! pre-commit hook entry ends with `--`, the hooks' file selection passes the
//! names imagepin reads (checked with pre-commit's own regex engine and type
//! detection, `identify`), our own repository passes `imagepin --check`, and
//! everything we ship is built with the `dist` profile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const PROJECT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const BIN: &str = env!("CARGO_BIN_EXE_imagepin");

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(PROJECT).join(rel))
        .unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// `cargo install` builds `release` (tuned for build time); the binaries,
/// wheels and container we ship are built with `dist` (whole-program LTO),
/// and the release job publishes the container with the script that
/// `scripts/container-smoke.sh` rehearses.
#[test]
fn what_we_ship_is_built_with_the_dist_profile() {
    let cargo: toml::Table = read("Cargo.toml").parse().unwrap();
    let profile = |name: &str| cargo["profile"][name].as_table().unwrap().clone();
    assert_eq!(profile("release")["lto"].as_str(), Some("off"));
    let dist = profile("dist");
    assert_eq!(dist["inherits"].as_str(), Some("release"));
    assert_eq!(dist["lto"].as_str(), Some("fat"));
    assert_eq!(dist["codegen-units"].as_integer(), Some(1));

    let workflow = read(".github/workflows/release.yml");
    let dockerfile = read("Dockerfile");
    for (name, text) in [("release.yml", &workflow), ("Dockerfile", &dockerfile)] {
        let builds: Vec<&str> = text
            .lines()
            // `cargo build`, and maturin's wheel build (`--locked --out`).
            .filter(|l| l.contains("cargo build") || l.contains("--locked --out"))
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        let expected = if name == "Dockerfile" { 1 } else { 2 };
        assert_eq!(builds.len(), expected, "{name}: {builds:?}");
        for line in builds {
            assert!(
                line.contains("--profile dist") && !line.contains("--release"),
                "{name}: {line}"
            );
        }
    }
    assert!(dockerfile.contains("cp target/dist/imagepin /imagepin"));
    assert!(workflow.contains("cd target/${{ matrix.target }}/dist"));
    assert!(workflow.contains("scripts/publish-container.sh \"ghcr.io/"));
    let script = Path::new(PROJECT).join("scripts/publish-container.sh");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&script).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{} is not executable", script.display());
    }
    assert!(read("scripts/container-smoke.sh").contains("scripts/publish-container.sh"));
}

#[test]
fn the_placeholder_package_pins_the_wheel_of_this_version() {
    let setup = read("setup.py");
    let pins: Vec<&str> = setup.lines().filter(|l| l.contains("imagepin==")).collect();
    assert_eq!(pins.len(), 1, "one imagepin== pin in setup.py: {pins:?}");
    assert!(
        pins[0].contains(&format!("\"imagepin=={VERSION}\"")),
        "setup.py must require imagepin=={VERSION} (Cargo.toml's version), found {:?}",
        pins[0]
    );
    // The wheel takes its version from Cargo.toml; nothing may override it.
    let pyproject = read("dist/pypi/pyproject.toml");
    assert!(pyproject.contains("dynamic = [\"version\"]"), "{pyproject}");
    assert!(!pyproject.lines().any(|l| l.starts_with("version")));
}

#[test]
fn snippets_name_the_release_tag_of_this_version() {
    let tag = format!("v{VERSION}");
    for file in [
        "README.md",
        ".pre-commit-hooks.yaml",
        "action.yml",
        "ci/imagepin.gitlab-ci.yml",
    ] {
        let text = read(file);
        let mut n = 0;
        for line in text.lines() {
            let code = line.trim_start_matches(|c: char| c == '#' || c.is_whitespace());
            let Some(rest) = code.strip_prefix("rev: ") else {
                continue;
            };
            n += 1;
            let rev = rest.split_whitespace().next().unwrap_or("");
            assert_eq!(rev, tag, "{file}: `{}`", line.trim());
        }
        // `uses: imagepin/imagepin@v…`, release downloads, raw file URLs.
        for prefix in [
            "imagepin/imagepin@",
            "imagepin/releases/download/",
            "raw.githubusercontent.com/imagepin/imagepin/",
        ] {
            for (i, _) in text.match_indices(prefix) {
                let rev: String = text[i + prefix.len()..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '/')
                    .collect();
                if rev.starts_with('$') {
                    continue; // a variable that defaults to the tag, checked below
                }
                assert_eq!(rev, tag, "{file}: {prefix}{rev}");
                n += 1;
            }
        }
        assert!(n > 0, "{file} names no imagepin release");
    }
    let action = read("action.yml");
    assert!(
        action.contains(&format!("default: \"{tag}\"")),
        "action.yml's `version` input must default to {tag}"
    );
    let gitlab = read("ci/imagepin.gitlab-ci.yml");
    assert!(
        gitlab.contains(&format!("IMAGEPIN_VERSION: \"{tag}\"")),
        "ci/imagepin.gitlab-ci.yml must default IMAGEPIN_VERSION to {tag}"
    );
}

/// `(id, entry)` of each hook in `.pre-commit-hooks.yaml`.
fn hooks() -> Vec<(String, String)> {
    let text = read(".pre-commit-hooks.yaml");
    let mut out = Vec::new();
    let mut id = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("- id: ") {
            id = Some(v.trim().to_string());
        } else if let Some(v) = line.trim_start().strip_prefix("entry: ") {
            out.push((id.take().expect("entry before id"), v.trim().to_string()));
        }
    }
    out
}

#[test]
fn every_hook_entry_ends_the_options() {
    let hooks = hooks();
    let ids: Vec<&str> = hooks.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "imagepin",
            "imagepin-check",
            "imagepin-update",
            "imagepin-src",
            "imagepin-check-src"
        ]
    );
    for (id, entry) in &hooks {
        assert!(
            entry.starts_with("imagepin ") && entry.ends_with(" --"),
            "hook {id}: entry `{entry}` must end with `--` so that file names are never options"
        );
    }
}

/// The pre-commit virtual environment's Python (with PyYAML and identify),
/// found next to `pre-commit` on PATH.
fn precommit_python() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .find(|d| d.join("pre-commit").is_file())
        .map(|d| d.join("python3"))
        .filter(|p| p.exists())
}

#[test]
fn hook_file_selection_passes_every_kind_imagepin_reads() {
    let Some(python) = precommit_python() else {
        assert!(
            std::env::var_os("IMAGEPIN_SKIP_PRECOMMIT").is_some(),
            "pre-commit is not on PATH (bash .ci/run installs it; or set IMAGEPIN_SKIP_PRECOMMIT=1)"
        );
        return;
    };
    // Real files, so identify sees them as pre-commit does (by name, then
    // by content for names it doesn't know).
    let dir = tempfile::tempdir().unwrap();
    let pass = [
        "Dockerfile",
        "app/Dockerfile.prod",
        "Dockerfile-windows",
        "dockerfile",
        "app.dockerfile",
        "x.Containerfile",
        "Containerfile",
        "Earthfile",
        "sub/Earthfile",
        "Jenkinsfile",
        "ci/Jenkinsfile.release",
        "ci/nightly.Jenkinsfile",
        "jenkins/deploy.groovy",
        "lib/vars/buildGo.groovy",
        "Kustomization",
        "deploy/kustomization.yaml",
        "deploy/kustomization.yml",
        "compose.yaml",
        "docker-compose.override.yml",
        ".github/workflows/ci.yml",
        "action.yml",
        ".gitlab-ci.yml",
        "deploy/app.yaml",
        ".devcontainer.json",
        ".devcontainer/devcontainer.json",
        ".devcontainer/py/devcontainer.json",
        ".buildkite/pipeline.json",
        "buildkite/pipeline.json",
        "buildkite.json",
        "azure-pipelines.yml",
        ".buildkite/pipeline.yml",
        "--config=evil.yaml",
    ];
    // (`docs/Dockerfile.md` passes, as any `Dockerfile*` does; imagepin then
    // skips it. Over-matching costs nothing, missing a kind loses findings.)
    let skip = [
        "README.md",
        "Earthfile.md",
        "package.json",
        ".buildkite/renovate.json",
        "src/main.rs",
        "src/main/groovy/App.groovy",
    ];
    for rel in pass.iter().chain(&skip) {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "FROM alpine:3.20\n").unwrap();
    }
    let script = r#"
import re, sys, yaml
from identify import identify
hooks = yaml.safe_load(open(sys.argv[1]))
root = sys.argv[2]
for name in sys.argv[3:]:
    for h in hooks:
        ok = bool(re.search(h["files"], name)) and bool(
            identify.tags_from_path(root + "/" + name) & set(h["types_or"]))
        print(h["id"], name, "pass" if ok else "skip")
"#;
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(Path::new(PROJECT).join(".pre-commit-hooks.yaml"))
        .arg(dir.path())
        .args(pass.iter().chain(&skip))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hook_count = hooks().len();
    assert_eq!(
        stdout.lines().count(),
        hook_count * (pass.len() + skip.len())
    );
    for line in stdout.lines() {
        let (rest, verdict) = line.rsplit_once(' ').unwrap();
        let name = rest.split_once(' ').unwrap().1;
        let want = if pass.contains(&name) { "pass" } else { "skip" };
        assert_eq!(verdict, want, "{line}");
    }
}

#[test]
fn our_own_repository_is_pinned() {
    // .imagepin.toml at the root excludes the deliberately unpinned test
    // fixtures and examples; everything else we ship (Dockerfile, action.yml,
    // workflows, the GitLab template) must pass the check.
    let out = Command::new(BIN)
        .args(["--check", "--color", "never"])
        .current_dir(PROJECT)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    // And it did look at them: the files we ship with image references.
    let out = Command::new(BIN)
        .args(["--list-files"])
        .current_dir(PROJECT)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    for file in [
        "Dockerfile\tdockerfile",
        "action.yml\tgithub-actions",
        ".github/workflows/release.yml\tgithub-actions",
        "ci/imagepin.gitlab-ci.yml\tgitlab-ci",
    ] {
        assert!(
            listed.lines().any(|l| l == file),
            "{file:?} not scanned:\n{listed}"
        );
    }
    assert!(!listed.contains("tests/fixtures/"), "{listed}");
    assert!(!listed.contains("examples/"), "{listed}");
}

/// The `run:` scripts of action.yml's steps, by step id or name (read with
/// PyYAML from the pre-commit environment).
fn action_steps(python: &Path) -> serde_json::Value {
    let out = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(Path::new(PROJECT).join("action.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn step_script<'a>(action: &'a serde_json::Value, name: &str) -> &'a str {
    action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == name || s["name"] == name)
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {name:?} with a run script in action.yml"))
}

/// Runs one of the Action's bash scripts as the runner would (`bash -e`),
/// returning (exit code, stdout, what it wrote to $GITHUB_OUTPUT).
fn run_step(script: &str, cwd: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
    let out_file = cwd.join(".github-output");
    std::fs::write(&out_file, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(cwd)
        .env("GITHUB_OUTPUT", &out_file)
        .env("RUNNER_TEMP", cwd)
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let outputs = std::fs::read_to_string(&out_file).unwrap();
    std::fs::remove_file(&out_file).unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        outputs,
    )
}

#[test]
fn the_action_reports_and_fails_with_imagepins_exit_code() {
    let Some(python) = precommit_python() else {
        assert!(
            std::env::var_os("IMAGEPIN_SKIP_PRECOMMIT").is_some(),
            "pre-commit is not on PATH (bash .ci/run installs it; or set IMAGEPIN_SKIP_PRECOMMIT=1)"
        );
        return;
    };
    let action = action_steps(&python);
    let check = step_script(&action, "check");
    let fail = step_script(&action, "Fail when the check failed");
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(ws.join("Dockerfile"), "FROM python:3.12\n").unwrap();
    std::fs::create_dir(ws.join("pinned")).unwrap();
    std::fs::write(
        ws.join("pinned/Dockerfile"),
        "FROM python:3.12@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let inputs = |paths: &'static str, sarif: &'static str| {
        [
            ("PATHS", paths),
            ("FORMAT", "github"),
            ("ARGS", "--color never"),
            ("UPLOAD_SARIF", sarif),
            ("IMAGEPIN", BIN),
        ]
    };

    // Annotations, and exit code 1 handed to the last step, which fails.
    let (code, stdout, outputs) = run_step(check, ws, &inputs(". pinned", "false"));
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("::error file=Dockerfile,line=1"),
        "{stdout}"
    );
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    let (code, stdout, _) = run_step(fail, ws, &[("CODE", "1")]);
    assert_eq!(code, 1, "{stdout}");
    let (code, _, _) = run_step(fail, ws, &[("CODE", "2")]);
    assert_eq!(code, 2, "exit 2 (errors) must fail the step too");

    // SARIF for the upload step, same exit code.
    let (code, stdout, outputs) = run_step(check, ws, &inputs(".", "true"));
    assert_eq!(code, 0, "{stdout}");
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    let sarif = outputs
        .lines()
        .find_map(|l| l.strip_prefix("sarif-file="))
        .expect("sarif-file output");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sarif).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");

    // Everything pinned: exit code 0.
    let (code, stdout, outputs) = run_step(check, ws, &inputs("pinned", "false"));
    assert_eq!(code, 0, "{stdout}");
    assert!(outputs.contains("exit-code=0\n"), "{outputs}");
}
