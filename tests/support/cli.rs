//! Running the `imagepin` binary in a directory, for the CLI and report
//! tests: a hermetic environment (no `NO_COLOR`, `PRE_COMMIT` or
//! `GITHUB_STEP_SUMMARY` from the caller; git's search for a repository
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
}

/// Runs `imagepin ARGS` in `cwd` with extra environment variables.
pub fn imagepin_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> CliRun {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
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
