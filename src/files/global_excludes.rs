//! Where the user's global git excludes file is, found the way git finds it
//! and without running git: the last `core.excludesFile` of the system, XDG
//! and home git configuration files (`GIT_CONFIG_SYSTEM`,
//! `GIT_CONFIG_NOSYSTEM` and `GIT_CONFIG_GLOBAL` as git reads them), else
//! `$XDG_CONFIG_HOME/git/ignore` (`~/.config/git/ignore`).
//!
//! The `ignore` crate can find this file itself, but it compiles a regular
//! expression to do so on every run: more than half of what an empty run
//! costs. This reads the configuration with a small scanner of git's syntax
//! (sections, case-insensitive names, quotes, escapes, comments, line
//! continuations, a leading `~/`) and hands the walker the file
//! ([`super::walk`]). `[include]` and `[includeIf]` are not followed (nor
//! does `ignore` follow them); a `~user/` path is taken literally.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The largest git configuration file read (they are a few hundred bytes).
const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

/// The global excludes file for this process's environment. The file may
/// not exist; an empty `excludesFile =` gives an empty path (git then reads
/// no global excludes file).
pub(crate) fn path() -> Option<PathBuf> {
    // `$HOME`, else the password database, as git and `ignore` do.
    // Deprecated up to Rust 1.85 (the MSRV) for its Windows behaviour.
    #[allow(deprecated)]
    let home = std::env::home_dir();
    locate(&|name| std::env::var_os(name), home.as_deref())
}

/// [`path`] for the given environment variables and home directory.
fn locate(var: &dyn Fn(&str) -> Option<OsString>, home: Option<&Path>) -> Option<PathBuf> {
    let non_empty = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let xdg = non_empty("XDG_CONFIG_HOME")
        .or_else(|| home.map(|h| h.join(".config")))
        .map(|d| d.join("git"));
    // git reads system, then global; the last assignment wins.
    let mut files = Vec::new();
    if !var("GIT_CONFIG_NOSYSTEM").is_some_and(|v| is_true(&v)) {
        files.push(
            non_empty("GIT_CONFIG_SYSTEM").unwrap_or_else(|| PathBuf::from("/etc/gitconfig")),
        );
    }
    match non_empty("GIT_CONFIG_GLOBAL") {
        Some(global) => files.push(global),
        None => {
            files.extend(xdg.as_ref().map(|d| d.join("config")));
            files.extend(home.map(|h| h.join(".gitconfig")));
        }
    }
    let mut found = None;
    for file in &files {
        let Ok(bytes) = crate::fsio::read_regular_file(file, MAX_CONFIG_SIZE) else {
            continue;
        };
        if let Some(value) = excludes_file(&bytes) {
            found = Some(value);
        }
    }
    match found {
        Some(value) => Some(expand_home(&value, home)),
        None => xdg.map(|d| d.join("ignore")),
    }
}

/// git's boolean truth for an environment variable (`GIT_CONFIG_NOSYSTEM`).
fn is_true(value: &std::ffi::OsStr) -> bool {
    let v = value.to_string_lossy();
    ["1", "true", "yes", "on"]
        .iter()
        .any(|t| v.trim().eq_ignore_ascii_case(t))
        || v.trim().parse::<i64>().is_ok_and(|n| n != 0)
}

/// A leading `~` or `~/` is the home directory (git's path interpolation).
fn expand_home(value: &[u8], home: Option<&Path>) -> PathBuf {
    let path = super::bytes_to_path(value);
    if let Some(home) = home {
        if value == b"~" {
            return home.to_path_buf();
        }
        if let Some(rest) = value.strip_prefix(b"~/") {
            return home.join(super::bytes_to_path(rest));
        }
    }
    path
}

/// The value of the last `core.excludesFile` in one configuration file's
/// text, if any. A line git would reject is skipped.
fn excludes_file(text: &[u8]) -> Option<Vec<u8>> {
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    let mut s = Scanner { text, at: 0 };
    let mut in_core = false;
    let mut found = None;
    loop {
        s.skip_blanks();
        let Some(c) = s.peek() else { break };
        match c {
            b'\n' => s.at += 1,
            b'#' | b';' => s.skip_line(),
            b'[' => match s.section() {
                // Key-value pairs may follow `]` on the same line.
                Some(core) => in_core = core,
                None => {
                    in_core = false;
                    s.skip_line();
                }
            },
            c if c.is_ascii_alphabetic() => {
                let name = s.name();
                s.skip_blanks();
                if s.peek() != Some(b'=') {
                    // A name without a value (a boolean true): no path.
                    s.skip_line();
                    continue;
                }
                s.at += 1;
                let value = s.value();
                if in_core && name.eq_ignore_ascii_case(b"excludesfile") {
                    if let Some(v) = value {
                        found = Some(v);
                    }
                }
            }
            _ => s.skip_line(),
        }
    }
    found
}

