//! YAML files with template lines and expressions (Jinja, Ansible, Helm,
//! cookiecutter: `{% if … %}`, `{{ … }}`, `{# … #}`) that are not valid YAML
//! as they stand.
//!
//! [`scan_masked`] lets a YAML scanner read such a file: when the text does
//! not parse and holds template tags, the scanner runs over a copy of the
//! same length in which every tag is masked, and its occurrences keep their
//! byte spans in the original. Masking never moves a byte:
//!
//! - a line holding nothing but tags (`{% endif %}`, `{{- include "x" . }}`)
//!   and blanks becomes blanks, so it drops out of the YAML structure;
//! - a tag spanning lines, or following a quoted value and a blank
//!   (`"v" {# note #}`), becomes blanks (line breaks kept);
//! - any other tag becomes the same number of `x` bytes, so a value or key
//!   written with one stays a plain scalar (`image: {{ img }}`,
//!   `"{{ template "n" . }}"`, `{{ name }}:`).
//!
//! An image occurrence whose text overlaps a masked tag is
//! [`Hint::Dynamic`]: the template fills it in. When the masked copy does
//! not parse either, the original parse error is returned.

use std::collections::BTreeMap;
use std::ops::Range;

use super::{Hint, Occurrence, ScanError};

/// Tag delimiters: (open, close).
const TAGS: &[(&str, &str)] = &[("{{", "}}"), ("{%", "%}"), ("{#", "#}")];

/// Runs `scan` over `text`; when that fails and `text` holds template tags,
/// over the masked copy (see the module doc).
pub(crate) fn scan_masked(
    text: &str,
    scan: impl Fn(&str) -> Result<Vec<Occurrence>, ScanError>,
) -> Result<Vec<Occurrence>, ScanError> {
    let error = match scan(text) {
        Ok(found) => return Ok(found),
        Err(e) => e,
    };
    let tags = tags(text);
    if tags.is_empty() {
        return Err(error);
    }
    let masked = mask(text, &tags);
    let Ok(mut found) = scan(&masked) else {
        return Err(error);
    };
    // Contexts name keys as masked (`services.xxxxxxx.image`): show the tags
    // again (the first tag of each length), longest mask first so that a
    // shorter one never splits it.
    let mut by_length: BTreeMap<usize, &str> = BTreeMap::new();
    for t in &tags {
        let written = &text[t.clone()];
        if !written.contains(['\n', '\r']) {
            by_length.entry(t.len()).or_insert(written);
        }
    }
    for o in &mut found {
        // Tags are in order and never overlap: the first one ending after
        // the span's start is the only candidate to begin before its end.
        let i = tags.partition_point(|t| t.end <= o.span.start);
        let templated = tags.get(i).is_some_and(|t| t.start < o.span.end);
        if templated && o.hint == Hint::Image {
            o.hint = Hint::Dynamic;
        }
        if o.context.contains("xx") {
            for (&len, written) in by_length.iter().rev() {
                let x = "x".repeat(len);
                if o.context.contains(&x) {
                    o.context = o.context.replace(&x, written);
                }
            }
        }
    }
    Ok(found)
}

/// The byte ranges of the template tags in `text`, in order. An unclosed tag
/// ends the search.
pub(crate) fn tags(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    // The next start of each kind of tag at or after `pos`, found once per
    // tag kind and position so that the search stays linear.
    let mut next: Vec<Option<usize>> = TAGS.iter().map(|(open, _)| text.find(open)).collect();
    let mut pos = 0;
    loop {
        for (i, (open, _)) in TAGS.iter().enumerate() {
            if next[i].is_some_and(|n| n < pos) {
                next[i] = text[pos..].find(open).map(|n| pos + n);
            }
        }
        let Some((i, start)) = next
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (i, n)))
            .min_by_key(|&(_, n)| n)
        else {
            break;
        };
        let close = TAGS[i].1;
        let Some(end) = text[start + 2..].find(close).map(|n| start + 2 + n + 2) else {
            break;
        };
        found.push(start..end);
        pos = end;
    }
    found
}

