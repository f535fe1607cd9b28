//! A small YAML document tree with byte spans, built from `granit-parser`
//! events and shared by the YAML scanners (Compose, Kubernetes, GitHub
//! Actions, GitLab CI).
//!
//! [`parse`] turns a (multi-document) stream into [`Document`]s whose nodes are
//! [`Node::Mapping`], [`Node::Sequence`] or [`Node::Scalar`]. Every scalar
//! knows the byte span of the text a user would edit ([`Scalar::span`]): the
//! raw text of a plain scalar, the inside of the quotes of a quoted one, and
//! `None` when that text differs from the value (escapes, folded lines) or for
//! block scalars. Aliases resolve to the anchored node itself (shared, never
//! copied), so an image under an anchor has one span however often it is used,
//! and a "billion laughs" stream stays as small as its text. A tree borrows
//! from the text it was parsed from: a value written as is (most plain and
//! quoted scalars) is a slice of it, and only anchored nodes are reference
//! counted; the others are held in place by their parent. [`Node::get`]
//! follows `<<` merge keys, explicit keys winning over merged ones;
//! [`Node::merged_entries`] lists a mapping's effective entries.
//!
//! Walkers that descend "at any depth" should keep a visited set of
//! [`Node::id`]s: shared nodes make the tree a DAG, and walking every path
//! of a billion-laughs stream is exponential. [`Scalar::source_range`] maps a
//! range of a value (a literal `|` block too) back to the source, for
//! scanners that run another scanner over embedded text.
//!
//! A tree costs far more than its text (a node per scalar), so for big inputs
//! [`parse_each`] hands over each document as it ends, and each item of a
//! top-level `items:` sequence (a Kubernetes `List`) as soon as it is
//! complete, and frees it after: memory stays at about one item's tree.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::rc::Rc;

mod build;

pub use build::parse;
pub(crate) use build::{Piece, parse_each};

/// One document of a YAML stream.
#[derive(Debug)]
pub struct Document<'a> {
    root: Child<'a>,
}

