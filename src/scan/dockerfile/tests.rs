//! Tests of the Dockerfile scanner: each asserts the spans, lines and hints
//! a user relies on.

use super::*;
use crate::finding::Status;
use crate::scan::{LineIndex, classify};

/// (line, column, text, hint, context) of each occurrence, in file order.
fn found(text: &str) -> Vec<(usize, usize, String, Hint, String)> {
    let mut occ = scan(text).expect("scans");
    occ.sort_by_key(|o| o.span.start);
    let idx = LineIndex::new(text);
    occ.into_iter()
        .map(|o| {
            let (line, col) = idx.line_col(text, o.span.start);
            (line, col, text[o.span].to_string(), o.hint, o.context)
        })
        .collect()
}

/// (line, text, hint) only.
fn brief(text: &str) -> Vec<(usize, String, Hint)> {
    found(text)
        .into_iter()
        .map(|(l, _, t, h, _)| (l, t, h))
        .collect()
}

fn row(line: usize, text: &str, hint: Hint) -> (usize, String, Hint) {
    (line, text.to_string(), hint)
}

use Hint::{Dynamic, Image, Scratch, Stage};

#[test]
fn syntax_directive_is_an_image() {
    let t = "# syntax=docker/dockerfile:1.7\nFROM alpine\n";
    assert_eq!(
        found(t),
        [
            (
                1,
                10,
                "docker/dockerfile:1.7".into(),
                Image,
                "# syntax".into()
            ),
            (2, 6, "alpine".into(), Image, "FROM".into()),
        ]
    );
    // Case-insensitive, whitespace-tolerant, after other directives.
    let t = "#ESCAPE = `\n#  Syntax =  docker/dockerfile:1 \t\nFROM a\n";
    assert_eq!(brief(t)[0], row(2, "docker/dockerfile:1", Image));
    // Words after the frontend image are its options, not part of it.
    let t = "# syntax=registry.example.com/frontend:2 opt=1\r\nFROM a\r\n";
    assert_eq!(
        brief(t)[0],
        row(1, "registry.example.com/frontend:2", Image)
    );
}

#[test]
fn syntax_directive_only_before_anything_else() {
    for t in [
        "\n# syntax=docker/dockerfile:1\nFROM a\n",
        "# a comment\n# syntax=docker/dockerfile:1\nFROM a\n",
        "FROM a\n# syntax=docker/dockerfile:1\n",
    ] {
        assert!(
            brief(t).iter().all(|(_, text, _)| text == "a"),
            "{t:?}: {:?}",
            brief(t)
        );
    }
    // `# check=` is a directive: it does not end them, and is no image.
    let t = "# check=skip=all\n# syntax=docker/dockerfile:1\nFROM a\n";
    assert_eq!(brief(t)[0], row(2, "docker/dockerfile:1", Image));
}

#[test]
fn from_flags_stage_names_and_scratch() {
    let t = "from --platform=$BUILDPLATFORM golang:1.22 as Builder\n\
             FROM builder AS test\n\
             FROM BUILDER\n\
             FROM Scratch\n\
             FrOm\tubuntu:22.04  AS   final\n";
    assert_eq!(
        brief(t),
        [
            row(1, "golang:1.22", Image),
            row(2, "builder", Stage),
            row(3, "BUILDER", Stage),
            row(4, "Scratch", Scratch),
            row(5, "ubuntu:22.04", Image),
        ]
    );
}

#[test]
fn stage_shadows_a_hub_name_only_after_it_is_declared() {
    let t = "FROM golang\nFROM golang:1.22 AS golang\nFROM golang\n";
    assert_eq!(
        brief(t),
        [
            row(1, "golang", Image),
            row(2, "golang:1.22", Image),
            row(3, "golang", Stage),
        ]
    );
}