/// `text` with `tags` masked; the same length, and every byte outside the
/// tags (and every line break) where it was.
pub(crate) fn mask(text: &str, tags: &[Range<usize>]) -> String {
    let mut out = text.as_bytes().to_vec();
    let blank = |out: &mut Vec<u8>, range: Range<usize>| {
        for b in &mut out[range] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    };
    for tag in tags {
        // After a quoted value and a blank (`"v" {# note #}`), a tag is a
        // trailing comment of sorts: a plain scalar there is invalid YAML.
        let before = text[..tag.start].trim_end_matches([' ', '\t']);
        let after_quote = before.len() < tag.start && before.ends_with(['"', '\'']);
        if after_quote || text[tag.clone()].contains(['\n', '\r']) {
            blank(&mut out, tag.clone());
        } else {
            out[tag.clone()].fill(b'x');
        }
    }
    // Lines of nothing but tags and blanks: blank the whole line.
    let is_blank = |s: &str| s.trim_matches([' ', '\t']).is_empty();
    let mut start = 0;
    // The first tag that may touch the current line (lines and tags are
    // both in order, so the walk is linear).
    let mut first = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.trim_end_matches(['\n', '\r']).len();
        while tags.get(first).is_some_and(|t| t.end <= start) {
            first += 1;
        }
        let mut on_line = tags[first..]
            .iter()
            .take_while(|t| t.start < end)
            .peekable();
        if on_line.peek().is_some() {
            let mut pos = start;
            let mut only_tags = true;
            for tag in on_line {
                only_tags &= is_blank(&text[pos..tag.start.max(pos)]);
                pos = pos.max(tag.end);
            }
            if only_tags && is_blank(&text[pos.min(end)..end]) {
                blank(&mut out, start..end);
            }
        }
        start += line.len();
    }
    // Only ASCII bytes replaced whole characters (tags start and end with
    // ASCII delimiters), so the result is UTF-8; fall back to the text.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        mask(text, &tags(text))
    }

    #[test]
    fn tag_lines_become_blank_inline_tags_become_x() {
        let t = "{% if a %}\r\nimage: {{ img }}\n  {{- include \"x\" . }} {{ end }}\nq: \"{{ t \"n\" . }}\"\n{% endif %}";
        let m = masked(t);
        assert_eq!(m.len(), t.len());
        assert_eq!(
            m,
            "          \r\nimage: xxxxxxxxx\n                                \nq: \"xxxxxxxxxxxxx\"\n           "
        );
    }

    #[test]
    fn multi_line_tags_are_blanked_and_unclosed_tags_left() {
        let t = "a: {{- /* one\n two */ -}}\nb: c\nd: {{ open\n";
        assert_eq!(masked(t), "a:           \n           \nb: c\nd: {{ open\n");
        assert_eq!(tags("é {{ x }} ü {% y %}").len(), 2);
        assert!(tags("no tags } here {").is_empty());
    }

    #[test]
    fn a_tag_after_a_quoted_value_is_blanked() {
        let t = "a: \"{{ v }}\" {# note #}\nb: 'x'{{ y }}\nc: d {{ e }}\n";
        assert_eq!(
            masked(t),
            "a: \"xxxxxxx\"           \nb: 'x'xxxxxxx\nc: d xxxxxxx\n"
        );
    }

    #[test]
    fn utf8_inside_tags_keeps_the_length() {
        let t = "k: {{ é }} ü\n";
        let m = masked(t);
        assert_eq!(m.len(), t.len());
        assert_eq!(m, "k: xxxxxxxx ü\n");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for t in [
            "{{",
            "}}{{",
            "{%}",
            "{#}#}",
            "\n{{\n}}\n",
            "{{}}",
            "{{é}}\r\n{%%}",
        ] {
            let m = masked(t);
            assert_eq!(m.len(), t.len(), "{t:?}");
        }
    }
}
