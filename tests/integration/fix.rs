//! `--fix`, `--diff`, `--verify` and `--update` through the library API with an
//! in-memory digest source: byte-exact pinning over every fixture in the
//! repository (a property test), partial failures, atomic writes, and stale
//! or missing pins.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use imagepin::Reference;
use imagepin::ScannedFile;
use imagepin::scan_file;
use imagepin::{DigestRef, DigestSource, ErrorKind, ResolveError, TagRef};
use imagepin::{FileKind, Status};
use imagepin::{FixOptions, FixOutcome, fix, verify};
use imagepin::{kind_for_path, kind_sniffed};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------- fake source

/// Tags resolve to a digest derived from `seed` unless set in `tags` or
/// listed in `fail`; digests exist unless listed in `gone`. Every batch asked
/// is recorded.
#[derive(Default)]
struct Fake {
    seed: u64,
    tags: HashMap<String, String>,
    fail: HashSet<String>,
    gone: HashSet<String>,
    tag_calls: RefCell<Vec<Vec<TagRef>>>,
    digest_calls: RefCell<Vec<Vec<DigestRef>>>,
    issued: RefCell<HashSet<String>>,
}

impl Fake {
    fn new(seed: u64) -> Fake {
        Fake {
            seed,
            ..Fake::default()
        }
    }

    fn with_tag(mut self, tag: &str, digest: &str) -> Fake {
        self.tags.insert(tag.to_string(), digest.to_string());
        self
    }

    fn failing(mut self, tag: &str) -> Fake {
        self.fail.insert(tag.to_string());
        self
    }

    fn gone(mut self, digest_ref: &str) -> Fake {
        self.gone.insert(digest_ref.to_string());
        self
    }

