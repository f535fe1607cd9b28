//! No input makes a scanner or the reference grammar panic.
//!
//! Property tests over [`imagepin::scan_text`] (and each kind's raw
//! scanner and [`imagepin::scan_file`]) for every [`FileKind`], and over
//! [`Reference::parse`]. Inputs are random text (any Unicode, lossy bytes) and
//! structure-aware text assembled from fragments of Dockerfile, YAML and JSON
//! syntax: `FROM` lines, parser directives, heredocs, continuations (`\` and
//! backtick), `${…}`/`{{ … }}`/`${{ … }}` templating, anchors/aliases/merge
//! keys, block scalars, flow collections, quotes, comments, CRLF, a BOM and
//! multi-byte characters. Every span `scan_text` and `scan_file` return must
//! be in bounds, on char boundaries and free of line breaks (each kind's raw
//! scanner: in bounds and on char boundaries).
//!
//! Cases per test: proptest's default (256), or `PROPTEST_CASES=100000 cargo
//! test --test integration no_panic::` for a long run. `NO_PANIC_ALLOW_NEWLINE=1` skips the
//! newline check, to look for other failures past a known one.

use std::ops::Range;
use std::path::Path;

use imagepin::FileKind;
use imagepin::Reference;
use imagepin::{Occurrence, ScanError, Syntax};
use proptest::prelude::*;
use proptest::sample::select;

const BOM: &str = "\u{feff}";

// ---------------------------------------------------------------- checks

/// In bounds and on char boundaries (raw scanner spans may cross lines: a
/// multi-line value is cut to its first line by `scan_text`).
fn check_raw_span(text: &str, span: &Range<usize>, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what}: span {span:?} out of bounds (len {})",
        text.len()
    );
    prop_assert!(
        text.get(span.clone()).is_some(),
        "{what}: span {span:?} not on char boundaries"
    );
    Ok(())
}

/// In bounds, on char boundaries and on one line (no `\n`, no `\r`).
fn check_span(text: &str, span: &Range<usize>, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what}: span {span:?} out of bounds (len {})",
        text.len()
    );
    let Some(slice) = text.get(span.clone()) else {
        return Err(TestCaseError::fail(format!(
            "{what}: span {span:?} not on char boundaries"
        )));
    };
    prop_assert!(
        !slice.contains(['\n', '\r']) || std::env::var_os("NO_PANIC_ALLOW_NEWLINE").is_some(),
        "{what}: span {span:?} = {slice:?} contains a line break"
    );
    Ok(())
}

fn raw_scan(kind: FileKind, body: &str) -> Result<Vec<Occurrence>, ScanError> {
    let entry = imagepin::registry_entry(kind).expect("every kind is registered");
    (entry.scan)(body)
}

fn check_error(text: &str, e: &ScanError) -> Result<(), TestCaseError> {
    // YAML parsers count a lone CR as a line break too.
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
    if let Some(line) = e.line {
        prop_assert!(
            line >= 1 && line <= lines + 1,
            "error line {line} of {lines}: {e}"
        );
    }
    if let Some(col) = e.column {
        prop_assert!(col >= 1, "error column {col}: {e}");
    }
    Ok(())
}

/// The whole property for one kind and one text.
fn check(kind: FileKind, text: &str) -> Result<(), TestCaseError> {
    // The raw scanner, on the BOM-stripped body: spans before any filtering.
    let body = text.strip_prefix(BOM).unwrap_or(text);
    match raw_scan(kind, body) {
        Ok(found) => {
            for o in &found {
                check_raw_span(body, &o.span, &format!("{kind} raw scanner"))?;
            }
        }
        Err(e) => check_error(body, &e)?,
    }
    // The public entry point (BOM handling, sorting, dedup).
    match imagepin::scan_text(kind, text) {
        Ok(found) => {
            for o in &found {
                check_span(text, &o.span, &format!("{kind} scan_text"))?;
            }
        }
        Err(e) => check_error(text, &e)?,
    }
    // Findings: line/column computation and classification (grammar).
    let lines = text.split('\n').count();
    if let Ok(findings) = imagepin::scan_file(Path::new("f"), kind, text, &|r| r.starts_with('x')) {
        for f in &findings {
            check_span(text, &f.span, &format!("{kind} scan_file"))?;
            prop_assert_eq!(&f.reference, &text[f.span.clone()]);
            prop_assert!(f.line >= 1 && f.line <= lines, "line {} of {lines}", f.line);
            prop_assert!(f.column >= 1, "column {}", f.column);
        }
    }
    Ok(())
}

