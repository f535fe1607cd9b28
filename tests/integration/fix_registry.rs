//! `imagepin --fix`, `--diff`, `--check --verify` and `--fix --update` end to
//! end: the real binary against a real registry on loopback (tests/support).
//! A registry that answers 500 for one repository; a tag re-pointed to new
//! content (stale); a digest deleted from the repository (missing).

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::http1;
use crate::support::{Format, Image, Registry, Workspace};

/// `[registries."<host>"] endpoint = "<endpoint>"` for docker.io and ghcr.io.
fn mapping(endpoint: &str) -> String {
    ["docker.io", "ghcr.io"]
        .iter()
        .map(|h| format!("[registries.\"{h}\"]\nendpoint = \"{endpoint}\"\n"))
        .collect()
}

/// Every file under the project directory, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                go(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut v = Vec::new();
    go(dir, dir, &mut v);
    v.sort();
    v
}

/// A proxy in front of a registry that answers 500 to every request for one
/// repository (`/v2/<repo>/…`) and forwards everything else.
struct FailingRepo {
    addr: SocketAddr,
    failed: Arc<AtomicUsize>,
}

impl FailingRepo {
    fn start(upstream: SocketAddr, repo: &str) -> FailingRepo {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let failed = Arc::new(AtomicUsize::new(0));
        let prefix = format!("/v2/{repo}/");
        let count = failed.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let prefix = prefix.clone();
                let count = count.clone();
                std::thread::spawn(move || serve(conn, upstream, &prefix, &count));
            }
        });
        FailingRepo { addr, failed }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn serve(conn: TcpStream, upstream: SocketAddr, prefix: &str, failed: &AtomicUsize) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut writer = BufWriter::new(conn);
    while let Ok(Some(head)) = http1::read_head(&mut reader) {
        let Ok(body) = http1::read_body(&mut reader, &head, false, false) else {
            return;
        };
        if head.second().starts_with(prefix) {
            failed.fetch_add(1, Ordering::SeqCst);
            let b: &[u8] = if head.first() == "HEAD" { b"" } else { b"boom" };
            if http1::write_response(&mut writer, 500, &[], b).is_err() {
                return;
            }
            continue;
        }
        // One upstream connection per request, closed by the registry.
        let Ok(up) = TcpStream::connect(upstream) else {
            return;
        };
        let mut req = head.clone();
        req.set_header("Connection", "close");
        let mut up_w = up.try_clone().unwrap();
        if up_w.write_all(&req.to_bytes()).is_err() || up_w.write_all(&body).is_err() {
            return;
        }
        let mut up_r = BufReader::new(up);
        let Ok(Some(mut rhead)) = http1::read_head(&mut up_r) else {
            return;
        };
        let status = rhead.status();
        let bodiless = head.first() == "HEAD" || status == 204 || status == 304 || status < 200;
        let Ok(rbody) = http1::read_body(&mut up_r, &rhead, bodiless, true) else {
            return;
        };
        rhead.remove_header("connection");
        if rhead.header("transfer-encoding").is_some() {
            rhead.remove_header("transfer-encoding");
            rhead.set_header("Content-Length", &rbody.len().to_string());
        } else if !bodiless && rhead.header("content-length").is_none() {
            rhead.set_header("Content-Length", &rbody.len().to_string());
        }
        if writer.write_all(&rhead.to_bytes()).is_err()
            || writer.write_all(&rbody).is_err()
            || writer.flush().is_err()
        {
            return;
        }
    }
}

