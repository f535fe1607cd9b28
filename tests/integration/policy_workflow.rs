//! The policy workflow end to end, with the real binary against a real
//! registry on loopback (tests/support): `--audit-log` on `--fix`, `--fix
//! --update` and `imagepin set` (what each line records, appending, never
//! truncating, nothing for `--diff` or no change), `imagepin audit-log`'s
//! Markdown table (exact text) and JSON, `imagepin inventory`, `imagepin
//! init`, and the README's scheduled workflow.
//!
//! The published date and platforms come from `DigestSource::describe`: the
//! images pushed here carry known creation dates and platforms, and the
//! records must carry exactly those.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::Command;

use crate::support::{Dated, Format, Image, Registry, Workspace};
use serde_json::{Value, json};

/// `[registries."docker.io"] endpoint = "<endpoint>"`.
fn mapping(endpoint: &str) -> String {
    format!("[registries.\"docker.io\"]\nendpoint = \"{endpoint}\"\n")
}

/// A linux/amd64 OCI image created at `created` (config `created` and the
/// manifest's `org.opencontainers.image.created` annotation).
fn dated(seed: &str, created: &str) -> Image {
    Dated {
        seed,
        platform: "linux/amd64",
        config_created: Some(created),
        annotation: Some(created),
        entry_annotation: None,
    }
    .image()
}

/// Runs git in `dir` with no user or system configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// The log's lines, parsed.
fn log_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A fact `describe` gives (from the registry, or its facts cache).
fn assert_fact(rec: &Value, key: &str, want: Value) {
    assert_eq!(rec[key], want, "{key} in {rec}");
}

