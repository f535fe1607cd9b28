//! Building the tree of [`super`] from `granit-parser` events: [`parse`] for
//! a whole stream, [`parse_each`] for big inputs (one document, or one item
//! of a top-level `items:` list, at a time), with every scalar's editable
//! byte span ([`scalar_span`]) and aliases resolved to the anchored node.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

use granit_parser::{Event, Parser, ScalarStyle, options};

use super::{Child, Document, Mapping, Node, Scalar, Sequence, Style};
use crate::scan::ScanError;

/// Parses a YAML stream into its documents. A syntax error (or an alias to an
/// unknown anchor) is a [`ScanError`] with a 1-based line and column.
pub fn parse(text: &str) -> Result<Vec<Document<'_>>, ScanError> {
    let mut documents = Vec::new();
    parse_with(text, false, &mut |piece| {
        if let Piece::Document(d) = piece {
            documents.push(d);
        }
    })?;
    Ok(documents)
}

/// What [`parse_each`] hands over.
pub(crate) enum Piece<'a, 't> {
    /// One item of a document's top-level `items:` sequence (a Kubernetes
    /// `List`), as soon as it is complete. The document keeps a null in its
    /// place, so the item's tree is freed once the callback returns.
    Item(ListItem<'a, 't>),
    /// A complete document (its `items:` already handed over item by item).
    Document(Document<'t>),
}

/// An item of a top-level `items:` sequence, and what its document's root
/// mapping has shown so far.
pub(crate) struct ListItem<'a, 't> {
    /// The item's position in the sequence (0-based).
    pub index: usize,
    pub node: &'a Node<'t>,
    /// The root mapping's entries so far: key, value, key, value, ….
    root: &'a [Child<'t>],
}

impl<'t> ListItem<'_, 't> {
    /// The value of an explicit `key` of the document root that comes before
    /// `items:` (`kind`, `apiVersion`), if any.
    pub(crate) fn root_get(&self, key: &str) -> Option<&Node<'t>> {
        self.root
            .chunks_exact(2)
            .rev()
            .find(|kv| kv[0].as_str() == Some(key))
            .map(|kv| &*kv[1])
    }
}

/// [`parse`] for big inputs: each document is handed to `each` as soon as it
/// ends and freed after, and each item of a top-level `items:` sequence
/// before that, so peak memory is about one document (or one item) rather
/// than the whole stream. A syntax error stops the stream; pieces already
/// handed over stay handed over.
pub(crate) fn parse_each<'t>(
    text: &'t str,
    each: &mut dyn FnMut(Piece<'_, 't>),
) -> Result<(), ScanError> {
    parse_with(text, true, each)
}

fn parse_with<'t>(
    text: &'t str,
    split_items: bool,
    each: &mut dyn FnMut(Piece<'_, 't>),
) -> Result<(), ScanError> {
    let opts = options! { emit_comments: false };
    let mut builder = Builder {
        split_items,
        ..Builder::default()
    };
    for next in Parser::new_from_str_with_options(text, opts) {
        let (event, span) = next.map_err(|e| {
            let m = e.marker();
            ScanError::at(
                format!("invalid YAML: {}", e.info()),
                m.line().max(1),
                m.col() + 1,
            )
        })?;
        let range = span.byte_range().unwrap_or(0..0);
        builder.event(event, range, text, each)?;
    }
    Ok(())
}

/// A collection being built. Its children so far are on
/// [`Builder::children`] from `base` on (a mapping's as key, value, key, …),
/// so each collection gets one exactly sized vector when it ends.
struct Frame {
    mapping: bool,
    base: usize,
    flow: bool,
    start: usize,
    anchor: usize,
    tag: Option<String>,
}

#[derive(Default)]
struct Builder<'t> {
    stack: Vec<Frame>,
    /// The children of the collections on `stack`, innermost last.
    children: Vec<Child<'t>>,
    root: Option<Child<'t>>,
    anchors: HashMap<usize, Rc<Node<'t>>>,
    /// Hand over the items of a top-level `items:` sequence one by one.
    split_items: bool,
    /// The null left in place of an item handed over (one, shared).
    handed_over: Option<Rc<Node<'t>>>,
}