#[test]
fn a_repository_answering_500_is_left_and_reported_while_the_rest_is_pinned() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let python = push.push(
        "library/python",
        "3.12-slim",
        &Image::multi_arch("py", Format::Oci),
    );
    let redis = push.push(
        "library/redis",
        "7",
        &Image::single("redis", Format::Docker),
    );
    let tool = push.push("acme/tool", "1", &Image::single("tool", Format::Oci));
    push.push("acme/broken", "1", &Image::single("broken", Format::Oci));
    let proxy = FailingRepo::start(reg.addr(), "acme/broken");

    let ws = Workspace::new();
    ws.config(&mapping(&proxy.url()));
    let dockerfile = "FROM python:3.12-slim AS build\r\nFROM acme/broken:1\r\nFROM build\r\n";
    let compose = "services:\n  cache:\n    image: 'redis:7'  # cache\n  tool:\n    image: ghcr.io/acme/tool:1\n  broken:\n    image: \"acme/broken:1\"\n";
    ws.write("Dockerfile", dockerfile);
    ws.write("compose.yaml", compose);
    let before = listing(&ws.dir);

    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(proxy.failed.load(Ordering::SeqCst) > 0, "the fault was hit");
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        dockerfile.replace("python:3.12-slim", &format!("python:3.12-slim@{python}"))
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("compose.yaml")).unwrap(),
        compose
            .replace("'redis:7'", &format!("'redis:7@{redis}'"))
            .replace("tool:1", &format!("tool:1@{tool}"))
    );
    assert!(run.stderr.contains("acme/broken:1"), "{run}");
    assert!(run.stderr.contains("500"), "{run}");
    assert_eq!(listing(&ws.dir), before, "no temporary files left");
}

#[test]
fn diff_shows_the_pins_and_writes_nothing() {
    let reg = Registry::anonymous();
    let redis = reg
        .pusher()
        .push("library/redis", "7", &Image::single("redis", Format::Oci));
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    ws.write("Dockerfile", "FROM redis:7\n");
    let run = ws.imagepin(&["--diff"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout
            .contains(&format!("-FROM redis:7\n+FROM redis:7@{redis}\n")),
        "{run}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        "FROM redis:7\n"
    );
}

#[test]
fn verify_and_update_follow_a_repointed_tag() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let old = push.push(
        "library/python",
        "3.12",
        &Image::multi_arch("v1", Format::Oci),
    );
    let alpine = push.push("library/alpine", "3.20", &Image::single("a1", Format::Oci));
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    let text = "# syntax and all\nFROM python:3.12 AS app\nFROM alpine:3.20\n";
    ws.write("Dockerfile", text);

    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(1), "{run}");
    let pinned = text
        .replace("python:3.12", &format!("python:3.12@{old}"))
        .replace("alpine:3.20", &format!("alpine:3.20@{alpine}"));
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        pinned
    );
    // Pinning again changes nothing.
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(0), "{run}");

    let run = ws.imagepin(&["--check", "--verify"]);
    assert_eq!(run.code, Some(0), "fresh pins verify: {run}");

    // The tag moves to new content: stale.
    let new = push.push(
        "library/python",
        "3.12",
        &Image::multi_arch("v2", Format::Oci),
    );
    assert_ne!(new, old);
    let run = ws.imagepin(&["--check", "--verify", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let statuses: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["reference"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&(&*format!("python:3.12@{old}"), "stale")),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(&*format!("alpine:3.20@{alpine}"), "pinned")),
        "{statuses:?}"
    );
    // Without --update, --fix leaves a stale pin alone.
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        pinned
    );

    // --update rewrites only the digest.
    let run = ws.imagepin(&["--fix", "--update"]);
    assert_eq!(run.code, Some(1), "{run}");
    let updated = pinned.replace(&old, &new);
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        updated
    );
    let run = ws.imagepin(&["--check", "--verify"]);
    assert_eq!(run.code, Some(0), "{run}");
    let run = ws.imagepin(&["--fix", "--update"]);
    assert_eq!(run.code, Some(0), "{run}");
}

#[test]
fn verify_reports_a_deleted_digest_as_missing() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let gone = push.push("library/busybox", "1", &Image::single("b1", Format::Oci));
    let kept = push.push("library/busybox", "2", &Image::single("b2", Format::Oci));
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    ws.write(
        "Dockerfile",
        &format!("FROM busybox@{gone}\nFROM busybox@{kept}\n"),
    );
    let run = ws.imagepin(&["--check", "--verify"]);
    assert_eq!(run.code, Some(0), "{run}");
    push.delete_manifest("library/busybox", &gone);
    let run = ws.imagepin(&["--check", "--verify", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let statuses: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["missing", "pinned"], "{run}");
}

