//! The hooks in `.pre-commit-hooks.yaml` end to end with the real pre-commit
//! framework (PyPI `pre-commit` and `maturin`, on PATH; `.ci/run` installs
//! both into a virtual environment), in temporary git repositories whose
//! files name images served by a registry on loopback.
//!
//! - The wheel: `maturin build` of dist/pypi/pyproject.toml, installed into a
//!   fresh virtual environment with the package index switched off.
//! - The default hooks (`language: python`): `pre-commit try-repo <this
//!   project>` with `PIP_NO_INDEX=1`, the wheel in `PIP_FIND_LINKS`, and no
//!   `cargo` on PATH: the hook installs from the wheel, with no compiler.
//! - Every hook, `-src` (`language: rust`) ones included, run by pre-commit
//!   on a repository holding a file named `--config=evil.yaml`: file names
//!   are never taken as options.
//!
//! The hook repository is a committed snapshot of the working tree (so
//! uncommitted changes are tested). The wheel build and `cargo install` (for
//! the `-src` hooks) share one target directory, `target/precommit-install`,
//! with an unoptimised release profile, so after the first run they only
//! relink. Set `IMAGEPIN_SKIP_PRECOMMIT=1` to skip when pre-commit or maturin
//! is not installed.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::{Format, Image, Registry};

const PROJECT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The directory on PATH holding `pre-commit` and `maturin` (the CI venv),
/// or `None` (after checking IMAGEPIN_SKIP_PRECOMMIT) to skip.
fn tools() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).find(|d| d.join("pre-commit").is_file());
    let dir = match found {
        Some(d) if d.join("maturin").is_file() => d,
        _ => {
            if std::env::var_os("IMAGEPIN_SKIP_PRECOMMIT").is_some() {
                eprintln!("skipped: pre-commit or maturin is not on PATH");
                return None;
            }
            panic!(
                "pre-commit and maturin must be on PATH, in one virtual environment: \
                 `python3 -m venv /tmp/pcvenv && /tmp/pcvenv/bin/pip install pre-commit maturin` \
                 and put /tmp/pcvenv/bin on PATH (bash .ci/run does this), or set IMAGEPIN_SKIP_PRECOMMIT=1"
            );
        }
    };
    Some(dir)
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
/// repository.
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

/// cargo, made cheap and offline: one shared target directory, an
/// unoptimised release profile.
fn cheap_cargo(cmd: &mut Command) -> &mut Command {
    cmd.env(
        "CARGO_TARGET_DIR",
        Path::new(PROJECT).join("target/precommit-install"),
    )
    .env("CARGO_NET_OFFLINE", "true")
    .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
    .env("CARGO_PROFILE_RELEASE_LTO", "false")
    .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
    .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
}

/// A directory of wheels for `pip --no-index --find-links`: the imagepin
/// wheel, built once per test process with maturin, and the setuptools
/// wheels virtualenv embeds (the build backend of the hook repository's
/// placeholder setup.py).
fn wheelhouse(tools: &Path) -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(PROJECT).join("target/precommit-wheels");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let start = Instant::now();
        let (code, out) = run(
            cheap_cargo(
                Command::new(tools.join("maturin"))
                    .args(["build", "--release", "--out"])
                    .arg(&dir)
                    .current_dir(Path::new(PROJECT).join("dist/pypi")),
            ),
            Duration::from_secs(1800),
        );
        assert_eq!(code, Some(0), "maturin build:\n{out}");
        let wheel = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
            .unwrap_or_else(|| panic!("no wheel in {}:\n{out}", dir.display()));
        let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!("imagepin-{VERSION}-py3-none-")),
            "{name}"
        );
        eprintln!(
            "built {name} ({} bytes) in {:.1?}",
            std::fs::metadata(&wheel).unwrap().len(),
            start.elapsed()
        );

        let (code, embed) = run(
            Command::new(tools.join("python3")).args([
                "-c",
                "import os, virtualenv.seed.wheels.embed as m; print(os.path.dirname(m.__file__), end='')",
            ]),
            Duration::from_secs(60),
        );
        assert_eq!(code, Some(0), "virtualenv's embedded wheels: {embed}");
        let mut setuptools = 0;
        for e in std::fs::read_dir(&embed).unwrap() {
            let p = e.unwrap().path();
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            if n.starts_with("setuptools-") && n.ends_with(".whl") {
                std::fs::copy(&p, dir.join(&n)).unwrap();
                setuptools += 1;
            }
        }
        assert!(setuptools > 0, "no setuptools wheel in {embed}");
        dir
    })
}