impl<'t> Builder<'t> {
    fn event(
        &mut self,
        event: Event<'t>,
        range: Range<usize>,
        text: &'t str,
        each: &mut dyn FnMut(Piece<'_, 't>),
    ) -> Result<(), ScanError> {
        let mut push = |b: &mut Builder<'t>, node: Child<'t>| b.push(node, each);
        let mapping = matches!(event, Event::MappingStart(..));
        match event {
            Event::DocumentStart(..) => {
                self.stack.clear();
                self.children.clear();
                self.root = None;
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                let root = self.root.take().unwrap_or_else(|| null_at(range.start));
                self.stack.clear();
                self.children.clear();
                // Anchors keep nodes alive: a finished document frees them.
                self.anchors.clear();
                each(Piece::Document(Document { root }));
            }
            Event::Scalar(value, style, anchor, tag) => {
                let (style, span) = scalar_span(&value, style, &range, text);
                let node = Node::Scalar(Scalar {
                    value,
                    style,
                    span,
                    source: range,
                    tag: tag.map(|t| t.original()),
                });
                let node = self.anchored(node, anchor);
                push(self, node);
            }
            Event::Alias(id) => {
                // An alias to a collection still being built (a self-reference)
                // cannot be shared without a cycle: it becomes a null node.
                let node = self
                    .anchors
                    .get(&id)
                    .map_or_else(|| null_at(range.start), |n| Child::Shared(n.clone()));
                push(self, node);
            }
            Event::UnresolvedAlias(name) => {
                return Err(ScanError::new(format!("YAML alias *{name} has no anchor")));
            }
            Event::SequenceStart(style, anchor, tag) | Event::MappingStart(style, anchor, tag) => {
                self.stack.push(Frame {
                    mapping,
                    base: self.children.len(),
                    flow: is_flow(style),
                    start: range.start,
                    anchor,
                    tag: tag.map(|t| t.original()),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(ScanError::new("invalid YAML: unbalanced collection"));
                };
                let source = frame.start..range.end.max(frame.start);
                let node = if frame.mapping {
                    let mut children = self.children.drain(frame.base..);
                    // A key without a value (never in a well-formed stream) is dropped.
                    let mut entries = Vec::with_capacity(children.len() / 2);
                    while let (Some(k), Some(v)) = (children.next(), children.next()) {
                        entries.push((k, v));
                    }
                    Node::Mapping(Mapping {
                        entries,
                        flow: frame.flow,
                        source,
                        tag: frame.tag,
                    })
                } else {
                    Node::Sequence(Sequence {
                        items: self.children.drain(frame.base..).collect(),
                        flow: frame.flow,
                        source,
                        tag: frame.tag,
                    })
                };
                let node = self.anchored(node, frame.anchor);
                push(self, node);
            }
            _ => {}
        }
        Ok(())
    }

    /// The node as its parent holds it: shared when it has an anchor (and
    /// remembered for the aliases to come), else in place.
    fn anchored(&mut self, node: Node<'t>, anchor: usize) -> Child<'t> {
        if anchor == 0 {
            return Child::Own(node);
        }
        let node = Rc::new(node);
        self.anchors.insert(anchor, node.clone());
        Child::Shared(node)
    }

    fn push(&mut self, node: Child<'t>, each: &mut dyn FnMut(Piece<'_, 't>)) {
        if self.split_items {
            if let [
                Frame {
                    mapping: true,
                    base: map,
                    ..
                },
                Frame {
                    mapping: false,
                    base: seq,
                    ..
                },
            ] = self.stack[..]
            {
                // The root mapping's key waiting for its value (the
                // sequence) is the last of its children.
                let key = (seq - map) % 2 == 1;
                if key && self.children[seq - 1].as_str() == Some("items") {
                    each(Piece::Item(ListItem {
                        index: self.children.len() - seq,
                        node: &node,
                        root: &self.children[map..seq - 1],
                    }));
                    drop(node);
                    let null = self
                        .handed_over
                        .get_or_insert_with(|| Rc::new(null_node(0)))
                        .clone();
                    self.children.push(Child::Shared(null));
                    return;
                }
            }
        }
        if self.stack.is_empty() {
            self.root = Some(node);
        } else {
            self.children.push(node);
        }
    }
}

fn is_flow(style: granit_parser::StructureStyle) -> bool {
    matches!(style, granit_parser::StructureStyle::Flow)
}

fn null_at<'t>(at: usize) -> Child<'t> {
    Child::Own(null_node(at))
}

fn null_node<'t>(at: usize) -> Node<'t> {
    Node::Scalar(Scalar {
        value: Cow::Borrowed("~"),
        style: Style::Plain,
        span: None,
        source: at..at,
        tag: None,
    })
}

/// The style and editable span of a scalar whose token covers `range`.
fn scalar_span(
    value: &str,
    style: ScalarStyle,
    range: &Range<usize>,
    text: &str,
) -> (Style, Option<Range<usize>>) {
    let raw = text.get(range.clone()).unwrap_or("");
    let (style, inner) = match style {
        ScalarStyle::Plain => (Style::Plain, Some(range.clone())),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            let quote = if matches!(style, ScalarStyle::SingleQuoted) {
                '\''
            } else {
                '"'
            };
            let s = if quote == '\'' {
                Style::SingleQuoted
            } else {
                Style::DoubleQuoted
            };
            let quoted = raw.len() >= 2 && raw.starts_with(quote) && raw.ends_with(quote);
            (s, quoted.then(|| range.start + 1..range.end - 1))
        }
        ScalarStyle::Literal => (Style::Literal, None),
        ScalarStyle::Folded => (Style::Folded, None),
        // A style added by a later parser version: no editable span.
        #[allow(unreachable_patterns)]
        _ => (Style::Plain, None),
    };
    let span = inner.filter(|r| text.get(r.clone()) == Some(value));
    (style, span)
}
