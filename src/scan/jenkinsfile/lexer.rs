//! A small Groovy lexer: just enough of Groovy's grammar to tell code from
//! comments and strings, so that the [Jenkinsfile scanner](super) sees the
//! calls a pipeline makes and never the text of a shell script or a comment.
//!
//! It knows:
//! - comments: `// …` to the end of the line, `/* … */`, and a `#!` first line;
//! - strings: `'…'` and `"…"` (one line each), `'''…'''` and `"""…"""`
//!   (across lines), each with `\` escapes; in the double-quoted ones `${…}`
//!   (nested code, strings and braces included) and `$name` interpolation;
//! - slashy strings `/…/` (where a value may start, so never after a value:
//!   `a / b` is a division) and dollar-slashy strings `$/…/$`, both kept
//!   opaque (marked interpolated: their text is never a plain reference);
//! - identifiers (ASCII `[A-Za-z_][A-Za-z0-9_]*`), brackets, and single
//!   punctuation characters; a token remembers whether a line break came
//!   before it (a Groovy command expression such as `image 'x'` ends at the
//!   end of its line).
//!
//! Strings keep the byte span of their content (inside the quotes). The lexer
//! works on bytes and splits only at ASCII characters, so every span falls
//! on a UTF-8 character boundary. It never fails: an unterminated string or
//! comment runs to the end of its line or of the file and is marked as such.
//! It runs in time linear in the input: an interpolation nested deeper than
//! [`MAX_DEPTH`] is skipped to its first `}`, and a slashy string that found
//! no end is never looked for again.

use std::ops::Range;

/// How deep `"${ "${ … }" }"` nesting is followed before it is skipped
/// coarsely (no recursion deeper than this).
const MAX_DEPTH: usize = 16;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier or keyword.
    Ident,
    /// A string literal; the token's span is its content.
    Str(Quoted),
    /// `(`, `[` or `{`.
    Open(u8),
    /// `)`, `]` or `}`.
    Close(u8),
    /// Any other ASCII punctuation character (`.`, `,`, `:`, `=`, `+`, …).
    Punct(u8),
    /// A number or a run of non-ASCII characters.
    Other,
}

/// How a string literal was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Quoted {
    /// Has `${…}` or `$name` interpolation, or is a slashy string.
    pub interpolated: bool,
    /// Has a `\` escape: its value is not the text between the quotes.
    pub escaped: bool,
    /// Found its closing quote.
    pub closed: bool,
}

/// A slashy (`/…/`) or dollar-slashy (`$/…/$`) string: kept opaque, so
/// taken as interpolated (dynamic).
const SLASHY: Quoted = Quoted {
    interpolated: true,
    escaped: false,
    closed: true,
};

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// The token's bytes (for a string: its content, without quotes).
    pub span: Range<usize>,
    /// A line break (or a comment holding one) comes between this token and
    /// the one before.
    pub newline_before: bool,
}

/// Splits a Groovy text into tokens, comments and whitespace dropped.
pub(crate) fn tokens(text: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        b: text.as_bytes(),
        pos: 0,
        slashy_fails_from: None,
    };
    let mut out = Vec::new();
    let mut newline = false;
    if lexer.b.starts_with(b"#!") {
        lexer.skip_line();
    }
    while let Some(c) = lexer.peek(0) {
        let start = lexer.pos;
        match c {
            b'\n' => {
                newline = true;
                lexer.pos += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                lexer.pos += 1;
                continue;
            }
            b'/' if lexer.peek(1) == Some(b'/') => {
                lexer.skip_line();
                continue;
            }
            b'/' if lexer.peek(1) == Some(b'*') => {
                if lexer.skip_block_comment() {
                    newline = true;
                }
                continue;
            }
            _ => {}
        }
        let tok = match c {
            b'\'' | b'"' => {
                let (content, quoted) = lexer.string(0);
                push(&mut out, Tok::Str(quoted), content, &mut newline);
                continue;
            }
            b'$' if lexer.peek(1) == Some(b'/') => {
                let content = lexer.dollar_slashy();
                push(&mut out, Tok::Str(SLASHY), content, &mut newline);
                continue;
            }
            b'/' if slashy_may_start(out.last()) => match lexer.slashy() {
                Some(content) => {
                    push(&mut out, Tok::Str(SLASHY), content, &mut newline);
                    continue;
                }
                None => {
                    lexer.pos += 1;
                    Tok::Punct(b'/')
                }
            },
            b'(' | b'[' | b'{' => {
                lexer.pos += 1;
                Tok::Open(c)
            }
            b')' | b']' | b'}' => {
                lexer.pos += 1;
                Tok::Close(c)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                lexer.pos = lexer.word_end(start);
                Tok::Ident
            }
            c if c.is_ascii_digit() => {
                lexer.pos = lexer.word_end(start);
                Tok::Other
            }
            c if c.is_ascii() => {
                lexer.pos += 1;
                Tok::Punct(c)
            }
            _ => {
                while lexer.peek(0).is_some_and(|c| !c.is_ascii()) {
                    lexer.pos += 1;
                }
                Tok::Other
            }
        };
        push(&mut out, tok, start..lexer.pos, &mut newline);
    }
    out
}

