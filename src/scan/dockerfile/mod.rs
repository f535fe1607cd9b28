//! Scanner for Dockerfiles and Containerfiles: finds the `# syntax=`
//! frontend, every `FROM` base, `COPY`/`ADD --from=` and
//! `RUN --mount=…,from=` source, and tells images from build stages.
//!
//! The [`lexer`] turns the text into logical instructions the way BuildKit
//! does (directives, continuations, heredocs); this module gives each
//! reference a [`Hint`]:
//!
//! - `FROM` bases: `scratch` (any case) is [`Hint::Scratch`]; a name that
//!   equals (ASCII case-insensitively) a stage declared by an *earlier*
//!   `FROM … AS name` is [`Hint::Stage`] (so a stage called `golang` shadows
//!   the Docker Hub image from then on); anything else is an image.
//! - `FROM $X` / `FROM ${X}` where `X` is an `ARG` declared before the first
//!   `FROM` with a default that is a complete reference: the occurrence is
//!   that default, at the `ARG` line (context `ARG X`), once however many
//!   `FROM`s use it, since that is where a digest belongs.
//! - `ARG X=${X:-image}` (the variable unset there) is the same as
//!   `ARG X=image`: the occurrence is `image`, inside the braces.
//! - Other `FROM`s with variables are expanded with the global `ARG`
//!   defaults: when the result names an earlier stage, or the text before the
//!   first unknown variable is a non-empty prefix of an earlier stage that the
//!   whole pattern matches (`binaries-$TARGETOS`), or all unknown variables are
//!   automatic platform ARGs and a stage matches (`FROM ${TARGETOS}`), it is a
//!   stage. When every variable has a default (`FROM golang:${GO_VERSION}`
//!   with `ARG GO_VERSION=1.26`, `FROM debian:${DEB:-bookworm}`), the `FROM`
//!   word is the occurrence as a split reference: the image the default build
//!   pulls, which defaults make it up, and where its digest goes
//!   ([`defaults`]). Otherwise the `FROM` word itself is the occurrence (its
//!   `$` makes it dynamic).
//! - `COPY`/`ADD --from=X` and `RUN --mount=…,from=X`: a numeric index or
//!   the name of any stage in the file (BuildKit resolves these after reading
//!   all stages) is a stage, `scratch` is scratch, anything else an image.
//!   Only the `--from=X` form exists (`--from X` is a BuildKit error).
//! - `ONBUILD COPY --from=X` (and `ONBUILD ADD`, `ONBUILD RUN --mount`) runs
//!   in a downstream build whose stages are unknown here: a stage of this
//!   file or an index is a stage, a word that looks like a registry image
//!   (has `/`, `:`, `@`, `.` or a variable) is an image, and a bare name is
//!   [`Hint::Dynamic`] (it may be a downstream stage).
//!
//! Spans cover the reference text only: never quotes, never a `\r`. A word
//! that a line continuation splits has no contiguous span and is skipped.
//! Malformed instructions are skipped; the scanner never fails.

mod defaults;
mod expand;
pub(crate) mod lexer;

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;

use self::defaults::Src;
use self::expand::{PLATFORM_ARGS, Pattern, Value, expand};
use self::lexer::{Instruction, Word, lex};
use std::path::Path;

use super::kind::{Kind, Syntax, lower_name};
use super::{Hint, LineIndex, Occurrence, ScanError};
use crate::finding::{DigestSlot, FileKind, Split};
use crate::reference::Reference;
/// Dockerfiles and Containerfiles: `Dockerfile`, `Dockerfile.prod`,
/// `Dockerfile-windows`, `app.dockerfile`, `x.containerfile` (any case), but
/// not `Dockerfile.md`-style documentation or patches.
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("dockerfile"),
    names: is_dockerfile_name,
    sniff: None,
    scan,
    syntax: Syntax::Lines,
    keys: &["FROM", "COPY --from=", "RUN --mount=from=", "ARG", "# syntax="],
    relate: None,
};

