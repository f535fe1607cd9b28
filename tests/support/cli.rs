//! Running the `imagepin` binary in a directory, for the CLI and report
//! tests: a hermetic environment (no `NO_COLOR`, `FORCE_COLOR`,
//! `CLICOLOR_FORCE`, `CLICOLOR`, `PRE_COMMIT` or `GITHUB_STEP_SUMMARY` from
//! the caller; git's search for a repository
//! stops at the temporary directory) and the exit code, stdout and stderr.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The built `imagepin` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_imagepin");

/// One finished run of the binary.
pub struct CliRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// Stdout parsed as JSON (a panic that shows it when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The exit code, stdout and stderr as one text, for a snapshot.
    pub fn transcript(&self) -> String {
        transcript(Some(self.code), &self.stdout, &self.stderr)
    }
}

/// `exit: N`, then stdout and stderr under headers (each left out when
/// empty): what a user sees of a run, for a snapshot.
pub fn transcript(code: Option<i32>, stdout: &str, stderr: &str) -> String {
    let mut out = match code {
        Some(c) => format!("exit: {c}\n"),
        None => "exit: (killed)\n".to_string(),
    };
    for (name, text) in [("stdout", stdout), ("stderr", stderr)] {
        if !text.is_empty() {
            out.push_str(&format!("----- {name} -----\n{text}"));
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

/// The one builder of an `imagepin ARGS` command in `cwd`: the fixture
/// runs below add a hermetic environment to it, and
/// [`super::Workspace::command`] a sandboxed one (its own HOME, cache and
/// credentials).
pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(cwd);
    cmd
}

/// Runs `imagepin ARGS` in `cwd` with extra environment variables.
pub fn imagepin_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> CliRun {
    let mut cmd = command(cwd, args);
    cmd.env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("PRE_COMMIT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run imagepin");
    CliRun {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// Runs `imagepin ARGS` in `cwd`.
pub fn imagepin(cwd: &Path, args: &[&str]) -> CliRun {
    imagepin_env(cwd, args, &[])
}