    fn digest_for(&self, tag: &TagRef) -> String {
        let key = tag.to_string();
        if let Some(d) = self.tags.get(&key) {
            return d.clone();
        }
        let hex = Sha256::digest(format!("{}:{key}", self.seed).as_bytes());
        let hex: String = hex.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

impl DigestSource for Fake {
    fn resolve_tags(&self, refs: &[TagRef]) -> Vec<Result<String, ResolveError>> {
        self.tag_calls.borrow_mut().push(refs.to_vec());
        refs.iter()
            .map(|r| {
                if self.fail.contains(&r.to_string()) {
                    return Err(ResolveError {
                        image: r.to_string(),
                        kind: ErrorKind::ServerError,
                        message: "registry answered 500 Internal Server Error".into(),
                    });
                }
                let d = self.digest_for(r);
                self.issued.borrow_mut().insert(d.clone());
                Ok(d)
            })
            .collect()
    }

    fn digests_exist(&self, refs: &[DigestRef]) -> Vec<Result<bool, ResolveError>> {
        self.digest_calls.borrow_mut().push(refs.to_vec());
        refs.iter()
            .map(|r| Ok(!self.gone.contains(&r.to_string())))
            .collect()
    }
}

// ---------------------------------------------------------------- helpers

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
/// "Now" for `verify` (seconds since the epoch): 2026-01-01.
const NOW: i64 = 1_767_225_600;

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The kind of a fixture: its name, or Kubernetes for YAML that looks like it.
/// Helm values and Kustomize files are left out: their pins are not `@`
/// suffixes, and some of their references can't be pinned in place; their
/// properties are in split_pins.rs.
fn fixture_kind(rel: &Path, text: &str) -> Option<FileKind> {
    let kind = kind_for_path(rel);
    if kind.is_some_and(|k| matches!(k.as_str(), "helm-values" | "kustomize")) {
        return None;
    }
    kind.or_else(|| {
        let name = rel.to_string_lossy();
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        yaml.then(|| kind_sniffed(text)).flatten()
    })
}

/// Every file under `root` (relative paths, sorted).
fn walk(root: &Path) -> Vec<PathBuf> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                go(root, &p, out);
            } else if ft.is_file() {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    go(root, root, &mut out);
    out.sort();
    out
}

/// Scans one file the way the CLI does (no configuration).
fn scan(path: &Path, rel: &Path) -> Option<ScannedFile> {
    let text = fs::read_to_string(path).ok()?;
    let kind = fixture_kind(rel, &text)?;
    let findings = scan_file(path, kind, &text, &|_| false).ok()?;
    Some(ScannedFile {
        path: path.to_path_buf(),
        kind,
        text,
        findings,
    })
}

fn scan_one(path: &Path) -> ScannedFile {
    let rel = Path::new(path.file_name().unwrap());
    scan(path, rel).expect("scannable fixture")
}

fn run_fix(files: &[ScannedFile], source: &Fake, opts: &FixOptions) -> (FixOutcome, String) {
    let mut out = Vec::new();
    let outcome = fix(files, source, opts, &mut out).unwrap();
    (outcome, String::from_utf8(out).unwrap())
}

fn write_opts() -> FixOptions {
    FixOptions {
        write: true,
        ..FixOptions::default()
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn count(findings: &[imagepin::Finding], status: Status) -> usize {
    findings.iter().filter(|f| f.status == status).count()
}

/// Whether a split reference's digest has no place to go (`--fix` says why).
fn nowhere(f: &imagepin::Finding) -> bool {
    matches!(
        f.split.as_ref().map(|s| &s.digest),
        Some(imagepin::DigestSlot::Nowhere(_))
    )
}

/// Unpinned references `--fix` can pin.
fn pinnable(findings: &[imagepin::Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.status == Status::Unpinned && !nowhere(f))
        .count()
}

/// Unpinned references whose digest has nowhere to go.
fn unpinnable(findings: &[imagepin::Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.status == Status::Unpinned && nowhere(f))
        .count()
}

/// A fixture variant: as written, CRLF, with a BOM, or without its final newline.
fn variant(text: &str, v: u8) -> String {
    match v % 4 {
        1 if !text.contains('\r') => text.replace('\n', "\r\n"),
        2 if !text.starts_with('\u{feff}') => format!("\u{feff}{text}"),
        3 => text.trim_end_matches(['\n', '\r']).to_string(),
        _ => text.to_string(),
    }
}

// ---------------------------------------------------------------- properties

/// What one property case saw, for the assertions.
struct Case {
    dir: tempfile::TempDir,
    before: Vec<(PathBuf, String, usize)>,
}

fn copy_fixtures(seed: u64) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let root = fixtures_root();
    let mut before = Vec::new();
    for (i, rel) in walk(&root).into_iter().enumerate() {
        let Ok(text) = fs::read_to_string(root.join(&rel)) else {
            continue;
        };
        if fixture_kind(&rel, &text).is_none() {
            continue;
        }
        let v = (seed.rotate_left(i as u32 % 64) & 3) as u8;
        let text = variant(&text, v);
        let dest = dir.path().join(&rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::write(&dest, &text).unwrap();
        before.push((rel, text, 0));
    }
    Case { dir, before }
}

fn scan_case(case: &mut Case) -> Vec<ScannedFile> {
    let mut files = Vec::new();
    for (rel, _, unpinned) in &mut case.before {
        if let Some(f) = scan(&case.dir.path().join(&*rel), rel) {
            *unpinned = pinnable(&f.findings);
            files.push(f);
        }
    }
    files
}

fn all_files(dir: &Path) -> HashSet<PathBuf> {
    walk(dir).into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Over every fixture in the repository (all areas), in random line-ending,
    /// BOM and final-newline variants, with random digests: after `--fix`,
    /// removing each inserted `@sha256:<hex>` gives back the original bytes
    /// exactly; nothing unpinned is left but the references whose digest
    /// has no safe place (left alone, with no lookup); a second `--fix`
    /// changes nothing; no temporary file is left.
    #[test]
    fn fix_inserts_only_digests_and_is_idempotent(seed in any::<u64>()) {
        let mut case = copy_fixtures(seed);
        let files = scan_case(&mut case);
        let stuck: usize = files.iter().map(|f| unpinnable(&f.findings)).sum();
        let listing = all_files(case.dir.path());
        let source = Fake::new(seed);
        let (outcome, diff) = run_fix(&files, &source, &write_opts());
        prop_assert!(outcome.errors.is_empty(), "errors: {:#?}", outcome.errors);
        prop_assert!(source.tag_calls.borrow().len() <= 1, "one batch of lookups");

        let issued = source.issued.borrow().clone();
        let mut total = 0;
        for (rel, original, unpinned) in &case.before {
            let path = case.dir.path().join(rel);
            let now = fs::read_to_string(&path).unwrap();
            let mut inserted = 0;
            let mut undone = now.clone();
            for d in &issued {
                let at = format!("@{d}");
                inserted += undone.matches(&at).count() - original.matches(&at).count();
                undone = undone.replace(&at, "");
            }
            prop_assert_eq!(&undone, original, "{} changed beyond the digests", rel.display());
            prop_assert_eq!(inserted, *unpinned, "{}: one digest per unpinned reference", rel.display());
            total += unpinned;
            if *unpinned > 0 {
                let header = format!("+++ b/{}", path.display().to_string().trim_start_matches('/'));
                prop_assert!(diff.contains(&header), "no diff for {}", rel.display());
            }
        }
        prop_assert_eq!(outcome.pinned, total);
        prop_assert_eq!(all_files(case.dir.path()), listing, "temporary files left");

        // Fix twice == fix once.
        let again = scan_case(&mut case);
        for f in &again {
            prop_assert_eq!(pinnable(&f.findings), 0, "{} still unpinned", f.path.display());
        }
        let still: usize = again.iter().map(|f| unpinnable(&f.findings)).sum();
        prop_assert_eq!(still, stuck);
        let snapshot: Vec<String> = again.iter().map(|f| f.text.clone()).collect();
        let second_source = Fake::new(seed);
        let (second, diff2) = run_fix(&again, &second_source, &write_opts());
        prop_assert!(second_source.tag_calls.borrow().is_empty(), "nothing left to look up");
        prop_assert!(second.changed.is_empty() && second.errors.is_empty());
        prop_assert!(diff2.is_empty());
        for (f, before) in again.iter().zip(snapshot) {
            prop_assert_eq!(fs::read_to_string(&f.path).unwrap(), before);
        }
    }
}

/// The property above is only worth something if the fixtures have
/// something to pin: each of this area's fixtures has unpinned references.
#[test]
fn fix_fixtures_have_unpinned_references() {
    let root = fixtures_root().join("fix");
    let mut n = 0;
    for rel in walk(&root) {
        let path = root.join(&rel);
        let text = fs::read_to_string(&path).unwrap();
        if fixture_kind(&rel, &text).is_none() {
            continue;
        }
        let f = scan(&path, &rel).unwrap_or_else(|| panic!("{} does not scan", rel.display()));
        assert!(
            count(&f.findings, Status::Unpinned) > 0,
            "{} has nothing to pin: {:#?}",
            rel.display(),
            f.findings
        );
        n += 1;
    }
    assert!(n >= 9, "only {n} fixtures");
}

// ---------------------------------------------------------------- examples

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn pins_in_place_keeping_tag_quotes_and_line_endings() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "Dockerfile",
        "\u{feff}FROM python:3.12-slim AS build\r\nFROM build\r\nFROM scratch\r\nFROM alpine",
    );
    let source = Fake::new(0)
        .with_tag("docker.io/library/python:3.12-slim", D1)
        .with_tag("docker.io/library/alpine:latest", D2);
    let (outcome, _) = run_fix(&[scan_one(&p)], &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        format!(
            "\u{feff}FROM python:3.12-slim@{D1} AS build\r\nFROM build\r\nFROM scratch\r\nFROM alpine@{D2}"
        )
    );
    assert_eq!(outcome.pinned, 2);
    assert_eq!(outcome.changed, [p]);
    assert!(outcome.errors.is_empty());
}

#[test]
fn compose_defaults_and_anchors_are_pinned_where_written() {
    let d = tempfile::tempdir().unwrap();
    let text = "x: &img 'redis:7'\nservices:\n  a:\n    image: *img\n  b:\n    image: *img\n  c:\n    image: \"${C_IMAGE:-nginx:1.27}\"\n  d:\n    image: ${REG}/d:${TAG}\n";
    let p = write(d.path(), "compose.yaml", text);
    let source = Fake::new(0)
        .with_tag("docker.io/library/redis:7", D1)
        .with_tag("docker.io/library/nginx:1.27", D2);
    let (outcome, _) = run_fix(&[scan_one(&p)], &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        text.replace("redis:7", &format!("redis:7@{D1}"))
            .replace("nginx:1.27", &format!("nginx:1.27@{D2}"))
    );
    assert_eq!(outcome.pinned, 2);
}

#[test]
fn dockerfile_arg_default_is_pinned_at_the_arg() {
    let d = tempfile::tempdir().unwrap();
    let text = "ARG BASE=python:3.12\nFROM ${BASE}\nFROM python:${PY}\n";
    let p = write(d.path(), "Dockerfile", text);
    let source = Fake::new(0).with_tag("docker.io/library/python:3.12", D1);
    let (outcome, _) = run_fix(&[scan_one(&p)], &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        format!("ARG BASE=python:3.12@{D1}\nFROM ${{BASE}}\nFROM python:${{PY}}\n")
    );
}

/// Fixes a copy of `fixture` with every tag in `tags` resolving to D1: the
/// fixed text, the outcome, and the references left unpinned (`line:
/// image: note`), which were not looked up. Fixing again changes nothing.
fn fix_fixture_copy(fixture: &str, name: &str, tags: &[&str]) -> (String, FixOutcome, Vec<String>) {
    let d = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(fixtures_root().join(fixture)).unwrap();
    let p = write(d.path(), name, &text);
    let source = tags.iter().fold(Fake::new(0), |f, t| f.with_tag(t, D1));
    let (outcome, _) = run_fix(&[scan_one(&p)], &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let asked: Vec<String> = source
        .tag_calls
        .borrow()
        .iter()
        .flatten()
        .map(|t| t.to_string())
        .collect();
    let mut expected_asks: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    expected_asks.sort();
    let mut sorted = asked.clone();
    sorted.sort();
    assert_eq!(
        sorted, expected_asks,
        "only the pinnable tags are looked up"
    );
    let fixed = fs::read_to_string(&p).unwrap();
    // Fix twice == fix once: nothing to look up, nothing changes.
    let again = scan_one(&p);
    let second_source = Fake::new(1);
    let (second, diff) = run_fix(std::slice::from_ref(&again), &second_source, &write_opts());
    assert!(second_source.tag_calls.borrow().is_empty());
    assert!(diff.is_empty() && second.changed.is_empty() && second.errors.is_empty());
    assert_eq!(fs::read_to_string(&p).unwrap(), fixed);
    let left = again
        .findings
        .iter()
        .filter(|f| f.status == Status::Unpinned)
        .map(|f| {
            format!(
                "{}: {}: {}",
                f.line,
                f.image(),
                f.note.as_deref().unwrap_or("")
            )
        })
        .collect();
    (fixed, outcome, left)
}

#[test]
fn dockerfile_defaults_behind_variables_are_pinned_where_safe() {
    let (fixed, outcome, left) = fix_fixture_copy(
        "dockerfile/defaults.Dockerfile",
        "Dockerfile",
        &[
            "docker.io/docker/dockerfile:1",
            "docker.io/library/golang:1.26",
            "docker.io/library/python:3.12-slim",
            "docker.io/library/nginx:1.27",
            "docker.io/library/busybox:1.36",
        ],
    );
    let original =
        fs::read_to_string(fixtures_root().join("dockerfile/defaults.Dockerfile")).unwrap();
    let expected = original
        .replace("dockerfile:1\n", &format!("dockerfile:1@{D1}\n"))
        .replace("GO_VERSION=1.26\n", &format!("GO_VERSION=1.26@{D1}\n"))
        .replace("python:3.12-slim}", &format!("python:3.12-slim@{D1}}}"))
        .replace("nginx:1.27 AS", &format!("nginx:1.27@{D1} AS"))
        .replace(":-1.36}", &format!(":-1.36@{D1}}}"));
    assert_eq!(fixed, expected);
    assert_eq!(outcome.pinned, 5);
    let cant = "imagepin can't write its digest in place";
    let goes_on = |v: &str| {
        format!(
            "{cant}: the reference goes on after ${{{v}}}, so a digest at its end would not follow that variable"
        )
    };
    let shared = |v: &str, lines: &str| {
        format!(
            "{cant}: ARG {v} is used on more than this line (lines {lines}); a digest in its default would reach them all"
        )
    };
    assert_eq!(
        left,
        [
            format!(
                "15: node:22: the default of ARG NODE_VERSION (line 4); {}",
                shared("NODE_VERSION", "15, 17")
            ),
            format!(
                "19: debian:bookworm-slim: the defaults of ARG DEBIAN_IMAGE (line 6) and ARG DEBIAN_RELEASE (line 5); {}",
                goes_on("DEBIAN_RELEASE")
            ),
            format!(
                "22: alpine:3.20: the default of ARG ALPINE_VERSION (line 9); {}",
                shared("ALPINE_VERSION", "22, 23")
            ),
            format!(
                "23: golang:1.22-alpine3.20: the default of ARG ALPINE_VERSION (line 9); {}",
                shared("ALPINE_VERSION", "22, 23")
            ),
            format!(
                "24: ghcr.io/acme/tools:2.4-slim: the default of ARG TOOLS_VERSION (line 10); {}",
                goes_on("TOOLS_VERSION")
            ),
        ]
    );
}

#[test]
fn compose_partial_defaults_are_pinned_where_safe() {
    let (fixed, outcome, left) = fix_fixture_copy(
        "compose/compose.defaults.yaml",
        "compose.yaml",
        &[
            "docker.io/library/redis:7.2",
            "docker.io/acme/web:1.4.0",
            "ghcr.io/acme/proxy:2.1",
            "docker.io/axllent/mailpit:v1.18",
        ],
    );
    let original =
        fs::read_to_string(fixtures_root().join("compose/compose.defaults.yaml")).unwrap();
    let expected = original
        .replace(":-7.2}", &format!(":-7.2@{D1}}}"))
        .replace(":-1.4.0}", &format!(":-1.4.0@{D1}}}"))
        .replace("proxy:2.1 #", &format!("proxy:2.1@{D1} #"))
        .replace("mailpit:v1.18}", &format!("mailpit:v1.18@{D1}}}"));
    assert_eq!(fixed, expected);
    assert_eq!(outcome.pinned, 4);
    assert_eq!(
        left,
        [
            "10: ghcr.io/acme/worker:3-alpine: the default of ${WORKER_TAG}; imagepin can't write its digest in place: the reference goes on after ${WORKER_TAG}, so a digest at its end would not follow that variable",
            "12: postgres:16: the default of ${PG_TAG}; imagepin can't write its digest in place: ${PG_TAG} is also used on line 14; a digest in its default would reach that use too",
        ]
    );
}

#[test]
fn gitlab_dependency_proxy_image_is_looked_up_on_docker_hub_and_pinned_after_the_prefix() {
    let d = tempfile::tempdir().unwrap();
    let text = "image: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/node:20\njob:\n  services:\n    - $CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX/bitnami/redis:7\n";
    let p = write(d.path(), ".gitlab-ci.yml", text);
    let source = Fake::new(0)
        .with_tag("docker.io/library/node:20", D1)
        .with_tag("docker.io/bitnami/redis:7", D2);
    let (outcome, _) = run_fix(&[scan_one(&p)], &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.pinned, 2);
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        text.replace("node:20", &format!("node:20@{D1}"))
            .replace("redis:7", &format!("redis:7@{D2}"))
    );
}

#[test]
fn earthfile_pins_from_pull_and_arg_defaults_in_place() {
    let d = tempfile::tempdir().unwrap();
    let text = "VERSION 0.8\nARG --global BASE=golang:1.23\nFROM $BASE\nt:\n    FROM +deps\n    WITH DOCKER --pull redis:7 \\\n        --pull=\"nginx:1.27\"\n    END\n";
    let p = write(d.path(), "Earthfile", text);
    let source = Fake::new(0)
        .with_tag("docker.io/library/golang:1.23", D1)
        .with_tag("docker.io/library/redis:7", D2);
    let (outcome, _) = run_fix(&[scan_one(&p)], &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.pinned, 3);
    let nginx = source.digest_for(&TagRef::from_reference(
        &Reference::parse("nginx:1.27").unwrap(),
    ));
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        text.replace("golang:1.23", &format!("golang:1.23@{D1}"))
            .replace("redis:7", &format!("redis:7@{D2}"))
            .replace("nginx:1.27", &format!("nginx:1.27@{nginx}"))
    );
}