#[test]
fn diff_output_is_a_patch_that_applies_byte_exactly() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let python = push.push("library/python", "3.12", &Image::single("p", Format::Oci));
    let redis = push.push("library/redis", "7", &Image::single("r", Format::Oci));
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    let dockerfile = "\u{feff}# syntax=docker/dockerfile:1\r\nFROM python:3.12 AS a\r\nRUN echo \\\r\n  done\r\nFROM a";
    let compose = "services:\r\n  r:\r\n    image: \"redis:7\"\r\n";
    ws.write("Dockerfile", dockerfile);
    ws.write("compose.yaml", compose);
    // The syntax directive's image is not in this registry: left, reported.
    let run = ws.imagepin(&["--diff"]);
    assert_eq!(run.code, Some(2), "{run}");
    let patch = ws.root().join("pins.patch");
    std::fs::write(&patch, &run.stdout).unwrap();
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        dockerfile,
        "--diff writes nothing"
    );
    let out = std::process::Command::new("git")
        .arg("apply")
        .arg(&patch)
        .current_dir(&ws.dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git apply: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        dockerfile.replace("python:3.12", &format!("python:3.12@{python}"))
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("compose.yaml")).unwrap(),
        compose.replace("redis:7", &format!("redis:7@{redis}"))
    );
}

/// The CI kinds (Woodpecker, Drone, Bitbucket Pipelines, Cloud Build,
/// CircleCI, Azure Pipelines, Buildkite, Jenkinsfile) and a workflow found
/// by content outside `.github/workflows` are pinned in place by `--fix`;
/// outputs (`images:`, `docker.build`), pipes, VM images, container
/// aliases, the Compose plugin, shell scripts, comments and dynamic
/// GStrings are left alone (an Azure template parameter's default is
/// pinned where it is written), and `--check` passes afterwards. In a
/// Jenkinsfile the digest goes inside the quotes, and into the pod YAML of a
/// `podTemplate`.
#[test]
fn fix_pins_the_ci_kinds_in_place() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let golang = push.push(
        "library/golang",
        "1.23",
        &Image::single("golang", Format::Oci),
    );
    let postgres = push.push(
        "library/postgres",
        "16",
        &Image::single("postgres", Format::Docker),
    );
    let tool = push.push("acme/tool", "1", &Image::single("tool", Format::Oci));
    let ci = push.push("acme/ci", "2", &Image::multi_arch("ci", Format::Oci));
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    let files = [
        (
            ".woodpecker.yml",
            "steps:\n  build:\n    image: golang:1.23\n",
            vec![("golang:1.23", &golang)],
        ),
        (
            ".drone.yml",
            "kind: pipeline\nsteps:\n- name: t\n  image: \"golang:1.23\"\nservices:\n- name: db\n  image: postgres:16\n---\nkind: secret\nname: s\n",
            vec![("golang:1.23", &golang), ("postgres:16", &postgres)],
        ),
        (
            "bitbucket-pipelines.yml",
            "image:\n  name: 'acme/tool:1'\npipelines:\n  default:\n    - step:\n        image: golang:1.23\n        script:\n          - pipe: atlassian/demo-pipe:1.0.0\n",
            vec![("acme/tool:1", &tool), ("golang:1.23", &golang)],
        ),
        (
            "cloudbuild.yaml",
            "steps:\r\n- name: ghcr.io/acme/ci:2\r\n  args: [build, -t, acme/tool:1]\r\nimages: ['acme/tool:1']\r\n",
            vec![("ghcr.io/acme/ci:2\r", &ci)],
        ),
        (
            ".circleci/config.yml",
            "jobs:\n  a:\n    docker:\n      - image: acme/tool:1 # primary\n  vm:\n    machine:\n      image: ubuntu-2204:2024.05.1\n",
            vec![("acme/tool:1 ", &tool)],
        ),
        (
            "Jenkinsfile",
            "pipeline {\n  agent { docker { image 'golang:1.23'; args '-u 0' } }\n  stages { stage('t') { steps { sh 'docker run acme/ci:3 x' } } }\n}\nnode {\n  docker.image(\"postgres:16\").inside { } // docker.image('acme/ci:3')\n  docker.build('acme/app:1')\n  docker.image(\"acme/tool:${V}\").pull()\n}\npodTemplate(containers: [containerTemplate(name: 't', image: 'acme/tool:1')], yaml: '''\nspec:\n  containers:\n  - name: ci\n    image: ghcr.io/acme/ci:2\n''') { }\n",
            vec![
                ("golang:1.23", &golang),
                ("postgres:16", &postgres),
                ("acme/tool:1", &tool),
                ("ghcr.io/acme/ci:2", &ci),
            ],
        ),
        (
            "azure-pipelines.yml",
            "resources:\n  containers:\n  - container: build\n    image: 'acme/tool:1'\n    endpoint: my-acr\ncontainer: build\njobs:\n- job: t\n  container: golang:1.23 # job\n  services:\n    db: build\n- job: u\n  container:\n    image: \"postgres:16\"\n  pool: {vmImage: ubuntu-22.04}\n",
            vec![
                ("acme/tool:1", &tool),
                ("golang:1.23 ", &golang),
                ("postgres:16", &postgres),
            ],
        ),
        (
            ".azure-pipelines/templates/jobs.yml",
            "parameters:\n- name: image\n  type: string\n  default: \"postgres:16\"\njobs:\n- job: t\n  container: ${{ parameters.image }}\n- job: u\n  container: build\n",
            vec![("postgres:16", &postgres)],
        ),
        (
            ".buildkite/pipeline.yml",
            "steps:\n  - command: make\n    plugins:\n      - docker#v5.11.0:\n          image: \"ghcr.io/acme/ci:2\"\n      - docker-compose#v4.16.0:\n          run: app\n  - command: x\n    image: golang:1.23\n",
            vec![("ghcr.io/acme/ci:2", &ci), ("golang:1.23\n", &golang)],
        ),
        (
            "buildkite.json",
            "{\n\t\"steps\": [{\"command\": \"x\", \"image\": \"golang:1.23\"}]\n}\n",
            vec![("golang:1.23", &golang)],
        ),
        (
            "templates/ci.yml",
            "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    container: postgres:16\n",
            vec![("postgres:16", &postgres)],
        ),
    ];
    for (path, text, _) in &files {
        ws.write(path, text);
    }
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(1), "{run}");
    for (path, text, pins) in &files {
        let mut want = text.to_string();
        for (reference, digest) in pins {
            let bare = reference.trim_end_matches(['\r', '\n', ' ']);
            let tail = &reference[bare.len()..];
            want = want.replace(reference, &format!("{bare}@{digest}{tail}"));
        }
        assert_eq!(
            std::fs::read_to_string(ws.path(path)).unwrap(),
            want,
            "{path}"
        );
    }
    let check = ws.imagepin(&["--check"]);
    assert_eq!(check.code, Some(0), "{check}");
}

