//! Helm chart values and Kustomize `images:`: references whose parts sit in
//! separate keys, pinned into their own digest slot. End to end with the real
//! binary against a real registry on loopback (`--fix`, a second `--fix`,
//! `--check --verify`, `--fix --update` after a tag is re-pointed), the
//! rendered Kustomize output checked with the real `kubectl kustomize`, and a
//! property over generated values files and kustomizations (indentation,
//! quoting, CRLF, BOM, flow and block maps, with and without `digest:`):
//! `--fix` only inserts bytes, pins every unpinned reference in place, and a
//! second `--fix` changes nothing.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::cell::RefCell;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{Format, Image, Registry, Workspace};
use imagepin::ScannedFile;
use imagepin::Status;
use imagepin::{DigestRef, DigestSource, ResolveError, TagRef};
use imagepin::{FixOptions, fix};
use imagepin::{kind_from_id, scan_file};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// `[registries."<host>"] endpoint = "<endpoint>"` for docker.io and ghcr.io.
fn mapping(endpoint: &str) -> String {
    ["docker.io", "ghcr.io"]
        .iter()
        .map(|h| format!("[registries.\"{h}\"]\nendpoint = \"{endpoint}\"\n"))
        .collect()
}

fn fixture(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `(reference as written, status)` of every finding of a `--format json` run.
fn statuses(stdout: &str) -> Vec<(String, String, String)> {
    let json: serde_json::Value = serde_json::from_str(stdout).unwrap();
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["reference"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const FAKE_REDIS: &str = "sha256:7777777777777777777777777777777777777777777777777777777777777777";

#[test]
fn helm_chart_is_pinned_verified_and_updated_in_its_split_fields() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let img = |seed: &str| Image::single(seed, Format::Oci);
    let nginx0 = push.push("bitnami/nginx", "1.27.0", &img("n0"));
    let nginx1 = push.push("bitnami/nginx", "1.27.1", &img("n1"));
    let statsd0 = push.push("prom/statsd-exporter", "v0.26.0", &img("s0"));
    let statsd1 = push.push("prom/statsd-exporter", "v0.27.1", &img("s1"));
    let busybox = push.push("library/busybox", "1.36", &img("b"));
    let alpine = push.push(
        "library/alpine",
        "3.20",
        &Image::multi_arch("a", Format::Oci),
    );
    let backup = push.push("acme/backup", "2", &img("k"));
    let redis = push.push("library/redis", "7.2", &img("r"));

    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    let values = fixture("helm/chart/values.yaml").replace(FAKE_REDIS, &redis);
    let prod = fixture("helm/chart/values-prod.yaml");
    let staging = fixture("helm/chart/values.staging.yaml");
    ws.write("chart/Chart.yaml", &fixture("helm/chart/Chart.yaml"));
    ws.write("chart/values.yaml", &values);
    ws.write("chart/values-prod.yaml", &prod);
    ws.write("chart/values.staging.yaml", &staging);

    let run = ws.imagepin(&["--check"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains("chart/values-prod.yaml:4:11: helm-values: prom/statsd-exporter:v0.27.1 is not pinned to a digest"),
        "an override's tag is composed with the base's repository: {run}"
    );
    assert!(
        run.stdout.contains(
            "chart/values.yaml:4:15: helm-values: docker.io/bitnami/nginx:1.27.0 is not pinned"
        ),
        "reported at the repository: {run}"
    );
    assert!(
        run.stdout.contains("chart/values.staging.yaml:4:8: helm-values: docker.io/bitnami/nginx:1.28.0 is not a valid image reference: values.yaml has a digest: key"),
        "{run}"
    );
    assert!(
        run.stdout.contains("acme/exporter is not pinned to a digest: the tag is not set: the chart's templates usually use Chart.yaml's appVersion (2.1.0)"),
        "{run}"
    );

    // Named alone (as pre-commit does), an override still finds its base.
    let run = ws.imagepin(&["--check", "chart/values-prod.yaml"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains(
            "chart/values-prod.yaml:4:11: helm-values: prom/statsd-exporter:v0.27.1 is not pinned"
        ),
        "{run}"
    );

    let run = ws.imagepin(&["--fix"]);
    // acme/exporter has no tag to pin: left for the user with the reason
    // (like an invalid reference, exit 1), the rest pinned.
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.contains(
            "chart/values.yaml:35:17: helm-values: acme/exporter is not pinned to a digest: the tag is not set"
        ),
        "{run}"
    );
    assert!(
        !run.stderr.contains("could not resolve"),
        "no lookup for it: {run}"
    );
    let pinned_values = values
        .replace(
            "tag: 1.27.0\n  digest: \"\"",
            &format!("tag: 1.27.0\n  digest: \"{nginx0}\""),
        )
        .replace("\"v0.26.0\"", &format!("\"v0.26.0@{statsd0}\""))
        .replace("'1.36'", &format!("'1.36@{busybox}'"))
        .replace("\"alpine:3.20\"", &format!("\"alpine:3.20@{alpine}\""))
        .replace("backup:2\n", &format!("backup:2@{backup}\n"));
    assert_eq!(
        fs::read_to_string(ws.path("chart/values.yaml")).unwrap(),
        pinned_values
    );
    let pinned_prod = prod
        .replace("\"v0.27.1\"", &format!("\"v0.27.1@{statsd1}\""))
        .replace("digest: \"\"", &format!("digest: \"{nginx1}\""));
    assert_eq!(
        fs::read_to_string(ws.path("chart/values-prod.yaml")).unwrap(),
        pinned_prod,
        "the override is pinned to the digest of its own tag: {run}"
    );
    assert_eq!(
        fs::read_to_string(ws.path("chart/values.staging.yaml")).unwrap(),
        staging,
        "an override that would pair the base's digest with its tag is left to the user"
    );

    // A second --fix changes nothing.
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(!run.stdout.contains("+++"), "{run}");
    assert_eq!(
        fs::read_to_string(ws.path("chart/values.yaml")).unwrap(),
        pinned_values
    );
    assert_eq!(
        fs::read_to_string(ws.path("chart/values-prod.yaml")).unwrap(),
        pinned_prod
    );

    // --verify: every pin is fresh.
    let run = ws.imagepin(&["--check", "--verify", "--format", "json"]);
    let s = statuses(&run.stdout);
    let count = |status: &str| s.iter().filter(|(_, _, st)| st == status).count();
    assert_eq!(count("pinned"), 8, "{s:?}");
    assert_eq!((count("stale"), count("missing")), (0, 0), "{s:?}");

    // Re-point two tags: one pinned in a digest: key, one after its tag.
    let nginx1_new = push.push("bitnami/nginx", "1.27.1", &img("n1-new"));
    let statsd0_new = push.push("prom/statsd-exporter", "v0.26.0", &img("s0-new"));
    let run = ws.imagepin(&["--check", "--verify", "--format", "json"]);
    let s = statuses(&run.stdout);
    assert!(
        s.contains(&(
            "chart/values-prod.yaml".into(),
            "1.27.1".into(),
            "stale".into()
        )),
        "{s:?}"
    );
    assert!(
        s.contains(&(
            "chart/values.yaml".into(),
            "prom/statsd-exporter".into(),
            "stale".into()
        )),
        "{s:?}"
    );
    let run = ws.imagepin(&["--fix", "--update"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        fs::read_to_string(ws.path("chart/values-prod.yaml")).unwrap(),
        pinned_prod.replace(&nginx1, &nginx1_new),
        "--update moves the digest: value"
    );
    assert_eq!(
        fs::read_to_string(ws.path("chart/values.yaml")).unwrap(),
        pinned_values.replace(&statsd0, &statsd0_new),
        "--update moves the digest after the tag"
    );
}

/// The `kubectl` on PATH (Debian's `kubernetes-client`, installed by `.ci/run`).
fn kubectl_kustomize(dir: &Path) -> String {
    let out = Command::new("kubectl")
        .args(["kustomize", "."])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("kubectl: {e} (apt-get install kubernetes-client)"));
    assert!(
        out.status.success(),
        "kubectl kustomize: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Whether a rendered manifest has `image: name:tag@digest` (kustomize 2.0,
/// Debian's, leaves the tag out when a digest is set: `name@digest`).
fn renders(rendered: &str, name: &str, tag: &str, digest: &str) -> bool {
    rendered.contains(&format!("image: {name}:{tag}@{digest}\n"))
        || rendered.contains(&format!("image: {name}@{digest}\n"))
}

#[test]
fn kustomize_overlay_is_pinned_and_kubectl_renders_the_digests() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let nginx = push.push(
        "library/nginx",
        "1.27",
        &Image::multi_arch("n", Format::Oci),
    );
    let redis = push.push("acme/redis", "7.2", &Image::single("r", Format::Docker));
    let tool = push.push("acme/tool", "1.5", &Image::single("t", Format::Oci));

    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    // One directory (deployment + kustomization): Debian's kubectl 1.20
    // (kustomize 2.0) reads no directory under `resources:`. Only the
    // kustomization is named, so the deployment's own images are not pinned.
    let overlay = fixture("kustomize/app/kustomization.yaml");
    ws.write(
        "app/deployment.yaml",
        &fixture("kustomize/app/deployment.yaml"),
    );
    ws.write("app/kustomization.yaml", &overlay);

    let run = ws.imagepin(&["--check", "app/kustomization.yaml"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains(
            "app/kustomization.yaml:7:11: kustomize: nginx:1.27 is not pinned to a digest"
        ),
        "{run}"
    );
    assert!(
        run.stdout.contains("app/kustomization.yaml:17:14: kustomize: ghcr.io/acme/busybox is not a valid image reference: this entry sets only newName"),
        "{run}"
    );

    let run = ws.imagepin(&["--fix", "app/kustomization.yaml"]);
    assert_eq!(run.code, Some(1), "{run}");
    let pinned = overlay
        .replace(
            "    newTag: \"1.27\"\n",
            &format!("    newTag: \"1.27\"\n    digest: \"{nginx}\"\n"),
        )
        .replace(
            "newTag: \"7.2\"}",
            &format!("newTag: \"7.2\", digest: {redis}}}"),
        )
        .replace("digest: ''", &format!("digest: '{tool}'"));
    assert_eq!(
        fs::read_to_string(ws.path("app/kustomization.yaml")).unwrap(),
        pinned
    );
    let run = ws.imagepin(&["--fix", "app/kustomization.yaml"]);
    assert_eq!(run.code, Some(1), "only the invalid entry is left: {run}");
    assert_eq!(
        fs::read_to_string(ws.path("app/kustomization.yaml")).unwrap(),
        pinned
    );

    let rendered = kubectl_kustomize(&ws.path("app"));
    for (name, tag, digest) in [
        ("nginx", "1.27", &nginx),
        ("ghcr.io/acme/redis", "7.2", &redis),
        ("acme/tool", "1.5", &tool),
    ] {
        assert!(
            renders(&rendered, name, tag, digest),
            "{name} not in:\n{rendered}"
        );
    }

    // The tag moves: --verify says stale, --update moves the digest: value.
    let nginx_new = push.push(
        "library/nginx",
        "1.27",
        &Image::multi_arch("n2", Format::Oci),
    );
    let run = ws.imagepin(&[
        "--check",
        "--verify",
        "--format",
        "json",
        "app/kustomization.yaml",
    ]);
    let s = statuses(&run.stdout);
    assert!(
        s.contains(&(
            "app/kustomization.yaml".into(),
            "nginx".into(),
            "stale".into()
        )),
        "{s:?}"
    );
    let run = ws.imagepin(&["--fix", "--update", "app/kustomization.yaml"]);
    assert_eq!(run.code, Some(1), "{run}");
    let updated = pinned.replace(&nginx, &nginx_new);
    assert_eq!(
        fs::read_to_string(ws.path("app/kustomization.yaml")).unwrap(),
        updated
    );
    assert!(renders(
        &kubectl_kustomize(&ws.path("app")),
        "nginx",
        "1.27",
        &nginx_new
    ));
}

// ------------------------------------------------------------ the property

/// Every tag resolves to a digest derived from the seed and the tag.
struct Fake {
    seed: u64,
    asked: RefCell<usize>,
}

impl Fake {
    fn digest(&self, tag: &str) -> String {
        let hex = Sha256::digest(format!("{}:{tag}", self.seed).as_bytes());
        let hex: String = hex.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

impl DigestSource for Fake {
    fn resolve_tags(&self, refs: &[TagRef]) -> Vec<Result<String, ResolveError>> {
        *self.asked.borrow_mut() += refs.len();
        refs.iter()
            .map(|r| Ok(self.digest(&r.to_string())))
            .collect()
    }

    fn digests_exist(&self, refs: &[DigestRef]) -> Vec<Result<bool, ResolveError>> {
        refs.iter().map(|_| Ok(true)).collect()
    }
}

/// How one generated entry is written.
#[derive(Debug, Clone)]
struct Entry {
    flow: bool,
    /// 0: plain, 1: single, 2: double quotes around the tag.
    quote: u8,
    /// 0: no digest: key, 1: `digest: ""` (quoted like the tag), 2: `digest:`.
    digest: u8,
    /// Extra keys after the last image key (`pullPolicy: …`).
    trailing: bool,
}

fn entry() -> impl Strategy<Value = Entry> {
    (any::<bool>(), 0u8..3, 0u8..3, any::<bool>()).prop_map(|(flow, quote, digest, trailing)| {
        Entry {
            flow,
            quote,
            digest,
            trailing,
        }
    })
}

fn q(quote: u8) -> &'static str {
    ["", "'", "\""][quote as usize % 3]
}

/// A values.yaml with one image map per entry (and an `*Image` string).
fn values_text(entries: &[Entry], indent: &str, nl: &str) -> String {
    let mut t = format!("# generated{nl}");
    for (i, e) in entries.iter().enumerate() {
        let qt = q(e.quote);
        let tag = format!("{qt}{i}.{}{qt}", i + 1);
        let digest = match e.digest {
            1 => Some(format!("{qt}{qt}")),
            2 if !e.flow => Some(String::new()),
            _ => None,
        };
        t.push_str(&format!("app{i}:{nl}{indent}image:"));
        if e.flow {
            t.push_str(&format!(" {{repository: acme/app{i}, tag: {tag}"));
            if let Some(d) = &digest {
                t.push_str(&format!(", digest: {d}"));
            }
            if e.trailing {
                t.push_str(", pullPolicy: Always");
            }
            t.push_str(&format!("}}{nl}"));
        } else {
            let inner = format!("{indent}{indent}");
            t.push_str(&format!(
                "{nl}{inner}repository: acme/app{i}{nl}{inner}tag: {tag}{nl}"
            ));
            if let Some(d) = &digest {
                let sep = if d.is_empty() { "" } else { " " };
                t.push_str(&format!("{inner}digest:{sep}{d}{nl}"));
            }
            if e.trailing {
                t.push_str(&format!("{inner}pullPolicy: Always{nl}"));
            }
        }
        t.push_str(&format!("{indent}sidecarImage: {qt}acme/side{i}:1{qt}{nl}"));
    }
    t
}

/// A kustomization with one `images:` entry per generated entry.
fn kustomization_text(entries: &[Entry], indent: &str, nl: &str) -> String {
    let mut t = format!("resources:{nl}- base{nl}images:{nl}");
    for (i, e) in entries.iter().enumerate() {
        let qt = q(e.quote);
        let tag = format!("{qt}{i}.0{qt}");
        let digest = match e.digest {
            1 => Some(format!("{qt}{qt}")),
            2 if !e.flow => Some(String::new()),
            _ => None,
        };
        if e.flow {
            t.push_str(&format!("{indent}- {{name: acme/k{i}, newTag: {tag}"));
            if let Some(d) = &digest {
                t.push_str(&format!(", digest: {d}"));
            }
            t.push_str(&format!("}}{nl}"));
        } else {
            let inner = format!("{indent}  ");
            t.push_str(&format!("{indent}- name: acme/k{i}{nl}"));
            if e.trailing {
                t.push_str(&format!("{inner}newName: ghcr.io/acme/k{i}{nl}"));
            }
            t.push_str(&format!("{inner}newTag: {tag}{nl}"));
            if let Some(d) = &digest {
                let sep = if d.is_empty() { "" } else { " " };
                t.push_str(&format!("{inner}digest:{sep}{d}{nl}"));
            }
        }
    }
    t
}

fn scanned(path: &Path, kind: &str) -> ScannedFile {
    let kind = kind_from_id(kind).unwrap();
    let text = fs::read_to_string(path).unwrap();
    let findings = scan_file(path, kind, &text, &|_| false).unwrap();
    ScannedFile {
        path: path.to_path_buf(),
        kind,
        text,
        findings,
    }
}

fn count(f: &ScannedFile, status: Status) -> usize {
    f.findings.iter().filter(|x| x.status == status).count()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Removing what `--fix` inserted gives back the original bytes (it
    /// deletes nothing), every unpinned reference is pinned to its own tag's
    /// digest with its name unchanged, and fix twice equals fix once.
    #[test]
    fn split_pins_only_insert_and_fix_twice_is_fix_once(
        entries in prop::collection::vec(entry(), 1..5),
        wide in any::<bool>(),
        crlf in any::<bool>(),
        bom in any::<bool>(),
        final_newline in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let indent = if wide { "    " } else { "  " };
        let nl = if crlf { "\r\n" } else { "\n" };
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (rel, kind, text) in [
            ("chart/values.yaml", "helm-values", values_text(&entries, indent, nl)),
            ("kustomization.yaml", "kustomize", kustomization_text(&entries, indent, nl)),
        ] {
            let mut text = if bom { format!("\u{feff}{text}") } else { text };
            if !final_newline {
                text.truncate(text.trim_end_matches(['\r', '\n']).len());
            }
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &text).unwrap();
            files.push(scanned(&path, kind));
        }
        let source = Fake { seed, asked: RefCell::new(0) };
        let opts = FixOptions { write: true, quiet: true, ..FixOptions::default() };
        let outcome = fix(&files, &source, &opts, &mut Vec::new()).unwrap();
        prop_assert!(outcome.errors.is_empty(), "{:#?}", outcome.errors);

        for before in &files {
            let unpinned = count(before, Status::Unpinned);
            prop_assert!(unpinned > 0);
            let now = fs::read_to_string(&before.path).unwrap();
            // Only insertions: the original is what is left without them.
            let diff = similar::TextDiff::from_chars(before.text.as_str(), now.as_str());
            let mut undone = String::new();
            for op in diff.ops() {
                for change in diff.iter_changes(op) {
                    match change.tag() {
                        similar::ChangeTag::Equal => undone.push_str(change.value()),
                        similar::ChangeTag::Insert => {}
                        similar::ChangeTag::Delete => {
                            prop_assert!(false, "{} lost {:?}:\n{now}", before.path.display(), change.value());
                        }
                    }
                }
            }
            prop_assert_eq!(&undone, &before.text);
            // Each unpinned reference now carries its own tag's digest.
            let after = scanned(&before.path, before.kind.as_str());
            prop_assert_eq!(count(&after, Status::Unpinned), 0, "{}", now);
            prop_assert_eq!(after.findings.len(), before.findings.len());
            for (b, a) in before.findings.iter().zip(&after.findings) {
                if b.status != Status::Unpinned {
                    continue;
                }
                prop_assert_eq!(a.status, Status::Pinned);
                let tag = TagRef::from_reference(&imagepin::Reference::parse(b.image()).unwrap());
                let want = format!("{}@{}", b.image(), source.digest(&tag.to_string()));
                prop_assert_eq!(a.image(), want.as_str());
            }
        }

        // Fix twice == fix once: nothing to look up, nothing changed.
        let again: Vec<ScannedFile> = files.iter().map(|f| scanned(&f.path, f.kind.as_str())).collect();
        let second = Fake { seed, asked: RefCell::new(0) };
        let outcome = fix(&again, &second, &opts, &mut Vec::new()).unwrap();
        prop_assert!(outcome.changed.is_empty() && outcome.errors.is_empty());
        prop_assert_eq!(*second.asked.borrow(), 0);
        for f in &again {
            prop_assert_eq!(&fs::read_to_string(&f.path).unwrap(), &f.text);
        }
    }
}

/// The fixtures' unpinned split references that have a place for a digest.
fn split_fixtures() -> Vec<(ScannedFile, Vec<usize>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    [
        ("helm/chart/values.yaml", "helm-values"),
        ("helm/chart/values-prod.yaml", "helm-values"),
        ("kustomize/app/kustomization.yaml", "kustomize"),
    ]
    .iter()
    .map(|(rel, kind)| {
        let f = scanned(&root.join(rel), kind);
        let idx = (0..f.findings.len())
            .filter(|&i| {
                let x = &f.findings[i];
                x.status == Status::Unpinned
                    && x.split
                        .as_ref()
                        .is_some_and(|s| !matches!(s.digest, imagepin::DigestSlot::Nowhere(_)))
            })
            .collect();
        (f, idx)
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The safety check refuses a split pin written anywhere but its slot.
    #[test]
    fn a_split_pin_anywhere_else_is_refused(pick in any::<usize>(), which in any::<usize>(), at in any::<usize>()) {
        use imagepin::{Edit, apply, check, pin_edit};
        const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let all = split_fixtures();
        let (file, unpinned) = &all[pick % all.len()];
        let i = unpinned[which % unpinned.len()];
        let good = pin_edit(&file.text, &file.findings, i, D1).unwrap();
        let new = apply(&file.text, std::slice::from_ref(&good)).unwrap();
        prop_assert!(check(file.kind, &file.text, &new, &file.findings, std::slice::from_ref(&good)).is_ok());
        let mut offset = at % (file.text.len() + 1);
        while !file.text.is_char_boundary(offset) {
            offset -= 1;
        }
        prop_assume!(offset != good.range.start);
        let bad = Edit { range: offset..offset, ..good };
        let new = apply(&file.text, std::slice::from_ref(&bad)).unwrap();
        let verdict = check(file.kind, &file.text, &new, &file.findings, std::slice::from_ref(&bad));
        prop_assert!(verdict.is_err(), "{} accepted a digest at byte {offset}: {new:?}", file.path.display());
    }
}