#[test]
fn lookups_are_deduplicated_into_one_batch() {
    let d = tempfile::tempdir().unwrap();
    let a = write(
        d.path(),
        "a/Dockerfile",
        "FROM python:3.12\nFROM docker.io/library/python:3.12\n",
    );
    let b = write(d.path(), "b/Dockerfile", "FROM python:3.12\nFROM node:20\n");
    let source = Fake::new(1);
    let (outcome, _) = run_fix(&[scan_one(&a), scan_one(&b)], &source, &write_opts());
    assert!(outcome.errors.is_empty());
    let calls = source.tag_calls.borrow();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].len(), 2, "{:?}", calls[0]);
    assert_eq!(outcome.pinned, 4);
}

#[test]
fn partial_failure_pins_the_others_and_reports_the_failure() {
    let d = tempfile::tempdir().unwrap();
    let text = "FROM python:3.12\nFROM ghcr.io/acme/broken:1\nFROM node:20\n";
    let p = write(d.path(), "Dockerfile", text);
    let source = Fake::new(0)
        .with_tag("docker.io/library/python:3.12", D1)
        .with_tag("docker.io/library/node:20", D2)
        .failing("ghcr.io/acme/broken:1");
    let (outcome, _) = run_fix(&[scan_one(&p)], &source, &write_opts());
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        format!("FROM python:3.12@{D1}\nFROM ghcr.io/acme/broken:1\nFROM node:20@{D2}\n")
    );
    assert!(!outcome.errors.is_empty());
    let e = &outcome.errors[0];
    assert_eq!(e.path, p);
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("ghcr.io/acme/broken:1"), "{}", e.message);
    assert!(e.message.contains("500"), "{}", e.message);
    assert_eq!(outcome.pinned, 2);
    assert!(!outcome.errors.is_empty());
    assert_eq!(entries(d.path()), ["Dockerfile"]);
}