#[test]
fn copy_and_mount_sources() {
    let t = "FROM alpine AS base\n\
             COPY --from=base /a /a\n\
             COPY --chown=1:1 --from=0 /a /a\n\
             ADD --from=nginx:1.27 /etc/nginx /etc/nginx\n\
             COPY --from=later /x /x\n\
             COPY --from=\"busybox:1.36\" /bin/sh /sh\n\
             COPY --from=scratch / /\n\
             RUN --mount=type=bind,from=base,target=/b \\\n\
             \t--mount=type=cache,target=/c,from=ghcr.io/acme/cache:1 make\n\
             RUN --mount=from=base,target=/b --network=none make\n\
             COPY --from /x /y\n\
             FROM alpine AS later\n";
    assert_eq!(
        found(t),
        [
            (1, 6, "alpine".into(), Image, "FROM".into()),
            (2, 13, "base".into(), Stage, "COPY --from".into()),
            (3, 25, "0".into(), Stage, "COPY --from".into()),
            (4, 12, "nginx:1.27".into(), Image, "ADD --from".into()),
            (5, 13, "later".into(), Stage, "COPY --from".into()),
            (6, 14, "busybox:1.36".into(), Image, "COPY --from".into()),
            (7, 13, "scratch".into(), Scratch, "COPY --from".into()),
            (8, 28, "base".into(), Stage, "RUN --mount from".into()),
            (
                9,
                36,
                "ghcr.io/acme/cache:1".into(),
                Image,
                "RUN --mount from".into()
            ),
            (10, 18, "base".into(), Stage, "RUN --mount from".into()),
            (12, 6, "alpine".into(), Image, "FROM".into()),
        ]
    );
}

#[test]
fn from_after_the_image_is_not_a_flag() {
    // Flags must come first: `--from` after a source is a path.
    let t = "FROM a AS s\nCOPY x --from=nginx /y\n";
    assert_eq!(brief(t), [row(1, "a", Image)]);
}

#[test]
fn arg_default_is_the_occurrence_at_the_arg_line() {
    let t = "ARG BASE=python:3.12\n\
             ARG QUOTED=\"node:22-alpine\"\n\
             FROM ${BASE} AS one\n\
             FROM $BASE AS two\n\
             ARG BASE\n\
             FROM $QUOTED\n\
             FROM ${BASE}\n";
    assert_eq!(
        found(t),
        [
            (1, 10, "python:3.12".into(), Image, "ARG BASE".into()),
            (2, 13, "node:22-alpine".into(), Image, "ARG QUOTED".into()),
        ]
    );
    let findings = crate::scan::scan_file(
        std::path::Path::new("Dockerfile"),
        crate::scan::dockerfile::KIND.id,
        t,
        &|_| false,
    )
    .expect("scans");
    assert!(findings.iter().all(|f| f.status == Status::Unpinned));
}

#[test]
fn several_args_on_one_line_and_redeclared_defaults() {
    let t = "ARG A=python:3 B='node:20'\nARG A=python:3.13\nFROM $B\nFROM ${A}\n";
    assert_eq!(
        found(t),
        [
            (1, 19, "node:20".into(), Image, "ARG B".into()),
            (2, 7, "python:3.13".into(), Image, "ARG A".into()),
        ]
    );
}

#[test]
fn arg_without_usable_default_leaves_the_from_dynamic() {
    let t = "ARG NONE\n\
             ARG PY=3.12\n\
             ARG NESTED=golang:${PY}\n\
             ARG SELF=${SELF:-alpine:3}\n\
             FROM $NONE\n\
             FROM python:${PY}-slim\n\
             FROM ${NESTED}\n\
             FROM ${SELF}\n\
             FROM $REG/app\n\
             FROM ${IMG:-alpine:3}\n\
             FROM alpine AS s\n\
             ARG LOCAL=nginx:1\n\
             FROM $LOCAL\n\
             FROM golang:${NONE:-1.26}\n";
    let got: Vec<_> = rows(t)
        .into_iter()
        .map(|r| (r.line, r.reference, r.status, r.image))
        .collect();
    let row = |l, r: &str, s, i: &str| (l, r.to_string(), s, i.to_string());
    use Status::{Dynamic, Unpinned};
    assert_eq!(
        got,
        [
            // `ARG SELF=${SELF:-alpine:3}`: its default is alpine:3.
            row(4, "alpine:3", Unpinned, "alpine:3"),
            // No default: only the build knows.
            row(5, "$NONE", Dynamic, "$NONE"),
            row(6, "python:${PY}-slim", Unpinned, "python:3.12-slim"),
            row(7, "${NESTED}", Unpinned, "golang:3.12"),
            // REG is never declared.
            row(9, "$REG/app", Dynamic, "$REG/app"),
            row(10, "${IMG:-alpine:3}", Unpinned, "alpine:3"),
            row(11, "alpine", Unpinned, "alpine"),
            // LOCAL is declared in a stage: FROM never sees it.
            row(13, "$LOCAL", Dynamic, "$LOCAL"),
            // NONE is declared without a default.
            row(14, "golang:${NONE:-1.26}", Dynamic, "golang:${NONE:-1.26}"),
        ]
    );
}

