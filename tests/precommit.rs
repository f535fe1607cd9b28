//! The hooks in `.pre-commit-hooks.yaml` end to end with the real pre-commit
//! framework (PyPI `pre-commit`, on PATH; `.ci/run` installs it into a
//! virtual environment): `pre-commit try-repo <this project> imagepin
//! --all-files` in a temporary git repository whose Dockerfile, Compose file
//! and workflow name images served by a registry on loopback.
//!
//! `try-repo` builds imagepin with `cargo install --path` (pre-commit's
//! `language: rust`). To keep that affordable the test installs from a
//! snapshot of the working tree (so uncommitted changes are tested, and all
//! runs share one pre-commit environment), offline, into a persistent
//! `target/precommit-install` with an unoptimised release profile. Set
//! `IMAGEPIN_SKIP_PRECOMMIT=1` to skip when pre-commit is not installed.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Format, Image, Registry};

const PROJECT: &str = env!("CARGO_MANIFEST_DIR");

fn have_precommit() -> bool {
    Command::new("pre-commit")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd`, killing it after `limit`; returns (exit code, stdout+stderr).
fn run(cmd: &mut Command, limit: Duration) -> (Option<i32>, String) {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(out.reopen().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(out.path()).unwrap_or_default();
    (status.and_then(|s| s.code()), text)
}

fn git(dir: &Path, args: &[&str]) {
    let (code, out) = run(
        Command::new("git")
            .args([
                "-c",
                "user.name=imagepin test",
                "-c",
                "user.email=test@imagepin.invalid",
            ])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir),
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(0), "git {args:?}: {out}");
}

/// A committed copy of the project's working tree (tracked and untracked,
/// not ignored files), so `try-repo` tests what is on disk and sees a clean
/// repository (one pre-commit environment for every run of this test).
fn snapshot(into: &Path) {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(PROJECT)
        .output()
        .unwrap();
    assert!(out.status.success(), "git ls-files in {PROJECT}");
    for rel in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).unwrap());
        let src = Path::new(PROJECT).join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&src) else {
            continue; // deleted in the working tree
        };
        if !meta.is_file() {
            continue;
        }
        let dest = into.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dest).unwrap();
    }
    git(into, &["init", "-q"]);
    git(into, &["add", "-A"]);
    git(into, &["commit", "-q", "-m", "snapshot"]);
}

struct PreCommit {
    snapshot: PathBuf,
    home: PathBuf,
    cache: PathBuf,
    repo: PathBuf,
}

impl PreCommit {
    /// `pre-commit try-repo <snapshot> <hook> --all-files` in the test repository.
    fn try_repo(&self, hook: &str) -> (Option<i32>, String) {
        let target = Path::new(PROJECT).join("target/precommit-install");
        run(
            Command::new("pre-commit")
                .arg("try-repo")
                .arg(&self.snapshot)
                .args([hook, "--all-files", "--color", "never"])
                .current_dir(&self.repo)
                .env("PRE_COMMIT_HOME", &self.home)
                .env("XDG_CACHE_HOME", &self.cache)
                .env("DOCKER_CONFIG", self.cache.join("docker"))
                .env("NO_COLOR", "1")
                // cargo install --path, made cheap and offline.
                .env("CARGO_TARGET_DIR", target)
                .env("CARGO_NET_OFFLINE", "true")
                .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
                .env("CARGO_PROFILE_RELEASE_LTO", "false")
                .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
                .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
                .env_remove("PRE_COMMIT")
                .env_remove("GIT_DIR")
                .env_remove("GIT_INDEX_FILE"),
            Duration::from_secs(1200),
        )
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn precommit_hooks_pin_then_pass() {
    if !have_precommit() {
        if std::env::var_os("IMAGEPIN_SKIP_PRECOMMIT").is_some() {
            eprintln!("skipped: pre-commit is not on PATH");
            return;
        }
        panic!(
            "pre-commit is not on PATH: `python3 -m venv /tmp/pcvenv && /tmp/pcvenv/bin/pip install pre-commit` \
             and put /tmp/pcvenv/bin on PATH (or set IMAGEPIN_SKIP_PRECOMMIT=1)"
        );
    }
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let python = push.push(
        "library/python",
        "3.12-slim",
        &Image::multi_arch("py", Format::Oci),
    );
    let redis = push.push(
        "library/redis",
        "7",
        &Image::single("redis", Format::Docker),
    );
    let tool = push.push("acme/tool", "1.4", &Image::single("tool", Format::Oci));
    let node = push.push(
        "library/node",
        "20",
        &Image::multi_arch("node", Format::Docker),
    );

    let tmp = tempfile::tempdir().unwrap();
    let pc = PreCommit {
        snapshot: tmp.path().join("imagepin"),
        home: tmp.path().join("pre-commit-home"),
        cache: tmp.path().join("cache"),
        repo: tmp.path().join("repo"),
    };
    std::fs::create_dir_all(&pc.snapshot).unwrap();
    snapshot(&pc.snapshot);

    let repo = &pc.repo;
    let write = |rel: &str, text: &str| {
        let p = repo.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let endpoint = reg.url();
    write(
        ".imagepin.toml",
        &format!(
            "[registries.\"docker.io\"]\nendpoint = \"{endpoint}\"\n\n[registries.\"ghcr.io\"]\nendpoint = \"{endpoint}\"\n"
        ),
    );
    let dockerfile = "FROM python:3.12-slim AS build\nRUN pip install app\nFROM build\n";
    let compose = "services:\n  cache:\n    image: \"redis:7\" # cache\n  tool:\n    image: ghcr.io/acme/tool:1.4\n";
    let workflow = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node:20\n    steps:\n      - run: echo hi\n";
    let earthfile = "VERSION 0.8\nbuild:\n    FROM redis:7\n    FROM +deps\n";
    write("Dockerfile", dockerfile);
    write("Earthfile", earthfile);
    write("compose.yaml", compose);
    write(".github/workflows/ci.yml", workflow);
    write("README.md", "FROM not:an-image\n");
    // Matched by the hooks' `files` pattern, but of no kind imagepin knows:
    // passed to it and skipped silently.
    write("config/settings.yaml", "image: not-scanned:1\n");
    write("docs/Dockerfile.md", "FROM not-scanned:2\n");
    git(repo, &["init", "-q"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "unpinned"]);

    // imagepin-check fails on unpinned files and changes nothing.
    let (code, out) = pc.try_repo("imagepin-check");
    assert_eq!(code, Some(1), "imagepin-check on unpinned files:\n{out}");
    assert!(out.contains("python:3.12-slim"), "{out}");
    assert_eq!(read(&repo.join("Dockerfile")), dockerfile);

    // imagepin pins: the hook fails (files changed), the files are pinned.
    let (code, out) = pc.try_repo("imagepin");
    assert_eq!(code, Some(1), "first imagepin run:\n{out}");
    assert!(out.contains("files were modified by this hook"), "{out}");
    assert_eq!(
        read(&repo.join("Dockerfile")),
        dockerfile.replace("python:3.12-slim", &format!("python:3.12-slim@{python}"))
    );
    assert_eq!(
        read(&repo.join("compose.yaml")),
        compose
            .replace("redis:7", &format!("redis:7@{redis}"))
            .replace("tool:1.4", &format!("tool:1.4@{tool}"))
    );
    assert_eq!(
        read(&repo.join(".github/workflows/ci.yml")),
        workflow.replace("node:20", &format!("node:20@{node}"))
    );
    assert_eq!(
        read(&repo.join("Earthfile")),
        earthfile.replace("redis:7", &format!("redis:7@{redis}"))
    );
    assert_eq!(read(&repo.join("README.md")), "FROM not:an-image\n");
    assert_eq!(
        read(&repo.join("config/settings.yaml")),
        "image: not-scanned:1\n"
    );
    assert_eq!(
        read(&repo.join("docs/Dockerfile.md")),
        "FROM not-scanned:2\n"
    );

    // Second run passes and changes nothing; so does the check.
    let (code, out) = pc.try_repo("imagepin");
    assert_eq!(code, Some(0), "second imagepin run:\n{out}");
    let (code, out) = pc.try_repo("imagepin-check");
    assert_eq!(code, Some(0), "imagepin-check on pinned files:\n{out}");
    assert_eq!(
        read(&repo.join("Dockerfile")),
        dockerfile.replace("python:3.12-slim", &format!("python:3.12-slim@{python}"))
    );
}
