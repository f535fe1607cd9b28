//! The git facts an audit record carries: the commit HEAD and the user's
//! `user.email`, each read with a `git` subprocess whose output is bounded.
//! Anything git can't tell (no repository, no commit yet, no email, no git
//! at all) is `None`; it never fails the run.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// More output than any answer asked for here can be.
const LIMIT: u64 = 4096;

/// `git rev-parse --verify HEAD` in `cwd`: the full commit id.
pub(crate) fn head(cwd: &Path) -> Option<String> {
    let id = line(cwd, &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])?;
    id.bytes().all(|b| b.is_ascii_hexdigit()).then_some(id)
}

/// `git config user.email` in `cwd`.
pub(crate) fn user_email(cwd: &Path) -> Option<String> {
    line(cwd, &["config", "--get", "user.email"])
}

/// The first line of git's output, when git succeeds and says something.
fn line(cwd: &Path, args: &[&str]) -> Option<String> {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut out = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|s| s.take(LIMIT).read_to_end(&mut out));
    // Whatever git has left to say is not read: kill it rather than wait.
    if matches!(read, Some(Ok(n)) if n as u64 >= LIMIT) {
        let _ = child.kill();
    }
    let status = child.wait().ok()?;
    if !status.success() {
        return None;
    }
    let text = String::from_utf8(out).ok()?;
    let first = text.lines().next()?.trim();
    (!first.is_empty()).then(|| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn head_and_email_or_none() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        assert_eq!(head(dir.path()), None, "no commit yet");
        git(dir.path(), &["config", "user.email", "dev@example.com"]);
        git(dir.path(), &["config", "user.name", "Dev"]);
        assert_eq!(user_email(dir.path()).as_deref(), Some("dev@example.com"));
        git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "x"]);
        let id = head(dir.path()).unwrap();
        assert_eq!(id.len(), 40, "{id}");
    }
}