/// Every field of a finding a user sees, and where its digest goes: the
/// line that a pin writes (`@D` for the digest), `at …` for the digest
/// of a pinned one, or `nowhere: why`.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    line: usize,
    column: usize,
    reference: String,
    status: Status,
    image: String,
    context: String,
    note: Option<String>,
    slot: String,
}

fn rows(text: &str) -> Vec<Row> {
    use crate::finding::DigestSlot;
    let findings = crate::scan::scan_file(
        std::path::Path::new("Dockerfile"),
        crate::scan::dockerfile::KIND.id,
        text,
        &|_| false,
    )
    .expect("scans");
    findings
        .into_iter()
        .map(|f| {
            let slot = match f.split.as_ref().map(|s| &s.digest) {
                None => String::new(),
                Some(DigestSlot::Insert { at, before, after }) => {
                    let mut t = text.to_string();
                    t.insert_str(*at, &format!("{before}D{after}"));
                    let line = t[..*at].matches('\n').count() + 1;
                    LineIndex::new(&t).line_text(&t, line).to_string()
                }
                Some(DigestSlot::At(r)) => format!("at {}", &text[r.clone()]),
                Some(DigestSlot::Nowhere(why)) => format!("nowhere: {why}"),
            };
            Row {
                line: f.line,
                column: f.column,
                image: f.image().to_string(),
                reference: f.reference,
                status: f.status,
                context: f.context,
                note: f.note,
                slot,
            }
        })
        .collect()
}