fn push(out: &mut Vec<Token>, tok: Tok, span: Range<usize>, newline: &mut bool) {
    out.push(Token {
        tok,
        span,
        newline_before: std::mem::take(newline),
    });
}

/// Whether a `/` after `prev` starts a slashy string: only where a value may
/// start (after an operator, an opening bracket, or at the start), never
/// after a value (`x / 2`, `f() / g`).
fn slashy_may_start(prev: Option<&Token>) -> bool {
    match prev.map(|t| t.tok) {
        None | Some(Tok::Open(_)) => true,
        Some(Tok::Punct(p)) => b",=:;!&|?~+-*<>%^".contains(&p),
        _ => false,
    }
}

struct Lexer<'t> {
    b: &'t [u8],
    pos: usize,
    /// A slashy string looked for its end from here and found none: no later
    /// one can (keeps the lexer linear on a file full of `(/`).
    slashy_fails_from: Option<usize>,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.b.get(self.pos + ahead).copied()
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.b.get(self.pos..).is_some_and(|rest| rest.starts_with(s))
    }

    /// The end of an identifier or number starting at `start`.
    fn word_end(&self, start: usize) -> usize {
        let mut end = start + 1;
        while self
            .b
            .get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            end += 1;
        }
        end
    }

    /// To the end of the line (the line break itself is left).
    fn skip_line(&mut self) {
        while self.peek(0).is_some_and(|c| c != b'\n') {
            self.pos += 1;
        }
    }

    /// Past `/* … */` (or to the end of the file); whether it held a line break.
    fn skip_block_comment(&mut self) -> bool {
        self.pos += 2;
        let mut newline = false;
        while let Some(c) = self.peek(0) {
            if c == b'*' && self.peek(1) == Some(b'/') {
                self.pos += 2;
                return newline;
            }
            newline |= c == b'\n';
            self.pos += 1;
        }
        newline
    }

    /// A string starting at the quote under `pos`: its content's span and
    /// how it is written. `depth` counts the interpolations it is inside.
    fn string(&mut self, depth: usize) -> (Range<usize>, Quoted) {
        let quote = self.b[self.pos];
        let triple = self.starts_with(&[quote; 3]);
        let open = if triple { 3 } else { 1 };
        self.pos += open;
        let start = self.pos;
        let mut quoted = Quoted::default();
        while let Some(c) = self.peek(0) {
            if c == quote && (!triple || self.starts_with(&[quote; 3])) {
                let end = self.pos;
                self.pos += open;
                quoted.closed = true;
                return (start..end, quoted);
            }
            match c {
                b'\n' if !triple => break,
                b'\\' => {
                    quoted.escaped = true;
                    self.pos += 1;
                    // A line break after `\` is a continuation in a triple
                    // string and ends a one-line string.
                    if self.peek(0).is_some_and(|n| triple || n != b'\n') {
                        self.step_char();
                    }
                }
                b'$' if quote == b'"' => match self.peek(1) {
                    Some(b'{') => {
                        quoted.interpolated = true;
                        self.pos += 2;
                        self.skip_interpolation(depth + 1);
                    }
                    Some(n) if n.is_ascii_alphabetic() || n == b'_' => {
                        quoted.interpolated = true;
                        self.pos += 1;
                    }
                    _ => self.pos += 1,
                },
                _ => self.pos += 1,
            }
        }
        (start..self.pos, quoted)
    }

    /// Steps over one character (all of its UTF-8 bytes).
    fn step_char(&mut self) {
        self.pos += 1;
        while self.peek(0).is_some_and(|c| c & 0xC0 == 0x80) {
            self.pos += 1;
        }
    }

    /// Past the code of a `${…}` (`pos` just after `${`) to its matching `}`,
    /// over nested braces, strings and comments.
    fn skip_interpolation(&mut self, depth: usize) {
        if depth > MAX_DEPTH {
            while let Some(c) = self.peek(0) {
                self.pos += 1;
                if c == b'}' {
                    return;
                }
            }
            return;
        }
        let mut braces = 0usize;
        while let Some(c) = self.peek(0) {
            match c {
                b'\'' | b'"' => {
                    self.string(depth);
                }
                b'/' if self.peek(1) == Some(b'/') => self.skip_line(),
                b'/' if self.peek(1) == Some(b'*') => {
                    self.skip_block_comment();
                }
                b'{' => {
                    braces += 1;
                    self.pos += 1;
                }
                b'}' => {
                    self.pos += 1;
                    if braces == 0 {
                        return;
                    }
                    braces -= 1;
                }
                _ => self.pos += 1,
            }
        }
    }

    /// `/…/` starting at `pos`: its content, or `None` (nothing consumed)
    /// when no closing `/` follows.
    fn slashy(&mut self) -> Option<Range<usize>> {
        if self.slashy_fails_from.is_some_and(|p| p <= self.pos) {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        while let Some(&c) = self.b.get(i) {
            match c {
                b'/' if i > start => {
                    self.pos = i + 1;
                    return Some(start..i);
                }
                // `//` right after the opening slash is a comment, not an
                // empty slashy string; the caller never gets here for it.
                b'/' => return None,
                b'\\' => i += 2,
                _ => i += 1,
            }
        }
        self.slashy_fails_from = Some(self.pos);
        None
    }

    /// `$/…/$` starting at `pos` (to the end of the file when unterminated).
    fn dollar_slashy(&mut self) -> Range<usize> {
        self.pos += 2;
        let start = self.pos;
        while let Some(c) = self.peek(0) {
            match c {
                b'/' if self.peek(1) == Some(b'$') => {
                    let end = self.pos;
                    self.pos += 2;
                    return start..end;
                }
                // `$$` and `$/` are the escapes of a dollar-slashy string.
                b'$' if matches!(self.peek(1), Some(b'$' | b'/')) => self.pos += 2,
                _ => self.pos += 1,
            }
        }
        start..self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (kind, text) of each token, strings as `'content'`.
    fn show(text: &str) -> Vec<String> {
        tokens(text)
            .into_iter()
            .map(|t| {
                let s = &text[t.span.clone()];
                match t.tok {
                    Tok::Str(q) => format!(
                        "s{}{}{}[{s}]",
                        if q.interpolated { "$" } else { "" },
                        if q.escaped { "\\" } else { "" },
                        if q.closed { "" } else { "!" }
                    ),
                    _ => s.to_string(),
                }
            })
            .collect()
    }

    #[test]
    fn comments_are_dropped() {
        assert_eq!(
            show("a // docker.image('x')\n/* docker.image('y') */ b /* c"),
            ["a", "b"]
        );
        assert_eq!(show("#!/usr/bin/env groovy\nx"), ["x"]);
        // A `//` inside a string is not a comment.
        assert_eq!(show("'http://x' y"), ["s[http://x]", "y"]);
    }

    #[test]
    fn strings_and_their_flags() {
        assert_eq!(show(r#"'a"b' "c'd""#), ["s[a\"b]", "s[c'd]"]);
        assert_eq!(show(r"'it\'s' x"), [r"s\[it\'s]", "x"]);
        assert_eq!(show("'$x' \"$x\""), ["s[$x]", "s$[$x]"]);
        assert_eq!(show("\"a$\" \"\\$x\""), ["s[a$]", "s\\[\\$x]"]);
        assert_eq!(show("'''a\n'b''' z"), ["s[a\n'b]", "z"]);
        assert_eq!(show("\"\"\"a\"\n${b}\"\"\" z"), ["s$[a\"\n${b}]", "z"]);
        assert_eq!(show("''"), ["s[]"]);
        assert_eq!(show("'''''' x"), ["s[]", "x"]);
    }

    #[test]
    fn interpolations_nest() {
        // Braces and quotes inside `${…}` don't end the string.
        let t = r#""a${ m["}"] + "${'x' + "}"}" }b" after"#;
        assert_eq!(show(t), [format!("s$[{}]", &t[1..t.len() - 7]), "after".into()]);
        // Too deep to follow: skipped to the first `}`, still no panic.
        let deep = "\"${\"".repeat(100) + "x" + &"}\"".repeat(100);
        assert!(!tokens(&deep).is_empty());
    }

    #[test]
    fn unterminated_strings_end_at_the_line_or_the_file() {
        assert_eq!(show("'abc\nx"), ["s![abc]", "x"]);
        assert_eq!(show("\"ab\\\ny"), ["s\\![ab\\]", "y"]);
        assert_eq!(show("'''abc\nx"), ["s![abc\nx]"]);
        assert_eq!(show("\"${ 'a"), ["s$![${ 'a]"]);
    }

    #[test]
    fn slashy_strings_only_where_a_value_starts() {
        assert_eq!(show("x = /a'b/ y"), ["x", "=", "s$[a'b]", "y"]);
        assert_eq!(show("a / b / c"), ["a", "/", "b", "/", "c"]);
        assert_eq!(show("f(/a\\/b/)"), ["f", "(", "s$[a\\/b]", ")"]);
        assert_eq!(show("$/a'/b/$ c"), ["s$[a'/b]", "c"]);
        // No closing slash: a plain `/`, and the rest is still read.
        assert_eq!(show("(/ 'x'"), ["(", "/", "s[x]"]);
    }

    #[test]
    fn newlines_before_tokens() {
        let t = tokens("a b\nc /* \n */ d // e\nf");
        let nl: Vec<bool> = t.iter().map(|t| t.newline_before).collect();
        assert_eq!(nl, [false, false, true, true, true]);
    }

    mod properties {
        use super::super::tokens;
        use proptest::prelude::*;

        /// Groovy-shaped text: every quote and comment opener (and closer),
        /// interpolation, escapes, brackets, slashes, CR/LF, non-ASCII.
        fn groovy_text() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                8 => prop::sample::select(vec![
                    "'", "\"", "'''", "\"\"\"", "${", "$", "}", "{", "(", ")", "[", "]",
                    "/", "//", "/*", "*/", "$/", "/$", "\\", "\n", "\r\n", " ", "a", "x1",
                    "docker.image(", "image ", "image: ", ":", ",", "+", "é", "日", "😀",
                ])
                .prop_map(str::to_string),
                1 => any::<String>(),
            ];
            prop::collection::vec(piece, 0..80).prop_map(|v| v.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            #[test]
            fn spans_are_in_order_and_on_char_boundaries(text in groovy_text()) {
                let mut end = 0;
                for t in tokens(&text) {
                    prop_assert!(text.get(t.span.clone()).is_some(), "{:?}", t);
                    prop_assert!(t.span.start >= end, "{:?} overlaps the token before", t);
                    end = t.span.end;
                }
            }

            #[test]
            fn the_scanner_never_panics(text in groovy_text()) {
                let found = crate::scan::jenkinsfile::scan(&text).unwrap_or_default();
                for o in found {
                    prop_assert!(text.get(o.span.clone()).is_some(), "{:?}", o);
                }
            }
        }
    }

    #[test]
    fn non_ascii_and_numbers() {
        assert_eq!(show("é日 x1 2.5"), ["é日", "x1", "2", ".", "5"]);
    }
}