#[cfg(unix)]
#[test]
fn permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "Dockerfile", "FROM python:3.12\n");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    let (outcome, _) = run_fix(&[scan_one(&p)], &Fake::new(0), &write_opts());
    assert_eq!(outcome.changed.len(), 1);
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o640
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_is_edited_at_its_target() {
    let d = tempfile::tempdir().unwrap();
    let target = write(d.path(), "docker/Dockerfile.base", "FROM python:3.12\n");
    let link = d.path().join("Dockerfile");
    std::os::unix::fs::symlink("docker/Dockerfile.base", &link).unwrap();
    let source = Fake::new(0).with_tag("docker.io/library/python:3.12", D1);
    let (outcome, _) = run_fix(&[scan_one(&link)], &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        format!("FROM python:3.12@{D1}\n")
    );
    assert_eq!(entries(&d.path().join("docker")), ["Dockerfile.base"]);
}

#[test]
fn diff_is_a_dry_run() {
    let d = tempfile::tempdir().unwrap();
    let text = "\u{feff}FROM python:3.12\r\nRUN true\r\n";
    let p = write(d.path(), "Dockerfile", text);
    let source = Fake::new(0).with_tag("docker.io/library/python:3.12", D1);
    let opts = FixOptions::default();
    let (outcome, diff) = run_fix(&[scan_one(&p)], &source, &opts);
    assert_eq!(fs::read_to_string(&p).unwrap(), text);
    assert_eq!(outcome.changed, std::slice::from_ref(&p));
    assert!(outcome.errors.is_empty());
    let shown = p.display().to_string();
    let shown = shown.trim_start_matches('/');
    // Exact bytes (BOM, CR) when not coloured: the output is a patch.
    assert_eq!(
        diff,
        format!(
            "--- a/{shown}\n+++ b/{shown}\n@@ -1,2 +1,2 @@\n-\u{feff}FROM python:3.12\r\n+\u{feff}FROM python:3.12@{D1}\r\n RUN true\r\n"
        )
    );
    assert_eq!(entries(d.path()), ["Dockerfile"]);
    // Coloured, for a terminal: the text only.
    let color = FixOptions {
        color: true,
        ..FixOptions::default()
    };
    let (_, diff) = run_fix(&[scan_one(&p)], &source, &color);
    assert!(
        !diff.contains('\r') && !diff.contains('\u{feff}'),
        "{diff:?}"
    );
    assert!(
        diff.contains("\n\x1b[31m-FROM python:3.12\x1b[0m\n"),
        "{diff:?}"
    );
}