fn check_reference(text: &str) -> Result<(), TestCaseError> {
    if let Ok(r) = Reference::parse(text) {
        prop_assert_eq!(r.to_string(), text, "Display must give back the text");
        let n = r.name_tag_len();
        prop_assert!(n <= text.len() && text.is_char_boundary(n));
        let _ = (r.registry(), r.repository(), r.tag_or_latest());
        let _ = Reference::parse(&r.normalized());
    }
    Ok(())
}

// ------------------------------------------------------------ generators

const DOMAINS: &[&str] = &[
    "",
    "",
    "",
    "localhost/",
    "localhost:5000/",
    "ghcr.io/",
    "registry.k8s.io/",
    "mcr.microsoft.com/",
    "example.com:4000/",
    "docker.io/",
    "Docker.IO/",
    "a_b.c/",
    "[::1]:5000/",
    "host:/",
    ":5000/",
    "é.io/",
];
const COMPONENTS: &[&str] = &[
    "python", "library", "org", "my-app", "a__b", "a.b", "a_b", "Upper", "x--y", "-lead", "trail-",
    "", "_", "é", "日本", "${REPO}", "$X",
];
const TAGS: &[&str] = &[
    "",
    "",
    ":3.12-slim",
    ":latest",
    ":",
    ":-bad",
    ":.bad",
    ":v1.0_rc",
    ":${TAG}",
    ":${TAG:-1}",
    ":$TAG",
    ":ltsc2022",
    ":é",
    ":a:b",
];
const DIGEST_PREFIXES: &[&str] = &[
    "@sha256:",
    "@sha512:",
    "@SHA256:",
    "@sha256+b64:",
    "@",
    "@md5:",
    "@:",
];
const TEMPLATED: &[&str] = &[
    "${X}",
    "$X",
    "${X:-python:3.12}",
    "${X-python}",
    "${X:?required}",
    "${X:-${Y:-alpine}}",
    "{{ .Values.image }}",
    "{{ .Values.image.repository }}:{{ .Values.image.tag }}",
    "${{ matrix.image }}",
    "${{ }}",
    "$(params.image)",
    "{{inputs.parameters.image}}",
    "${",
    "${{",
    "{{",
    "}}",
    "$",
];

fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        2 => "[0-9a-f]{64}".prop_map(|h| format!("@sha256:{h}")),
        1 => (select(DIGEST_PREFIXES), "[0-9a-fA-Fg-z]{0,130}")
            .prop_map(|(p, h)| format!("{p}{h}")),
    ]
}

fn reference() -> impl Strategy<Value = String> {
    let structured = (
        select(DOMAINS),
        prop::collection::vec(select(COMPONENTS), 1..4),
        select(TAGS),
        digest(),
    )
        .prop_map(|(d, p, t, g)| format!("{d}{}{t}{g}", p.join("/")));
    prop_oneof![
        6 => structured,
        1 => "[ -~]{0,60}",
        1 => any::<String>(),
        1 => select(TEMPLATED).prop_map(str::to_string),
        1 => "[a-z]{0,300}",
        1 => "[a-z]{1,5}:[a-z0-9]{120,140}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "builder", "BUILDER", "base", "0", "1", "golang", "python", "x"
            ][..]
        )
        .prop_map(str::to_string),
        "[a-zA-Z0-9_.-]{0,12}",
        select(TEMPLATED).prop_map(str::to_string),
    ]
}

