//! Scanner for Earthfiles (Earthly builds): the images a build pulls.
//!
//! An Earthfile is Dockerfile syntax (continuations, comments, quotes) split
//! into targets (`name:` lines); the [`lexer`](super::dockerfile::lexer) of the Dockerfile scanner
//! reads it, with every instruction split into words. What counts:
//!
//! - `FROM image` (flags such as `--platform linux/amd64` skipped): an image;
//!   `FROM scratch` is scratch.
//! - Earthly target references, anything with a `+` (`FROM +deps`,
//!   `FROM ./api+build`, `FROM lib+base`, `FROM github.com/x/y:v1+t`), are
//!   [`Hint::Stage`]: another target's result, never a registry image.
//! - `WITH DOCKER --pull image` (repeatable, `--pull image` or
//!   `--pull=image`): an image the build's Docker daemon pulls. `--load`
//!   (an output name and a target), `--compose` and `--service` are not.
//! - `FROM DOCKERFILE [-f file] [--target t] context`: a build from a
//!   Dockerfile, whose own `FROM` lines the Dockerfile scanner reports. The
//!   context path is reported as [`Hint::LocalBuild`], the way a GitHub
//!   action's `runs.image: Dockerfile` is, so the base shows as built here.
//! - `FROM $X` / `FROM ${X}` (and `--pull $X`) where `ARG X=default` is
//!   declared earlier in the same target or before the first target: the
//!   occurrence is the default at the `ARG` line (context `ARG X`), once,
//!   since that is where a digest belongs. Other variables leave the
//!   reference dynamic.
//! - Never `SAVE IMAGE` (outputs), `IMPORT`, `BUILD`, `DO`, `COPY +t/…`
//!   (artifacts), or anything in `RUN` commands.
//!
//! Spans cover the reference only (never quotes). The scanner never fails.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::dockerfile::lexer::{Instruction, Word, lex_all_words};
use super::dockerfile::whole_variable;
use super::kind::{Kind, Syntax, lower_name};
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;
use crate::reference::Reference;

/// Earthfiles: a file named `Earthfile` (any case).
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("earthfile"),
    names: |path| lower_name(path).is_some_and(|n| n == "earthfile"),
    sniff: None,
    scan,
    syntax: Syntax::Lines,
    keys: &[
        "FROM",
        "FROM --platform linux/amd64",
        "FROM DOCKERFILE -f Dockerfile",
        "WITH DOCKER --pull",
        "WITH DOCKER --load x=+t --pull",
        "ARG --global BASE=",
        "target:\n    FROM",
    ],
    relate: None,
};

/// `FROM` flags followed by a value in the next word (`--platform linux/arm64`).
const FROM_VALUE_FLAGS: &[&str] = &["--platform", "--build-arg"];
/// `FROM DOCKERFILE` flags followed by a value.
const DOCKERFILE_VALUE_FLAGS: &[&str] = &["-f", "--target", "--platform", "--build-arg"];
/// `WITH DOCKER` flags followed by a value (`--pull` is read, the others skipped).
const WITH_DOCKER_VALUE_FLAGS: &[&str] = &[
    "--pull",
    "--load",
    "--compose",
    "--service",
    "--platform",
    "--build-arg",
    "--cache-id",
];

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut scanner = Scanner {
        text,
        base_args: HashMap::new(),
        target_args: HashMap::new(),
        in_target: false,
        reported_args: HashSet::new(),
        found: Vec::new(),
    };
    for ins in &lex_all_words(text).instructions {
        scanner.instruction(ins);
    }
    Ok(scanner.found)
}

/// An ARG default: its text (quotes removed) and its span.
type ArgDefault = (String, Option<Range<usize>>);

struct Scanner<'t> {
    text: &'t str,
    /// ARGs of the base recipe (before the first target): seen by every target.
    base_args: HashMap<String, Option<ArgDefault>>,
    /// ARGs of the current target, declared so far.
    target_args: HashMap<String, Option<ArgDefault>>,
    in_target: bool,
    /// Starts of ARG defaults already reported.
    reported_args: HashSet<usize>,
    found: Vec<Occurrence>,
}

