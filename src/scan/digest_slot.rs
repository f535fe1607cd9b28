//! Where the digest of a split reference goes in YAML (Helm values, Kustomize
//! `images:`): the value of an existing `digest:` key, a new `digest:` entry
//! after a mapping's last entry, or `@` after a tag value. Each answer is a
//! [`DigestSlot`] with byte offsets into the scanned text; when no edit is
//! safe it says why ([`DigestSlot::Nowhere`]).

use super::yaml::{Node, Style};
use crate::finding::DigestSlot;

/// What a `digest:` key holds.
pub(super) enum DigestKey {
    /// A digest is written: its value, and where it is ([`DigestSlot::At`],
    /// or `Nowhere` when it is written with escapes).
    Set(String, DigestSlot),
    /// Empty (`digest: ""`, `digest:`): where a pin goes.
    Empty(DigestSlot),
}

/// The value of an existing `digest:` entry (`key` is its key node).
pub(super) fn existing(text: &str, key: &Node, value: &Node) -> DigestKey {
    let Some(s) = value.as_scalar() else {
        return DigestKey::Empty(DigestSlot::Nowhere(
            "its digest: key holds a list or a map".into(),
        ));
    };
    let raw = text.get(s.source.clone()).unwrap_or("");
    match s.style {
        Style::SingleQuoted | Style::DoubleQuoted if s.value.is_empty() && raw.len() == 2 => {
            DigestKey::Empty(DigestSlot::Insert {
                at: s.source.start + 1,
                before: String::new(),
                after: String::new(),
            })
        }
        Style::Plain if raw.is_empty() => match colon_after(text, key.source().end) {
            Some(colon) => DigestKey::Empty(DigestSlot::Insert {
                at: colon + 1,
                before: " ".into(),
                after: String::new(),
            }),
            None => DigestKey::Empty(DigestSlot::Nowhere(
                "its empty digest: key is written in a way imagepin can't edit".into(),
            )),
        },
        Style::Plain if value.is_null() => DigestKey::Empty(DigestSlot::Nowhere(format!(
            "its digest is `{raw}`; write `digest: \"\"` so it can be filled in"
        ))),
        _ if s.value.is_empty() => DigestKey::Empty(DigestSlot::Nowhere(
            "its empty digest: value is written in a way imagepin can't edit".into(),
        )),
        _ => match &s.span {
            Some(span) => DigestKey::Set(s.value.to_string(), DigestSlot::At(span.clone())),
            None => DigestKey::Set(
                s.value.to_string(),
                DigestSlot::Nowhere("its digest is written with escapes or across lines".into()),
            ),
        },
    }
}

/// The byte offset of the `:` that follows a key ending at `end` (spaces
/// and tabs between them allowed).
fn colon_after(text: &str, end: usize) -> Option<usize> {
    let rest = text.get(end..)?;
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    (rest[skipped..].starts_with(':')).then_some(end + skipped)
}

/// `@` after a tag value, or the digest already in it (`tag: "1.2@sha256:…"`).
pub(super) fn in_tag(tag: &Node) -> DigestSlot {
    let Some(span) = tag.span() else {
        return DigestSlot::Nowhere("its tag is written with escapes or across lines".into());
    };
    let value = tag.as_str().unwrap_or("");
    match value.find('@') {
        Some(at) => DigestSlot::At(span.start + at + 1..span.end),
        None => DigestSlot::Insert {
            at: span.end,
            before: "@".into(),
            after: String::new(),
        },
    }
}

/// A new `key: <digest>` entry in `map`, after its last entry: in a flow
/// mapping `, key: ` right after the last value; in a block mapping a new
/// line with the entries' indentation, the last value's quoting and the
/// file's line ending.
pub(super) fn new_entry(text: &str, map: &Node, key: &str) -> DigestSlot {
    let Some(m) = map.as_mapping() else {
        return DigestSlot::Nowhere("not a mapping".into());
    };
    let entries: Vec<(&Node, &Node)> = map.entries().collect();
    if entries.iter().any(|(k, _)| k.as_str() == Some("<<")) {
        return DigestSlot::Nowhere("the mapping uses a << merge key".into());
    }
    let Some(&(last_key, last_value)) = entries.last() else {
        return DigestSlot::Nowhere("the mapping is empty".into());
    };
    let Some(value) = last_value.as_scalar() else {
        return DigestSlot::Nowhere(format!(
            "its last key, {}, holds a list or a map",
            last_key.as_str().unwrap_or("?")
        ));
    };
    let value_text = text.get(value.source.clone()).unwrap_or("");
    if value_text.contains(['\n', '\r']) || matches!(value.style, Style::Literal | Style::Folded) {
        return DigestSlot::Nowhere("its last value spans lines".into());
    }
    let end = if value_text.is_empty() {
        // An empty value: after the key's colon.
        match colon_after(text, last_key.source().end) {
            Some(c) => c + 1,
            None => return DigestSlot::Nowhere("its last entry has no value".into()),
        }
    } else {
        value.source.end
    };
    if m.flow {
        return DigestSlot::Insert {
            at: end,
            before: format!(", {key}: "),
            after: String::new(),
        };
    }
    // Block mapping: the keys' column, from the last key's line.
    let key_start = last_key.source().start;
    let (Some(before_key), Some(after_value)) = (text.get(..key_start), text.get(end..)) else {
        return DigestSlot::Nowhere("the mapping could not be located in the text".into());
    };
    let line_start = before_key.rfind('\n').map_or(0, |i| i + 1);
    let prefix = &before_key[line_start..];
    if !prefix.chars().all(|c| c == ' ' || c == '-') {
        return DigestSlot::Nowhere("its keys are not each on a line of their own".into());
    }
    let indent = " ".repeat(prefix.len());
    let quote = match value.style {
        Style::SingleQuoted => "'",
        Style::DoubleQuoted => "\"",
        _ => "",
    };
    match after_value.find('\n') {
        Some(nl) => {
            let eol = if after_value[..nl].ends_with('\r') {
                "\r\n"
            } else {
                "\n"
            };
            DigestSlot::Insert {
                at: end + nl + 1,
                before: format!("{indent}{key}: {quote}"),
                after: format!("{quote}{eol}"),
            }
        }
        None => {
            // The last line of the file, without a line ending of its own.
            let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
            DigestSlot::Insert {
                at: text.len(),
                before: format!("{eol}{indent}{key}: {quote}"),
                after: quote.to_string(),
            }
        }
    }
}