const DOCKERFILE_LINES: &[&str] = &[
    "FROM {r}",
    "FROM {r}",
    "FROM {r} AS {n}",
    "from {r} as {n}",
    "FROM --platform=$BUILDPLATFORM {r} AS {n}",
    "FROM --platform={n} {r}",
    "FROM {n}",
    "FROM scratch",
    "FROM",
    "FROM ",
    "FROM \\",
    "FROM `",
    "  {r} AS {n}",
    "AS {n}",
    "COPY --from={n} /a /b",
    "COPY --from={r} /a /b",
    "COPY --link --from={r} [\"C:\\\\a\", \"C:\\\\b\"]",
    "ADD --from={r} a b",
    "COPY --from= a b",
    "COPY --from",
    "RUN --mount=type=bind,from={r},target=/x true",
    "RUN --mount=type=cache,target=/x --mount=from={n} make",
    "RUN --mount=from=",
    "RUN --mount=,,,from",
    "ARG {n}={r}",
    "ARG {n}=\"{r}\"",
    "ARG {n}='{r}'",
    "ARG {n}",
    "ARG {n}=${{n}:-{r}}",
    "ARG a=1 b={r}",
    "arg foo",
    "FROM ${{n}}",
    "FROM ${{n}} AS {n}",
    "FROM ${{n}:-{r}}",
    "FROM ${{n}",
    "FROM {r}-${{n}}",
    "# syntax={r}",
    "#syntax={r}",
    "# syntax = {r}",
    "# escape=`",
    "# escape=\\",
    "# escape=",
    "# escape=é",
    "# directive=x",
    "# comment {r}",
    "#",
    "RUN <<EOF",
    "RUN <<-EOT cat > /x",
    "RUN <<'EOF' <<\"EOT\"",
    "COPY <<EOF /x",
    "RUN cat <<EOF && echo <<-EOT",
    "RUN <<",
    "RUN <<-",
    "RUN <<''",
    "EOF",
    "\tEOT",
    "EOT",
    "RUN apt-get update && \\",
    "    apt-get install -y x \\",
    "    # comment in continuation",
    "RUN powershell `",
    "  echo hi `",
    "ONBUILD FROM {r}",
    "ONBUILD COPY --from={r} a b",
    "HEALTHCHECK CMD curl x",
    "MAINTAINER é 日本 😀",
    "",
    "   ",
    "\t",
    "{r}",
];

const YAML_LINES: &[&str] = &[
    "image: {r}",
    "image: \"{r}\"",
    "image: '{r}'",
    "image:  {r}  # comment",
    "image: {r} #",
    "image:",
    "image: ",
    "image: \"\"",
    "image: ''",
    "image: \"a\\\"b\\u00e9\\x\"",
    "image: 'it''s'",
    "image: \"unterminated",
    "image: 'unterminated",
    "image: &{n} {r}",
    "image: *{n}",
    "image: !!str {r}",
    "image: !custom {r}",
    "image: [{r}]",
    "image: {name: {r}, entrypoint: ['']}",
    "image: {{ .Values.image }}",
    "image: \"{{ .Values.image }}\"",
    "image: |",
    "image: >-",
    "image:\n  name: {r}",
    "name: {r}",
    "- name: {n}",
    "  image: {r}",
    "- {r}",
    "- name: {r}\n  alias: {n}",
    "services:",
    "services: [{r}, {name: {r}}]",
    "  {n}:",
    "    image: {r}",
    "    build: .",
    "    build:\n      context: .",
    "x-{n}: &{n}",
    "  <<: *{n}",
    "<<: [*{n}, *{n}]",
    "<<: *{n}",
    "<<:",
    "*{n}",
    "&{n}",
    "? {r}",
    ": {r}",
    "jobs:",
    "  {n}:",
    "    container: {r}",
    "    container:\n      image: {r}",
    "    services:\n      {n}:\n        image: {r}",
    "    runs-on: {r}",
    "    steps:",
    "      - uses: docker://{r}",
    "      - uses: 'docker://{r}'",
    "      - uses: actions/checkout@v4",
    "      - run: docker run {r}",
    "runs:\n  using: docker\n  image: 'docker://{r}'",
    "runs:\n  image: Dockerfile",
    "apiVersion: v1",
    "apiVersion: apps/v1",
    "kind: Pod",
    "kind: CronJob",
    "kind: ConfigMap",
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    "      - name: {n}\n        image: {r}",
    "      initContainers:\n      - image: {r}",
    "      ephemeralContainers:\n      - image: {r}",
    "  jobTemplate:",
    "  container:\n    image: {r}",
    "data:\n  x: |\n    image: {r}",
    "status:\n  containerStatuses:\n  - image: {r}",
    "default:\n  image: {r}",
    "variables:\n  IMAGE: {r}",
    "include: '{n}.gitlab-ci.yml'",
    "---",
    "--- # doc",
    "...",
    "%YAML 1.2",
    "%TAG ! tag:x,2000:",
    "{{- if .Values.enabled }}",
    "{{ end }}",
    "{{- include \"x\" . | nindent 8 }}",
    "key: >",
    "key: |+",
    "key: |2-",
    "  block {r}",
    "# image: {r}",
    "#",
    "[",
    "]",
    "{",
    "}",
    "{a: [b, {c: d}]}",
    "- - - {r}",
    "- ? {r} : {r}",
    "'key': \"value\"",
    "\"image\": \"{r}\"",
    "\t",
    "",
    "   ",
    "é: 日本",
    "😀: {r}",
    "{r}",
];