impl Scanner<'_> {
    fn instruction(&mut self, ins: &Instruction) {
        let words = &ins.words;
        if words.len() == 1 && words[0].text.len() > 1 && words[0].text.ends_with(':') {
            // `name:` starts a target (or a function); its ARGs start afresh.
            self.in_target = true;
            self.target_args.clear();
            return;
        }
        match ins.keyword.as_str() {
            "arg" => self.arg(&words[1..]),
            "from" => match words.get(1) {
                Some(w) if w.text.eq_ignore_ascii_case("dockerfile") => {
                    self.dockerfile_build(&words[2..]);
                }
                _ => self.from(&words[1..]),
            },
            "with" if words.get(1).is_some_and(|w| w.text.eq_ignore_ascii_case("docker")) => {
                self.with_docker(&words[2..]);
            }
            _ => {}
        }
    }

    fn push(&mut self, span: Range<usize>, hint: Hint, context: impl Into<String>) {
        // A reference never contains whitespace (a quoted word can).
        match self.text.get(span.clone()) {
            Some(s) if !s.is_empty() && !s.contains(char::is_whitespace) => {}
            _ => return,
        }
        self.found.push(Occurrence::new(span, hint, context));
    }

    /// `ARG [--global] [--required] NAME[=default]` (also `NAME = default`).
    fn arg(&mut self, words: &[Word]) {
        let mut rest = words.iter().skip_while(|w| w.text.starts_with("--"));
        let Some(first) = rest.next() else { return };
        let (name, default) = match first.text.split_once('=') {
            Some((name, _)) => (name, Some(unquote(first, name.len() + 1..first.text.len()))),
            None => match (rest.next(), rest.next()) {
                (Some(eq), Some(value)) if eq.text == "=" => {
                    (&*first.text, Some(unquote(value, 0..value.text.len())))
                }
                _ => (&*first.text, None),
            },
        };
        if name.is_empty() {
            return;
        }
        let default = default.map(|(text, span)| (text.to_string(), span));
        let scope = if self.in_target {
            &mut self.target_args
        } else {
            &mut self.base_args
        };
        scope.insert(name.to_string(), default);
    }

    /// The default of an ARG visible here: the target's own, else the base
    /// recipe's.
    fn arg_default(&self, name: &str) -> Option<&ArgDefault> {
        match self.target_args.get(name) {
            Some(d) => d.as_ref(),
            None => self.base_args.get(name)?.as_ref(),
        }
    }

    /// `FROM [flags] ref [--KEY=value…]`.
    fn from(&mut self, words: &[Word]) {
        if let Some(w) = first_operand(words, FROM_VALUE_FLAGS) {
            let (text, span) = unquote(w, 0..w.text.len());
            if let Some(span) = span {
                self.reference(text, span, "FROM", true);
            }
        }
    }

    /// `FROM DOCKERFILE [flags] context`: the context is a local build.
    fn dockerfile_build(&mut self, words: &[Word]) {
        if let Some(w) = first_operand(words, DOCKERFILE_VALUE_FLAGS) {
            if let (_, Some(span)) = unquote(w, 0..w.text.len()) {
                self.push(span, Hint::LocalBuild, "FROM DOCKERFILE");
            }
        }
    }

    /// `WITH DOCKER [--pull image]… [other flags]`.
    fn with_docker(&mut self, words: &[Word]) {
        let mut i = 0;
        while let Some(w) = words.get(i) {
            if !w.text.starts_with('-') {
                break;
            }
            let (flag, value) = match w.text.split_once('=') {
                Some((flag, _)) => (flag, Some((w, flag.len() + 1))),
                None if WITH_DOCKER_VALUE_FLAGS.contains(&&*w.text) => {
                    i += 1;
                    (&*w.text, words.get(i).map(|v| (v, 0)))
                }
                None => (&*w.text, None),
            };
            if flag == "--pull"
                && let Some((v, start)) = value
                && let (text, Some(span)) = unquote(v, start..v.text.len())
            {
                self.reference(text, span, "WITH DOCKER --pull", false);
            }
            i += 1;
        }
    }

    /// An image reference written at `span`: a target reference is a stage
    /// (in `FROM` only), a whole `$X` with a usable ARG default is that
    /// default, anything else is an image (dynamic when it has variables).
    fn reference(&mut self, text: &str, span: Range<usize>, context: &str, from: bool) {
        if text.is_empty() {
            return;
        }
        if text.contains('+') {
            if from {
                self.push(span, Hint::Stage, context);
            }
            return;
        }
        if from && text.eq_ignore_ascii_case("scratch") {
            self.push(span, Hint::Scratch, context);
            return;
        }
        if let Some(name) = whole_variable(text)
            && let Some((default, Some(arg_span))) = self.arg_default(name).cloned()
        {
            if default.contains('+') && from {
                self.push(span, Hint::Stage, context);
                return;
            }
            if is_complete_reference(&default) {
                if self.reported_args.insert(arg_span.start) {
                    self.push(arg_span, Hint::Image, format!("ARG {name}"));
                }
                return;
            }
        }
        self.push(span, Hint::Image, context);
    }
}

