//! Scanner for devcontainer files (`.devcontainer.json`,
//! `.devcontainer/**/devcontainer.json`): JSON with comments and trailing
//! commas. A small JSONC parser with byte spans finds the top-level `image`
//! string; nothing else in the file is an image (`build.dockerfile` and
//! `dockerComposeFile` configurations have none, `features` keys are OCI
//! artifacts, and `runArgs`/commands are shell text).

use std::path::Path;

use super::kind::{Kind, Syntax, lower_name, parents};
use super::{Hint, LineIndex, Occurrence, ScanError};
use crate::finding::FileKind;

/// Deepest nesting of arrays and objects accepted before giving up (keeps
/// hostile input from exhausting the stack).
const MAX_DEPTH: usize = 256;
/// Dev containers: `.devcontainer.json`, `.devcontainer/devcontainer.json`
/// and `.devcontainer/<name>/devcontainer.json`.
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("devcontainer"),
    names: is_devcontainer_name,
    sniff: None,
    scan,
    syntax: Syntax::Json,
    keys: &["\"image\":", "\"dockerComposeFile\":", "\"build\":"],
    relate: None,
};

fn is_devcontainer_name(path: &Path) -> bool {
    match lower_name(path).as_deref() {
        Some(".devcontainer.json") => true,
        Some("devcontainer.json") => parents(path).take(2).any(|d| d == ".devcontainer"),
        _ => false,
    }
}

/// Finds the image references in one file's text (BOM already stripped).
///
/// The occurrence's span is the string's contents, inside the quotes. A
/// string with JSON escapes (`\/`, `\u…`) is reported with its raw text:
/// that text is not a valid reference, so it fails `--check` as invalid and is
/// never rewritten, rather than passing silently.
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let top = parser.document()?;
    Ok(top
        .into_iter()
        .filter(|m| m.key == "image")
        .filter_map(|m| match m.value {
            Value::String { raw, escaped } => Some(Occurrence::new(
                raw,
                Hint::Image,
                if escaped {
                    "image (contains JSON escapes)"
                } else {
                    "image"
                },
            )),
            Value::Other => None,
        })
        .collect())
}

/// A member of the top-level object, with what the scanner needs of its value.
struct Member {
    key: String,
    value: Value,
}

enum Value {
    /// A string: span of the raw text between the quotes, and whether it
    /// contains escapes (so that raw text and value differ).
    String {
        raw: std::ops::Range<usize>,
        escaped: bool,
    },
    Other,
}

struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
}

