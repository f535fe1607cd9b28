//! Defaults that float behind variables: `FROM golang:${GO_VERSION}` with
//! `ARG GO_VERSION=1.26` (before the first `FROM`) builds `golang:1.26`
//! unless a build argument says otherwise, and that default is what CI
//! pulls. This module says which texts supply such an image (global `ARG`
//! defaults, `${X:-default}` words) and where its digest can go so that it
//! stays with that image.
//!
//! The digest goes at the end of the text that supplies the image's last
//! characters, found by following the last variable of the word into the
//! `ARG` default (or `${X:-default}` word) it expands to:
//! - an `ARG` default is edited only when that `ARG` is used nowhere else in
//!   the file (no other `FROM`, `RUN`, `ENV`, `LABEL` or `ARG` mentions
//!   it; a self-reference `ARG X=${X:-…}` is no use), so the digest reaches
//!   this one image and nothing else;
//! - literal text after the last variable takes the digest only when it
//!   holds a `/` (the variables pick a registry or path, not the tag):
//!   `FROM golang:${V}-alpine` can't be pinned in place, since a digest at
//!   its end would no longer follow `V`;
//! - the text that takes the digest must make up the whole tag: in
//!   `golang:${GO_VERSION}-alpine${ALPINE_VERSION}` a digest after
//!   `ALPINE_VERSION`'s default would hide a change to `GO_VERSION`;
//! - escapes, single quotes and other modifiers are left alone.
//!
//! A variable that is undeclared, declared without a default, or set only by
//! the build (`TARGETARCH`) leaves the `FROM` dynamic, as do defaults that
//! make no valid reference.

use std::collections::HashSet;
use std::ops::Range;

use super::Scanner;
use super::expand::{PLATFORM_ARGS, Value};

/// Nested defaults and `ARG` chains followed at most this deep.
const MAX_DEPTH: usize = 8;

/// One piece of a word, in byte offsets of the word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    /// Text without variables.
    Lit(Range<usize>),
    /// A double quote, which BuildKit removes.
    Quote,
    /// `$X` / `${X}` (`word` `None`), `${X:-w}` / `${X-w}` (`alt` false) or
    /// `${X:+w}` / `${X+w}` (`alt` true).
    Var {
        name: Range<usize>,
        colon: bool,
        alt: bool,
        word: Option<Range<usize>>,
    },
}

/// The pieces of `text`, or `None` when it has what this module does not
/// follow (escapes, single quotes, other `${…}` modifiers, a `$` without a
/// name, an unclosed brace).
pub(super) fn segments(text: &str) -> Option<Vec<Seg>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut lit = 0;
    let flush = |out: &mut Vec<Seg>, from: usize, to: usize| {
        if from < to {
            out.push(Seg::Lit(from..to));
        }
    };
    while i < b.len() {
        match b[i] {
            b'\\' | b'\'' | b'`' => return None,
            b'"' => {
                flush(&mut out, lit, i);
                out.push(Seg::Quote);
                i += 1;
                lit = i;
            }
            b'$' => {
                flush(&mut out, lit, i);
                let (seg, next) = variable(text, i)?;
                out.push(seg);
                i = next;
                lit = i;
            }
            _ => i += 1,
        }
    }
    flush(&mut out, lit, b.len());
    Some(out)
}

fn name_len(s: &[u8]) -> usize {
    match s.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => s
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count(),
        _ => 0,
    }
}

/// The variable at `text[at]` (a `$`) and where it ends.
fn variable(text: &str, at: usize) -> Option<(Seg, usize)> {
    let b = text.as_bytes();
    let start = at + 1;
    if b.get(start) != Some(&b'{') {
        let n = name_len(&b[start..]);
        return (n > 0).then(|| {
            let seg = Seg::Var {
                name: start..start + n,
                colon: false,
                alt: false,
                word: None,
            };
            (seg, start + n)
        });
    }
    let close = super::expand::matching_brace(b, start)?;
    let name_at = start + 1;
    let n = name_len(&b[name_at..close]);
    if n == 0 {
        return None;
    }
    let name = name_at..name_at + n;
    let rest = name.end;
    let colon = b.get(rest) == Some(&b':');
    let op_at = rest + usize::from(colon);
    let seg = match b.get(op_at) {
        _ if rest == close => Seg::Var {
            name,
            colon: false,
            alt: false,
            word: None,
        },
        Some(b'-') | Some(b'+') => Seg::Var {
            name,
            colon,
            alt: b[op_at] == b'+',
            word: Some(op_at + 1..close),
        },
        _ => return None,
    };
    Some((seg, close + 1))
}