fn full(
    line: usize,
    column: usize,
    reference: &str,
    status: Status,
    image: &str,
    note: &str,
    slot: &str,
) -> Row {
    Row {
        line,
        column,
        reference: reference.into(),
        status,
        image: image.into(),
        context: "FROM".into(),
        note: (!note.is_empty()).then(|| note.to_string()),
        slot: slot.into(),
    }
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn partial_arg_default_is_the_image_at_the_from() {
    let t = "# syntax=docker/dockerfile:1\n\
             ARG GO_VERSION=1.26\n\
             FROM golang:${GO_VERSION} AS build\n\
             RUN go build\n\
             FROM scratch\n";
    let got = rows(t);
    assert_eq!(
        got[1],
        full(
            3,
            6,
            "golang:${GO_VERSION}",
            Status::Unpinned,
            "golang:1.26",
            "the default of ARG GO_VERSION (line 2)",
            "ARG GO_VERSION=1.26@D",
        )
    );
    // One finding for the FROM: the default replaces its `dynamic`.
    assert_eq!(got.len(), 3);
    // Pinned in the ARG: pinned, and an update replaces that digest.
    let pinned = t.replace("1.26", &format!("1.26@{DIGEST}"));
    assert_eq!(
        rows(&pinned)[1],
        full(
            3,
            6,
            "golang:${GO_VERSION}",
            Status::Pinned,
            &format!("golang:1.26@{DIGEST}"),
            "the default of ARG GO_VERSION (line 2)",
            &format!("at {DIGEST}"),
        )
    );
}

#[test]
fn shared_or_reused_arg_defaults_are_not_pinned_in_place() {
    let why = |lines: &str| {
        format!(
            "nowhere: ARG V is used on more than this line (lines {lines}); a digest in its default would reach them all"
        )
    };
    let note = |lines: &str| {
        format!(
            "the default of ARG V (line 1); imagepin can't write its digest in place: {}",
            why(lines).trim_start_matches("nowhere: ")
        )
    };
    // Two images with different repositories.
    let t = "ARG V=3.20\nFROM alpine:${V}\nFROM golang:1.22-alpine${V}\n";
    assert_eq!(
        rows(t),
        [
            full(2, 6, "alpine:${V}", Status::Unpinned, "alpine:3.20", &note("2, 3"), &why("2, 3")),
            full(
                3,
                6,
                "golang:1.22-alpine${V}",
                Status::Unpinned,
                "golang:1.22-alpine3.20",
                &note("2, 3"),
                &why("2, 3")
            ),
        ]
    );
    // RUN, ENV and LABEL uses (after redeclaring it in the stage); a comment
    // that mentions it is no use.
    for (usage, line) in [
        ("RUN echo $V", 5),
        ("ENV V=${V}", 5),
        ("LABEL version=\"${V}\"", 5),
        ("RUN <<EOF\necho ${V:-x}\nEOF", 6),
    ] {
        let t = format!("ARG V=1.26\nFROM golang:${{V}}\n# bump $V\nARG V\n{usage}\n");
        let got = rows(&t);
        assert_eq!(got[0].slot, why(&format!("2, {line}")), "{usage}");
        assert_eq!(got[0].status, Status::Unpinned);
    }
    let t = "ARG V=1.26\nFROM golang:${V}\n# bump $V by hand\nARG V\nRUN go version\n";
    assert_eq!(rows(t)[0].slot, "ARG V=1.26@D");
    // Pinned but shared: still pinned; an update has nowhere to go.
    let t = format!("ARG V=1.26@{DIGEST}\nFROM golang:${{V}}\nFROM golang:${{V}}\n");
    let got = rows(&t);
    assert_eq!(got[0].status, Status::Pinned);
    assert_eq!(got[0].slot, why("2, 3"));
}

#[test]
fn where_the_digest_goes_depends_on_what_ends_the_reference() {
    let t = "ARG V=1.26\n\
             ARG REG=docker.io\n\
             ARG GO_VERSION=1.26.6\n\
             ARG GO_IMAGE=golang:${GO_VERSION}\n\
             ARG WIN=\"ltsc2022\"\n\
             ARG DEBUG=\n\
             FROM golang:${V}-alpine\n\
             FROM ${REG}/library/python:3.12\n\
             FROM $GO_IMAGE\n\
             FROM mcr.microsoft.com/windows/servercore:\"${WIN}\"\n\
             FROM debian:${DEB:-bookworm}\n\
             FROM node:${NODE:-20}-slim\n\
             FROM alpine:3.20${DEBUG:+-debug}\n";
    let got: Vec<_> = rows(t)
        .into_iter()
        .map(|r| (r.line, r.image, r.note.unwrap_or_default(), r.slot))
        .collect();
    let row = |l, i: &str, n: &str, s: &str| (l, i.to_string(), n.to_string(), s.to_string());
    let goes_on = "the reference goes on after ${V}, so a digest at its end would not follow that variable";
    assert_eq!(
        got,
        [
            row(
                7,
                "golang:1.26-alpine",
                &format!("the default of ARG V (line 1); imagepin can't write its digest in place: {goes_on}"),
                &format!("nowhere: {goes_on}"),
            ),
            // The variable picks the registry: the digest goes at the end.
            row(
                8,
                "docker.io/library/python:3.12",
                "the default of ARG REG (line 2)",
                "FROM ${REG}/library/python:3.12@D",
            ),
            // ARG chains are followed to the default that ends the image.
            row(
                9,
                "golang:1.26.6",
                "the defaults of ARG GO_IMAGE (line 4) and ARG GO_VERSION (line 3)",
                "ARG GO_VERSION=1.26.6@D",
            ),
            // BuildKit removes the quotes; the digest goes inside them.
            row(
                10,
                "mcr.microsoft.com/windows/servercore:ltsc2022",
                "the default of ARG WIN (line 5)",
                "ARG WIN=\"ltsc2022@D\"",
            ),
            // A default written in the FROM is pinned there.
            row(11, "debian:bookworm", "the default of ${DEB:-…}", "FROM debian:${DEB:-bookworm@D}"),
            row(
                12,
                "node:20-slim",
                "the default of ${NODE:-…}; imagepin can't write its digest in place: the reference goes on after ${NODE}, so a digest at its end would not follow that variable",
                "nowhere: the reference goes on after ${NODE}, so a digest at its end would not follow that variable",
            ),
            row(
                13,
                "alpine:3.20",
                "the default of ARG DEBUG (line 6); imagepin can't write its digest in place: it ends in ${DEBUG}, which is empty by default",
                "nowhere: it ends in ${DEBUG}, which is empty by default",
            ),
        ]
    );
}

#[test]
fn global_args_are_what_from_sees() {
    // A stage's ARG changes no FROM; a global ARG declared again before the
    // next FROM keeps its default; `ARG X` with no default stays dynamic.
    let t = "ARG V=1.26\n\
             ARG V\n\
             FROM golang:${V} AS a\n\
             ARG V=1.27\n\
             RUN go version\n\
             FROM a\n";
    let got = rows(t);
    assert_eq!(got[0].image, "golang:1.26");
    assert_eq!(got[0].slot, "ARG V=1.26@D");
    // The note names the line where the default is written.
    assert_eq!(got[0].note.as_deref(), Some("the default of ARG V (line 1)"));
    assert_eq!(got[1].status, Status::Stage);
    let t = "ARG V=1.25\nARG V=${V:-1.20}\nFROM golang:${V}\n";
    // `${V:-1.20}` keeps the earlier 1.25: that default is where a digest goes.
    assert_eq!(rows(t)[0].image, "golang:1.25");
    assert_eq!(rows(t)[0].slot, "ARG V=1.25@D");
    // The tag made of two ARGs (or an ARG and text in the FROM): a digest in
    // the last would hide a change to the other. A variable repository is
    // not the tag.
    let t = "ARG GO_VERSION=1.26\nARG ALPINE_VERSION=3.23\nFROM golang:${GO_VERSION}-alpine${ALPINE_VERSION}\n";
    assert_eq!(
        rows(t)[0].slot,
        "nowhere: ARG GO_VERSION (line 1) and the FROM line also make up its tag, and a digest would hide a change to them"
    );
    let t = "ARG V=3.23\nFROM golang:1.26-alpine${V}\n";
    assert_eq!(
        rows(t)[0].slot,
        "nowhere: the FROM line also makes up its tag, and a digest would hide a change to it"
    );
    let t = "ARG REPO=mcr.microsoft.com/powershell\nARG VERSION=nanoserver\nFROM ${REPO}:$VERSION\n";
    assert_eq!(rows(t)[0].slot, "ARG VERSION=nanoserver@D");
    // Defaults that make no valid reference are meant for the build to fill.
    let t = "ARG IMAGE=ghcr.io/acme/base:latest\nARG IMAGE_SHA=\"\"\nFROM ${IMAGE}@${IMAGE_SHA}\n";
    assert_eq!(rows(t)[0].status, Status::Dynamic);
    let t = "ARG BASE=${BASE:-python:3.12}\nFROM ${BASE}\nFROM ${BASE} AS again\n";
    let got = rows(t);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].line, got[0].column), (1, 18));
    assert_eq!(got[0].reference, "python:3.12");
    assert_eq!(got[0].context, "ARG BASE");
    assert_eq!(got[0].status, Status::Unpinned);
    assert_eq!(got[0].slot, "");
}