fn is_dockerfile_name(path: &Path) -> bool {
    let Some(lower) = lower_name(path) else {
        return false;
    };
    (lower.starts_with("dockerfile")
        || lower.starts_with("containerfile")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile"))
        && !(lower.ends_with(".md") || lower.ends_with(".txt") || lower.ends_with(".patch"))
}

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let lexed = lex(text);
    let mut scanner = Scanner {
        text,
        all_stages: lexed
            .instructions
            .iter()
            .filter(|i| i.keyword == "from")
            .filter_map(stage_name)
            .collect(),
        earlier_stages: BTreeSet::new(),
        globals: HashMap::new(),
        decls: Vec::new(),
        decl_ids: HashMap::new(),
        uses: OnceCell::new(),
        lines: OnceCell::new(),
        seen_from: false,
        arg_occurrences: HashSet::new(),
        found: Vec::new(),
    };
    if let Some(span) = lexed.syntax.clone() {
        scanner.push(span, Hint::Image, "# syntax");
    }
    for ins in &lexed.instructions {
        scanner.instruction(ins);
    }
    Ok(scanner.found)
}

/// The lowercase stage name a `FROM … AS name` declares.
fn stage_name(ins: &Instruction) -> Option<String> {
    let args: Vec<&Word> = ins.words[1..]
        .iter()
        .skip_while(|w| w.text.starts_with("--"))
        .collect();
    match args.as_slice() {
        [_, as_kw, name, ..] if as_kw.text.eq_ignore_ascii_case("as") => {
            Some(name.text.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// An `ARG` declared before the first `FROM`.
#[derive(Debug, Clone)]
struct GlobalArg {
    /// Its default, expanded with the ARGs declared before it.
    value: Value,
    /// The default as written (one pair of enclosing quotes removed) and its
    /// span, when it has one. For `ARG X=${Y:-d}` with `Y` unset there, `d`.
    default: Option<(String, Option<Range<usize>>)>,
    /// The span of the whole default as written, when it has one.
    written: Option<Range<usize>>,
}

/// One declaration of a global `ARG`, in file order.
#[derive(Debug, Clone)]
struct Decl {
    arg: GlobalArg,
    /// 1-based line of the `ARG` instruction.
    line: usize,
}

struct Scanner<'t> {
    text: &'t str,
    /// Every stage name in the file (lowercase).
    all_stages: BTreeSet<String>,
    /// Stage names declared by the `FROM`s read so far (lowercase).
    earlier_stages: BTreeSet<String>,
    globals: HashMap<String, GlobalArg>,
    /// Every global `ARG` declaration, in file order, and the indices of
    /// each name's declarations.
    decls: Vec<Decl>,
    decl_ids: HashMap<String, Vec<usize>>,
    /// Where each variable is used (see [`defaults::variable_uses`]), made
    /// when first needed.
    uses: OnceCell<HashMap<String, Vec<usize>>>,
    lines: OnceCell<LineIndex>,
    seen_from: bool,
    /// Starts of ARG defaults already reported.
    arg_occurrences: HashSet<usize>,
    found: Vec<Occurrence>,
}

impl Scanner<'_> {
    fn push(&mut self, span: Range<usize>, hint: Hint, context: impl Into<String>) {
        // A reference never contains whitespace (a quoted word can).
        match self.text.get(span.clone()) {
            Some(s) if !s.is_empty() && !s.contains(|c: char| c.is_whitespace()) => {}
            _ => return,
        }
        self.found.push(Occurrence::new(span, hint, context));
    }

    fn instruction(&mut self, ins: &Instruction) {
        match ins.keyword.as_str() {
            "arg" if !self.seen_from => self.global_arg(&ins.words[1..], ins.line),
            "from" => self.from(ins),
            "copy" | "add" | "run" => self.sources(&ins.keyword, &ins.words[1..], false),
            "onbuild" => {
                if let Some(sub) = ins.words.get(1) {
                    let kw = sub.text.to_ascii_lowercase();
                    if matches!(kw.as_str(), "copy" | "add" | "run") {
                        self.sources(&kw, &ins.words[2..], true);
                    }
                }
            }
            _ => {}
        }
    }

    fn lookup(&self, name: &str) -> Value {
        match self.globals.get(name) {
            Some(g) => g.value.clone(),
            None if PLATFORM_ARGS.contains(&name) => Value::Unknown,
            None => Value::Unset,
        }
    }

    fn global_arg(&mut self, words: &[Word], line: usize) {
        for w in words {
            let (name, default) = match w.text.split_once('=') {
                Some((name, _)) => {
                    let (text, span) = unquote(w, name.len() + 1..w.text.len());
                    (name, Some((text.to_string(), span)))
                }
                None => (&*w.text, None),
            };
            if name.is_empty() {
                continue;
            }
            let arg = match default {
                Some((text, span)) => {
                    let pattern = expand(&text, &|n| self.lookup(n));
                    let value = pattern.literal().map_or(Value::Unknown, Value::Known);
                    let default = self
                        .effective_default(&text, span.clone())
                        .unwrap_or((text, span.clone()));
                    GlobalArg {
                        value,
                        default: Some(default),
                        written: span,
                    }
                }
                // `ARG X` again keeps an earlier default.
                None => match self.globals.get(name) {
                    Some(g) => g.clone(),
                    None => GlobalArg {
                        value: Value::Unknown,
                        default: None,
                        written: None,
                    },
                },
            };
            // `ARG X` again: its default is still written where it was.
            let previous = self.decl_ids.get(name).and_then(|ids| ids.last());
            let line = match previous.map(|&d| &self.decls[d]) {
                Some(p) if arg.written.is_some() && p.arg.written == arg.written => p.line,
                _ => line,
            };
            self.decl_ids
                .entry(name.to_string())
                .or_default()
                .push(self.decls.len());
            self.decls.push(Decl {
                arg: arg.clone(),
                line,
            });
            self.globals.insert(name.to_string(), arg);
        }
    }

    /// For a default that is one `${Y:-d}` (or `${Y-d}`) with `Y` unset
    /// here, such as `ARG BASE=${BASE:-python:3.12}`: `d` and its span,
    /// which is what the default is.
    fn effective_default(
        &self,
        text: &str,
        span: Option<Range<usize>>,
    ) -> Option<(String, Option<Range<usize>>)> {
        let segs = defaults::segments(text)?;
        let [
            defaults::Seg::Var {
                name,
                colon,
                alt: false,
                word: Some(word),
            },
        ] = segs.as_slice()
        else {
            return None;
        };
        let unset = match self.lookup(&text[name.clone()]) {
            Value::Unset => true,
            Value::Known(v) => *colon && v.is_empty(),
            Value::Unknown => false,
        };
        let d = &text[word.clone()];
        let plain = !d.is_empty() && !d.contains(['$', '"', '\\', '\'', '`', '{', '}']);
        (unset && plain).then(|| {
            let sub = span.map(|s| s.start + word.start..s.start + word.end);
            (d.to_string(), sub)
        })
    }

    fn from(&mut self, ins: &Instruction) {
        self.seen_from = true;
        let mut args = ins.words[1..]
            .iter()
            .skip_while(|w| w.text.starts_with("--"));
        if let Some(image) = args.next() {
            let (text, span) = unquote(image, 0..image.text.len());
            if let Some(span) = span {
                self.base_image(text, span);
            }
        }
        if let Some(name) = stage_name(ins) {
            self.earlier_stages.insert(name);
        }
    }

    /// Whether `name` is scratch or an earlier stage.
    fn base_hint(&self, name: &str) -> Option<Hint> {
        let lower = name.to_ascii_lowercase();
        if lower == "scratch" {
            Some(Hint::Scratch)
        } else if self.earlier_stages.contains(&lower) {
            Some(Hint::Stage)
        } else {
            None
        }
    }

    fn base_image(&mut self, text: &str, span: Range<usize>) {
        if text.is_empty() {
            return;
        }
        if !text.contains('$') {
            let hint = self.base_hint(text).unwrap_or(Hint::Image);
            self.push(span, hint, "FROM");
            return;
        }
        if let Some(name) = whole_variable(text) {
            if let Some((default, Some(arg_span))) = self
                .globals
                .get(name)
                .and_then(|g| g.default.clone())
                .filter(|(d, _)| is_complete_reference(d))
            {
                match self.base_hint(&default) {
                    Some(hint) => self.push(span, hint, "FROM"),
                    None => {
                        if self.arg_occurrences.insert(arg_span.start) {
                            self.push(arg_span, Hint::Image, format!("ARG {name}"));
                        }
                    }
                }
                return;
            }
        }
        let pattern = expand(text, &|n| self.lookup(n));
        let hint = self.pattern_hint(&pattern, &self.earlier_stages);
        match pattern.literal() {
            Some(image) if hint == Hint::Image => self.default_image(text, span, image),
            _ => self.push(span, hint, "FROM"),
        }
    }

    /// A `FROM` word whose variables all have defaults (global `ARG`s,
    /// `${X:-d}`): reported at the word, as the image the default build
    /// pulls, saying which defaults make it up and where its digest goes.
    fn default_image(&mut self, text: &str, span: Range<usize>, image: String) {
        let src = Src {
            text,
            span: Some(span.clone()),
        };
        let before = self.decls.len();
        // An undeclared variable, one only the build knows, or defaults that
        // make no valid reference (`${IMAGE}@${IMAGE_SHA}` with an empty
        // `IMAGE_SHA`: meant to be given at build time) leave it dynamic.
        let (Some(suppliers), Ok(r)) = (self.suppliers(&src, before), Reference::parse(&image))
        else {
            self.push(span, Hint::Image, "FROM");
            return;
        };
        let mut note = match suppliers.as_slice() {
            [] => format!("the default value of {text}"),
            [one] => format!("the default of {one}"),
            [first @ .., last] => format!("the defaults of {} and {last}", first.join(", ")),
        };
        let tail = self
            .tail(&src, before, 0)
            .and_then(|piece| self.tag_only_from(&src, before, &image, &piece).map(|()| piece));
        let digest = match tail {
            Err(why) => DigestSlot::Nowhere(why),
            Ok(piece) => match r.digest {
                None => DigestSlot::Insert {
                    at: piece.end,
                    before: "@".into(),
                    after: String::new(),
                },
                Some(d) => {
                    let written = &self.text[piece.clone()];
                    match written.rfind('@') {
                        Some(at) if written[at + 1..] == d => {
                            DigestSlot::At(piece.start + at + 1..piece.end)
                        }
                        _ => DigestSlot::Nowhere("its digest is written in pieces".into()),
                    }
                }
            },
        };
        if let DigestSlot::Nowhere(why) = &digest {
            note.push_str(&format!("; imagepin can't write its digest in place: {why}"));
        }
        let split = Split {
            image,
            digest,
            note: Some(note),
        };
        if !text.contains(char::is_whitespace) {
            self.found
                .push(Occurrence::split(span, Hint::Image, "FROM", split));
        }
    }

    /// Where each variable is used in the file.
    fn uses(&self) -> &HashMap<String, Vec<usize>> {
        self.uses
            .get_or_init(|| defaults::variable_uses(self.text))
    }

    /// The 1-based line of a byte offset.
    fn line_of(&self, at: usize) -> usize {
        let lines = self.lines.get_or_init(|| LineIndex::new(self.text));
        lines.line_col(self.text, at).0
    }

    /// The hint for a reference with variables, from what it can expand to.
    fn pattern_hint(&self, pattern: &Pattern, stages: &BTreeSet<String>) -> Hint {
        if let Some(literal) = pattern.literal() {
            let lower = literal.to_ascii_lowercase();
            return if lower == "scratch" {
                Hint::Scratch
            } else if stages.contains(&lower) {
                Hint::Stage
            } else {
                Hint::Image
            };
        }
        let prefix = pattern.prefix().to_ascii_lowercase();
        let platform_only = pattern.holes().all(|h| PLATFORM_ARGS.contains(&h));
        if (prefix.is_empty() && !platform_only) || prefix.contains(['/', ':', '@']) {
            return Hint::Image;
        }
        let is_stage = stages
            .range(prefix.clone()..)
            .take_while(|s| s.starts_with(&prefix))
            .any(|s| pattern.matches(s));
        if is_stage { Hint::Stage } else { Hint::Image }
    }

    /// `--from=` of COPY/ADD and `from=` of `RUN --mount=`.
    fn sources(&mut self, keyword: &str, words: &[Word], onbuild: bool) {
        let upper = keyword.to_ascii_uppercase();
        let prefix = if onbuild { "ONBUILD " } else { "" };
        for w in words {
            if !w.text.starts_with("--") || w.text == "--" {
                break; // Flags come first.
            }
            if keyword != "run" {
                if let Some(value) = w.text.strip_prefix("--from=") {
                    let start = w.text.len() - value.len();
                    let (text, span) = unquote(w, start..w.text.len());
                    self.source(text, span, onbuild, format!("{prefix}{upper} --from"));
                }
            } else if let Some(value) = w.text.strip_prefix("--mount=") {
                let start = w.text.len() - value.len();
                for range in mount_from(w, start) {
                    let (text, span) = unquote(w, range);
                    self.source(text, span, onbuild, format!("{prefix}RUN --mount from"));
                }
            }
        }
    }

    fn source(&mut self, text: &str, span: Option<Range<usize>>, onbuild: bool, ctx: String) {
        let Some(span) = span else { return };
        if text.is_empty() {
            return;
        }
        let lower = text.to_ascii_lowercase();
        let hint = if text.bytes().all(|b| b.is_ascii_digit()) || self.all_stages.contains(&lower) {
            Hint::Stage
        } else if lower == "scratch" {
            Hint::Scratch
        } else if text.contains('$') {
            let pattern = expand(text, &|n| self.lookup(n));
            match self.pattern_hint(&pattern, &self.all_stages) {
                Hint::Stage => Hint::Stage,
                _ => Hint::Image,
            }
        } else if onbuild && !text.contains(['/', ':', '@', '.']) {
            Hint::Dynamic
        } else {
            Hint::Image
        };
        self.push(span, hint, ctx);
    }
}

/// The ranges (in `w.text`) of the values of `from=` fields in the CSV of a
/// `--mount=` flag whose value starts at `start`.
fn mount_from(w: &Word, start: usize) -> Vec<Range<usize>> {
    let text = &w.text;
    let mut inner = start..text.len();
    if let Some(r) = strip_quotes(text, inner.clone()) {
        inner = r;
    }
    let mut out = Vec::new();
    let mut field_start = inner.start;
    for (i, c) in text[inner.clone()].char_indices() {
        let at = inner.start + i;
        if c == ',' {
            out.extend(from_field(text, field_start..at));
            field_start = at + 1;
        }
    }
    out.extend(from_field(text, field_start..inner.end));
    out
}

fn from_field(text: &str, field: Range<usize>) -> Option<Range<usize>> {
    let field = strip_quotes(text, field.clone()).unwrap_or(field);
    let (key, _) = text[field.clone()].split_once('=')?;
    key.trim()
        .eq_ignore_ascii_case("from")
        .then(|| field.start + key.len() + 1..field.end)
}

/// `range` without one pair of enclosing quotes, when it has them.
fn strip_quotes(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let s = text.get(range.clone())?;
    let b = s.as_bytes();
    (b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0])
        .then(|| range.start + 1..range.end - 1)
}

/// The text of `w.text[range]` without enclosing quotes, and its file span.
fn unquote<'w>(w: &'w Word<'_>, range: Range<usize>) -> (&'w str, Option<Range<usize>>) {
    let range = strip_quotes(&w.text, range.clone()).unwrap_or(range);
    (&w.text[range.clone()], w.sub_span(range))
}

/// `X` when `text` is exactly `$X` or `${X}` (also read by the Earthfile
/// scanner, whose `ARG`s are Dockerfile's).
pub(super) fn whole_variable(text: &str) -> Option<&str> {
    let name = match text.strip_prefix("${") {
        Some(rest) => rest.strip_suffix('}')?,
        None => text.strip_prefix('$')?,
    };
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(name)
}

/// An ARG default usable as an image as it stands.
fn is_complete_reference(text: &str) -> bool {
    !text.contains(['$', '"', '\'', '\\', '`'])
        && (text.eq_ignore_ascii_case("scratch") || Reference::parse(text).is_ok())
}

#[cfg(test)]
mod tests;