const JSON_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"image\"",
    "\"image\": \"{r}\"",
    "\"image\": \"{r}\",",
    "\"image\": {r}",
    "\"image\": null",
    "\"image\": [\"{r}\"]",
    "\"image\": {\"name\": \"{r}\"}",
    "\"name\": \"{n}\"",
    "\"build\": {\"dockerfile\": \"Dockerfile\"}",
    "\"features\": {\"ghcr.io/devcontainers/features/x:1\": {}}",
    "\"dockerComposeFile\": \"{n}.yml\"",
    "\"{r}\"",
    "\"\\\"\"",
    "\"\\u00e9\\uD83D\\uDE00\"",
    "\"\\\"",
    "\"\\",
    "\"unterminated",
    "// comment {r}",
    "// comment\n",
    "/* {r} */",
    "/*",
    "*/",
    "/",
    ",,",
    ",}",
    ",]",
    "true",
    "-1.5e10",
    "\n",
    "\r\n",
    " ",
    "\t",
    "é",
    "😀",
    "{r}",
];

const SEPARATORS: &[&str] = &[
    "\n", "\n", "\n", "\r\n", "\r\n", "\\\n", "`\n", "\r", "", " ",
];

fn fill(template: &str, r: &str, n: &str) -> String {
    template.replace("{r}", r).replace("{n}", n)
}

/// A file assembled from template lines with random references and names.
fn lines_doc(templates: &'static [&'static str], indent: bool) -> impl Strategy<Value = String> {
    let line = (
        select(templates),
        reference(),
        name(),
        if indent { 0..10usize } else { 0..1usize },
        select(SEPARATORS),
    )
        .prop_map(|(t, r, n, i, sep)| format!("{}{}{sep}", " ".repeat(i), fill(t, &r, &n)));
    (any::<bool>(), prop::collection::vec(line, 0..40)).prop_map(|(bom, lines)| {
        let mut s = if bom { BOM.to_string() } else { String::new() };
        s.extend(lines);
        s
    })
}

fn json_doc() -> impl Strategy<Value = String> {
    let piece = (select(JSON_PIECES), reference(), name()).prop_map(|(t, r, n)| fill(t, &r, &n));
    (any::<bool>(), prop::collection::vec(piece, 0..60)).prop_map(|(bom, pieces)| {
        let mut s = if bom { BOM.to_string() } else { String::new() };
        s.extend(pieces);
        s
    })
}