impl Parser<'_> {
    /// The whole file: one object, then nothing but whitespace and comments.
    fn document(&mut self) -> Result<Vec<Member>, ScanError> {
        self.skip_trivia()?;
        if self.peek() != Some(b'{') {
            return Err(self.error("expected a JSON object at the top level"));
        }
        let members = self.object(0, true)?;
        self.skip_trivia()?;
        if self.pos < self.bytes.len() {
            return Err(self.error("unexpected text after the top-level object"));
        }
        Ok(members)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, message: &str) -> ScanError {
        self.error_at(message, self.pos)
    }

    fn error_at(&self, message: &str, offset: usize) -> ScanError {
        let index = LineIndex::new(self.text);
        // Offsets always sit on a char boundary here except inside multi-byte
        // characters, which `line_col` tolerates (it counts the prefix it can).
        let mut at = offset.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let (line, column) = index.line_col(self.text, at);
        ScanError::at(
            format!("invalid JSON: {message} (line {line}, column {column})"),
            line,
            column,
        )
    }

    /// Skips whitespace, `// …` and `/* … */` comments.
    fn skip_trivia(&mut self) -> Result<(), ScanError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => match self.bytes.get(self.pos + 1) {
                    Some(b'/') => {
                        while self.peek().is_some_and(|b| b != b'\n') {
                            self.pos += 1;
                        }
                    }
                    Some(b'*') => {
                        let start = self.pos;
                        match self.text[self.pos + 2..].find("*/") {
                            Some(end) => self.pos += 2 + end + 2,
                            None => return Err(self.error_at("unterminated /* comment", start)),
                        }
                    }
                    _ => return Err(self.error("unexpected '/'")),
                },
                _ => return Ok(()),
            }
        }
    }

    /// An object starting at `{`; members are collected only for the top level.
    fn object(&mut self, depth: usize, collect: bool) -> Result<Vec<Member>, ScanError> {
        if depth >= MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        let open = self.pos;
        self.pos += 1;
        let mut members = Vec::new();
        loop {
            self.skip_trivia()?;
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(members);
                }
                Some(b'"') => {}
                Some(_) => return Err(self.error("expected a quoted member name or '}'")),
                None => return Err(self.error_at("unterminated object", open)),
            }
            let (key_span, key_escaped) = self.string()?;
            self.skip_trivia()?;
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':' after the member name"));
            }
            self.pos += 1;
            self.skip_trivia()?;
            let value = self.value(depth + 1)?;
            if collect {
                let raw = &self.text[key_span];
                let key = if key_escaped {
                    decode(raw)
                } else {
                    raw.to_string()
                };
                members.push(Member { key, value });
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                Some(_) => return Err(self.error("expected ',' or '}'")),
                None => return Err(self.error_at("unterminated object", open)),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), ScanError> {
        if depth >= MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        let open = self.pos;
        self.pos += 1;
        loop {
            self.skip_trivia()?;
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return Err(self.error_at("unterminated array", open)),
                Some(_) => {}
            }
            self.value(depth + 1)?;
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {}
                Some(_) => return Err(self.error("expected ',' or ']'")),
                None => return Err(self.error_at("unterminated array", open)),
            }
        }
    }

    /// Any value at the current position (trivia already skipped).
    fn value(&mut self, depth: usize) -> Result<Value, ScanError> {
        match self.peek() {
            Some(b'"') => {
                let (raw, escaped) = self.string()?;
                Ok(Value::String { raw, escaped })
            }
            Some(b'{') => self.object(depth, false).map(|_| Value::Other),
            Some(b'[') => self.array(depth).map(|()| Value::Other),
            Some(b'-' | b'0'..=b'9') => self.number().map(|()| Value::Other),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("expected a value, found the end of the file")),
        }
    }

    fn literal(&mut self, word: &str) -> Result<Value, ScanError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(Value::Other)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn number(&mut self) -> Result<(), ScanError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > s
        };
        if !digits(self) {
            return Err(self.error_at("invalid number", start));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error_at("invalid number", start));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error_at("invalid number", start));
            }
        }
        Ok(())
    }

    /// A string starting at `"`: the span of its raw contents and whether it
    /// has escapes. A line break before the closing quote is an error.
    fn string(&mut self) -> Result<(std::ops::Range<usize>, bool), ScanError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok((start..self.pos - 1, escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    match self.bytes.get(self.pos + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 2;
                        }
                        Some(b'u')
                            if self
                                .bytes
                                .get(self.pos + 2..self.pos + 6)
                                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                        {
                            self.pos += 6;
                        }
                        _ => return Err(self.error("invalid escape in string")),
                    }
                }
                Some(b'\n' | b'\r') | None => {
                    return Err(self.error_at("unterminated string", open));
                }
                Some(_) => self.pos += 1,
            }
        }
    }
}