struct Scanner<'t> {
    text: &'t [u8],
    at: usize,
}

impl<'t> Scanner<'t> {
    /// The next byte, with `\r\n` read as `\n`.
    fn peek(&self) -> Option<u8> {
        match self.text.get(self.at..)? {
            [b'\r', b'\n', ..] => Some(b'\n'),
            [c, ..] => Some(*c),
            [] => None,
        }
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.at += if self.text[self.at] == b'\r' && c == b'\n' {
            2
        } else {
            1
        };
        Some(c)
    }

    fn skip_blanks(&mut self) {
        while self
            .peek()
            .is_some_and(|c| c != b'\n' && c.is_ascii_whitespace())
        {
            self.at += 1;
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == b'\n' {
                break;
            }
        }
    }

    /// A variable name: a letter, then letters, digits and `-`.
    fn name(&mut self) -> &'t [u8] {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-')
        {
            self.at += 1;
        }
        &self.text[start..self.at]
    }

    /// A section header, from its `[` to its `]`: whether it is `[core]`
    /// (no subsection); `None` when it is malformed.
    fn section(&mut self) -> Option<bool> {
        self.at += 1;
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        {
            self.at += 1;
        }
        let name = &self.text[start..self.at];
        if name.is_empty() {
            return None;
        }
        match self.bump()? {
            b']' => Some(name.eq_ignore_ascii_case(b"core")),
            c if c == b' ' || c == b'\t' => {
                // `[section "subsection"]`: never `core` itself.
                self.skip_blanks();
                if self.bump()? != b'"' {
                    return None;
                }
                loop {
                    match self.bump()? {
                        b'"' => break,
                        b'\n' => return None,
                        // An escaped character, but never a newline.
                        b'\\' if self.bump()? == b'\n' => return None,
                        _ => {}
                    }
                }
                (self.bump()? == b']').then_some(false)
            }
            _ => None,
        }
    }

    /// A value after `=`, to the end of its (possibly continued) line, as
    /// git reads it: outer blanks dropped, quotes removed, escapes
    /// (`\"`, `\\`, `\n`, `\t`, `\b`) and `\`-newline continuations
    /// applied, a `#` or `;` outside quotes starting a comment. `None` for a
    /// value git rejects (an unknown escape, an unclosed quote).
    fn value(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut quoted = false;
        let mut comment = false;
        let mut spaces = 0;
        let mut bad = false;
        loop {
            let Some(c) = self.bump() else {
                return (!quoted && !bad).then_some(out);
            };
            if c == b'\n' {
                return (!quoted && !bad).then_some(out);
            }
            if comment {
                continue;
            }
            if c.is_ascii_whitespace() && !quoted {
                if !out.is_empty() {
                    spaces += 1;
                }
                continue;
            }
            if !quoted && (c == b'#' || c == b';') {
                comment = true;
                continue;
            }
            out.extend(std::iter::repeat_n(b' ', spaces));
            spaces = 0;
            match c {
                b'\\' => match self.bump() {
                    Some(b'\n') => {}
                    Some(b't') => out.push(b'\t'),
                    Some(b'b') => out.push(0x08),
                    Some(b'n') => out.push(b'\n'),
                    Some(e @ (b'\\' | b'"')) => out.push(e),
                    Some(_) => bad = true,
                    None => return None,
                },
                b'"' => quoted = !quoted,
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Option<String> {
        excludes_file(text.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn finds_core_excludes_file_in_git_syntax() {
        let v = |s: &str| value(s);
        assert_eq!(
            v("[core]\n\texcludesFile = ~/.gi\n").as_deref(),
            Some("~/.gi")
        );
        assert_eq!(v("[Core]\nEXCLUDESFILE=/x\n").as_deref(), Some("/x"));
        assert_eq!(v("[core] excludesfile = /x").as_deref(), Some("/x"));
        assert_eq!(
            v("[core]\r\n  excludesfile = /x  \r\n").as_deref(),
            Some("/x")
        );
        assert_eq!(v("\u{feff}[core]\nexcludesfile=/x").as_deref(), Some("/x"));
        assert_eq!(
            v("[core]\nexcludesfile = \"/a b\" # c\n").as_deref(),
            Some("/a b")
        );
        assert_eq!(v("[core]\nexcludesfile = /a # c\n").as_deref(), Some("/a"));
        assert_eq!(v("[core]\nexcludesfile = /a;c\n").as_deref(), Some("/a"));
        assert_eq!(
            v("[core]\nexcludesfile = \"/a;b\"\n").as_deref(),
            Some("/a;b")
        );
        assert_eq!(
            v("[core]\nexcludesfile = /a\\\n/b\n").as_deref(),
            Some("/a/b")
        );
        assert_eq!(
            v("[core]\nexcludesfile = \"/a\\\"b\"\n").as_deref(),
            Some("/a\"b")
        );
        assert_eq!(v("[core]\nexcludesfile =\n").as_deref(), Some(""));
        // The last assignment wins, as in git.
        assert_eq!(
            v("[core]\nexcludesfile = /a\n[user]\nname = x\n[core]\nexcludesfile = /b\n")
                .as_deref(),
            Some("/b")
        );
    }

    #[test]
    fn ignores_other_sections_comments_and_bad_lines() {
        let v = |s: &str| value(s);
        assert_eq!(v("[user]\nexcludesfile = /x\n"), None);
        assert_eq!(v("[core \"sub\"]\nexcludesfile = /x\n"), None);
        assert_eq!(v("[core.sub]\nexcludesfile = /x\n"), None);
        assert_eq!(
            v("[core]\n# excludesfile = /x\n; excludesfile = /y\n"),
            None
        );
        assert_eq!(v("[core]\nexcludesfile\n"), None);
        assert_eq!(v("[core]\nexcludesfile = \"/x\n"), None);
        assert_eq!(v("[core]\nexcludesfile = /x\\q\n"), None);
        assert_eq!(v("excludesfile = /x\n"), None);
        assert_eq!(v("[core]\nexcludesfilex = /x\n"), None);
        assert_eq!(
            v("[core]\n\teditor = vim\n[alias]\n\tst = status # excludesfile = /x\n"),
            None
        );
        // A rejected line does not hide a good one after it.
        assert_eq!(
            v("[core\nexcludesfile = /x\n[core]\nexcludesfile = /y\n").as_deref(),
            Some("/y")
        );
    }

    #[test]
    fn reads_system_xdg_and_home_files_in_git_order() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(home.join(".config/git")).unwrap();
        std::fs::create_dir_all(xdg.join("git")).unwrap();
        let system = dir.path().join("system");
        let none = dir.path().join("none");
        let vars = |pairs: Vec<(&'static str, PathBuf)>| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let at = |pairs: Vec<(&'static str, PathBuf)>| locate(&vars(pairs), Some(&home));
        let base = || vec![("GIT_CONFIG_SYSTEM", none.clone())];

        // Nothing set: the XDG default, or ~/.config's without XDG_CONFIG_HOME.
        assert_eq!(at(base()), Some(home.join(".config/git/ignore")));
        let mut with_xdg = base();
        with_xdg.push(("XDG_CONFIG_HOME", xdg.clone()));
        assert_eq!(at(with_xdg.clone()), Some(xdg.join("git/ignore")));

        // System, then XDG, then ~/.gitconfig: the last one wins; `~/` is home.
        std::fs::write(&system, "[core]\nexcludesfile = /from-system\n").unwrap();
        let mut all = with_xdg.clone();
        all[0] = ("GIT_CONFIG_SYSTEM", system.clone());
        assert_eq!(at(all.clone()), Some(PathBuf::from("/from-system")));
        std::fs::write(xdg.join("git/config"), "[core]\nexcludesfile = ~/x\n").unwrap();
        assert_eq!(at(all.clone()), Some(home.join("x")));
        std::fs::write(home.join(".gitconfig"), "[core]\nexcludesfile = ~/h\n").unwrap();
        assert_eq!(at(all.clone()), Some(home.join("h")));

        // GIT_CONFIG_NOSYSTEM skips the system file.
        std::fs::remove_file(home.join(".gitconfig")).unwrap();
        std::fs::remove_file(xdg.join("git/config")).unwrap();
        let mut nosystem = all.clone();
        nosystem.push(("GIT_CONFIG_NOSYSTEM", PathBuf::from("1")));
        assert_eq!(at(nosystem), Some(xdg.join("git/ignore")));

        // GIT_CONFIG_GLOBAL replaces both XDG and home files.
        std::fs::write(home.join(".gitconfig"), "[core]\nexcludesfile = ~/h\n").unwrap();
        let global = dir.path().join("global");
        std::fs::write(&global, "[core]\nexcludesfile = ~/g\n").unwrap();
        let mut g = with_xdg.clone();
        g.push(("GIT_CONFIG_GLOBAL", global));
        assert_eq!(at(g), Some(home.join("g")));
        let mut devnull = with_xdg;
        devnull.push(("GIT_CONFIG_GLOBAL", PathBuf::from("/dev/null")));
        assert_eq!(at(devnull), Some(xdg.join("git/ignore")));
    }
}
