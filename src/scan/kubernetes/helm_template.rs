//! The line-based pass over Helm chart templates, which are not valid YAML:
//! when a Kubernetes file does not parse and contains `{{`, `image:` values
//! whose parent key is a container key ([`super::CONTAINER_LISTS`],
//! [`super::SINGLE_CONTAINERS`]) are reported, outside block scalars and
//! ConfigMap/Secret documents; templated values are dynamic, a literal value
//! in a template is a real image.

use super::{CONTAINER_LISTS, PLACEHOLDERS, SINGLE_CONTAINERS};
use crate::scan::yaml::Node;
use crate::scan::{Hint, Occurrence};

/// One physical line: its byte offset and text without the line ending.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = offset;
        offset += raw.len();
        (start, raw.trim_end_matches(['\n', '\r']))
    })
}

fn is_document_marker(line: &str) -> bool {
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

/// A document that is a ConfigMap or a Secret.
fn is_payload_kind(doc: &[(usize, &str)]) -> bool {
    doc.iter().any(|(_, l)| {
        l.strip_prefix("kind:").is_some_and(|k| {
            let k = k.trim().trim_matches(['"', '\'']);
            k == "ConfigMap" || k == "Secret"
        })
    })
}

pub(super) fn scan(text: &str) -> Vec<Occurrence> {
    let mut found = Vec::new();
    let all: Vec<(usize, &str)> = lines(text).collect();
    for doc in all.split(|(_, l)| is_document_marker(l)) {
        if !is_payload_kind(doc) {
            document(doc, &mut found);
        }
    }
    found
}

fn document(doc: &[(usize, &str)], found: &mut Vec<Occurrence>) {
    // Open keys: (indent of the key, key).
    let mut stack: Vec<(usize, &str)> = Vec::new();
    // Indent of the key that opened a block scalar, while inside it.
    let mut block: Option<usize> = None;
    for &(start, line) in doc {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let mut indent = line.len() - trimmed.len();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(b) = block {
            if indent > b {
                continue;
            }
            block = None;
        }
        if trimmed.starts_with('#') || trimmed.starts_with("{{") {
            continue;
        }
        let mut content = trimmed;
        let mut dash = indent;
        while let Some(rest) = content
            .strip_prefix('-')
            .filter(|r| r.is_empty() || r.starts_with([' ', '\t']))
        {
            dash = indent;
            let inner = rest.trim_start_matches([' ', '\t']);
            indent += content.len() - inner.len();
            content = inner;
        }
        let content_start = start + (line.len() - content.len());
        if is_block_indicator(content) {
            // `- |`: the item's text is more indented than its dash.
            block = Some(dash);
            continue;
        }
        if content.starts_with('{') {
            // `- {name: a, image: b}`: a one-line flow mapping item.
            while stack.last().is_some_and(|&(i, _)| i >= indent) {
                stack.pop();
            }
            if let Some(&(_, parent)) = stack.last()
                && CONTAINER_LISTS.contains(&parent)
            {
                flow_images(content, content_start, parent, found);
            }
            continue;
        }
        let Some((key, value)) = split_key(content) else {
            continue;
        };
        while stack.last().is_some_and(|&(i, _)| i >= indent) {
            stack.pop();
        }
        let parent = stack.last().map(|&(_, k)| k);
        let value_start = start + (line.len() - value.len());
        let v = value.trim_start_matches([' ', '\t']);
        let value_start = value_start + (value.len() - v.len());
        if is_block_indicator(v) {
            block = Some(indent);
        }
        if (v.starts_with('{') && SINGLE_CONTAINERS.contains(&key))
            || (v.starts_with('[') && CONTAINER_LISTS.contains(&key))
        {
            flow_images(v, value_start, key, found);
        }
        if key == "image"
            && let Some(parent) =
                parent.filter(|p| CONTAINER_LISTS.contains(p) || SINGLE_CONTAINERS.contains(p))
            && let Some(span) = value_span(v)
            && !PLACEHOLDERS.contains(&&v[span.clone()])
        {
            found.push(Occurrence::new(
                value_start + span.start..value_start + span.end,
                Hint::Image,
                template_context(parent),
            ));
        }
        stack.push((indent, key));
    }
}

/// The images of a one-line flow collection: a container (`{image: a}`)
/// or a list of them (`[{image: a}, {image: b}]`) starting at `offset`.
fn flow_images(fragment: &str, offset: usize, parent: &str, found: &mut Vec<Occurrence>) {
    let Ok(docs) = crate::scan::yaml::parse(fragment) else {
        return;
    };
    let Some(root) = docs.first().map(|d| d.root()) else {
        return;
    };
    let containers: Vec<_> = if root.is_sequence() {
        root.items().collect()
    } else {
        vec![root]
    };
    for c in containers {
        if let Some(span) = c
            .get("image")
            .filter(|i| !i.as_str().is_some_and(|v| PLACEHOLDERS.contains(&v)))
            .and_then(Node::span)
            .filter(|s| !s.is_empty())
        {
            found.push(Occurrence::new(
                offset + span.start..offset + span.end,
                Hint::Image,
                template_context(parent),
            ));
        }
    }
}

fn template_context(parent: &str) -> String {
    if SINGLE_CONTAINERS.contains(&parent) {
        format!("{parent}.image (template)")
    } else {
        format!("{parent}[].image (template)")
    }
}

/// `key: value` or `key:` at the start of `content`.
fn split_key(content: &str) -> Option<(&str, &str)> {
    let mut search = 0;
    loop {
        let i = search + content[search..].find(':')?;
        let after = &content[i + 1..];
        if after.is_empty() || after.starts_with([' ', '\t']) {
            let key = content[..i].trim_matches(['"', '\'']);
            if key.is_empty() || key.contains(['{', '}', '[', ']', ' ', '#']) {
                return None;
            }
            return Some((key, after));
        }
        search = i + 1;
    }
}

/// `|`, `>`, `|-`, `>+2`… optionally followed by a comment.
fn is_block_indicator(v: &str) -> bool {
    let head = v.split(" #").next().unwrap_or("").trim_end();
    head.starts_with(['|', '>'])
        && head[1..]
            .chars()
            .all(|c| c == '-' || c == '+' || c.is_ascii_digit())
}

/// The text of a value: inside the outermost quotes (nested template
/// quotes included), or a plain value up to a comment.
fn value_span(v: &str) -> Option<std::ops::Range<usize>> {
    let range = match v.chars().next()? {
        q @ ('"' | '\'') => {
            // The closing quote is the first one followed only by blanks,
            // a comment or a template comment: quotes nested in a
            // template (`"{{ template "name" . }}"`) are skipped.
            let end = v
                .match_indices(q)
                .map(|(i, _)| i)
                .filter(|&i| i > 0)
                .find(|&i| {
                    let rest = v[i + 1..].trim_start();
                    rest.is_empty() || rest.starts_with('#') || rest.starts_with("{{")
                })?;
            1..end
        }
        '|' | '>' | '&' | '*' | '!' => return None,
        _ => {
            let end = v.find(" #").unwrap_or(v.len());
            0..v[..end].trim_end().len()
        }
    };
    (!range.is_empty()).then_some(range)
}