/// Fragments of every kind's syntax mixed together, with junk in between.
fn mixed_doc() -> impl Strategy<Value = String> {
    let all: Vec<&'static str> = DOCKERFILE_LINES
        .iter()
        .chain(YAML_LINES)
        .chain(JSON_PIECES)
        .copied()
        .collect();
    let piece = prop_oneof![
        8 => (select(all), reference(), name(), select(SEPARATORS))
            .prop_map(|(t, r, n, sep)| format!("{}{sep}", fill(t, &r, &n))),
        1 => any::<String>(),
        1 => "[ -~\t\r\n]{0,20}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// Unstructured text: any Unicode, bytes decoded lossily, printable ASCII.
fn random_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..600)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        "(?s)[ -~\t\r\n]{0,600}",
        "[\u{feff}\r\n \t:#\\-`'\"{}$&*|>\\[\\],a-zé日😀]{0,300}",
    ]
}

/// Value shapes after a key: plain, quoted, block and folded scalars,
/// continuation lines, flow collections, anchors, aliases, tags, comments.
const VALUES: &[&str] = &[
    " {r}",
    " {r}\n",
    "  {r} # c\n",
    " \"{r}\"\n",
    " '{r}'\n",
    " |\n  {r}\n",
    " |-\n      {r}\n",
    " >-\n    {r}\n    {r}\n",
    " |\n {r}\n",
    "\n  {r}\n",
    "\n      {r}\n",
    " {r}\n  continued\n",
    " \"{r}\n  continued\"\n",
    " '{r}\n\n  x'\n",
    " [{r}, {r}]\n",
    " {name: {r}}\n",
    " &a {r}\n",
    " *a\n",
    " !!str {r}\n",
    " !!binary {r}\n",
    " # c\n  {r}\n",
    " {{ {r} }}\n",
    " \"{{ .Values.x | default \\\"{r}\\\" }}\"\n",
    " ? {r}\n",
    " {r}\r\n",
    "",
    "\n",
];

fn yaml_skeleton(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        select(keys),
        select(VALUES),
        reference(),
        lines_doc(YAML_LINES, true),
    )
        .prop_map(|(bom, key, value, r, rest)| {
            let bom = if bom { BOM } else { "" };
            format!("{bom}{key}{}{rest}", fill(value, &r, "a"))
        })
}

/// Documents in a kind's own syntax, built from the keys its registry entry
/// lists (so a new kind is covered without touching this file).
fn structured(kind: FileKind) -> BoxedStrategy<String> {
    let entry = imagepin::registry_entry(kind).expect("every kind is registered");
    match entry.syntax {
        Syntax::Lines => {
            let keys: Vec<&'static str> = entry.keys.to_vec();
            prop_oneof![
                lines_doc(DOCKERFILE_LINES, false),
                prop::collection::vec((select(keys), reference()), 0..20).prop_map(|lines| {
                    lines
                        .into_iter()
                        .map(|(k, r)| format!("{k} {r}\n"))
                        .collect::<String>()
                }),
            ]
            .boxed()
        }
        Syntax::Json => json_doc().boxed(),
        Syntax::Yaml => yaml_skeleton(entry.keys).boxed(),
        Syntax::Groovy => groovy_doc(entry.keys).boxed(),
    }
}

/// Pieces of Groovy: brackets, every kind of string and comment (and their
/// unterminated halves), interpolation, slashy strings, escapes.
const GROOVY_PIECES: &[&str] = &[
    "'{r}'",
    "\"{r}\"",
    "\"{r}:${{n}}\"",
    "\"${ \"}\" + '{r}' }\"",
    "'''{r}\n'''",
    "\"\"\"\n{r}\n\"\"\"",
    "'{r}",
    "\"{r}",
    "'''",
    "\"\"\"",
    "'\\''",
    "\"\\\"\"",
    "\\",
    "/{r}/",
    "$/{r}/$",
    "$/",
    "/",
    "// {r}\n",
    "/* {r} */",
    "/*",
    "*/",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ", ",
    ": ",
    "; ",
    ".",
    " + ",
    "\n",
    "\r\n",
    " ",
    "{n}",
    "image ",
    "image: ",
    "yaml '''\nspec:\n  containers:\n  - image: {r}\n'''",
    "é",
];