#[test]
fn diff_colour_quiet_and_missing_final_newline() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "Dockerfile", "FROM python:3.12");
    let files = [scan_one(&p)];
    let color = FixOptions {
        color: true,
        ..FixOptions::default()
    };
    let (_, diff) = run_fix(&files, &Fake::new(0), &color);
    assert!(
        diff.contains("\x1b[31m-FROM python:3.12\x1b[0m"),
        "{diff:?}"
    );
    assert!(
        diff.contains("\x1b[32m+FROM python:3.12@sha256:"),
        "{diff:?}"
    );
    assert!(diff.contains("\\ No newline at end of file"), "{diff}");
    let quiet = FixOptions {
        quiet: true,
        write: true,
        ..FixOptions::default()
    };
    let (outcome, diff) = run_fix(&files, &Fake::new(0), &quiet);
    assert!(diff.is_empty());
    assert_eq!(outcome.changed.len(), 1);
}

#[test]
fn a_file_changed_since_the_scan_is_not_overwritten() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "Dockerfile", "FROM python:3.12\n");
    let files = [scan_one(&p)];
    fs::write(&p, "FROM python:3.13\n").unwrap();
    let (outcome, diff) = run_fix(&files, &Fake::new(0), &write_opts());
    assert_eq!(fs::read_to_string(&p).unwrap(), "FROM python:3.13\n");
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert!(
        outcome.errors[0].message.contains("changed"),
        "{:?}",
        outcome.errors
    );
    assert!(diff.is_empty(), "no diff for a file not written: {diff}");
    assert!(outcome.changed.is_empty());
    assert!(!outcome.errors.is_empty());
    assert_eq!(entries(d.path()), ["Dockerfile"]);
}