/// Text written in the file: what it says and, when it is contiguous
/// there, where.
#[derive(Debug, Clone)]
pub(super) struct Src<'a> {
    pub text: &'a str,
    pub span: Option<Range<usize>>,
}

impl<'a> Src<'a> {
    fn sub(&self, r: Range<usize>) -> Src<'a> {
        Src {
            text: &self.text[r.clone()],
            span: self
                .span
                .as_ref()
                .map(|s| s.start + r.start..s.start + r.end),
        }
    }
}

/// A piece of an expanded image: how long it is, the span start of the
/// text it comes from, and who supplies that text.
struct Chunk {
    len: usize,
    from: Option<usize>,
    who: String,
}

/// How a variable expands at some point of the file.
enum Expands<'s> {
    /// To the default of the global `ARG` declared `decl`-th.
    Arg(usize),
    /// To its `${X:-w}` / `${X:+w}` word.
    Word(Src<'s>),
    /// To nothing.
    Empty,
    /// To something unknown here.
    Unknown,
}

impl Scanner<'_> {
    /// The declaration (index into `decls`) that `name` has before
    /// declaration `before`.
    pub(super) fn decl_before(&self, name: &str, before: usize) -> Option<usize> {
        let ids = self.decl_ids.get(name)?;
        let n = ids.partition_point(|&i| i < before);
        n.checked_sub(1).map(|k| ids[k])
    }

    fn value_before(&self, name: &str, before: usize) -> (Value, Option<usize>) {
        match self.decl_before(name, before) {
            Some(d) => (self.decls[d].arg.value.clone(), Some(d)),
            None if PLATFORM_ARGS.contains(&name) => (Value::Unknown, None),
            None => (Value::Unset, None),
        }
    }

    /// What the variable segment `seg` of `src` expands to, with the
    /// `ARG`s declared before `before`.
    fn expands<'s>(&self, src: &Src<'s>, seg: &Seg, before: usize) -> Expands<'s> {
        let Seg::Var {
            name,
            colon,
            alt,
            word,
        } = seg
        else {
            return Expands::Unknown;
        };
        let (value, decl) = self.value_before(&src.text[name.clone()], before);
        let set = match &value {
            Value::Known(v) => !(*colon && v.is_empty()),
            Value::Unset => false,
            Value::Unknown => return Expands::Unknown,
        };
        match (word, *alt, set, decl) {
            (None, _, true, Some(d)) | (Some(_), false, true, Some(d)) => Expands::Arg(d),
            (None, _, _, _) => Expands::Empty,
            (Some(w), false, false, _) => Expands::Word(src.sub(w.clone())),
            (Some(w), true, true, _) => Expands::Word(src.sub(w.clone())),
            (Some(_), true, false, _) => Expands::Empty,
            (Some(_), false, true, None) => Expands::Unknown,
        }
    }

    /// The span of the text that supplies the last characters of what
    /// `src` expands to (with the `ARG`s declared before `before`), where a
    /// digest goes; or why there is no such place.
    pub(super) fn tail(&self, src: &Src<'_>, before: usize, depth: usize) -> Result<Range<usize>, String> {
        if depth > MAX_DEPTH {
            return Err("its variables nest too deep to follow".into());
        }
        let segs = segments(src.text)
            .ok_or_else(|| format!("{} has escapes, quotes or modifiers imagepin does not follow", src.text))?;
        let Some(last) = segs.iter().rev().find(|s| **s != Seg::Quote) else {
            return Err("it ends in an empty default".into());
        };
        let name = |seg: &Seg| match seg {
            Seg::Var { name, .. } => src.text[name.clone()].to_string(),
            _ => String::new(),
        };
        match last {
            Seg::Lit(r) => {
                let t = &src.text[r.clone()];
                if segs.len() > 1 && !t.contains(['/', '@']) {
                    let var = segs.iter().rev().find_map(|s| match s {
                        Seg::Var { .. } => Some(name(s)),
                        _ => None,
                    });
                    return Err(format!(
                        "the reference goes on after ${{{}}}, so a digest at its end would not follow that variable",
                        var.unwrap_or_default()
                    ));
                }
                src.sub(r.clone())
                    .span
                    .ok_or_else(|| "it is written across lines".into())
            }
            Seg::Quote => Err("it ends in an empty default".into()),
            Seg::Var { .. } => match self.expands(src, last, before) {
                Expands::Arg(d) => {
                    let var = name(last);
                    self.only_use(&var)?;
                    let decl = &self.decls[d];
                    let Some((text, span)) = &decl.arg.default else {
                        return Err(format!("ARG {var} has no default"));
                    };
                    let inner = Src {
                        text,
                        span: span.clone(),
                    };
                    if inner.span.is_none() {
                        return Err(format!(
                            "the default of ARG {var} (line {}) is written across lines",
                            decl.line
                        ));
                    }
                    self.tail(&inner, d, depth + 1)
                }
                Expands::Word(w) => self.tail(&w, before, depth + 1),
                Expands::Empty => Err(format!(
                    "it ends in ${{{}}}, which is empty by default",
                    name(last)
                )),
                Expands::Unknown => Err(format!("${{{}}} has no default", name(last))),
            },
        }
    }

    /// `Ok` when the text at `tail` (see [`Scanner::tail`]) is all that
    /// makes up the tag of `image`, what `src` expands to; otherwise a
    /// digest there would hide a change to the other parts
    /// (`golang:${GO_VERSION}-alpine${ALPINE_VERSION}`).
    pub(super) fn tag_only_from(
        &self,
        src: &Src<'_>,
        before: usize,
        image: &str,
        tail: &Range<usize>,
    ) -> Result<(), String> {
        let mut chunks = Vec::new();
        let total: usize = if self.render(src, before, 0, "the FROM line", &mut chunks) {
            chunks.iter().map(|c| c.len).sum()
        } else {
            0
        };
        if total != image.len() {
            return Err("imagepin can't tell which text makes up its tag".into());
        }
        let name_tag = image.split('@').next().unwrap_or(image);
        let last = name_tag.rfind('/').map_or(0, |i| i + 1);
        let Some(tag) = name_tag[last..].find(':').map(|i| last + i + 1) else {
            return Ok(());
        };
        let mut others: Vec<&str> = Vec::new();
        let mut at = 0;
        for c in &chunks {
            let overlaps = at + c.len > tag && at < name_tag.len() && c.len > 0;
            if overlaps && c.from != Some(tail.start) && !others.contains(&c.who.as_str()) {
                others.push(&c.who);
            }
            at += c.len;
        }
        match others.as_slice() {
            [] => Ok(()),
            [one] => Err(format!(
                "{one} also makes up its tag, and a digest would hide a change to it"
            )),
            [first @ .., last] => Err(format!(
                "{} and {last} also make up its tag, and a digest would hide a change to them",
                first.join(", ")
            )),
        }
    }

    /// Appends the pieces `src` expands to, each with the span start of
    /// the text it comes from and who supplies that text; `false` when a
    /// part is unknown here.
    fn render(
        &self,
        src: &Src<'_>,
        before: usize,
        depth: usize,
        who: &str,
        out: &mut Vec<Chunk>,
    ) -> bool {
        if depth > MAX_DEPTH || out.len() > 256 {
            return false;
        }
        let Some(segs) = segments(src.text) else {
            return false;
        };
        for seg in &segs {
            let ok = match seg {
                Seg::Lit(r) => {
                    out.push(Chunk {
                        len: r.len(),
                        from: src.sub(r.clone()).span.map(|s| s.start),
                        who: who.to_string(),
                    });
                    true
                }
                Seg::Quote => true,
                Seg::Var { name, alt, .. } => match self.expands(src, seg, before) {
                    Expands::Arg(d) => {
                        let decl = &self.decls[d];
                        let who = format!("ARG {} (line {})", &src.text[name.clone()], decl.line);
                        match &decl.arg.default {
                            Some((text, span)) => {
                                let inner = Src {
                                    text,
                                    span: span.clone(),
                                };
                                self.render(&inner, d, depth + 1, &who, out)
                            }
                            None => false,
                        }
                    }
                    Expands::Word(w) => {
                        let op = if *alt { "+" } else { "-" };
                        let who = format!("${{{}:{op}…}}", &src.text[name.clone()]);
                        self.render(&w, before, depth + 1, &who, out)
                    }
                    Expands::Empty => true,
                    Expands::Unknown => false,
                },
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// `Ok` when the global `ARG` `name` is used exactly once in the file
    /// (a self-reference in its own default does not count).
    fn only_use(&self, name: &str) -> Result<(), String> {
        let own: Vec<&Range<usize>> = self
            .decl_ids
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|&d| self.decls[d].arg.written.as_ref())
            .collect();
        let uses: Vec<usize> = self
            .uses()
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|at| !own.iter().any(|r| r.contains(at)))
            .collect();
        if uses.len() <= 1 {
            return Ok(());
        }
        // At most a few line numbers, however many uses there are.
        let lines: std::collections::BTreeSet<usize> =
            uses.iter().map(|&at| self.line_of(at)).collect();
        let mut shown: Vec<String> = lines.iter().take(5).map(usize::to_string).collect();
        if lines.len() > 5 {
            shown.push("…".into());
        }
        Err(format!(
            "ARG {name} is used on more than this line (lines {}); a digest in its default would reach them all",
            shown.join(", ")
        ))
    }

    /// Which texts make up the image `src` expands to: `ARG X (line N)` for
    /// each global `ARG` default, `${X:-…}` for a default written in the word.
    /// `None` when a variable in it is undeclared or has no default (it
    /// expands to nothing, or to what only the build knows).
    pub(super) fn suppliers(&self, src: &Src<'_>, before: usize) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.collect_suppliers(src, before, 0, &mut seen, &mut out)
            .then_some(out)
    }

    /// Adds the suppliers of `src` to `out`; `false` when a variable in it
    /// is undeclared or unknown.
    fn collect_suppliers(
        &self,
        src: &Src<'_>,
        before: usize,
        depth: usize,
        seen: &mut HashSet<usize>,
        out: &mut Vec<String>,
    ) -> bool {
        if depth > MAX_DEPTH || out.len() > 16 {
            return false;
        }
        let Some(segs) = segments(src.text) else {
            return false;
        };
        for seg in segs {
            let Seg::Var { name, .. } = &seg else {
                continue;
            };
            let complete = match self.expands(src, &seg, before) {
                Expands::Arg(d) => {
                    if !seen.insert(d) {
                        continue;
                    }
                    let decl = &self.decls[d];
                    out.push(format!("ARG {} (line {})", &src.text[name.clone()], decl.line));
                    match &decl.arg.default {
                        Some((text, span)) => {
                            let inner = Src {
                                text,
                                span: span.clone(),
                            };
                            self.collect_suppliers(&inner, d, depth + 1, seen, out)
                        }
                        None => false,
                    }
                }
                Expands::Word(w) => {
                    let op = if matches!(seg, Seg::Var { alt: true, .. }) {
                        "+"
                    } else {
                        "-"
                    };
                    let text = format!("${{{}:{op}…}}", &src.text[name.clone()]);
                    if !out.contains(&text) {
                        out.push(text);
                    }
                    self.collect_suppliers(&w, before, depth + 1, seen, out)
                }
                // Empty by default: fine when the ARG is declared (`ARG X=`)
                // or the word says so (`${X:+w}`); an undeclared `$X` is
                // more likely a mistake or a value only the build knows.
                Expands::Empty => match self.decl_before(&src.text[name.clone()], before) {
                    Some(d) => {
                        if seen.insert(d) {
                            let line = self.decls[d].line;
                            out.push(format!("ARG {} (line {line})", &src.text[name.clone()]));
                        }
                        true
                    }
                    None => matches!(seg, Seg::Var { alt: true, .. }),
                },
                Expands::Unknown => false,
            };
            if !complete {
                return false;
            }
        }
        true
    }
}