#[test]
fn variable_stage_names() {
    let t = "ARG FLAVOR=full\n\
             ARG BASE=builder\n\
             FROM alpine AS builder\n\
             FROM builder AS binaries-linux\n\
             FROM builder AS binaries-darwin\n\
             FROM builder AS linux\n\
             FROM builder AS variant-full\n\
             FROM binaries-$TARGETOS\n\
             FROM ${TARGETOS}\n\
             FROM variant-${FLAVOR}\n\
             FROM ${BASE}\n\
             FROM binaries-${TARGETOS}${DEBUG:+-debug}\n\
             FROM nothing-$TARGETOS\n\
             COPY --from=binaries-$TARGETOS / /\n";
    let rows = brief(t);
    let hints: Vec<_> = rows[5..].iter().map(|(l, _, h)| (*l, *h)).collect();
    assert_eq!(
        hints,
        [
            (8, Stage),
            (9, Stage),
            (10, Stage),
            (11, Stage),
            (12, Stage),
            (13, Image),
            (14, Stage),
        ]
    );
}

#[test]
fn arg_default_naming_scratch_or_a_stage() {
    let t = "ARG B=scratch\nARG S=base\nFROM $B AS base\nFROM ${S}\n";
    assert_eq!(brief(t), [row(3, "$B", Scratch), row(4, "${S}", Stage)]);
}

