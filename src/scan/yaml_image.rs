//! Shared pieces of the YAML scanners: turning a YAML node that holds an image
//! into an [`Occurrence`] with an exact span ([`image_scalar`]), the
//! `image: ref` / `image: {name: ref}` pair of forms ([`image_or_name`]), a
//! `docker://ref` value ([`docker_url`]), and walking a collection of steps or
//! services written either as a list or as a map ([`list_or_map`]).

use std::ops::Range;

use super::yaml::{Node, Style};
use super::{Hint, Occurrence, is_templated};

/// An occurrence for a scalar image value; `None` for collections, nulls and
/// empty strings. When the written text differs from the value (escapes,
/// folded lines, block scalars) the occurrence covers the raw text: the
/// grammar rejects it, so it fails `--check` as invalid and is never
/// rewritten, rather than passing silently.
pub(super) fn image_scalar(
    node: &Node,
    hint: Hint,
    context: impl Into<String>,
) -> Option<Occurrence> {
    let scalar = node.as_scalar()?;
    if node.is_null() || scalar.value.is_empty() {
        return None;
    }
    match scalar.span.clone() {
        Some(span) => Some(Occurrence::new(span, hint, context)),
        None => {
            let span = raw_span(node)?;
            let unreadable = hint == Hint::Image && !is_templated(&scalar.value);
            let hint = if unreadable { Hint::Unreadable } else { hint };
            Some(Occurrence::new(span, hint, context))
        }
    }
}

/// The written text of a scalar without its quotes (for a block scalar, the
/// whole token).
pub(super) fn raw_span(node: &Node) -> Option<Range<usize>> {
    let scalar = node.as_scalar()?;
    let source = scalar.source.clone();
    let span = match scalar.style {
        Style::SingleQuoted | Style::DoubleQuoted if source.len() >= 2 => {
            source.start + 1..source.end - 1
        }
        _ => source,
    };
    (!span.is_empty()).then_some(span)
}

/// An image written as a string (`image: ref`, context `context`) or as a
/// mapping with the reference under `name` (`image: {name: ref, …}`, context
/// `context.name`), as GitLab CI and Bitbucket Pipelines allow. A mapping
/// without `name`, a null or an empty string is no occurrence.
pub(super) fn image_or_name(node: &Node, hint: Hint, context: &str) -> Option<Occurrence> {
    if node.is_mapping() {
        let name = node.get("name")?;
        image_scalar(name, hint, format!("{context}.name"))
    } else {
        image_scalar(node, hint, context)
    }
}

/// The entries of a collection of steps or services, whichever way it is
/// written: a list (`- name: build`, suffix `[0]`) or a map (`build:`, suffix
/// `.build`). Map keys that are not strings are skipped; anything else is
/// empty.
pub(super) fn list_or_map<'n>(node: &'n Node<'n>) -> Vec<(String, &'n Node<'n>)> {
    if node.is_sequence() {
        node.items()
            .enumerate()
            .map(|(i, item)| (format!("[{i}]"), item))
            .collect()
    } else {
        node.merged_entries()
            .into_iter()
            .filter_map(|(k, v)| Some((format!(".{}", k.as_str()?), v)))
            .collect()
    }
}

/// The scheme that marks an image where other things may be named too (a
/// GitHub step's or action's `uses`, a Bitbucket `pipe`).
const DOCKER_SCHEME: &str = "docker://";

/// A `docker://…` scalar: the occurrence is the text after the scheme. `None`
/// for anything else.
pub(super) fn docker_url(node: &Node, context: &str) -> Option<Occurrence> {
    let scalar = node.as_scalar()?;
    if !has_docker_scheme(&scalar.value) || scalar.value.len() == DOCKER_SCHEME.len() {
        return None;
    }
    let span = match &scalar.span {
        Some(span) => span.start + DOCKER_SCHEME.len()..span.end,
        // Escapes or folding: the raw text, which the grammar rejects, so the
        // reference fails `--check` as invalid instead of being rewritten.
        None => raw_span(node)?,
    };
    Some(Occurrence::new(span, Hint::Image, context))
}

pub(super) fn has_docker_scheme(value: &str) -> bool {
    value
        .get(..DOCKER_SCHEME.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(DOCKER_SCHEME))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::scan::yaml;

    fn root(text: &str) -> yaml::Document<'_> {
        yaml::parse(text).unwrap().remove(0)
    }

    #[test]
    fn image_or_name_reads_both_forms() {
        let t = "a: alpine:3\nb: {name: 'busybox:1', username: u}\nc: {username: u}\nd:\n";
        let d = root(t);
        let at = |k: &str| image_or_name(d.get(k).unwrap(), Hint::Image, k);
        let a = at("a").unwrap();
        assert_eq!((&t[a.span], a.context.as_str()), ("alpine:3", "a"));
        let b = at("b").unwrap();
        assert_eq!((&t[b.span], b.context.as_str()), ("busybox:1", "b.name"));
        assert!(at("c").is_none());
        assert!(at("d").is_none());
    }

    #[test]
    fn list_or_map_suffixes() {
        let d = root("l: [x, y]\nm: {a: 1, <<: {b: 2}}\ns: text\n");
        let suffixes = |k: &str| -> Vec<String> {
            list_or_map(d.get(k).unwrap())
                .into_iter()
                .map(|(s, _)| s)
                .collect()
        };
        assert_eq!(suffixes("l"), ["[0]", "[1]"]);
        assert_eq!(suffixes("m"), [".a", ".b"]);
        assert!(suffixes("s").is_empty());
    }
}