fn groovy_doc(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        2 => select(keys).prop_map(str::to_string),
        5 => (select(GROOVY_PIECES), reference(), name()).prop_map(|(t, r, n)| fill(t, &r, &n)),
    ];
    (any::<bool>(), prop::collection::vec(piece, 0..60)).prop_map(|(bom, pieces)| {
        let mut s = if bom { BOM.to_string() } else { String::new() };
        s.extend(pieces);
        s
    })
}

/// Small pieces of YAML and JSON syntax and of the keys each scanner looks
/// for (GitHub Actions, GitLab CI, Compose, Kubernetes, devcontainer), joined
/// in any order: they reach the scanners' odd branches (anchors, merges,
/// `!reference`, macOS runner tags, comments inside JSON, templating).
const SCANNER_FRAGMENTS: &[&str] = &[
    "\n",
    "  ",
    "- ",
    ": ",
    "&a ",
    "*a",
    "<<: *a\n",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "'a:1'",
    "\"b\\t:2\"",
    "|\n  x\n",
    "!reference ",
    "${{ x }}",
    "$V",
    "é",
    "# c\n",
    "---\n",
    "\r\n",
    "jobs:",
    "runs:",
    "container:",
    "image:",
    "services:",
    "steps:",
    "uses:",
    "docker://",
    "alpine:3",
    "j:",
    "name:",
    "default:",
    "tags:",
    "extends:",
    "saas-macos-m1",
    "macos-14-xcode-15",
    "job:",
    ".t:",
    "variables:",
    ",",
    ":",
    "\"image\"",
    "\"a:1\"",
    "\"\\u00e9\"",
    "// c\n",
    "/* c */",
    "/*",
    " ",
    "1",
    "-2.5e3",
    "true",
    "null",
    "\"",
    "\\",
    "services:\n",
    "  web:\n",
    "    image: ",
    "image: ",
    "apiVersion: v1\nkind: Pod\n",
    "containers:\n",
    "<<: ",
    "[*a, *a]",
    "'",
    "|\n",
    ">-\n",
    "${X:-nginx:1}",
    "$$",
    "{{ .Values.x }}",
    "nginx:1.25",
    "build: .\n",
    "x-y: ",
    "\t",
    "!reset ",
    "\u{feff}",
];

// ----------------------------------------------------------------- tests

fn kind() -> impl Strategy<Value = FileKind> {
    select(imagepin::KINDS.iter().map(|k| k.id).collect::<Vec<_>>())
}

proptest! {
    #[test]
    fn every_kind_structured((kind, text) in kind().prop_flat_map(|k| (Just(k), structured(k)))) {
        check(kind, &text)?;
    }

    #[test]
    fn any_kind_mixed_fragments(kind in kind(), text in mixed_doc()) {
        check(kind, &text)?;
    }

    #[test]
    fn any_kind_random_text(kind in kind(), text in random_text()) {
        check(kind, &text)?;
    }

    #[test]
    fn any_kind_yaml_fragments(kind in kind(), text in lines_doc(YAML_LINES, true)) {
        check(kind, &text)?;
    }

    #[test]
    fn any_kind_scanner_fragments(
        kind in kind(),
        parts in prop::collection::vec(select(SCANNER_FRAGMENTS), 0..60),
    ) {
        check(kind, &parts.concat())?;
    }

    #[test]
    fn reference_structured(text in reference()) {
        check_reference(&text)?;
    }

    #[test]
    fn reference_random(text in random_text()) {
        check_reference(&text)?;
    }
}