#[test]
fn quoted_from_words() {
    let t = "FROM \"alpine:3\"\nFROM debian:\"${V}\"\nFROM '${A}:${B}'\n";
    assert_eq!(
        brief(t),
        [
            row(1, "alpine:3", Image),
            row(2, "debian:\"${V}\"", Image),
            row(3, "${A}:${B}", Image),
        ]
    );
}

#[test]
fn onbuild_sources() {
    let t = "FROM alpine AS base\n\
             ONBUILD COPY --from=builder /a /a\n\
             ONBUILD COPY --from=base /a /a\n\
             ONBUILD ADD --from=nginx:1 /a /a\n\
             onbuild run --mount=from=1 true\n";
    assert_eq!(
        found(t)[1..]
            .iter()
            .map(|(l, _, t, h, c)| (*l, t.as_str(), *h, c.as_str()))
            .collect::<Vec<_>>(),
        [
            (2, "builder", Dynamic, "ONBUILD COPY --from"),
            (3, "base", Stage, "ONBUILD COPY --from"),
            (4, "nginx:1", Image, "ONBUILD ADD --from"),
            (5, "1", Stage, "ONBUILD RUN --mount from"),
        ]
    );
}

#[test]
fn continuations_comments_and_empty_lines() {
    let t = "FROM \\\n  # the base image\n\n  --platform=linux/amd64 \\  \n  alpine:3.20 \\\n  AS base\nCOPY \\\n  --from=base \\\n  /a /a\n";
    assert_eq!(
        found(t),
        [
            (5, 3, "alpine:3.20".into(), Image, "FROM".into()),
            (8, 10, "base".into(), Stage, "COPY --from".into()),
        ]
    );
}

#[test]
fn heredoc_bodies_are_not_instructions() {
    let t = "FROM alpine\n\
             RUN <<EOF cat <<\"TWO\"\nFROM body:1\nEOF\nFROM body:2\nTWO\n\
             RUN <<-'EOF'\n\tFROM body:3\n\tEOF\n\
             COPY <<EOF /x\nFROM body:4\nEOF\n\
             FROM real:1\n";
    assert_eq!(
        brief(t),
        [row(1, "alpine", Image), row(13, "real:1", Image)]
    );
}

#[test]
fn unterminated_heredoc_does_not_hide_later_images() {
    let t = "FROM a\nRUN <<EOF\necho\nFROM b\n";
    assert_eq!(brief(t), [row(1, "a", Image), row(4, "b", Image)]);
}

#[test]
fn crlf_tabs_trailing_spaces_and_no_final_newline() {
    let t = "FROM\talpine:3 AS a \r\nCOPY --from=a /x /y\r\nFROM nginx:1\t \r\nFROM busybox";
    let rows = found(t);
    assert_eq!(
        rows.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
        ["alpine:3", "a", "nginx:1", "busybox"]
    );
    assert!(rows.iter().all(|r| !r.2.contains(['\r', ' ', '\t'])));
    assert_eq!((rows[3].0, rows[3].1), (4, 6));
}

#[test]
fn utf8_text_around_references() {
    let t = "# café ☕\nLABEL description=\"naïve ✓\"\nFROM alpine:3 AS é\nRUN echo “smart quotes” \\\n  ünïcode\nFROM é\n";
    let rows = found(t);
    assert_eq!(rows[0].2, "alpine:3");
    assert_eq!((rows[1].0, rows[1].2.as_str(), rows[1].3), (6, "é", Stage));
}

