//! Escaping for output a person reads: nothing from a scanned file or a file
//! name may reach a terminal, a CI log or a Markdown page as a control
//! character. [`visible`] writes C0 and C1 controls, DEL and the Unicode bidi
//! controls as `\n`, `\r`, `\t` or `\u{1b}` (the spelling Rust's `{:?}`
//! uses), so a newline in a file name cannot forge a result line and an
//! escape sequence cannot repaint the screen. [`git_path`] quotes a path for
//! a diff header the way git does, so the patch still applies.
//! Machine formats (JSON, SARIF, GitLab) keep the exact text: their encoders
//! escape it. [`path`] does the same for a file name, with bytes that are
//! not UTF-8 written `\xff` (its real bytes, not U+FFFD).

use std::borrow::Cow;
use std::path::Path;

/// Whether `c` must not reach a terminal or a log as itself.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// The Unicode bidi embedding, override, isolate and mark characters, which
/// can make a line read differently from its bytes ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// `s` with every [unsafe](is_unsafe) character written as an escape:
/// `\n`, `\r`, `\t`, else `\u{hex}`. Borrowed when there is nothing to do.
pub(crate) fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A path as [`visible`] writes text, each byte that is not UTF-8 written
/// `\xNN`, so a name that is not UTF-8 shows its real bytes.
pub(crate) fn path(p: &Path) -> String {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        p.as_os_str().as_bytes()
    };
    #[cfg(not(unix))]
    let lossy = p.to_string_lossy();
    #[cfg(not(unix))]
    let bytes = lossy.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&visible(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// As [`visible`], but a tab stays a tab (indentation in diff lines).
pub(crate) fn visible_keep_tabs(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\t' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let parts: Vec<Cow<'_, str>> = s.split('\t').map(visible).collect();
    Cow::Owned(parts.join("\t"))
}

/// A path for a diff header (`a/` or `b/` plus the path), quoted as git
/// quotes it when it holds an unsafe character, `"` or `\`: in double
/// quotes, with C escapes (`\n`, `\t`, `\"`, `\\`) and every other byte
/// that is a control character or not ASCII in octal (`\033`). `git apply`
/// and GNU `patch` read this form; the terminal sees no raw control byte.
pub(crate) fn git_path(prefix: &str, path: &str) -> String {
    let full = format!("{prefix}{path}");
    if !full.chars().any(|c| is_unsafe(c) || c == '"' || c == '\\') {
        return full;
    }
    let mut out = String::with_capacity(full.len() + 8);
    out.push('"');
    for &b in full.as_bytes() {
        match b {
            b'\x07' => out.push_str("\\a"),
            b'\x08' => out.push_str("\\b"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\x0b' => out.push_str("\\v"),
            b'\x0c' => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('"');
    out
}

/// Text for a Markdown table cell: [`visible`], then every character that
/// Markdown or HTML could read as syntax is backslash-escaped (`|` would
/// end the cell, `<` start a tag, `[` a link).
pub(crate) fn markdown(s: &str) -> String {
    let v = visible(s);
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '<'
                | '>'
                | '('
                | ')'
                | '#'
                | '+'
                | '-'
                | '!'
                | '|'
                | '~'
                | '&'
                | '"'
                | '\''
                | '='
                | ':'
                | '@'
                | '$'
                | '%'
                | '^'
                | ';'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(visible("python:3.12"), "python:3.12");
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
        assert_eq!(visible("a\nb\rc\td"), "a\\nb\\rc\\td");
        assert_eq!(visible("\x1b[31mred"), "\\u{1b}[31mred");
        assert_eq!(visible("del\x7f nul\0"), "del\\u{7f} nul\\u{0}");
        assert_eq!(visible("c1\u{85}\u{9b}"), "c1\\u{85}\\u{9b}");
        assert_eq!(
            visible("x\u{202e}gnp.exe\u{2066}\u{200f}"),
            "x\\u{202e}gnp.exe\\u{2066}\\u{200f}"
        );
        // Ordinary non-ASCII text is left alone.
        assert_eq!(visible("café/Dockerfile"), "café/Dockerfile");
    }

    #[test]
    fn tabs_can_stay() {
        assert_eq!(
            visible_keep_tabs("\tFROM a\x1b[2J\t"),
            "\tFROM a\\u{1b}[2J\t"
        );
        assert_eq!(visible_keep_tabs("\t\t"), "\t\t");
        assert_eq!(visible_keep_tabs("a\nb"), "a\\nb");
    }

    #[test]
    fn git_quoting() {
        assert_eq!(git_path("a/", "dir/Dockerfile"), "a/dir/Dockerfile");
        assert_eq!(git_path("a/", "café"), "a/café");
        assert_eq!(git_path("a/", "x\ny"), "\"a/x\\ny\"");
        assert_eq!(git_path("b/", "\x1b[31m\"q\\"), "\"b/\\033[31m\\\"q\\\\\"");
        assert_eq!(
            git_path("a/", "é\u{202e}"),
            "\"a/\\303\\251\\342\\200\\256\""
        );
    }

    #[test]
    fn markdown_cells() {
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("<img src=x>"), "\\<img src\\=x\\>");
        assert_eq!(markdown("x\n| forged |"), "x\\\\n\\| forged \\|");
        assert_eq!(markdown("Dockerfile.prod"), "Dockerfile.prod");
    }

    #[cfg(unix)]
    #[test]
    fn paths_keep_their_real_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let p = |b: &[u8]| std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b));
        assert_eq!(
            path(&p(b"svc-\xfe/Dockerfile\xff")),
            "svc-\\xfe/Dockerfile\\xff"
        );
        assert_eq!(path(&p("é/ü.yaml".as_bytes())), "é/ü.yaml");
        assert_eq!(
            path(&p(b"a\nb:1:1: forged\x1b[31m\t")),
            "a\\nb:1:1: forged\\u{1b}[31m\\t"
        );
        assert_ne!(path(&p(b"D\xff")), path(&p(b"D\xfe")));
    }
}
