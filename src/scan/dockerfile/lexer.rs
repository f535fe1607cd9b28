//! The Dockerfile lexer: splits a file into parser directives and logical
//! instructions, following BuildKit's parser.
//!
//! - Parser directives (`# syntax=…`, `# escape=…`, `# check=…`) are read
//!   only from the top of the file; the first line that is not a known
//!   directive (an instruction, a blank line, any other comment) ends them.
//!   Names are case-insensitive and blanks around `=` are allowed. As in
//!   BuildKit's frontend detection, `# syntax=` may follow a `#!` line, and
//!   its image is the value's first word.
//! - An instruction continues onto the next line when its line ends with the
//!   escape character (`\` or, after `# escape=``, a backtick) followed only
//!   by spaces or tabs. Comment lines and blank lines inside a continuation
//!   are skipped.
//! - `RUN`, `COPY` and `ADD` may open heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`,
//!   several per line); their bodies are skipped, never read as instructions.
//!   An unterminated heredoc is not a heredoc: the lines after it are read as
//!   instructions (BuildKit would reject the file; finding more is safer).
//!
//! Every word keeps the byte span of its text in the file when that text is
//! contiguous there (a word split by a line continuation has none). The lexer
//! works on bytes and splits only at ASCII characters, so spans always fall
//! on UTF-8 character boundaries. It runs in time linear in the input.

use std::borrow::Cow;
use std::ops::Range;

/// A parser directive's value: the `X` of `# syntax=X`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Directive {
    /// Lowercase directive name (`syntax`, `escape`, `check`).
    pub name: String,
    /// Byte span of the value in the file (trailing whitespace excluded).
    pub value: Range<usize>,
}

/// One whitespace-separated word of a logical instruction line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word<'t> {
    /// The word as written (quotes and escapes kept), continuations removed:
    /// borrowed from the file when it is contiguous there.
    pub text: Cow<'t, str>,
    /// Byte span in the file, when the word is contiguous there.
    pub span: Option<Range<usize>>,
}

impl Word<'_> {
    /// The span of `self.text[range]` in the file, when known.
    pub(crate) fn sub_span(&self, range: Range<usize>) -> Option<Range<usize>> {
        let span = self.span.as_ref()?;
        (range.start <= range.end && range.end <= self.text.len())
            .then(|| span.start + range.start..span.start + range.end)
    }
}

/// One logical instruction (physical lines joined by continuations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction<'t> {
    /// The instruction keyword in lowercase (`from`, `copy`, …).
    pub keyword: String,
    /// All words, the keyword first.
    pub words: Vec<Word<'t>>,
    /// 1-based line on which the instruction starts.
    pub line: usize,
}

/// A lexed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Lexed<'t> {
    /// The directives the Dockerfile parser reads (`escape`, `check`, …).
    pub directives: Vec<Directive>,
    /// The frontend image of `# syntax=`, as BuildKit detects it.
    pub syntax: Option<Range<usize>>,
    pub instructions: Vec<Instruction<'t>>,
}

/// The instructions whose lines may open heredocs (BuildKit).
const HEREDOC_INSTRUCTIONS: [&str; 3] = ["run", "copy", "add"];

/// The instructions whose words are split out; others keep only the keyword.
const WORDED_INSTRUCTIONS: [&str; 6] = ["from", "run", "copy", "add", "arg", "onbuild"];

/// Lexes a whole file (BOM already stripped).
pub(crate) fn lex(text: &str) -> Lexed<'_> {
    lex_with(text, false)
}

/// Lexes a whole file like [`lex`], but splits every instruction into words,
/// not only those that can hold a Dockerfile image reference. For formats
/// built on the Dockerfile syntax whose other instructions name images
/// (Earthfile's `WITH DOCKER --pull`).
pub(crate) fn lex_all_words(text: &str) -> Lexed<'_> {
    lex_with(text, true)
}