#[test]
fn references_that_are_not_unpinned_are_left_alone() {
    let d = tempfile::tempdir().unwrap();
    let text = format!(
        "FROM golang:1.22 AS build\nFROM build\nFROM scratch\nFROM python:${{PY}}\n# imagepin: ignore\nFROM ubuntu:24.04\nFROM alpine:3.20@{D1}\nCOPY --from=build /a /a\n"
    );
    let p = write(d.path(), "Dockerfile", &text);
    let source = Fake::new(0).with_tag("docker.io/library/golang:1.22", D2);
    let (outcome, _) = run_fix(&[scan_one(&p)], &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        text.replace("golang:1.22", &format!("golang:1.22@{D2}"))
    );
    assert_eq!(
        source.tag_calls.borrow()[0].len(),
        1,
        "only golang was looked up"
    );
}

// ---------------------------------------------------------------- verify / update

#[test]
fn verify_marks_stale_and_missing_pins() {
    let d = tempfile::tempdir().unwrap();
    let text = format!(
        "FROM python:3.12@{D1}\nFROM node:20@{D2}\nFROM alpine@{D1}\nFROM busybox@{D2}\nFROM ubuntu:24.04\n"
    );
    let p = write(d.path(), "Dockerfile", &text);
    let mut files = [scan_one(&p)];
    let source = Fake::new(0)
        .with_tag("docker.io/library/python:3.12", D2) // re-pointed
        .with_tag("docker.io/library/node:20", D2) // still the same
        .gone(&format!("docker.io/library/busybox@{D2}"));
    let errors = verify(&mut files, &source, NOW);
    assert!(errors.is_empty(), "{errors:?}");
    let st: Vec<(Status, Option<String>)> = files[0]
        .findings
        .iter()
        .map(|f| (f.status, f.note.clone()))
        .collect();
    assert_eq!(st[0].0, Status::Stale);
    assert_eq!(
        st[0].1.as_deref(),
        Some(&*format!("tag now points to {D2}"))
    );
    assert_eq!(st[1], (Status::Pinned, None));
    assert_eq!(st[2].0, Status::Pinned, "digest-only and still there");
    assert_eq!(st[3].0, Status::Missing, "digest-only and gone");
    assert_eq!(st[4].0, Status::Unpinned, "verify looks at pins only");
    // Only tagged pins are resolved; a tag that still points to the pin
    // proves the digest exists.
    assert_eq!(source.tag_calls.borrow()[0].len(), 2);
    assert_eq!(source.digest_calls.borrow()[0].len(), 3);
    // verify never writes.
    assert_eq!(fs::read_to_string(&p).unwrap(), text);
}