/// RFC 3339 UTC to the millisecond: `2026-11-30T01:02:03.456Z`.
fn is_utc_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn audit_log_records_pins_updates_and_sets_and_renders_a_table() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let v1 = push.push(
        "library/python",
        "3.12",
        &dated("v1", "2026-10-01T08:00:00Z"),
    );
    let alpine = push.push(
        "library/alpine",
        "3.20",
        &Image::multi_arch("a1", Format::Oci),
    );
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    let dockerfile = "FROM python:3.12 AS app\nFROM alpine:3.20\n";
    let compose = "services:\n  app:\n    image: python:3.12\n";
    ws.write("app/Dockerfile", dockerfile);
    ws.write("compose.yaml", compose);
    git(&ws.dir, &["init", "-q"]);
    git(&ws.dir, &["config", "user.email", "dev@example.com"]);
    git(&ws.dir, &["config", "user.name", "Dev"]);
    let head1 = commit_all(&ws.dir, "start");
    let log = ws.path("audit.jsonl");
    let log_arg = ["--audit-log", "audit.jsonl"];

    // --diff shows the pins and writes nothing, the log included.
    let run = ws.imagepin(&["--diff", log_arg[0], log_arg[1]]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(!log.exists(), "{run}");

    // A first --fix: one `pin` line per image, no old digest.
    let run = ws.imagepin(&["--fix", log_arg[0], log_arg[1]]);
    assert_eq!(run.code, Some(1), "{run}");
    let first = std::fs::read(&log).unwrap();
    let lines = log_lines(&log);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let time = lines[0]["time"].as_str().unwrap().to_string();
    assert!(is_utc_time(&time), "{time}");
    for l in &lines {
        assert_eq!(l["time"], time.as_str(), "one time per run");
        assert_eq!(l["action"], "pin");
        assert_eq!(l["old_digest"], Value::Null);
        assert_eq!(l["commit"], head1.as_str());
        assert_eq!(l["who"], "dev@example.com");
        assert_eq!(l["reason"], Value::Null);
    }
    assert_eq!(lines[0]["image"], "docker.io/library/python");
    assert_eq!(lines[0]["tag"], "3.12");
    assert_eq!(lines[0]["new_digest"], v1.as_str());
    assert_eq!(
        lines[0]["files"],
        json!([{"path": "app/Dockerfile", "line": 1}, {"path": "compose.yaml", "line": 3}])
    );
    assert_fact(&lines[0], "published", json!("2026-10-01T08:00:00Z"));
    assert_fact(&lines[0], "platforms", json!(["linux/amd64"]));
    assert_eq!(lines[1]["image"], "docker.io/library/alpine");
    assert_eq!(lines[1]["new_digest"], alpine.as_str());
    assert_eq!(
        lines[1]["files"],
        json!([{"path": "app/Dockerfile", "line": 2}])
    );
    assert_eq!(lines[1]["published"], Value::Null, "no date in that image");
    assert_fact(
        &lines[1],
        "platforms",
        json!(["linux/amd64", "linux/arm64/v8"]),
    );

    // Nothing to change: nothing written.
    let run = ws.imagepin(&["--fix", log_arg[0], log_arg[1]]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(std::fs::read(&log).unwrap(), first);

    // The tag moves; --update records `update` with both full digests and
    // the reason, appended after the first run's lines.
    let head2 = commit_all(&ws.dir, "pinned");
    let v2 = push.push(
        "library/python",
        "3.12",
        &dated("v2", "2026-11-20T04:11:00Z"),
    );
    let run = ws.imagepin(&[
        "--fix",
        "--update",
        log_arg[0],
        log_arg[1],
        "--reason",
        "weekly refresh",
    ]);
    assert_eq!(run.code, Some(1), "{run}");
    let after_update = std::fs::read(&log).unwrap();
    assert!(after_update.starts_with(&first), "never truncated");
    let lines = log_lines(&log);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let update = &lines[2];
    assert_eq!(update["action"], "update");
    assert_eq!(update["old_digest"], v1.as_str());
    assert_eq!(update["new_digest"], v2.as_str());
    assert_eq!(update["commit"], head2.as_str());
    assert_eq!(update["reason"], "weekly refresh");
    assert_eq!(
        update["files"],
        json!([{"path": "app/Dockerfile", "line": 1}, {"path": "compose.yaml", "line": 3}])
    );
    assert_fact(update, "published", json!("2026-11-20T04:11:00Z"));

    // Rolled back from a subdirectory: `set`, paths still from the root.
    let args = [
        "set",
        &format!("python:3.12@{v1}"),
        "--audit-log",
        "../audit.jsonl",
        "--reason",
        "roll back: v2 breaks the app",
    ];
    let mut cmd = ws.command(&args);
    cmd.current_dir(ws.path("app"));
    let run = ws.run_bounded(cmd, &args, crate::support::workspace::DEFAULT_TIMEOUT);
    assert_eq!(run.code, Some(0), "{run}");
    let lines = log_lines(&log);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(std::fs::read(&log).unwrap().starts_with(&after_update));
    let set = &lines[3];
    assert_eq!(set["action"], "set");
    assert_eq!(set["old_digest"], v2.as_str());
    assert_eq!(set["new_digest"], v1.as_str());
    assert_eq!(set["reason"], "roll back: v2 breaks the app");
    assert_eq!(set["files"], json!([{"path": "app/Dockerfile", "line": 1}]));
    // `set --diff` writes nothing either.
    let run = ws.imagepin(&[
        "set",
        "--diff",
        &format!("python:3.12@{v2}"),
        "--audit-log",
        "audit.jsonl",
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(log_lines(&log).len(), 4);

    // The table: exact text.
    let published = |rec: &Value| rec["published"].as_str().unwrap_or("_unknown_").to_string();
    let expected = format!(
        "| Image | Tag | Old → New | Published | Files | Reason |\n\
         | --- | --- | --- | --- | --- | --- |\n\
         | `docker.io/library/python` | `3.12` | _none_ → `{v1}` | {p0} | `app/Dockerfile:1`<br>`compose.yaml:3` |  |\n\
         | `docker.io/library/alpine` | `3.20` | _none_ → `{alpine}` | _unknown_ | `app/Dockerfile:2` |  |\n\
         | `docker.io/library/python` | `3.12` | `{v1}` → `{v2}` | {p2} | `app/Dockerfile:1`<br>`compose.yaml:3` | weekly refresh |\n\
         | `docker.io/library/python` | `3.12` | `{v2}` → `{v1}` | {p3} | `app/Dockerfile:1` | roll back\\: v2 breaks the app |\n",
        p0 = published(&lines[0]),
        p2 = published(&lines[2]),
        p3 = published(&lines[3]),
    );
    let run = ws.imagepin(&["audit-log", "audit.jsonl"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.stdout, expected, "{run}");
    if std::env::var_os("IMAGEPIN_TEST_SHOW").is_some() {
        println!(
            "{}\n\n{}",
            std::fs::read_to_string(&log).unwrap(),
            run.stdout
        );
    }

    // Ranges: the last run; a time after every entry.
    let run = ws.imagepin(&[
        "audit-log",
        "audit.jsonl",
        "--last",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v, json!([lines[3]]));
    let run = ws.imagepin(&["audit-log", "audit.jsonl", "--since", "2999-01-01"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.stdout, "_No image changes recorded._\n");
    let run = ws.imagepin(&["audit-log", "audit.jsonl", "--since", "last week"]);
    assert_eq!(run.code, Some(2), "{run}");

    // A damaged line is reported by number and skipped; the rest render.
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{\"time\": \"2026-11-30T\n");
    std::fs::write(&log, &text).unwrap();
    let run = ws.imagepin(&["audit-log", "audit.jsonl"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert_eq!(run.stdout, expected, "{run}");
    assert!(
        run.stderr
            .starts_with("imagepin: error: audit.jsonl:5: not an audit record: "),
        "{run}"
    );
}

#[test]
fn outside_git_the_commit_and_who_are_null_and_an_unwritable_log_stops_the_fix() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let digest = push.push("library/redis", "7", &Image::single("r1", Format::Oci));
    let mut ws = Workspace::new();
    let ceiling = ws.root().display().to_string();
    ws.set_env("GIT_CEILING_DIRECTORIES", &ceiling);
    ws.config(&mapping(&reg.url()));
    ws.write("Dockerfile", "FROM redis:7\n");

    // A log in a directory that doesn't exist: refused before any file is
    // touched.
    let run = ws.imagepin(&["--fix", "--audit-log", "no/such/dir/audit.jsonl"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr.contains("does not exist; nothing written"),
        "{run}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        "FROM redis:7\n"
    );
    // --reason needs --audit-log; --audit-log needs --fix or --diff.
    assert_eq!(ws.imagepin(&["--fix", "--reason", "x"]).code, Some(2));
    assert_eq!(
        ws.imagepin(&["--check", "--audit-log", "a.jsonl"]).code,
        Some(2)
    );

    let run = ws.imagepin(&["--fix", "--audit-log", "audit.jsonl"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr
            .contains("imagepin: audit: appended 1 record to audit.jsonl\n"),
        "{run}"
    );
    let lines = log_lines(&ws.path("audit.jsonl"));
    assert_eq!(lines.len(), 1);
    let rec = &lines[0];
    assert_eq!(rec["new_digest"], digest.as_str());
    assert_eq!(rec["files"], json!([{"path": "Dockerfile", "line": 1}]));
    assert_eq!(rec["commit"], Value::Null);
    assert_eq!(rec["who"], Value::Null);
    let keys: Vec<&str> = rec
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = [
        "time",
        "action",
        "image",
        "tag",
        "old_digest",
        "new_digest",
        "files",
        "published",
        "platforms",
        "commit",
        "who",
        "reason",
    ];
    want.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, want);
}

#[test]
fn inventory_lists_every_image_with_its_uses() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let python = push.push(
        "library/python",
        "3.12",
        &dated("inv", "2026-11-20T04:11:00Z"),
    );
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    ws.write(
        "Dockerfile",
        &format!(
            "FROM python:3.12@{python} AS build\nFROM alpine:3.20\nFROM build\nFROM scratch\n"
        ),
    );
    ws.write(
        "compose.yaml",
        &format!("services:\n  app:\n    image: python:3.12@{python}\n  db:\n    image: postgres:${{PG}}\n"),
    );
    let inventory = |offline: bool| {
        let mut args = vec!["inventory", "--format", "json"];
        if offline {
            args.push("--offline");
        }
        let mut cmd = ws.command(&args);
        cmd.env("IMAGEPIN_TODAY", "2026-11-30");
        ws.run_bounded(cmd, &args, crate::support::workspace::DEFAULT_TIMEOUT)
    };
    for offline in [false, true] {
        let run = inventory(offline);
        assert_eq!(run.code, Some(0), "{run}");
        let mut v: Value = serde_json::from_str(&run.stdout).unwrap();
        // The facts describe gives: unknown, or exactly these.
        let pinned = &mut v["images"][1]["uses"][0];
        assert_fact(pinned, "created", json!("2026-11-20T04:11:00Z"));
        assert_fact(pinned, "platforms", json!(["linux/amd64"]));
        assert_eq!(pinned["age_days"], 10);
        assert!(pinned["created_source"].is_string());
        for k in ["created", "created_source", "age_days"] {
            pinned[k] = Value::Null;
        }
        pinned["platforms"] = json!([]);
        let unknown =
            json!({"created": null, "created_source": null, "age_days": null, "platforms": []});
        let use_of = |tag: Value, digest: Value, status: &str, files: Value| {
            let mut u = json!({"tag": tag, "digest": digest, "status": status, "files": files});
            for (k, x) in unknown.as_object().unwrap() {
                u[k] = x.clone();
            }
            u
        };
        assert_eq!(
            v,
            json!({"images": [
                {"image": "docker.io/library/alpine", "uses": [
                    use_of(json!("3.20"), Value::Null, "unpinned", json!([{"path": "Dockerfile", "line": 2}]))]},
                {"image": "docker.io/library/python", "uses": [
                    use_of(json!("3.12"), json!(python), "pinned",
                        json!([{"path": "Dockerfile", "line": 1}, {"path": "compose.yaml", "line": 3}]))]},
                // Not a reference until the variable is set: as written.
                {"image": "postgres:${PG}", "uses": [
                    use_of(Value::Null, Value::Null, "dynamic", json!([{"path": "compose.yaml", "line": 5}]))]},
            ]}),
            "{run}"
        );
    }
    let run = ws.imagepin(&["inventory"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout.starts_with(
            "| Image | Tag | Digest | Created | Platforms | Status | Used in |\n| --- | --- | --- | --- | --- | --- | --- |\n| `docker.io/library/alpine` | `3.20` | _none_ | _unknown_ | _unknown_ | unpinned | `Dockerfile:2` |\n"
        ),
        "{run}"
    );
    assert!(
        run.stdout.contains(&format!(
            "| `docker.io/library/python` | `3.12` | `{python}` | "
        )),
        "{run}"
    );
    assert!(
        run.stdout
            .contains(" | pinned | `Dockerfile:1`<br>`compose.yaml:3` |\n"),
        "{run}"
    );
}

#[test]
fn init_writes_a_config_that_parses_and_never_overwrites_without_force() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path(".github/workflows")).unwrap();
    ws.write("Dockerfile", "FROM alpine:3.20\n");
    let run = ws.imagepin(&["init"]);
    assert_eq!(run.code, Some(0), "{run}");
    let written = std::fs::read_to_string(ws.path(".imagepin.toml")).unwrap();
    assert_eq!(written, imagepin::INIT_CONFIG);
    assert!(written.contains("docker-compose.override.yml"), "{written}");
    // GitHub is in use here: its snippet, not GitLab's.
    assert_eq!(
        run.stdout,
        imagepin::init_snippets(imagepin::CiSeen {
            github: true,
            gitlab: false
        })
    );
    assert!(run.stdout.contains("rev: v"), "{run}");
    // imagepin reads it (a configuration error would exit 2).
    let run = ws.imagepin(&["--check", "-v"]);
    assert_eq!(run.code, Some(1), "unpinned alpine: {run}");
    assert!(run.stderr.contains(".imagepin.toml"), "{run}");

    // An existing file is kept; --force replaces it.
    ws.config("exclude = [\"x/**\"]\n");
    let run = ws.imagepin(&["init"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("already exists"), "{run}");
    assert_eq!(
        std::fs::read_to_string(ws.path(".imagepin.toml")).unwrap(),
        "exclude = [\"x/**\"]\n"
    );
    let run = ws.imagepin(&["init", "--force"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(
        std::fs::read_to_string(ws.path(".imagepin.toml")).unwrap(),
        imagepin::INIT_CONFIG
    );
}

#[test]
fn init_in_a_subdirectory_does_not_shadow_the_parents_config() {
    let ws = Workspace::new();
    ws.config("exclude = [\"vendor/**\"]\n");
    std::fs::create_dir_all(ws.path("services/app")).unwrap();
    let init = |args: &[&str]| {
        let mut cmd = ws.command(args);
        cmd.current_dir(ws.path("services/app"));
        ws.run_bounded(cmd, args, std::time::Duration::from_secs(60))
    };
    let run = init(&["init"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains(".imagepin.toml already configures this directory"),
        "{run}"
    );
    assert!(!ws.path("services/app/.imagepin.toml").exists());
    let run = init(&["init", "--force"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(
        std::fs::read_to_string(ws.path("services/app/.imagepin.toml")).unwrap(),
        imagepin::INIT_CONFIG
    );
}

/// The README's scheduled workflow: the YAML block under "Scheduled
/// refresh".
fn readme_workflow() -> String {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("### Scheduled refresh")
        .expect("README section \"Scheduled refresh\"");
    let rest = &readme[start..];
    let open = rest.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let len = rest[open..].find("```\n").expect("end of the block");
    rest[open..open + len].to_string()
}

#[test]
fn the_readmes_scheduled_workflow_parses_and_passes_the_check() {
    use imagepin::yaml;
    let text = readme_workflow();
    let docs = yaml::parse(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert_eq!(docs.len(), 1);
    let root = docs[0].root();
    assert!(
        root.get("on").and_then(|o| o.get("schedule")).is_some(),
        "{text}"
    );
    let steps = root
        .get("jobs")
        .and_then(|j| j.get("refresh"))
        .and_then(|j| j.get("steps"))
        .expect("jobs.refresh.steps");
    let mut uses = Vec::new();
    let mut scripts = String::new();
    for step in steps.items() {
        if let Some(u) = step.get("uses").and_then(|u| u.as_str()) {
            uses.push(u.to_string());
        }
        if let Some(r) = step.get("run").and_then(|r| r.as_str()) {
            scripts.push_str(r);
        }
    }
    // Every action by full commit SHA (with the tag in a comment).
    assert!(uses.len() >= 2, "{uses:?}");
    for u in &uses {
        let sha = u.split_once('@').map(|x| x.1).unwrap_or("");
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "not pinned by commit: {u}"
        );
    }
    assert!(
        uses.iter()
            .any(|u| u.starts_with("peter-evans/create-pull-request@"))
    );
    for needle in [
        "imagepin --fix --update --audit-log audit.jsonl --reason \"weekly refresh\"",
        "imagepin audit-log audit.jsonl --last 1",
    ] {
        assert!(scripts.contains(needle), "{needle}\n{scripts}");
    }

    assert!(
        scripts.contains(&format!(
            "pipx install imagepin=={}",
            env!("CARGO_PKG_VERSION")
        )),
        "{scripts}"
    );

    // imagepin reads it as a workflow and passes it.
    let ws = Workspace::new();
    ws.write(".github/workflows/image-refresh.yml", &text);
    let run = ws.imagepin(&["--list-files"]);
    assert_eq!(
        run.stdout, ".github/workflows/image-refresh.yml\tgithub-actions\n",
        "{run}"
    );
    let run = ws.imagepin(&["--check"]);
    assert_eq!(run.code, Some(0), "{run}");
    // The commands it runs exist with those options.
    let run = ws.imagepin(&[
        "--diff",
        "--update",
        "--audit-log",
        "audit.jsonl",
        "--reason",
        "weekly refresh",
    ]);
    assert_eq!(run.code, Some(0), "{run}");
}

/// The `run:` script of the README workflow's step `id: refresh`.
fn refresh_script() -> String {
    use imagepin::yaml;
    let workflow = readme_workflow();
    let docs = yaml::parse(&workflow).unwrap();
    let steps = docs[0]
        .root()
        .get("jobs")
        .and_then(|j| j.get("refresh"))
        .and_then(|j| j.get("steps"))
        .unwrap();
    steps
        .items()
        .find(|s| s.get("id").and_then(|i| i.as_str()) == Some("refresh"))
        .and_then(|s| s.get("run"))
        .and_then(|r| r.as_str())
        .expect("a step with id: refresh and a run: script")
        .to_string()
}

#[test]
fn the_readmes_refresh_step_writes_the_log_and_the_pull_request_body() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let old = push.push(
        "library/python",
        "3.12",
        &dated("w1", "2026-11-01T00:00:00Z"),
    );
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    ws.write("Dockerfile", &format!("FROM python:3.12@{old}\n"));
    git(&ws.dir, &["init", "-q"]);
    git(&ws.dir, &["config", "user.name", "Bot"]);
    commit_all(&ws.dir, "start");
    let new = push.push(
        "library/python",
        "3.12",
        &dated("w2", "2026-11-20T04:11:00Z"),
    );
    // `imagepin` on PATH is the binary under test.
    ws.script(
        "imagepin",
        &format!(
            "#!/bin/sh\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_imagepin")
        ),
    );
    let runner_temp = ws.root().join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let output = ws.root().join("github-output");
    let script = refresh_script();
    // As GitHub runs a `run:` step: bash -e -o pipefail, in the checkout.
    let proto = ws.command(&[]);
    let mut bash = Command::new("bash");
    bash.env_clear();
    for (k, v) in proto.get_envs() {
        if let Some(v) = v {
            bash.env(k, v);
        }
    }
    bash.env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_OUTPUT", &output)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            &script,
        ])
        .current_dir(&ws.dir);
    let run = ws.run_bounded(
        bash,
        &["<refresh step>"],
        crate::support::workspace::DEFAULT_TIMEOUT,
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "code=1\n");
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        format!("FROM python:3.12@{new}\n")
    );
    let lines = log_lines(&ws.path("audit.jsonl"));
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0]["who"],
        "41898282+github-actions[bot]@users.noreply.github.com"
    );
    let published = lines[0]["published"].as_str().unwrap_or("_unknown_");
    assert_eq!(
        std::fs::read_to_string(runner_temp.join("image-refresh.md")).unwrap(),
        format!(
            "| Image | Tag | Old → New | Published | Files | Reason |\n\
             | --- | --- | --- | --- | --- | --- |\n\
             | `docker.io/library/python` | `3.12` | `{old}` → `{new}` | {published} | `Dockerfile:1` | weekly refresh |\n"
        )
    );
}