#[test]
fn malformed_input_is_skipped_without_panic() {
    let t = "FROM\nFROM --platform=linux/amd64\nFROM \"\"\nCOPY --from= /a /b\nRUN --mount=from /x\nRUN --mount=\"from=\" x\nARG =x\nARG\nFROM ${\nFROM alpine\n";
    let rows = brief(t);
    assert_eq!(rows.last(), Some(&row(10, "alpine", Image)));
    assert!(rows.iter().all(|(_, text, _)| !text.is_empty()));
    for t in [
        "",
        "\\",
        "FROM \\",
        "FROM a\\\nb",
        "# syntax=",
        "# escape=x",
        "RUN <<",
        "FROM $",
        "FROM ${A:-${B:-${C:-${D:-${E:-${F:-${G:-${H:-${I:-${J:-x}}}}}}}}}}",
        "ARG A=$A\nFROM $A",
        "COPY --from=\"x",
        "RUN --mount=\",from=\"",
    ] {
        let _ = scan(t);
    }
}

#[test]
fn spans_are_exact_for_every_occurrence() {
    for t in [
        include_str!("../../../tests/fixtures/dockerfile/multistage.Dockerfile"),
        include_str!("../../../tests/fixtures/dockerfile/windows.Dockerfile"),
        include_str!("../../../tests/fixtures/dockerfile/args.Dockerfile"),
    ] {
        for o in scan(t).expect("scans") {
            let s = &t[o.span.clone()];
            assert!(
                !s.is_empty() && !s.contains(['"', '\'', '\r', '\n', ' ']),
                "{s:?}"
            );
        }
    }
}

#[test]
fn fixture_multistage() {
    let t = include_str!("../../../tests/fixtures/dockerfile/multistage.Dockerfile");
    assert_eq!(
        brief(t),
        [
            row(1, "docker/dockerfile:1.7", Image),
            row(7, "golang:${GO_VERSION}-alpine${ALPINE_VERSION}", Image),
            row(16, "build", Stage),
            row(24, "alpine:3.20", Image),
            row(
                27,
                "gcr.io/distroless/static-debian12:nonroot@sha256:8dd8d3ca2cf283383304fd45a5c9c74d5f2cd9da8d3b077d720e264880077c65",
                Image
            ),
            row(28, "certs", Stage),
            row(29, "build", Stage),
            row(
                30,
                "ghcr.io/grpc-ecosystem/grpc-health-probe:v0.4.28",
                Image
            ),
            row(37, "scratch", Scratch),
            row(38, "0", Stage),
        ]
    );
    let statuses: Vec<_> = found(t)
        .iter()
        .map(|(_, _, text, hint, _)| classify(*hint, text).0)
        .collect();
    assert_eq!(
        statuses,
        [
            Status::Unpinned,
            Status::Dynamic,
            Status::Stage,
            Status::Unpinned,
            Status::Pinned,
            Status::Stage,
            Status::Stage,
            Status::Unpinned,
            Status::Scratch,
            Status::Stage,
        ]
    );
}

#[test]
fn fixture_windows_backtick_escape_and_crlf() {
    let lf = include_str!("../../../tests/fixtures/dockerfile/windows.Dockerfile");
    let expected = [
        (
            5,
            6,
            "mcr.microsoft.com/windows/servercore:${WINDOWS_VERSION}".to_string(),
            Image,
            "FROM".to_string(),
        ),
        (
            12,
            5,
            "mcr.microsoft.com/windows/nanoserver:ltsc2022".into(),
            Image,
            "FROM".into(),
        ),
        (13, 13, "installer".into(), Stage, "COPY --from".into()),
        (
            14,
            13,
            "golang:1.22-windowsservercore-ltsc2022".into(),
            Image,
            "COPY --from".into(),
        ),
    ];
    assert_eq!(found(lf), expected);
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(found(&crlf), expected);
}