/// PATH for a machine with Python and git but no Rust toolchain: git (as a
/// symlink in `bin`), the pre-commit venv, and /usr/bin and /bin when they
/// hold no cargo.
fn path_without_cargo(tools: &Path, bin: &Path) -> std::ffi::OsString {
    std::fs::create_dir_all(bin).unwrap();
    let (code, git) = run(
        Command::new("sh").args(["-c", "command -v git"]),
        Duration::from_secs(10),
    );
    assert_eq!(code, Some(0), "git is not on PATH");
    std::os::unix::fs::symlink(git.trim(), bin.join("git")).unwrap();
    let mut dirs = vec![bin.to_path_buf(), tools.to_path_buf()];
    for d in ["/usr/bin", "/bin"] {
        let d = Path::new(d);
        if !d.join("cargo").exists() && !d.join("rustc").exists() {
            dirs.push(d.to_path_buf());
        }
    }
    let path = std::env::join_paths(&dirs).unwrap();
    let (code, out) = run(
        Command::new("sh")
            .args([
                "-c",
                "command -v cargo || command -v rustc || command -v rustup",
            ])
            .env("PATH", &path),
        Duration::from_secs(10),
    );
    assert_ne!(code, Some(0), "a Rust toolchain is still on PATH: {out}");
    path
}

/// `pre-commit try-repo <hook repo> <hook> --all-files` in `repo`.
struct PreCommit {
    tools: PathBuf,
    hooks: PathBuf,
    home: PathBuf,
    cache: PathBuf,
    /// `Some`: Python hooks, installed from this wheelhouse with no index
    /// and no Rust toolchain on PATH. `None`: the machine's PATH, cargo.
    offline_wheels: Option<(PathBuf, std::ffi::OsString)>,
}

impl PreCommit {
    fn new(tools: &Path, tmp: &Path, wheels: Option<&Path>) -> PreCommit {
        let hooks = tmp.join("imagepin");
        std::fs::create_dir_all(&hooks).unwrap();
        snapshot(&hooks);
        let offline_wheels =
            wheels.map(|w| (w.to_path_buf(), path_without_cargo(tools, &tmp.join("bin"))));
        PreCommit {
            tools: tools.to_path_buf(),
            hooks,
            home: tmp.join("pre-commit-home"),
            cache: tmp.join("cache"),
            offline_wheels,
        }
    }