#[test]
fn verify_reports_lookup_failures() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "Dockerfile", &format!("FROM python:3.12@{D1}\n"));
    let mut files = [scan_one(&p)];
    let source = Fake::new(0).failing("docker.io/library/python:3.12");
    let errors = verify(&mut files, &source, NOW);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, Some(1));
    assert!(
        errors[0].message.contains("python:3.12"),
        "{}",
        errors[0].message
    );
    assert_eq!(files[0].findings[0].status, Status::Pinned);
}

#[test]
fn update_rewrites_only_the_stale_digest() {
    let d = tempfile::tempdir().unwrap();
    let text = format!(
        "FROM python:3.12@{D1} AS a\r\nFROM node:20@{D2}\r\nFROM alpine@{D1}\r\nFROM ubuntu:24.04\r\n"
    );
    let p = write(d.path(), "Dockerfile", &text);
    let files = [scan_one(&p)];
    let source = || {
        Fake::new(0)
            .with_tag("docker.io/library/python:3.12", D2)
            .with_tag("docker.io/library/node:20", D2)
            .with_tag("docker.io/library/ubuntu:24.04", D1)
    };
    // Without --update a stale pin stays.
    let (outcome, _) = run_fix(&files, &source(), &write_opts());
    assert_eq!(outcome.updated, 0);
    assert_eq!(outcome.pinned, 1);
    let after_fix = text.replace("ubuntu:24.04", &format!("ubuntu:24.04@{D1}"));
    assert_eq!(fs::read_to_string(&p).unwrap(), after_fix);

    let files = [scan_one(&p)];
    let opts = FixOptions {
        write: true,
        update: true,
        ..FixOptions::default()
    };
    let (outcome, diff) = run_fix(&files, &source(), &opts);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.updated, 1);
    assert_eq!(outcome.pinned, 0);
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        after_fix.replace(&format!("python:3.12@{D1}"), &format!("python:3.12@{D2}"))
    );
    assert!(
        diff.contains(&format!("\n+FROM python:3.12@{D2} AS a\r\n")),
        "{diff}"
    );
    // And again: nothing left to update.
    let files = [scan_one(&p)];
    let (outcome, _) = run_fix(&files, &source(), &opts);
    assert!(outcome.changed.is_empty() && outcome.errors.is_empty());
}