fn lex_with(text: &str, all_words: bool) -> Lexed<'_> {
    let mut lexer = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 0,
        escape: b'\\',
        heredocs: true,
        all_words,
    };
    let syntax = lexer
        .directives(true)
        .into_iter()
        .find(|d| d.name == "syntax")
        .map(|d| {
            // The frontend image is the first word; the rest are its options.
            let value = &text[d.value.clone()];
            let len = value.find([' ', '\t']).unwrap_or(value.len());
            d.value.start..d.value.start + len
        });
    // Directive lines are comments to the instruction reader below.
    let directives = lexer.directives(false);
    let mut instructions = Vec::new();
    while let Some(ins) = lexer.instruction() {
        instructions.push(ins);
    }
    Lexed {
        directives,
        syntax,
        instructions,
    }
}

/// One physical line's content (without `\r\n`).
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
}

struct Lexer<'t> {
    text: &'t str,
    bytes: &'t [u8],
    /// Start of the next unread line.
    pos: usize,
    /// Number of lines read so far (the 1-based number of the last one).
    line: usize,
    escape: u8,
    /// Cleared after an unterminated heredoc, so that a file full of them
    /// cannot make the lexer quadratic.
    heredocs: bool,
    /// Split every instruction into words (not only [`WORDED_INSTRUCTIONS`]).
    all_words: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

impl<'t> Lexer<'t> {
    /// Reads the next physical line.
    fn next_line(&mut self) -> Option<Line> {
        let start = self.pos;
        if start >= self.bytes.len() {
            return None;
        }
        let (mut end, next) = match self.bytes[start..].iter().position(|&b| b == b'\n') {
            Some(i) => (start + i, start + i + 1),
            None => (self.bytes.len(), self.bytes.len()),
        };
        if end > start && self.bytes[end - 1] == b'\r' {
            end -= 1;
        }
        self.pos = next;
        self.line += 1;
        Some(Line { start, end })
    }

    /// First non-whitespace byte offset of a line (== `end` when blank).
    fn content_start(&self, l: Line) -> usize {
        let mut i = l.start;
        while i < l.end && is_space(self.bytes[i]) {
            i += 1;
        }
        i
    }

    /// Reads the parser directives at the top of the file and rewinds.
    ///
    /// BuildKit reads them twice, slightly differently: the Dockerfile
    /// parser (`frontend == false`: `escape`, `check`) allows indentation;
    /// frontend detection (`frontend == true`: `syntax`) skips a `#!` first
    /// line but wants the `#` in the first column.
    fn directives(&mut self, frontend: bool) -> Vec<Directive> {
        let mut found: Vec<Directive> = Vec::new();
        while let Some(l) = self.next_line() {
            if frontend && self.line == 1 && self.bytes[l.start..l.end].starts_with(b"#!") {
                continue;
            }
            let start = if frontend {
                l.start
            } else {
                self.content_start(l)
            };
            let Some(d) = parse_directive(self.text, start, l.end) else {
                break;
            };
            let known = matches!(d.name.as_str(), "syntax" | "escape" | "check");
            if !known || found.iter().any(|f| f.name == d.name) {
                // An unknown or repeated directive is an ordinary comment
                // and ends the directives.
                break;
            }
            if d.name == "escape" && !frontend {
                match &self.text[d.value.clone()] {
                    "`" => self.escape = b'`',
                    "\\" => self.escape = b'\\',
                    _ => {} // BuildKit rejects it; keep the default.
                }
            }
            found.push(d);
        }
        self.pos = 0;
        self.line = 0;
        found
    }

    /// Where a line's content ends when it ends with the escape character
    /// (plus spaces or tabs): `Some(offset of the escape character)`.
    fn continuation(&self, start: usize, end: usize) -> Option<usize> {
        let mut i = end;
        while i > start && matches!(self.bytes[i - 1], b' ' | b'\t') {
            i -= 1;
        }
        (i > start && self.bytes[i - 1] == self.escape).then_some(i - 1)
    }