    fn try_repo(&self, repo: &Path, hook: &str) -> (Option<i32>, String) {
        let mut cmd = Command::new(self.tools.join("pre-commit"));
        cmd.arg("try-repo")
            .arg(&self.hooks)
            .args([hook, "--all-files", "--color", "never"])
            .current_dir(repo)
            .env("PRE_COMMIT_HOME", &self.home)
            .env("XDG_CACHE_HOME", &self.cache)
            .env("DOCKER_CONFIG", self.cache.join("docker"))
            .env("NO_COLOR", "1")
            .env_remove("PRE_COMMIT")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("VIRTUAL_ENV");
        match &self.offline_wheels {
            Some((wheels, path)) => {
                cmd.env("PATH", path)
                    .env("PIP_NO_INDEX", "1")
                    .env("PIP_FIND_LINKS", wheels)
                    .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
            }
            None => {
                cheap_cargo(&mut cmd);
            }
        }
        run(&mut cmd, Duration::from_secs(1800))
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn endpoint_config(reg: &Registry) -> String {
    let endpoint = reg.url();
    format!(
        "[registries.\"docker.io\"]\nendpoint = \"{endpoint}\"\n\n[registries.\"ghcr.io\"]\nendpoint = \"{endpoint}\"\n"
    )
}

#[test]
fn the_wheel_installs_with_no_index() {
    let Some(tools) = tools() else { return };
    let wheels = wheelhouse(&tools);
    let tmp = tempfile::tempdir().unwrap();
    let venv = tmp.path().join("venv");
    let (code, out) = run(
        Command::new(tools.join("python3"))
            .args(["-m", "venv"])
            .arg(&venv),
        Duration::from_secs(300),
    );
    assert_eq!(code, Some(0), "python3 -m venv: {out}");
    let (code, out) = run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--no-index", "--find-links"])
            .arg(wheels)
            .arg(format!("imagepin=={VERSION}"))
            .env("PIP_NO_INDEX", "1")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
        Duration::from_secs(300),
    );
    assert_eq!(code, Some(0), "pip install imagepin: {out}");
    let (code, out) = run(
        Command::new(venv.join("bin/imagepin")).arg("--version"),
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.trim(), format!("imagepin {VERSION}"));
}

#[test]
fn precommit_hooks_install_from_the_wheel_with_no_compiler_then_pin_and_pass() {
    let Some(tools) = tools() else { return };
    let wheels = wheelhouse(&tools);
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
    let pc = PreCommit::new(&tools, tmp.path(), Some(wheels));
    let repo = &tmp.path().join("repo");
    write(repo, ".imagepin.toml", &endpoint_config(&reg));
    let dockerfile = "FROM python:3.12-slim AS build\nRUN pip install app\nFROM build\n";
    let compose = "services:\n  cache:\n    image: \"redis:7\" # cache\n  tool:\n    image: ghcr.io/acme/tool:1.4\n";
    let workflow = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node:20\n    steps:\n      - run: echo hi\n";
    let earthfile = "VERSION 0.8\nbuild:\n    FROM redis:7\n    FROM +deps\n";
    write(repo, "Dockerfile", dockerfile);
    write(repo, "Earthfile", earthfile);
    write(repo, "compose.yaml", compose);
    write(repo, ".github/workflows/ci.yml", workflow);
    write(repo, "README.md", "FROM not:an-image\n");
    // Matched by the hooks' `files` pattern, but of no kind imagepin knows:
    // passed to it and skipped silently.
    write(repo, "config/settings.yaml", "image: not-scanned:1\n");
    write(repo, "docs/Dockerfile.md", "FROM not-scanned:2\n");
    git(repo, &["init", "-q"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "unpinned"]);

    // imagepin-check fails on unpinned files and changes nothing. The first
    // run installs the hook environment: from the wheel, no index, no cargo.
    let start = Instant::now();
    let (code, out) = pc.try_repo(repo, "imagepin-check");
    eprintln!(
        "pre-commit first use (install from the wheel + run): {:.1?}",
        start.elapsed()
    );
    assert_eq!(code, Some(1), "imagepin-check on unpinned files:\n{out}");
    assert!(out.contains("python:3.12-slim"), "{out}");
    assert_eq!(read(&repo.join("Dockerfile")), dockerfile);

    // imagepin pins: the hook fails (files changed), the files are pinned.
    let (code, out) = pc.try_repo(repo, "imagepin");
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
    let (code, out) = pc.try_repo(repo, "imagepin");
    assert_eq!(code, Some(0), "second imagepin run:\n{out}");
    let (code, out) = pc.try_repo(repo, "imagepin-check");
    assert_eq!(code, Some(0), "imagepin-check on pinned files:\n{out}");
    assert_eq!(
        read(&repo.join("Dockerfile")),
        dockerfile.replace("python:3.12-slim", &format!("python:3.12-slim@{python}"))
    );
}

/// Issue 8 item 6: pre-commit appends the staged file names to the hook's
/// entry. A committed file named `--config=evil.yaml` (next to an
/// `evil.yaml` that excludes everything) would be parsed as an option and
/// turn every hook green. Each hook, run by pre-commit exactly as a user's
/// commit runs it, must still scan the unpinned Dockerfile.
#[test]
fn a_file_named_like_an_option_is_a_file_name_in_every_hook() {
    let Some(tools) = tools() else { return };
    let wheels = wheelhouse(&tools);
    let reg = Registry::anonymous();
    let python = reg.pusher().push(
        "library/python",
        "3.12",
        &Image::multi_arch("py", Format::Oci),
    );
    let tmp = tempfile::tempdir().unwrap();
    let wheel_hooks = PreCommit::new(&tools, &tmp.path().join("wheel"), Some(wheels));
    let cargo_hooks = PreCommit::new(&tools, &tmp.path().join("cargo"), None);
    let dockerfile = "FROM python:3.12\n";
    let evil = "exclude = [\"**\"]\n";
    for (hook, fixes, pc) in [
        ("imagepin", true, &wheel_hooks),
        ("imagepin-check", false, &wheel_hooks),
        ("imagepin-update", true, &wheel_hooks),
        ("imagepin-src", true, &cargo_hooks),
        ("imagepin-check-src", false, &cargo_hooks),
    ] {
        let repo = &tmp.path().join(format!("repo-{hook}"));
        write(repo, ".imagepin.toml", &endpoint_config(&reg));
        write(repo, "Dockerfile", dockerfile);
        write(repo, "evil.yaml", evil);
        write(repo, "--config=evil.yaml", evil);
        git(repo, &["init", "-q"]);
        git(repo, &["add", "-A"]);
        git(repo, &["commit", "-q", "-m", "attack"]);
        let (code, out) = pc.try_repo(repo, hook);
        assert_eq!(
            code,
            Some(1),
            "{hook} must fail on the unpinned Dockerfile:\n{out}"
        );
        if fixes {
            assert!(
                out.contains("files were modified by this hook"),
                "{hook}:\n{out}"
            );
            assert_eq!(
                read(&repo.join("Dockerfile")),
                format!("FROM python:3.12@{python}\n"),
                "{hook}:\n{out}"
            );
        } else {
            assert!(
                out.contains("Dockerfile:1:6: dockerfile: python:3.12 is not pinned to a digest"),
                "{hook}:\n{out}"
            );
        }
        assert_eq!(read(&repo.join("--config=evil.yaml")), evil);
    }
}