/// The fixed inputs that once broke something, or are likely to.
#[test]
fn known_edge_cases() {
    let cases = [
        "",
        BOM,
        "\u{feff}\u{feff}",
        "\r",
        "\r\n",
        "\n\n\n",
        "FROM",
        "FROM \\\n",
        "# escape=`\nFROM `\n  python",
        "RUN <<EOF",
        "RUN <<EOF\nFROM x\n",
        "ARG X=\nFROM $X",
        "ARG X=${X:-\nFROM ${X}",
        "image: &a\nb: *a\n<<: *a",
        "a: *unknown",
        "<<: [*a, *b]",
        "services:\n  a:\n    <<: *x\n",
        "{{ }}",
        "image: {{ .Values.x }}",
        "- - - -",
        "? ? ?",
        "{\"image\": \"é\"",
        "/*",
        "\"\\uD800\"",
        "😀:😀",
        // Found by long runs: multi-line block scalars.
        "runs:\n  using: docker\n  image: |-\n      x\n",
        "image: |\n x:a0\n image: &${X} python\n",
    ];
    for text in cases {
        for kind in imagepin::KINDS.iter().map(|k| k.id) {
            if let Err(e) = check(kind, text) {
                panic!("{kind} {text:?}: {e}");
            }
        }
        if let Err(e) = check_reference(text) {
            panic!("reference {text:?}: {e}");
        }
    }
}

/// Inputs built to exhaust something: deep nesting (stack), alias bombs
/// (memory), ARG defaults that double at each step, very long lines.
#[test]
fn adversarial_inputs() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let mut bomb = String::from("a0: &a0 {image: python, name: python}\n");
    for i in 1..30 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let mut args = String::from("ARG A0=python:3\n");
    for i in 1..40 {
        args.push_str(&format!("ARG A{i}=${{A{p}}}${{A{p}}}\n", p = i - 1));
    }
    args.push_str("FROM ${A39}\nFROM $A39:tag\n");
    let indented: String = (0..5000)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    let long = format!("image: {}\n", "a".repeat(1 << 20));
    let cases = [
        format!("services: {}\n", deep(100_000)),
        format!("apiVersion: v1\nkind: Pod\nspec: {}\n", deep(100_000)),
        format!("{{\"image\": {}}}", deep(100_000)),
        format!("{}\"image\": \"python\"", "{".repeat(100_000)),
        format!("{bomb}services:\n  s: *a29\njobs: *a29\nspec:\n  containers: *a29\n"),
        format!("apiVersion: v1\nkind: List\nitems: *a29\n{bomb}"),
        args,
        indented,
        long.clone(),
        format!("FROM {}", "a".repeat(1 << 20)),
        "FROM a \\\n".repeat(50_000),
        "RUN <<EOF\n".repeat(50_000),
        "---\n".repeat(100_000),
        "&a ".repeat(50_000),
        "*a ".repeat(50_000),
    ];
    for text in &cases {
        for kind in imagepin::KINDS.iter().map(|k| k.id) {
            if let Err(e) = check(kind, text) {
                panic!("{kind} {:?}…: {e}", &text[..text.len().min(60)]);
            }
        }
    }
}

/// Multi-line values, dynamic or local builds included, one per kind: every
/// span `scan_text` returns lies on one line (the value's first line).
#[test]
fn multi_line_values_stay_on_one_line() {
    let cases = [
        (
            imagepin::kind_from_id("compose").unwrap(),
            "services:\n  a:\n    image: python:${TAG}\n      x\n",
        ),
        (
            imagepin::kind_from_id("github-actions").unwrap(),
            "jobs:\n  a:\n    container: python:${{ x }}\n      y\n",
        ),
        (
            imagepin::kind_from_id("github-actions").unwrap(),
            "runs:\n  using: docker\n  image: python\n   x\n",
        ),
        (
            imagepin::kind_from_id("gitlab-ci").unwrap(),
            "job:\n  services:\n    - name: python\n       {{ x }}\n",
        ),
        (
            imagepin::kind_from_id("kubernetes").unwrap(),
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: python\n     {{ x }}\n",
        ),
    ];
    let mut bad = Vec::new();
    for (kind, text) in cases {
        for o in imagepin::scan_text(kind, text).unwrap_or_default() {
            if text[o.span.clone()].contains('\n') {
                bad.push(format!("{kind}: {:?}", &text[o.span]));
            }
        }
    }
    assert!(bad.is_empty(), "multi-line spans: {bad:#?}");
}