/// Decodes a (validated) JSON string body; used for member names only.
fn decode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let c = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}');
                out.push(c);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::finding::Status;
    use crate::scan::{classify, scan_text};

    fn refs(text: &str) -> Vec<&str> {
        scan(text)
            .unwrap()
            .into_iter()
            .map(|o| &text[o.span])
            .collect()
    }

    #[test]
    fn top_level_image_span_is_inside_the_quotes() {
        let text = "{\n  \"name\": \"x\",\n  \"image\": \"mcr.microsoft.com/devcontainers/base:ubuntu\"\n}\n";
        let found = scan(text).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            &text[found[0].span.clone()],
            "mcr.microsoft.com/devcontainers/base:ubuntu"
        );
        assert_eq!(found[0].hint, Hint::Image);
        assert_eq!(found[0].context, "image");
    }

    #[test]
    fn comments_and_trailing_commas() {
        let text = "// header\n{\n\t/* block\n   comment \"image\": \"no\" */\n\t\"image\": \"ghcr.io/a/b:1\", // tail\n\t\"runArgs\": [\"--x\",],\n}\n";
        assert_eq!(refs(text), ["ghcr.io/a/b:1"]);
    }

    #[test]
    fn nested_image_keys_are_not_images() {
        let text = r#"{
  "build": { "dockerfile": "Dockerfile", "image": "nested:1", "args": {"image": "x"} },
  "features": { "ghcr.io/devcontainers/features/node:1": { "image": "y" } },
  "customizations": [ { "image": "z" } ]
}"#;
        assert!(refs(text).is_empty());
    }

    #[test]
    fn build_and_compose_configurations_have_no_image() {
        assert!(refs(r#"{"build": {"dockerfile": "Dockerfile"}}"#).is_empty());
        assert!(refs(r#"{"dockerComposeFile": "compose.yml", "service": "app", }"#).is_empty());
    }

    #[test]
    fn non_string_image_is_ignored() {
        assert!(refs(r#"{"image": null, "x": [1, -2.5e3, true, false]}"#).is_empty());
        assert!(refs(r#"{"image": {"name": "a:1"}}"#).is_empty());
    }

    #[test]
    fn templated_image_is_dynamic() {
        let text = r#"{"image": "${localEnv:REGISTRY}/dev:1"}"#;
        let found = scan(text).unwrap();
        assert_eq!(
            classify(found[0].hint, &text[found[0].span.clone()]).0,
            Status::Dynamic
        );
    }

    #[test]
    fn escaped_image_is_reported_raw_and_fails_as_invalid() {
        let text = r#"{"image": "mcr.microsoft.com\/devcontainers\/base:1"}"#;
        let found = scan(text).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            &text[found[0].span.clone()],
            r"mcr.microsoft.com\/devcontainers\/base:1"
        );
        assert_eq!(found[0].context, "image (contains JSON escapes)");
        let status = classify(found[0].hint, &text[found[0].span.clone()]).0;
        assert_eq!(status, Status::Invalid);
        assert!(status.fails_check());
    }

    #[test]
    fn escaped_member_name_is_decoded() {
        assert_eq!(refs(r#"{"im\u0061ge": "a:1"}"#), ["a:1"]);
    }

    #[test]
    fn crlf_and_bom() {
        let text = "\u{feff}{\r\n  \"image\": \"alpine:3.20\",\r\n}\r\n";
        let found = scan_text(crate::scan::devcontainer::KIND.id, text).unwrap();
        assert_eq!(&text[found[0].span.clone()], "alpine:3.20");
    }

    #[test]
    fn duplicate_keys_are_all_reported() {
        assert_eq!(refs(r#"{"image": "a:1", "image": "b:2"}"#), ["a:1", "b:2"]);
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let e = scan("{\n  \"image\": \"a:1\"\n  \"name\": \"x\"\n}").unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(3)));
        assert!(e.message.contains("expected ',' or '}'"), "{e}");

        let e = scan("{\n  \"image\": \"a:1\n}").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(12)));
        assert!(e.message.contains("unterminated string"), "{e}");

        let e = scan("{ /* open").unwrap_err();
        assert_eq!((e.line, e.column), (Some(1), Some(3)));

        let e = scan("{\"a\": [1, 2}").unwrap_err();
        assert_eq!(e.line, Some(1));

        assert!(scan("").is_err());
        assert!(scan("[]").is_err());
        assert!(scan("{} x").is_err());
        assert!(scan("{\"a\": 'x'}").is_err());
        assert!(scan("{\"a\": tru}").is_err());
        assert!(scan("{\"a\": \"\\q\"}").is_err());
        assert!(scan("{\"a\": 1.}").is_err());
        assert!(scan("{\"a\" 1}").is_err());
        assert!(scan("{,}").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            scan(&text)
                .unwrap_err()
                .message
                .contains("nesting too deep")
        );
    }

    #[test]
    fn multibyte_text_never_panics() {
        for text in [
            "{\"é\": \"ü\", \"image\": \"a:1\"}",
            "{\"a\": é}",
            "{é",
            "{\"a\":\"é",
        ] {
            let _ = scan(text);
        }
        assert_eq!(scan("{\"a\": é}").unwrap_err().column, Some(7));
    }

    /// Scans a fixture through the whole pipeline: (line, column, reference, status).
    fn fixture(path: &str, text: &str) -> Vec<(usize, usize, String, Status)> {
        crate::scan::scan_file(
            std::path::Path::new(path),
            crate::scan::devcontainer::KIND.id,
            text,
            &|_| false,
        )
        .unwrap()
        .into_iter()
        .map(|f| (f.line, f.column, f.reference, f.status))
        .collect()
    }

    #[test]
    fn fixtures() {
        let image =
            include_str!("../../tests/fixtures/devcontainer/image/.devcontainer/devcontainer.json");
        assert_eq!(
            fixture("image", image),
            [(
                6,
                13,
                "mcr.microsoft.com/devcontainers/typescript-node:1-20-bookworm".to_string(),
                Status::Unpinned
            )]
        );
        let root = include_str!("../../tests/fixtures/devcontainer/root/.devcontainer.json");
        assert_eq!(
            fixture("root", root),
            [(
                4,
                12,
                "ghcr.io/example/devcontainer:latest".to_string(),
                Status::Unpinned
            )]
        );
        let multi = include_str!(
            "../../tests/fixtures/devcontainer/multi/.devcontainer/python/devcontainer.json"
        );
        let found = fixture("multi", multi);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].3, Status::Pinned);
        let build =
            include_str!("../../tests/fixtures/devcontainer/build/.devcontainer/devcontainer.json");
        assert!(fixture("build", build).is_empty());
        let compose = include_str!(
            "../../tests/fixtures/devcontainer/compose/.devcontainer/devcontainer.json"
        );
        assert!(fixture("compose", compose).is_empty());
        let broken = include_str!(
            "../../tests/fixtures/devcontainer/broken/.devcontainer/devcontainer.json"
        );
        let e = scan(broken).unwrap_err();
        assert_eq!((e.line, e.column), (Some(4), Some(3)));
    }
}