#[test]
fn fixture_args() {
    let t = include_str!("../../../tests/fixtures/dockerfile/args.Dockerfile");
    assert_eq!(
        found(t)
            .iter()
            .map(|(l, _, t, h, c)| (*l, t.as_str(), *h, c.as_str()))
            .collect::<Vec<_>>(),
        [
            (2, "python:3.12-slim", Image, "ARG BASE"),
            (
                3,
                "gcr.io/distroless/python3-debian12:nonroot",
                Image,
                "ARG RUNTIME"
            ),
            (16, "golang", Stage, "FROM"),
            (17, "deps", Stage, "COPY --from"),
            (19, "python:${PY}-slim", Image, "FROM"),
            (20, "$REGISTRY/app:latest", Image, "FROM"),
            (21, "$TOOLS_IMAGE", Image, "FROM"),
            (23, "builder", Stage, "FROM"),
            (24, "builder", Stage, "FROM"),
            (25, "variant-${FLAVOR}", Stage, "FROM"),
            (26, "builder", Stage, "FROM"),
            (27, "builder", Stage, "FROM"),
            (28, "${TARGETOS}", Stage, "FROM"),
            (31, "variant", Stage, "COPY --from"),
            (32, "Builder", Stage, "COPY --from"),
            (33, "tools", Stage, "RUN --mount from"),
            (
                34,
                "docker.io/library/busybox:1.36",
                Image,
                "RUN --mount from"
            ),
        ]
    );
}

#[test]
fn arg_chains_cannot_blow_up() {
    let mut t = String::from("ARG A0=ab\n");
    for i in 1..64 {
        t.push_str(&format!("ARG A{i}=$A{p}$A{p}\n", p = i - 1));
    }
    t.push_str("FROM x-$A63\n");
    assert_eq!(brief(&t), [row(65, "x-$A63", Image)]);
}

#[test]
fn linear_on_large_input() {
    // Not a timing test: a large file with many stages and heredocs
    // scans to the expected number of occurrences.
    let mut t = String::from("# syntax=docker/dockerfile:1\n");
    for i in 0..2000 {
        t.push_str(&format!(
            "FROM alpine:3 AS s{i}\nRUN <<EOF\nFROM no\nEOF\nCOPY --from=s{i} / /\n"
        ));
    }
    assert_eq!(scan(&t).expect("scans").len(), 1 + 2000 * 2);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Dockerfile-shaped text: instruction words, flags, variables, quotes,
    /// continuations, heredoc markers, comments, CR/LF and non-ASCII text.
    fn dockerfile_text() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "FROM ",
            "from ",
            "COPY ",
            "ADD ",
            "RUN ",
            "ARG ",
            "ONBUILD ",
            "AS ",
            " as ",
            "--from=",
            "--mount=type=bind,from=",
            ",from=",
            "--platform=$BUILDPLATFORM ",
            "alpine:3",
            "golang",
            "scratch",
            "builder",
            "0",
            "$X",
            "${X}",
            "${X:-a}",
            "${",
            "}",
            "X=python:3",
            "=",
            "\"",
            "'",
            "\\",
            "`",
            "<<EOF",
            "<<-'E'",
            "EOF",
            "\tE",
            "# syntax=docker/dockerfile:1",
            "# escape=`",
            "#",
            " ",
            "\t",
            "\n",
            "\r\n",
            "\r",
            "é",
            "☕",
            "@sha256:",
            "/",
            ":",
        ]);
        prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn never_panics_and_spans_are_exact(text in dockerfile_text()) {
            let found = scan(&text).expect("the Dockerfile scanner never fails");
            for o in found {
                let s = text.get(o.span.clone());
                prop_assert!(s.is_some(), "span off a char boundary: {:?}", o);
                let s = s.unwrap_or_default();
                prop_assert!(!s.is_empty());
                prop_assert!(!s.contains(['\r', '\n']), "{:?}", s);
                prop_assert!(!(s.starts_with('"') && s.ends_with('"') && s.len() > 1));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn arbitrary_strings_never_panic(text in any::<String>()) {
            let _ = scan(&text);
        }
    }
}