/// Where each variable is used in `text`: the offsets of `$X` and `${X…`
/// outside comment lines.
pub(super) fn variable_uses(text: &str) -> std::collections::HashMap<String, Vec<usize>> {
    let mut uses: std::collections::HashMap<String, Vec<usize>> = Default::default();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if !line.trim_start().starts_with('#') {
            let b = line.as_bytes();
            for (i, _) in line.match_indices('$') {
                let at = i + 1 + usize::from(b.get(i + 1) == Some(&b'{'));
                let n = name_len(&b[at.min(b.len())..]);
                if n > 0 {
                    uses.entry(line[at..at + n].to_string())
                        .or_default()
                        .push(line_start + i);
                }
            }
        }
        line_start += line.len();
    }
    uses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_of_words() {
        let t = "golang:${GO:-1.2}-\"$A\"${B:+x}";
        let s = segments(t).unwrap();
        assert_eq!(s[0], Seg::Lit(0..7));
        assert!(matches!(&s[1], Seg::Var { word: Some(w), alt: false, colon: true, .. } if &t[w.clone()] == "1.2"));
        assert_eq!(s[2], Seg::Lit(17..18));
        assert_eq!(s[3], Seg::Quote);
        assert!(matches!(&s[4], Seg::Var { name, word: None, .. } if &t[name.clone()] == "A"));
        assert!(matches!(&s[6], Seg::Var { alt: true, .. }));
        for bad in ["a\\$b", "'$A'", "${A:?x}", "${", "$", "${}", "${A#x}", "a`b"] {
            assert_eq!(segments(bad), None, "{bad}");
        }
    }

    #[test]
    fn uses_skip_comment_lines() {
        let t = "ARG V=1\n# $V\nFROM a:${V}\nRUN echo $V $VX ${V:-x}\n";
        let u = variable_uses(t);
        assert_eq!(u["V"].len(), 3);
        assert_eq!(u["VX"].len(), 1);
        assert_eq!(&t[u["V"][0]..u["V"][0] + 4], "${V}");
    }
}