#[cfg(unix)]
#[test]
fn a_file_named_twice_is_fixed_once() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "Dockerfile", "FROM python:3.12\n");
    let link = d.path().join("Dockerfile.link");
    std::os::unix::fs::symlink("Dockerfile", &link).unwrap();
    let files = [scan_one(&p), scan_one(&link), scan_one(&p)];
    let source = Fake::new(0).with_tag("docker.io/library/python:3.12", D1);
    let (outcome, diff) = run_fix(&files, &source, &write_opts());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.changed.len(), 1);
    assert_eq!(diff.matches("+++ ").count(), 1, "{diff}");
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        format!("FROM python:3.12@{D1}\n")
    );
}

/// What `--fix` relies on for every line-ending variant the property test
/// makes: a fixture with CRLF, with a BOM or without its final newline is
/// recognised as the same kind and has the same references, with the same
/// statuses, on the same lines.
#[test]
fn line_ending_variants_scan_like_the_original() {
    let root = fixtures_root();
    let d = tempfile::tempdir().unwrap();
    let summary = |f: &ScannedFile| -> Vec<(String, Status, usize)> {
        f.findings
            .iter()
            .map(|x| (x.reference.clone(), x.status, x.line))
            .collect()
    };
    let mut compared = 0;
    for rel in walk(&root) {
        let Some(original) = scan(&root.join(&rel), &rel) else {
            continue;
        };
        for v in 1..4 {
            let dest = d.path().join(v.to_string()).join(&rel);
            fs::create_dir_all(dest.parent().unwrap()).unwrap();
            fs::write(&dest, variant(&original.text, v)).unwrap();
            let other = scan(&dest, &rel)
                .unwrap_or_else(|| panic!("{} variant {v} does not scan", rel.display()));
            assert_eq!(other.kind, original.kind, "{} variant {v}", rel.display());
            assert_eq!(
                summary(&other),
                summary(&original),
                "{} variant {v}",
                rel.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 3 * 30, "only {compared} variants");
}

/// Every fixture's scanned files, with their unpinned findings' indexes.
fn scanned_fixtures() -> &'static [(ScannedFile, Vec<usize>)] {
    static ALL: std::sync::OnceLock<Vec<(ScannedFile, Vec<usize>)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let root = fixtures_root();
        walk(&root)
            .into_iter()
            .filter_map(|rel| scan(&root.join(&rel), &rel))
            .map(|f| {
                let idx = (0..f.findings.len())
                    .filter(|&i| {
                        f.findings[i].status == Status::Unpinned && !nowhere(&f.findings[i])
                    })
                    .collect();
                (f, idx)
            })
            .filter(|(_, idx): &(ScannedFile, Vec<usize>)| !idx.is_empty())
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The safety check, with each kind's real scanner, refuses a digest
    /// inserted anywhere but right after the reference it pins: a crafted
    /// bad plan for a random unpinned reference of a random fixture, at a
    /// random offset inside that reference (where only the re-scan can
    /// tell) or anywhere else in the file.
    #[test]
    fn the_safety_check_refuses_misplaced_digests(pick in any::<usize>(), which in any::<usize>(), at in any::<usize>(), inside in any::<bool>()) {
        use imagepin::{apply, check, pin_edit};
        let all = scanned_fixtures();
        let (file, unpinned) = &all[pick % all.len()];
        let i = unpinned[which % unpinned.len()];
        let span = file.findings[i].span.clone();
        let good = pin_edit(&file.text, &file.findings, i, D1).unwrap();
        let new = apply(&file.text, std::slice::from_ref(&good)).unwrap();
        prop_assert!(check(file.kind, &file.text, &new, &file.findings, std::slice::from_ref(&good)).is_ok());
        let mut offset = if inside && span.len() > 1 {
            span.start + 1 + at % (span.len() - 1)
        } else {
            at % (file.text.len() + 1)
        };
        while !file.text.is_char_boundary(offset) {
            offset -= 1;
        }
        prop_assume!(offset != good.range.start);
        let bad = imagepin::Edit { range: offset..offset, ..good };
        let new = apply(&file.text, std::slice::from_ref(&bad)).unwrap();
        let verdict = check(file.kind, &file.text, &new, &file.findings, std::slice::from_ref(&bad));
        prop_assert!(verdict.is_err(), "{} accepted a digest at byte {offset}: {new:?}", file.path.display());
    }
}