/// The first word after the flags: `--flag=value` and boolean flags are one
/// word, the flags in `value_flags` take the next word too.
fn first_operand<'w>(words: &'w [Word<'w>], value_flags: &[&str]) -> Option<&'w Word<'w>> {
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if !w.text.starts_with('-') {
            return Some(w);
        }
        if !w.text.contains('=') && value_flags.contains(&&*w.text) {
            it.next();
        }
    }
    None
}

/// The text of `w.text[range]` without one pair of enclosing quotes, and its
/// span in the file when the word has one.
fn unquote<'w>(w: &'w Word<'_>, range: Range<usize>) -> (&'w str, Option<Range<usize>>) {
    let inner = w.text.get(range.clone()).map_or(range.clone(), |s| {
        let b = s.as_bytes();
        if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
            range.start + 1..range.end - 1
        } else {
            range.clone()
        }
    });
    match w.text.get(inner.clone()) {
        Some(text) => (text, w.sub_span(inner)),
        None => ("", None),
    }
}

/// An ARG default usable as an image as it stands.
fn is_complete_reference(text: &str) -> bool {
    !text.contains(['$', '"', '\'', '\\', '`', '+']) && Reference::parse(text).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::finding::Status;
    use crate::scan::test_helpers::{fixture, row};

    const D: &str = "sha256:3f1e6c1d2b9a8c7e6f5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918070";

    fn rows(text: &str) -> Vec<crate::scan::test_helpers::Row> {
        fixture(KIND.id, "Earthfile", text)
    }

    #[test]
    fn fixture_rows() {
        let t = include_str!("../../tests/fixtures/earthfile/Earthfile");
        use Status::*;
        assert_eq!(
            rows(t),
            [
                row(2, 23, "golang:1.23-bookworm", Unpinned, "ARG GO_IMAGE"),
                row(3, 21, &format!("alpine:3.20@{D}"), Pinned, "ARG ALPINE"),
                row(13, 10, "+deps", Stage, "FROM"),
                row(28, 9, "./docker", LocalBuild, "FROM DOCKERFILE"),
                row(31, 29, "github.com/earthly/hello-world:main+hello", Stage, "FROM"),
                row(32, 10, "./services/api+build", Stage, "FROM"),
                row(33, 10, "utils+base", Stage, "FROM"),
                row(36, 10, "earthly/dind:alpine-3.20-docker-26.1.5-r0", Unpinned, "FROM"),
                row(37, 18, "postgres:16.4", Unpinned, "ARG POSTGRES"),
                row(40, 25, "redis:${TAG}", Dynamic, "WITH DOCKER --pull"),
                row(41, 24, "nginx:1.27", Unpinned, "WITH DOCKER --pull"),
                row(46, 33, "docker.io/library/debian:bookworm-slim", Unpinned, "FROM"),
                row(49, 10, "scratch", Scratch, "FROM"),
            ]
        );
    }

    #[test]
    fn outputs_imports_builds_and_artifacts_are_not_images() {
        let t = "\
VERSION 0.8
IMPORT github.com/earthly/lib/utils:3.0.1 AS utils
build:
    FROM alpine:3.20
    COPY +deps/go.mod ./
    COPY --platform=linux/amd64 ./sub+x/file ./
    BUILD +image
    BUILD --platform=linux/arm64 ghcr.io/x/y:1+t
    DO utils+SETUP
    RUN docker pull nginx:1.27 && docker run busybox:1.36
    SAVE IMAGE --push registry.example.com/team/app:latest
    SAVE IMAGE --cache-from=ghcr.io/x/cache:main app:dev
    WITH DOCKER --load app:dev=+image --compose compose.yaml --service db
        RUN docker compose up
    END
";
        assert_eq!(rows(t), [row(4, 10, "alpine:3.20", Status::Unpinned, "FROM")]);
    }

    #[test]
    fn flags_before_the_reference_are_skipped() {
        let t = "FROM --platform linux/arm64 a:1\nFROM --platform=linux/amd64 --allow-privileged b:2\nFROM --build-arg X=1 +t --Y=2\nFROM --pass-args ./d+t\n";
        let got: Vec<_> = rows(t).into_iter().map(|r| (r.2, r.3)).collect();
        assert_eq!(
            got,
            [
                ("a:1".to_string(), Status::Unpinned),
                ("b:2".to_string(), Status::Unpinned),
                ("+t".to_string(), Status::Stage),
                ("./d+t".to_string(), Status::Stage),
            ]
        );
    }

    #[test]
    fn arg_defaults_are_scoped_to_their_target() {
        let t = "\
ARG BASE=python:3.12
a:
    ARG IMG=node:22
    FROM $IMG
b:
    FROM $IMG
    FROM ${BASE}
c:
    ARG BASE=+a
    FROM $BASE
    ARG LATE = 'redis:7'
    WITH DOCKER --pull $LATE --pull ${BASE}
    END
    FROM $BASE
";
        use Status::*;
        assert_eq!(
            rows(t),
            [
                row(1, 10, "python:3.12", Unpinned, "ARG BASE"),
                row(3, 13, "node:22", Unpinned, "ARG IMG"),
                // In `b`, `IMG` is not declared: dynamic as written.
                row(6, 10, "$IMG", Dynamic, "FROM"),
                row(10, 10, "$BASE", Stage, "FROM"),
                row(11, 17, "redis:7", Unpinned, "ARG LATE"),
                row(12, 37, "${BASE}", Dynamic, "WITH DOCKER --pull"),
                row(14, 10, "$BASE", Stage, "FROM"),
            ]
        );
    }

    #[test]
    fn crlf_bom_continuations_and_quotes() {
        let t = "\u{feff}VERSION 0.8\r\nt:\r\n    FROM \"alpine:3\"\r\n    WITH DOCKER \\\r\n        --pull 'redis:7' \\\r\n        --pull=\"nginx:1\"\r\n    END\r\n";
        use Status::*;
        assert_eq!(
            rows(t),
            [
                row(3, 11, "alpine:3", Unpinned, "FROM"),
                row(5, 17, "redis:7", Unpinned, "WITH DOCKER --pull"),
                row(6, 17, "nginx:1", Unpinned, "WITH DOCKER --pull"),
            ]
        );
    }

    #[test]
    fn names() {
        use std::path::Path;
        assert!((KIND.names)(Path::new("Earthfile")));
        assert!((KIND.names)(Path::new("a/b/earthfile")));
        assert!(!(KIND.names)(Path::new("Earthfile.md")));
        assert!(!(KIND.names)(Path::new("x.earth")));
    }

    #[test]
    fn odd_input_never_fails() {
        for t in [
            "FROM",
            "FROM DOCKERFILE",
            "WITH DOCKER --pull",
            "WITH DOCKER --pull=",
            "ARG",
            "ARG =",
            "ARG X=\nFROM $X",
            ":\n",
            "FROM \"\"",
            "WITH DOCKER --pull \"",
        ] {
            assert!(scan(t).is_ok(), "{t:?}");
        }
    }
}