impl<'a> Document<'a> {
    /// The document's root node (an empty document is a null scalar).
    pub fn root(&self) -> &Node<'a> {
        &self.root
    }

    /// Shorthand for `self.root().get(key)`.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.root.get(key)
    }
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` block scalar.
    Literal,
    /// `>` block scalar.
    Folded,
}

/// A scalar: its value after YAML processing and where it is written.
#[derive(Debug)]
pub struct Scalar<'a> {
    /// The value after escape processing and line folding (`~` for an empty
    /// node): borrowed from the source text when written there as is.
    pub value: Cow<'a, str>,
    pub style: Style,
    /// Byte span of the text a user would edit: the raw text of a plain scalar,
    /// the inside of the quotes of a quoted one. `None` when that text is not
    /// exactly `value` (escapes, `''`, multi-line folding, empty nodes) and for
    /// block scalars.
    pub span: Option<Range<usize>>,
    /// Byte span of the whole token, quotes included (tag and anchor excluded).
    pub source: Range<usize>,
    /// The tag as written (`!reset`, `!!str`), if any.
    pub tag: Option<String>,
}

impl Scalar<'_> {
    /// The byte span of the whole value in `text` when it is written on one
    /// line: [`Scalar::span`], or for a one-line block scalar (`|`, `>-`) that
    /// line's text (the value without its final line break). `None` for
    /// multi-line values, escapes and empty nodes.
    pub fn value_span(&self, text: &str) -> Option<Range<usize>> {
        if let Some(span) = &self.span {
            return Some(span.clone());
        }
        let value = self.value.trim_end_matches('\n');
        if value.is_empty() || value.contains('\n') {
            return None;
        }
        self.source_range(text, 0..value.len())
    }

    /// Maps a byte range of [`Scalar::value`] to the byte range of the same
    /// text in `text` (the text this tree was parsed from): for scalars with a
    /// [`Scalar::span`], and for literal (`|`) block scalars, whose lines are the
    /// source lines without their indentation. `None` when the range crosses a
    /// line break or the source text there differs (folded scalars, escapes).
    /// Lets a scanner run another scanner over an embedded text, such as a
    /// Compose `dockerfile_inline`, and keep exact spans.
    pub fn source_range(&self, text: &str, within: Range<usize>) -> Option<Range<usize>> {
        let wanted = self.value.get(within.clone())?;
        let found = if let Some(span) = &self.span {
            span.start + within.start..span.start + within.end
        } else if self.style == Style::Literal
            || (self.style == Style::Folded && !self.value.trim_end_matches('\n').contains('\n'))
        {
            if wanted.contains('\n') {
                return None;
            }
            // The value's line holding `within`, and the column in it.
            let line_no = self.value[..within.start].matches('\n').count();
            let line_start = self.value[..within.start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = self.value[line_start..]
                .find('\n')
                .map_or(self.value.len(), |i| line_start + i);
            let value_line = &self.value[line_start..line_end];
            // The same line in the source: the token starts at the first
            // line's content, after its indentation.
            let first = text
                .get(..self.source.start)?
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let region = text.get(first..self.source.end)?;
            let mut offset = first;
            let mut source_line = None;
            for (i, raw) in region.split_inclusive('\n').enumerate() {
                if i == line_no {
                    source_line = Some((offset, raw.trim_end_matches(['\n', '\r'])));
                    break;
                }
                offset += raw.len();
            }
            let (offset, line) = source_line?;
            let indent = line.len().checked_sub(value_line.len())?;
            if !line.ends_with(value_line) || !line[..indent].bytes().all(|b| b == b' ') {
                return None;
            }
            let column = within.start - line_start;
            offset + indent + column..offset + indent + column + wanted.len()
        } else {
            return None;
        };
        (text.get(found.clone()) == Some(wanted)).then_some(found)
    }
}

/// A mapping: key/value pairs in document order.
#[derive(Debug)]
pub struct Mapping<'a> {
    entries: Vec<(Child<'a>, Child<'a>)>,
    /// Written as `{…}` rather than as an indented block.
    pub flow: bool,
    /// Byte span from the opening of the mapping to its end (may be empty for
    /// block mappings, whose start and end are implicit).
    pub source: Range<usize>,
    pub tag: Option<String>,
}

/// A sequence: items in document order.
#[derive(Debug)]
pub struct Sequence<'a> {
    items: Vec<Child<'a>>,
    /// Written as `[…]` rather than as `- ` items.
    pub flow: bool,
    pub source: Range<usize>,
    pub tag: Option<String>,
}

/// A node of the tree. Aliases are resolved: an alias is the anchored node.
#[derive(Debug)]
pub enum Node<'a> {
    Mapping(Mapping<'a>),
    Sequence(Sequence<'a>),
    Scalar(Scalar<'a>),
}

/// A node as its parent (or its document) holds it: in place, or shared
/// with the aliases of its anchor. Only anchored nodes are shared, so a tree
/// costs one allocation per collection rather than one per node.
#[derive(Debug)]
enum Child<'a> {
    Own(Node<'a>),
    Shared(Rc<Node<'a>>),
}

impl<'a> std::ops::Deref for Child<'a> {
    type Target = Node<'a>;

    fn deref(&self) -> &Node<'a> {
        match self {
            Child::Own(node) => node,
            Child::Shared(node) => node,
        }
    }
}

/// How many merge sources one [`Node::get`] looks at before giving up.
const MERGE_LIMIT: usize = 1024;

impl<'a> Node<'a> {
    /// The value for `key` in a mapping: the last explicit entry with that key,
    /// else the first found in `<<` merge sources (`<<: *a`, `<<: [*a, *b]`,
    /// earlier sources winning, merges of merges followed). `None` for a
    /// missing key or when `self` is not a mapping.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        let Node::Mapping(m) = self else { return None };
        if !m.entries.iter().any(|(k, _)| k.is_merge_key()) {
            return m
                .entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| &**v);
        }
        let mut seen = HashSet::new();
        let mut stack: Vec<&Node<'a>> = vec![self];
        while let Some(node) = stack.pop() {
            let Node::Mapping(m) = node else { continue };
            if !seen.insert(node.id()) || seen.len() > MERGE_LIMIT {
                continue;
            }
            if let Some((_, v)) = m
                .entries
                .iter()
                .rev()
                .find(|(k, _)| !k.is_merge_key() && k.as_str() == Some(key))
            {
                return Some(v);
            }
            // Later merge entries are pushed first so the first source is searched first.
            for (_, v) in m.entries.iter().rev().filter(|(k, _)| k.is_merge_key()) {
                match &**v {
                    Node::Sequence(s) => stack.extend(s.items.iter().rev().map(|n| &**n)),
                    other => stack.push(other),
                }
            }
        }
        None
    }

    /// The entries of a mapping as written (a `<<` entry included); empty for
    /// other nodes.
    pub fn entries(&self) -> impl Iterator<Item = (&Node<'a>, &Node<'a>)> {
        let entries: &[(Child<'a>, Child<'a>)] = match self {
            Node::Mapping(m) => &m.entries,
            _ => &[],
        };
        entries.iter().map(|(k, v)| (&**k, &**v))
    }

    /// The effective entries of a mapping after `<<` merges: explicit entries
    /// (without `<<`) in order, then merged keys not set explicitly, each key
    /// once. Empty for other nodes.
    pub fn merged_entries(&self) -> Vec<(&Node<'a>, &Node<'a>)> {
        let Node::Mapping(m) = self else {
            return Vec::new();
        };
        // The common case: no merges, few keys, no hashing.
        if m.entries.len() <= 32 && !m.entries.iter().any(|(k, _)| k.is_merge_key()) {
            let entries = &m.entries;
            return entries
                .iter()
                .enumerate()
                .filter(|&(i, (k, _))| {
                    k.as_str().is_none_or(|name| {
                        !entries[i + 1..]
                            .iter()
                            .any(|(l, _)| l.as_str() == Some(name))
                    })
                })
                .map(|(_, (k, v))| (&**k, &**v))
                .collect();
        }
        let mut out: Vec<(&Node<'a>, &Node<'a>)> = Vec::new();
        let mut keys: HashSet<&str> = HashSet::new();
        let mut seen = HashSet::new();
        let mut stack: Vec<&Node<'a>> = vec![self];
        while let Some(node) = stack.pop() {
            let Node::Mapping(m) = node else { continue };
            if !seen.insert(node.id()) || seen.len() > MERGE_LIMIT {
                continue;
            }
            // The last of duplicate keys wins, as in `get`.
            let mut last: HashMap<&str, usize> = HashMap::new();
            for (i, (k, _)) in m.entries.iter().enumerate() {
                if let Some(name) = k.as_str().filter(|_| !k.is_merge_key()) {
                    last.insert(name, i);
                }
            }
            let mut here: Vec<&str> = Vec::new();
            for (i, (k, v)) in m.entries.iter().enumerate() {
                if k.is_merge_key() {
                    continue;
                }
                match k.as_str() {
                    Some(name) if keys.contains(name) || last.get(name) != Some(&i) => {}
                    Some(name) => {
                        here.push(name);
                        out.push((k, v));
                    }
                    None => out.push((k, v)),
                }
            }
            keys.extend(here);
            for (_, v) in m.entries.iter().rev().filter(|(k, _)| k.is_merge_key()) {
                match &**v {
                    Node::Sequence(s) => stack.extend(s.items.iter().rev().map(|n| &**n)),
                    other => stack.push(other),
                }
            }
        }
        out
    }

    /// The items of a sequence; empty for other nodes.
    pub fn items(&self) -> impl Iterator<Item = &Node<'a>> {
        let items: &[Child<'a>] = match self {
            Node::Sequence(s) => &s.items,
            _ => &[],
        };
        items.iter().map(|n| &**n)
    }

    /// The value of a scalar (any style); `None` for collections.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(&s.value),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar<'a>> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_mapping(&self) -> Option<&Mapping<'a>> {
        match self {
            Node::Mapping(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&Sequence<'a>> {
        match self {
            Node::Sequence(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_mapping(&self) -> bool {
        matches!(self, Node::Mapping(_))
    }

    pub fn is_sequence(&self) -> bool {
        matches!(self, Node::Sequence(_))
    }

    /// A plain `~`, `null`, `Null`, `NULL` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Scalar(s) if s.style == Style::Plain
            && matches!(&*s.value, "" | "~" | "null" | "Null" | "NULL"))
    }

    /// See [`Scalar::value_span`]; `None` for collections.
    pub fn value_span(&self, text: &str) -> Option<Range<usize>> {
        self.as_scalar().and_then(|s| s.value_span(text))
    }

    /// The editable span of a scalar (see [`Scalar::span`]); `None` otherwise.
    pub fn span(&self) -> Option<Range<usize>> {
        self.as_scalar().and_then(|s| s.span.clone())
    }

    /// Byte span of the node's source text (quotes included for scalars).
    pub fn source(&self) -> Range<usize> {
        match self {
            Node::Mapping(m) => m.source.clone(),
            Node::Sequence(s) => s.source.clone(),
            Node::Scalar(s) => s.source.clone(),
        }
    }

    /// The tag as written, if any.
    pub fn tag(&self) -> Option<&str> {
        match self {
            Node::Mapping(m) => m.tag.as_deref(),
            Node::Sequence(s) => s.tag.as_deref(),
            Node::Scalar(s) => s.tag.as_deref(),
        }
    }

    /// An identity for the node: equal for an anchor and all its aliases, so a
    /// walker that follows aliases can keep a visited set (and stays linear on
    /// "billion laughs" input).
    pub fn id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// A plain `<<` key.
    fn is_merge_key(&self) -> bool {
        matches!(self, Node::Scalar(s) if s.style == Style::Plain && &*s.value == "<<")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn one(text: &str) -> Document<'_> {
        let mut docs = parse(text).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    fn edit<'t>(text: &'t str, node: &Node) -> &'t str {
        &text[node.span().unwrap()]
    }

    #[test]
    fn literal_block_ranges_map_to_the_source() {
        let t = "a:\r\n  b: |  # inline dockerfile\r\n    FROM x:1 AS é\r\n\r\n      RUN y\r\n    COPY --from=z:2 . .\r\n  c: \"q\"\r\n  d: >\r\n    folded x:1\r\n";
        let d = one(t);
        let b = d.get("a").unwrap().get("b").unwrap().as_scalar().unwrap();
        assert_eq!(b.value, "FROM x:1 AS é\n\n  RUN y\nCOPY --from=z:2 . .\n");
        let at = |needle: &str| {
            let i = b.value.find(needle).unwrap();
            b.source_range(t, i..i + needle.len()).map(|r| &t[r])
        };
        assert_eq!(at("x:1"), Some("x:1"));
        assert_eq!(at("é"), Some("é"));
        assert_eq!(at("RUN"), Some("RUN"));
        assert_eq!(at("z:2"), Some("z:2"));
        assert_eq!(at("é\n\n  RUN"), None, "ranges never cross lines");
        assert_eq!(b.source_range(t, 0..1000), None);
        let c = d.get("a").unwrap().get("c").unwrap().as_scalar().unwrap();
        assert_eq!(c.source_range(t, 0..1).map(|r| &t[r]), Some("q"));
        let f = d.get("a").unwrap().get("d").unwrap().as_scalar().unwrap();
        // A one-line folded scalar is its line.
        assert_eq!(f.source_range(t, 0..6).map(|r| &t[r]), Some("folded"));
    }

    #[test]
    fn plain_and_quoted_spans_with_crlf_and_utf8() {
        let t = "a: b\r\nc: 'd:1'\r\nimg: \"é/x:1\"\r\nz: ü/plain:2 # note\r\n";
        let d = one(t);
        assert_eq!(edit(t, d.get("a").unwrap()), "b");
        assert_eq!(edit(t, d.get("c").unwrap()), "d:1");
        assert_eq!(edit(t, d.get("img").unwrap()), "é/x:1");
        assert_eq!(edit(t, d.get("z").unwrap()), "ü/plain:2");
        let img = d.get("img").unwrap().as_scalar().unwrap();
        assert_eq!(img.style, Style::DoubleQuoted);
        assert_eq!(&t[img.source.clone()], "\"é/x:1\"");
    }

    #[test]
    fn no_span_when_text_differs_from_value() {
        let t = "a: 'it''s'\nb: \"x\\ty\"\nc: one\n  two\nd: |\n  lit\ne: >\n  fold\nf:\ng: \"multi\n  line\"\n";
        let d = one(t);
        for key in ["a", "b", "c", "d", "e", "f", "g"] {
            assert_eq!(d.get(key).unwrap().span(), None, "{key}");
        }
        assert_eq!(d.get("c").unwrap().as_str(), Some("one two"));
        assert_eq!(
            d.get("d").unwrap().as_scalar().unwrap().style,
            Style::Literal
        );
        assert!(d.get("f").unwrap().is_null());
        assert!(!d.get("a").unwrap().is_null());
    }

    #[test]
    fn one_line_block_scalars_have_a_value_span() {
        let t = "a: |\r\n  nginx:1\r\nb: >-\r\n  ghcr.io/x/y:2 # not a comment\r\nc: |\n  two\n  lines\nd: >\n  folded\n  twice\ne: 'q'\nf: \"\\t\"\n";
        let d = one(t);
        let at = |k: &str| d.get(k).unwrap().value_span(t).map(|r| &t[r]);
        assert_eq!(at("a"), Some("nginx:1"));
        assert_eq!(at("b"), Some("ghcr.io/x/y:2 # not a comment"));
        assert_eq!(at("c"), None);
        assert_eq!(at("d"), None);
        assert_eq!(at("e"), Some("q"));
        assert_eq!(at("f"), None);
    }

    #[test]
    fn flow_collections() {
        let t = "web: {image: \"nginx:1\", ports: [80, '443']}\n";
        let d = one(t);
        let web = d.get("web").unwrap();
        assert!(web.as_mapping().unwrap().flow);
        assert_eq!(edit(t, web.get("image").unwrap()), "nginx:1");
        let ports: Vec<_> = web
            .get("ports")
            .unwrap()
            .items()
            .map(|n| edit(t, n))
            .collect();
        assert_eq!(ports, ["80", "443"]);
        let keys: Vec<_> = web.entries().filter_map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["image", "ports"]);
    }

    #[test]
    fn multi_document_streams() {
        let t = "---\nkind: A\n---\n# only a comment\n---\nkind: B\n...\n";
        let docs = parse(t).unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].get("kind").unwrap().as_str(), Some("A"));
        assert!(docs[1].root().is_null());
        assert_eq!(edit(t, docs[2].get("kind").unwrap()), "B");
        assert!(parse("").unwrap().iter().all(|d| d.root().is_null()));
    }

    #[test]
    fn aliases_are_the_anchored_node() {
        let t = "x: &img nginx:1\na: *img\nb: *img\n";
        let d = one(t);
        let (a, b) = (d.get("a").unwrap(), d.get("b").unwrap());
        assert_eq!(a.id(), d.get("x").unwrap().id());
        assert_eq!(a.id(), b.id());
        assert_eq!(edit(t, b), "nginx:1");
        assert_eq!(
            b.span(),
            Some(t.find("nginx").unwrap()..t.find(":1").unwrap() + 2)
        );
    }

    #[test]
    fn merge_keys_explicit_wins() {
        let t = "\
base: &base {image: a, restart: always}
more: &more {image: b, user: me, tty: true}
one:
  <<: *base
  image: own
two:
  <<: [*more, *base]
three:
  tty: false
  <<: *more
";
        let d = one(t);
        let one_ = d.get("one").unwrap();
        assert_eq!(one_.get("image").unwrap().as_str(), Some("own"));
        assert_eq!(one_.get("restart").unwrap().as_str(), Some("always"));
        let two = d.get("two").unwrap();
        assert_eq!(two.get("image").unwrap().as_str(), Some("b"));
        assert_eq!(two.get("restart").unwrap().as_str(), Some("always"));
        assert_eq!(edit(t, two.get("image").unwrap()), "b");
        assert!(two.get("missing").is_none());
        let three = d.get("three").unwrap();
        assert_eq!(three.get("tty").unwrap().as_str(), Some("false"));
        let merged: Vec<_> = two
            .merged_entries()
            .into_iter()
            .map(|(k, v)| (k.as_str().unwrap(), v.as_str().unwrap()))
            .collect();
        assert_eq!(
            merged,
            [
                ("image", "b"),
                ("user", "me"),
                ("tty", "true"),
                ("restart", "always")
            ]
        );
        // A quoted "<<" is an ordinary key.
        let q = one("m: {'<<': {image: z}}\n");
        assert!(q.get("m").unwrap().get("image").is_none());
    }

    #[test]
    fn nested_merges_are_followed() {
        let t = "a: &a {image: deep}\nb: &b {<<: *a}\nc: {<<: *b, x: 1}\n";
        let d = one(t);
        assert_eq!(edit(t, d.get("c").unwrap().get("image").unwrap()), "deep");
    }

    #[test]
    fn billion_laughs_stays_small() {
        let mut t = String::from("a0: &a0 {<<: {image: lol}, k: v}\n");
        for i in 1..40 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            t.push_str(&format!("a{i}: &a{i} {{<<: [{refs}], l: [{refs}]}}\n"));
        }
        let d = one(&t);
        let top = d.get("a39").unwrap();
        assert!(top.get("missing").is_none());
        assert_eq!(top.get("image").unwrap().as_str(), Some("lol"));
        assert!(top.merged_entries().len() < 10);
    }

    #[test]
    fn self_reference_is_null_not_a_cycle() {
        let d = one("a: &a [1, *a]\nb: &m {<<: *m, k: v}\n");
        let items: Vec<_> = d.get("a").unwrap().items().collect();
        assert!(items[1].is_null());
        assert_eq!(d.get("b").unwrap().get("k").unwrap().as_str(), Some("v"));
    }

    #[test]
    fn tags_are_kept() {
        let d = one("image: !reset null\nx: !!str 1\n");
        assert_eq!(d.get("image").unwrap().tag(), Some("!reset"));
        assert_eq!(d.get("x").unwrap().tag(), Some("!!str"));
    }

    #[test]
    fn errors_have_one_based_positions() {
        let e = parse("a: b\nc: [d\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{e:?}");
        assert!(e.line.is_some() && e.column.is_some());
        let e = parse("a: 1\nb: *nope\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e:?}");
        let e = parse("ok: 1\n  bad: 2\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e:?}");
        assert!(e.column.unwrap() >= 1);
        let e = parse("k: \"é\" x\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e:?}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).is_err());
        let mut block = String::new();
        for i in 0..2000 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        assert!(parse(&block).is_err());
    }
}