#[test]
fn defaults_behind_variables_are_pinned_verified_and_updated_where_written() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let go = push.push(
        "library/golang",
        "1.26",
        &Image::multi_arch("g1", Format::Oci),
    );
    let redis = push.push("library/redis", "7", &Image::single("r1", Format::Docker));
    push.push("library/alpine", "3.20", &Image::single("a1", Format::Oci));
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    // ARG V feeds two images: no safe place for a digest, left for the user.
    let dockerfile = "ARG GO_VERSION=1.26\nARG V=3.20\nFROM golang:${GO_VERSION} AS build\nFROM alpine:${V}\nFROM golang:1.26-alpine${V}\n";
    let compose = "services:\n  cache:\n    image: \"redis:${REDIS_TAG:-7}\"\n";
    ws.write("Dockerfile", dockerfile);
    ws.write("compose.yaml", compose);

    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(1), "{run}");
    let pinned_dockerfile = dockerfile.replace("=1.26\n", &format!("=1.26@{go}\n"));
    let pinned_compose = compose.replace(":-7}", &format!(":-7@{redis}}}"));
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        pinned_dockerfile
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("compose.yaml")).unwrap(),
        pinned_compose
    );
    assert!(
        run.stderr.contains("Dockerfile:4:6: dockerfile: alpine:3.20 is not pinned to a digest: the default of ARG V (line 2); imagepin can't write its digest in place: ARG V is used on more than this line (lines 4, 5)"),
        "{run}"
    );
    assert!(!run.stderr.contains("error"), "{run}");

    // Fixing again changes nothing; the shared ARG still needs the user.
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        pinned_dockerfile
    );
    let run = ws.imagepin(&["--check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rows: Vec<(&str, &str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["reference"].as_str().unwrap(),
                f["image"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        rows.contains(&(
            "golang:${GO_VERSION}",
            &*format!("golang:1.26@{go}"),
            "pinned"
        )),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(
            &*format!("redis:${{REDIS_TAG:-7@{redis}}}"),
            &*format!("redis:7@{redis}"),
            "pinned"
        )),
        "{rows:?}"
    );

    // The tags move: --verify says stale, --update rewrites the digests
    // where they are written.
    let go2 = push.push(
        "library/golang",
        "1.26",
        &Image::multi_arch("g2", Format::Oci),
    );
    let redis2 = push.push("library/redis", "7", &Image::single("r2", Format::Docker));
    let run = ws.imagepin(&["--check", "--verify"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains(&format!("golang:1.26@{go} is stale")),
        "{run}"
    );
    let run = ws.imagepin(&["--fix", "--update"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        dockerfile.replace("=1.26\n", &format!("=1.26@{go2}\n"))
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("compose.yaml")).unwrap(),
        compose.replace(":-7}", &format!(":-7@{redis2}}}"))
    );
}

#[test]
fn update_only_moves_the_pins_of_the_named_images_and_allowed_ones_are_never_pinned() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let py1 = push.push(
        "library/python",
        "3.12",
        &Image::multi_arch("v1", Format::Oci),
    );
    let alp1 = push.push("library/alpine", "3.20", &Image::single("a1", Format::Oci));
    push.push("library/node", "20", &Image::single("n1", Format::Oci));
    push.push("library/redis", "7", &Image::single("r1", Format::Oci));
    let ws = Workspace::new();
    ws.config(&format!(
        "{}\n[[allow]]\npaths = [\"Dockerfile\"]\nimages = [\"redis\"]\nreason = \"floats in dev\"\n",
        mapping(&reg.url())
    ));
    let text =
        format!("FROM python:3.12@{py1}\nFROM alpine:3.20@{alp1}\nFROM node:20\nFROM redis:7\n");
    ws.write("Dockerfile", &text);

    // Both tags move.
    let py2 = push.push(
        "library/python",
        "3.12",
        &Image::multi_arch("v2", Format::Oci),
    );
    let alp2 = push.push("library/alpine", "3.20", &Image::single("a2", Format::Oci));
    assert_ne!(py1, py2);
    assert_ne!(alp1, alp2);

    // `--only` belongs to --fix/--diff.
    let run = ws.imagepin(&["--check", "--only", "python"]);
    assert_eq!(run.code, Some(2), "{run}");

    // The emergency update moves python only: alpine keeps its old pin and
    // node stays unpinned.
    let run = ws.imagepin(&["--fix", "--update", "--only", "python"]);
    assert_eq!(run.code, Some(1), "{run}");
    let after = text.replace(&py1, &py2);
    assert_eq!(
        std::fs::read_to_string(ws.path("Dockerfile")).unwrap(),
        after
    );
    let run = ws.imagepin(&["--fix", "--update", "--only", "python"]);
    assert_eq!(run.code, Some(0), "nothing more to move: {run}");

    // Comma-separated and normalized names work too; tags narrow the match.
    let run = ws.imagepin(&[
        "--fix",
        "--update",
        "--only",
        "docker.io/library/alpine:3.19,python",
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    let run = ws.imagepin(&[
        "--diff",
        "--update",
        "--only",
        "ruby,docker.io/library/alpine:3.20",
    ]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains(&format!("+FROM alpine:3.20@{alp2}\n")),
        "{run}"
    );
    assert!(!run.stdout.contains("+FROM node"), "{run}");

    // A plain --fix pins node, and leaves the allowed redis as written.
    let run = ws.imagepin(&["--fix"]);
    assert_eq!(run.code, Some(1), "{run}");
    let fixed = std::fs::read_to_string(ws.path("Dockerfile")).unwrap();
    assert!(fixed.contains("FROM node:20@sha256:"), "{fixed}");
    assert!(fixed.ends_with("FROM redis:7\n"), "{fixed}");
    assert!(fixed.contains(&format!("alpine:3.20@{alp1}")), "{fixed}");
}

#[test]
fn set_rolls_every_reference_back_to_a_digest_that_exists_and_refuses_one_that_does_not() {
    let reg = Registry::anonymous();
    let push = reg.pusher();
    let old = push.push(
        "library/python",
        "3.12",
        &Image::multi_arch("v1", Format::Oci),
    );
    let new = push.push(
        "library/python",
        "3.12",
        &Image::multi_arch("v2", Format::Oci),
    );
    let alpine = push.push("library/alpine", "3", &Image::single("a1", Format::Oci));
    assert_ne!(old, new);
    let ws = Workspace::new();
    ws.config(&mapping(&reg.url()));
    let dockerfile =
        format!("FROM python:3.12@{new} AS app\nFROM python:3.11\nFROM alpine:3@{alpine}\n");
    let compose = "services:\n  app:\n    image: \"python:3.12\"  # keep\n";
    let values = "image:\n  registry: docker.io\n  repository: library/python\n  tag: \"3.12\"\n  digest: \"\"\n";
    ws.write("Dockerfile", &dockerfile);
    ws.write("compose.yaml", compose);
    ws.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    );
    ws.write("chart/values.yaml", values);
    let read = |p: &str| std::fs::read_to_string(ws.path(p)).unwrap();

    // A digest the repository doesn't have: refused, nothing written. A
    // digest of another repository (alpine's) is not python's either.
    let absent = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    for digest in [absent, alpine.as_str()] {
        let run = ws.imagepin(&["set", &format!("python:3.12@{digest}")]);
        assert_eq!(run.code, Some(2), "{run}");
        assert!(
            run.stderr.contains(&format!(
                "imagepin: error: set: {digest} does not exist in docker.io/library/python; nothing written"
            )),
            "{run}"
        );
        assert_eq!(read("Dockerfile"), dockerfile);
        assert_eq!(read("compose.yaml"), compose);
        assert_eq!(read("chart/values.yaml"), values);
    }
    // No digest given: a usage error.
    let run = ws.imagepin(&["set", "python:3.12"]);
    assert_eq!(run.code, Some(2), "{run}");

    // Roll python:3.12 back to the older digest: the stale-looking pin is
    // moved, the unpinned ones (Compose, Helm's digest field) are pinned;
    // python:3.11 and alpine are left alone.
    let run = ws.imagepin(&["set", &format!("python:3.12@{old}")]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(read("Dockerfile"), dockerfile.replace(&new, &old), "{run}");
    assert_eq!(
        read("compose.yaml"),
        compose.replace("python:3.12", &format!("python:3.12@{old}"))
    );
    assert_eq!(
        read("chart/values.yaml"),
        values.replace("digest: \"\"", &format!("digest: \"{old}\""))
    );
    assert!(
        run.stderr.contains(&format!(
            "set 3 references to docker.io/library/python:3.12@{old} in 3 files (0 already had it; 3 files scanned)"
        )),
        "{run}"
    );
    // Again: nothing to change.
    let run = ws.imagepin(&["set", &format!("python:3.12@{old}")]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.contains("set 0 references"), "{run}");
    assert!(run.stderr.contains("(3 already had it"), "{run}");

    // Without a tag, every python reference is set (3.11 too), with --diff
    // only shown.
    let run = ws.imagepin(&["set", "--diff", &format!("docker.io/library/python@{new}")]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout.contains(&format!("+FROM python:3.11@{new}\n")),
        "{run}"
    );
    assert_eq!(read("Dockerfile"), dockerfile.replace(&new, &old));

    // An image no file uses: exit 1, and it says so.
    let run = ws.imagepin(&["set", &format!("alpine:3.19@{alpine}")]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("no reference to alpine:3.19@"), "{run}");
}