    /// Reads the next logical instruction, skipping blank and comment lines
    /// and heredoc bodies.
    fn instruction(&mut self) -> Option<Instruction<'t>> {
        loop {
            let l = self.next_line()?;
            let start = self.content_start(l);
            if start == l.end || self.bytes[start] == b'#' {
                continue;
            }
            let first_line = self.line;
            let mut segments = Segments::default();
            let mut cont = self.continuation(start, l.end);
            segments.push(self.text, start..cont.unwrap_or(l.end));
            while cont.is_some() {
                let Some(l) = self.next_line() else { break };
                let s = self.content_start(l);
                if s == l.end || self.bytes[s] == b'#' {
                    continue;
                }
                cont = self.continuation(l.start, l.end);
                segments.push(self.text, l.start..cont.unwrap_or(l.end));
            }
            let keyword = segments
                .logical
                .split(|c: char| c.is_ascii() && is_space(c as u8))
                .find(|w| !w.is_empty())
                .unwrap_or("")
                .to_ascii_lowercase();
            if keyword.is_empty() {
                continue; // A lone continuation character.
            }
            // Only these instructions' arguments can hold image references
            // or open heredocs; the others keep just their keyword.
            let words = if self.all_words || WORDED_INSTRUCTIONS.contains(&keyword.as_str()) {
                segments.words(self.text, self.escape)
            } else {
                segments.words_until(self.text, self.escape, 1)
            };
            if self.heredocs && HEREDOC_INSTRUCTIONS.contains(&keyword.as_str()) {
                self.skip_heredoc_bodies(&words[1..]);
            }
            return Some(Instruction {
                keyword,
                words,
                line: first_line,
            });
        }
    }

    /// Skips the bodies of the heredocs that `words` open, in order.
    fn skip_heredoc_bodies(&mut self, words: &[Word<'_>]) {
        let mut heredocs = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if let Some(h) = heredoc(&w.text) {
                heredocs.push(h);
            } else if w.text.trim_start_matches(|c: char| c.is_ascii_digit()) == "<<" {
                // `<< EOF`: BuildKit joins the word after the blanks.
                if let Some(h) = words
                    .get(i + 1)
                    .and_then(|n| heredoc(&format!("<<{}", n.text)))
                {
                    heredocs.push(h);
                }
            }
        }
        for (name, chomp) in heredocs {
            let (pos, line) = (self.pos, self.line);
            let mut terminated = false;
            while let Some(l) = self.next_line() {
                let mut body = &self.bytes[l.start..l.end];
                if chomp {
                    while let [b'\t', rest @ ..] = body {
                        body = rest;
                    }
                }
                if body == name.as_bytes() {
                    terminated = true;
                    break;
                }
            }
            if !terminated {
                self.pos = pos;
                self.line = line;
                self.heredocs = false;
                return;
            }
        }
    }
}

/// A heredoc opener `[fd]<<[-]NAME` (NAME possibly quoted): its delimiter and
/// whether leading tabs are stripped (`<<-`).
fn heredoc(word: &str) -> Option<(String, bool)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name: String = rest.chars().filter(|&c| c != '"' && c != '\'').collect();
    (!name.is_empty()).then_some((name, chomp))
}

/// Parses `#\s*name\s*=\s*value\s*` on `text[start..end]`.
fn parse_directive(text: &str, start: usize, end: usize) -> Option<Directive> {
    let b = text.as_bytes();
    let mut i = start;
    if b.get(i) != Some(&b'#') || start >= end {
        return None;
    }
    i += 1;
    while i < end && is_space(b[i]) {
        i += 1;
    }
    let name_start = i;
    if i >= end || !b[i].is_ascii_alphabetic() {
        return None;
    }
    while i < end && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let name = text[name_start..i].to_ascii_lowercase();
    while i < end && is_space(b[i]) {
        i += 1;
    }
    if i >= end || b[i] != b'=' {
        return None;
    }
    i += 1;
    while i < end && is_space(b[i]) {
        i += 1;
    }
    let mut value_end = end;
    while value_end > i && is_space(b[value_end - 1]) {
        value_end -= 1;
    }
    (value_end > i).then_some(Directive {
        name,
        value: i..value_end,
    })
}

/// The physical pieces of one logical line, concatenated.
#[derive(Default)]
struct Segments {
    logical: String,
    /// (start in `logical`, start in the file, length) of each piece.
    pieces: Vec<(usize, usize, usize)>,
}

impl Segments {
    fn push(&mut self, text: &str, range: Range<usize>) {
        self.pieces
            .push((self.logical.len(), range.start, range.end - range.start));
        self.logical.push_str(&text[range]);
    }

    /// The file span of `logical[range]`, when it lies within one piece.
    fn file_span(&self, range: Range<usize>) -> Option<Range<usize>> {
        let i = self
            .pieces
            .partition_point(|&(lstart, _, _)| lstart <= range.start)
            .checked_sub(1)?;
        let (lstart, fstart, len) = self.pieces[i];
        (range.end <= lstart + len)
            .then(|| fstart + range.start - lstart..fstart + range.end - lstart)
    }

    /// Splits the logical line into words at unquoted whitespace. Quotes
    /// group (`'…'`, `"…"`); the escape character protects the next byte.
    fn words<'t>(&self, text: &'t str, escape: u8) -> Vec<Word<'t>> {
        self.words_until(text, escape, usize::MAX)
    }

    /// The first `limit` words.
    /// `text` is the file: a word contiguous there is borrowed from it.
    fn words_until<'t>(&self, text: &'t str, escape: u8, limit: usize) -> Vec<Word<'t>> {
        let b = self.logical.as_bytes();
        let mut words = Vec::new();
        let mut i = 0;
        while i < b.len() && words.len() < limit {
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            let start = i;
            let mut quote: Option<u8> = None;
            while i < b.len() {
                let c = b[i];
                match quote {
                    None if is_space(c) => break,
                    None if c == b'"' || c == b'\'' => quote = Some(c),
                    Some(q) if c == q => quote = None,
                    _ if c == escape && quote != Some(b'\'') => i += 1,
                    _ => {}
                }
                i += 1;
            }
            let end = i.min(b.len());
            // Never split inside a UTF-8 sequence (an escape before one).
            let end = (end..=b.len())
                .find(|&e| self.logical.is_char_boundary(e))
                .unwrap_or(b.len());
            i = end;
            let span = self.file_span(start..end);
            let word = match span.as_ref().and_then(|s| text.get(s.clone())) {
                Some(borrowed) => Cow::Borrowed(borrowed),
                None => Cow::Owned(self.logical[start..end].to_string()),
            };
            words.push(Word { text: word, span });
        }
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(ins: &'a Instruction<'_>) -> Vec<&'a str> {
        ins.words.iter().map(|w| &*w.text).collect()
    }

    #[test]
    fn directives_only_at_the_top() {
        let t = "# syntax = docker/dockerfile:1.7 \n#ESCAPE=`\n# check=skip=all\nFROM a\n";
        let lexed = lex(t);
        let names: Vec<_> = lexed.directives.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["syntax", "escape", "check"]);
        assert_eq!(
            &t[lexed.directives[0].value.clone()],
            "docker/dockerfile:1.7"
        );

        for t in [
            "\n# syntax=x\nFROM a\n",
            "# hello\n# syntax=x\nFROM a\n",
            "FROM a\n# syntax=x\n",
            "# foo=bar\n# syntax=x\n",
        ] {
            assert!(
                lex(t).directives.iter().all(|d| d.name != "syntax"),
                "{t:?}"
            );
        }
    }

    #[test]
    fn continuations_skip_comments_and_blank_lines() {
        let t = "FROM \\  \n  # a comment\n\n   alpine:3 \\\t\r\n AS base\r\nRUN x";
        let lexed = lex(t);
        assert_eq!(lexed.instructions.len(), 2);
        let from = &lexed.instructions[0];
        assert_eq!(texts(from), ["FROM", "alpine:3", "AS", "base"]);
        let span = from.words[1].span.clone().expect("contiguous word");
        assert_eq!(&t[span], "alpine:3");
        assert_eq!(lexed.instructions[1].line, 6);
        assert_eq!(texts(&lexed.instructions[1]), ["RUN", "x"]);
    }

    #[test]
    fn backtick_escape_leaves_backslashes_alone() {
        let t = "# escape=`\nFROM `\n    image\nRUN dir C:\\\nFROM b\n";
        let lexed = lex(t);
        let all: Vec<_> = lexed.instructions.iter().map(texts).collect();
        assert_eq!(
            all,
            [
                vec!["FROM", "image"],
                vec!["RUN", "dir", "C:\\"],
                vec!["FROM", "b"]
            ]
        );
    }

    #[test]
    fn word_split_by_a_continuation_has_no_span() {
        let lexed = lex("FROM alp\\\nine\n");
        let w = &lexed.instructions[0].words[1];
        assert_eq!(w.text, "alpine");
        assert_eq!(w.span, None);
    }

    #[test]
    fn heredoc_bodies_are_skipped() {
        let t = "RUN <<EOF cat <<-'TWO' >x\nFROM body1\nEOF\n\tFROM body2\n\tTWO\nCOPY <<\"X\" /x\nFROM body3\nX\nFROM real\n";
        let lexed = lex(t);
        let kws: Vec<_> = lexed
            .instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.line))
            .collect();
        assert_eq!(kws, [("run", 1), ("copy", 6), ("from", 9)]);
    }

    #[test]
    fn heredoc_with_blanks_after_the_marker() {
        let lexed = lex("RUN cat << EOF >/x\nFROM body\nEOF\nFROM a\n");
        let lines: Vec<_> = lexed.instructions.iter().map(|i| i.line).collect();
        assert_eq!(lines, [1, 4]);
    }

    #[test]
    fn syntax_after_a_shebang_but_not_indented() {
        let t = "#!/usr/bin/env -S docker build -f\n# syntax=docker/dockerfile:1 opt\nFROM a\n";
        assert_eq!(lex(t).syntax.map(|r| &t[r]), Some("docker/dockerfile:1"));
        assert_eq!(lex("  # syntax=x\nFROM a\n").syntax, None);
        // The parser does allow an indented escape directive.
        let lexed = lex("  # escape=`\nFROM a `\n  b\n");
        assert_eq!(lexed.instructions[0].words.len(), 3);
    }

    #[test]
    fn heredoc_needs_an_exact_terminator() {
        // `<<EOF` without `-` does not strip tabs; ` EOF` is no terminator.
        let lexed = lex("RUN <<EOF\n\tEOF\n EOF\nEOF\nFROM a\n");
        let kws: Vec<_> = lexed.instructions.iter().map(|i| i.line).collect();
        assert_eq!(kws, [1, 5]);
    }

    #[test]
    fn unterminated_heredoc_is_read_as_lines() {
        let lexed = lex("RUN <<EOF\nFROM a\nRUN <<EOF\nFROM b");
        let kws: Vec<_> = lexed
            .instructions
            .iter()
            .map(|i| i.keyword.as_str())
            .collect();
        assert_eq!(kws, ["run", "from", "run", "from"]);
    }

    #[test]
    fn quoted_heredoc_markers_and_redirections_are_not_heredocs() {
        let lexed = lex("RUN echo \"<<EOF\" 2<<x <<<y a<<b\nFROM a\nx\nFROM b\n");
        let kws: Vec<_> = lexed.instructions.iter().map(|i| i.line).collect();
        // `2<<x` opens a heredoc (fd form); the others do not.
        assert_eq!(kws, [1, 4]);
    }

    #[test]
    fn quotes_group_words() {
        let lexed = lex("RUN --mount=\"type=bind, from=x\" 'a b' c\n");
        assert_eq!(
            texts(&lexed.instructions[0]),
            ["RUN", "--mount=\"type=bind, from=x\"", "'a b'", "c"]
        );
    }

    #[test]
    fn all_words_splits_every_instruction() {
        let t = "WITH DOCKER --pull a:1 \\\n  --pull b:2\nEXPOSE 80 443\n";
        let all = lex_all_words(t);
        assert_eq!(
            texts(&all.instructions[0]),
            ["WITH", "DOCKER", "--pull", "a:1", "--pull", "b:2"]
        );
        let span = all.instructions[0].words[5].span.clone().expect("contiguous");
        assert_eq!(&t[span], "b:2");
        assert_eq!(texts(&all.instructions[1]), ["EXPOSE", "80", "443"]);
        // The Dockerfile lexer keeps only the keyword of such instructions.
        assert_eq!(texts(&lex(t).instructions[0]), ["WITH"]);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for t in [
            "",
            "\\",
            "FROM \\",
            "#",
            "# syntax=",
            "\r\n\r",
            "FROM é\\",
            "RUN <<",
            "RUN <<-",
            "FROM \"unterminated",
            "RUN \\é",
            "\u{0}\u{0}",
            "# escape=x\nFROM a `\n",
        ] {
            let _ = lex(t);
        }
    }
}
