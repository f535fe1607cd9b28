//! `imagepin resolve` against real registries on loopback (Debian's
//! `docker-registry`, CNCF distribution 2.8): digests of indexes, manifest
//! lists and single manifests; Basic and token auth with credentials from
//! the Docker config and a credential helper; TLS with `ca-file`; the cache
//! and `--offline`. The faults a registry can throw (404, 401, 429, 5xx,
//! reset, hang, malformed digest, ...) are a table in `registry_faults`.
//! Each test starts its own registry and runs the real binary in a
//! sandboxed workspace (see tests/support).

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use crate::support;

use std::time::Duration;

use crate::support::token::TokenField;
use crate::support::{
    Auth, Fault, Format, Image, Proxy, ProxyOpts, Registry, RegistryOpts, TokenOpts, TokenServer,
    Workspace,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

/// `[registries."<host>"] endpoint = "<endpoint>"` for each host.
pub(super) fn mapping(hosts: &[&str], endpoint: &str) -> String {
    hosts
        .iter()
        .map(|h| format!("[registries.\"{h}\"]\nendpoint = \"{endpoint}\"\n"))
        .collect()
}

/// A workspace whose `.imagepin.toml` sends docker.io, ghcr.io and quay.io
/// to `endpoint`, a mirror the user trusts with those registries'
/// credentials (`IMAGEPIN_TRUST_MIRROR_CREDENTIALS`, outside the repository).
pub(super) fn workspace_for(endpoint: &str) -> Workspace {
    let mut ws = untrusted_workspace_for(endpoint);
    let host = endpoint.split_once("://").map_or(endpoint, |(_, h)| h);
    ws.set_env("IMAGEPIN_TRUST_MIRROR_CREDENTIALS", host);
    ws
}

/// [`workspace_for`] without the user's trust in the mirror.
pub(super) fn untrusted_workspace_for(endpoint: &str) -> Workspace {
    let ws = Workspace::new();
    ws.config(&mapping(&["docker.io", "ghcr.io", "quay.io"], endpoint));
    ws
}

pub(super) fn basic_registry(user: &str, password: &str) -> Registry {
    Registry::start(RegistryOpts {
        auth: Auth::Basic {
            user: user.into(),
            password: password.into(),
        },
        ..Default::default()
    })
}

pub(super) fn auth_entry(user: &str, password: &str) -> serde_json::Value {
    json!({"auth": STANDARD.encode(format!("{user}:{password}"))})
}

/// With `IMAGEPIN_TEST_SHOW=1`, prints each run.
fn show(run: &support::Run) {
    if std::env::var_os("IMAGEPIN_TEST_SHOW").is_some() {
        eprintln!("{run}");
    }
}

#[track_caller]
pub(super) fn assert_ok(run: &support::Run) {
    show(run);
    assert_eq!(run.code, Some(0), "expected success:\n{run}");
}

#[track_caller]
pub(super) fn assert_failed(run: &support::Run) {
    show(run);
    assert!(
        !run.timed_out,
        "expected a bounded failure, not a hang:\n{run}"
    );
    assert_eq!(run.code, Some(2), "expected exit 2:\n{run}");
}

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    let h = haystack.to_ascii_lowercase();
    needles.iter().any(|n| h.contains(n))
}

#[test]
fn resolves_index_list_and_single_manifest_digests() {
    let reg = Registry::anonymous();
    let p = reg.pusher();
    let python = Image::multi_arch("python-3.12", Format::Oci);
    let redis = Image::multi_arch("redis-7", Format::Docker);
    let app = Image::single("app-1", Format::Oci);
    let tool = Image::single("tool-2", Format::Docker);
    p.push("library/python", "3.12", &python);
    p.push("library/redis", "7", &redis);
    p.push("org/app", "1.0", &app);
    p.push("org/tool", "2", &tool);
    let ws = workspace_for(&reg.url());

    let refs = [
        "python:3.12",
        "docker.io/library/redis:7",
        "ghcr.io/org/app:1.0",
        "quay.io/org/tool:2",
    ];
    let run = ws.imagepin(&[&["resolve"], &refs[..]].concat());
    assert_ok(&run);
    // The index / manifest-list digest (what `docker buildx imagetools
    // inspect` shows), never a platform child's.
    assert_eq!(run.digest_of("python:3.12"), Some(python.digest()), "{run}");
    assert!(!run.stdout.contains(&python.children[0].digest()), "{run}");
    assert_eq!(
        run.digest_of("docker.io/library/redis:7"),
        Some(redis.digest()),
        "{run}"
    );
    assert!(!run.stdout.contains(&redis.children[0].digest()), "{run}");
    assert_eq!(run.digest_of("ghcr.io/org/app:1.0"), Some(app.digest()));
    assert_eq!(run.digest_of("quay.io/org/tool:2"), Some(tool.digest()));
    // one `REF<TAB>DIGEST` line per reference, in order
    let printed: Vec<String> = run.pairs().into_iter().map(|(r, _)| r).collect();
    assert_eq!(printed, refs, "{run}");
}

#[test]
fn one_head_request_per_unique_tag() {
    let reg = Registry::anonymous();
    let python = Image::multi_arch("dedup", Format::Oci);
    reg.pusher().push("library/python", "3.12", &python);
    let proxy = Proxy::counting(reg.addr());
    let ws = workspace_for(&proxy.url());
    let run = ws.imagepin(&[
        "resolve",
        "python:3.12",
        "docker.io/library/python:3.12",
        "index.docker.io/library/python:3.12",
        "python:3.12",
    ]);
    assert_ok(&run);
    assert_eq!(run.pairs().len(), 4, "{run}");
    assert!(
        run.pairs().iter().all(|(_, d)| *d == python.digest()),
        "{run}"
    );
    assert_eq!(proxy.manifest_requests(), 1, "{:?}", proxy.request_log());
    // HEAD only: Docker Hub counts manifest GETs against the pull quota.
    assert_eq!(proxy.manifest_gets(), 0, "{:?}", proxy.request_log());
}

#[test]
fn repointed_tag_resolves_to_new_digest_with_no_cache() {
    let reg = Registry::anonymous();
    let p = reg.pusher();
    let old = Image::multi_arch("app-old", Format::Oci);
    let new = Image::multi_arch("app-new", Format::Oci);
    p.push("org/app", "stable", &old);
    let ws = workspace_for(&reg.url());
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:stable"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:stable"), Some(old.digest()));

    p.push("org/app", "stable", &new);
    let run = ws.imagepin(&["resolve", "--no-cache", "ghcr.io/org/app:stable"]);
    assert_ok(&run);
    assert_eq!(
        run.digest_of("ghcr.io/org/app:stable"),
        Some(new.digest()),
        "{run}"
    );
}

#[test]
fn basic_auth_from_docker_config_auths() {
    let reg = basic_registry("alice", "s3cret-basic");
    let app = Image::single("private-app", Format::Oci);
    let python = Image::multi_arch("private-python", Format::Oci);
    reg.pusher().push("team/app", "1", &app);
    reg.pusher().push("library/python", "3.12", &python);
    let ws = workspace_for(&reg.url());
    ws.docker_config(&json!({"auths": {
        "ghcr.io": auth_entry("alice", "s3cret-basic"),
        // Docker Hub's key, as `docker login` writes it
        "https://index.docker.io/v1/": {"username": "alice", "password": "s3cret-basic"},
    }}));
    let run = ws.imagepin(&["resolve", "ghcr.io/team/app:1", "python:3.12"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/team/app:1"), Some(app.digest()));
    assert_eq!(run.digest_of("python:3.12"), Some(python.digest()));
    assert!(!run.stderr.contains("s3cret-basic"), "{run}");
}

/// A `docker-credential-test` fixture: answers for the server URLs it knows,
/// logs every request it gets.
fn credential_helper(ws: &Workspace, user: &str, secret: &str) -> std::path::PathBuf {
    let log = ws.root().join("helper.log");
    ws.script(
        "docker-credential-test",
        &format!(
            r#"#!/bin/sh
[ "$1" = get ] || exit 1
read -r server
echo "$server" >> '{log}'
case "$server" in
  ghcr.io|https://index.docker.io/v1/)
    printf '{{"ServerURL":"%s","Username":"{user}","Secret":"{secret}"}}\n' "$server" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"#,
            log = log.display()
        ),
    );
    log
}

#[test]
fn basic_auth_from_credential_helpers() {
    let reg = basic_registry("carol", "helper-secret");
    let app = Image::single("helper-app", Format::Docker);
    let python = Image::multi_arch("helper-python", Format::Docker);
    reg.pusher().push("team/app", "2", &app);
    reg.pusher().push("library/python", "3.12", &python);
    let ws = workspace_for(&reg.url());
    let log = credential_helper(&ws, "carol", "helper-secret");
    ws.docker_config(&json!({
        "credsStore": "test",
        "credHelpers": {"ghcr.io": "test"},
    }));
    let run = ws.imagepin(&["resolve", "ghcr.io/team/app:2", "python:3.12"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/team/app:2"), Some(app.digest()));
    assert_eq!(run.digest_of("python:3.12"), Some(python.digest()));
    let asked = std::fs::read_to_string(&log).unwrap();
    // Docker Hub's key in a helper is https://index.docker.io/v1/
    assert!(asked.contains("https://index.docker.io/v1/"), "{asked}");
    assert!(asked.lines().any(|l| l == "ghcr.io"), "{asked}");
    assert!(!run.stderr.contains("helper-secret"), "{run}");
}

#[test]
fn token_auth_anonymous_one_token_per_repository() {
    let ts = TokenServer::start(TokenOpts {
        field: TokenField::TokenOnly,
        ..Default::default()
    });
    let reg = Registry::start(RegistryOpts {
        auth: ts.auth(),
        ..Default::default()
    });
    let p = reg.pusher();
    let mut expected = Vec::new();
    for (repo, short) in [("library/python", "python"), ("library/node", "node")] {
        for i in 0..8 {
            let img = Image::multi_arch(&format!("{repo}-{i}"), Format::Oci);
            p.push(repo, &format!("v{i}"), &img);
            expected.push((format!("{short}:v{i}"), img.digest()));
        }
    }
    ts.reset_counts();
    let ws = workspace_for(&reg.url());
    let args: Vec<&str> = std::iter::once("resolve")
        .chain(expected.iter().map(|(r, _)| r.as_str()))
        .collect();
    let run = ws.imagepin(&args);
    assert_ok(&run);
    for (r, d) in &expected {
        assert_eq!(run.digest_of(r).as_ref(), Some(d), "{r}: {run}");
    }
    // at most one token request per repository and run
    assert!(
        ts.requests() <= 2,
        "{} token requests: {:?}",
        ts.requests(),
        ts.requests_by_scope()
    );
    for (scope, n) in ts.requests_by_scope() {
        assert_eq!(n, 1, "scope {scope:?} requested {n} times");
    }
}

#[test]
fn token_auth_with_credentials() {
    let ts = TokenServer::start(TokenOpts {
        users: vec![("dave".into(), "token-secret".into())],
        anonymous: false,
        field: TokenField::AccessTokenOnly,
        use_kid: true,
        ..Default::default()
    });
    let reg = Registry::start(RegistryOpts {
        auth: ts.auth(),
        ..Default::default()
    });
    let app = Image::multi_arch("token-app", Format::Oci);
    reg.pusher_as("dave", "token-secret")
        .push("team/app", "3", &app);
    let ws = workspace_for(&reg.url());
    ws.docker_config(&json!({"auths": {"ghcr.io": auth_entry("dave", "token-secret")}}));
    let run = ws.imagepin(&["resolve", "ghcr.io/team/app:3"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/team/app:3"), Some(app.digest()));
    // Without credentials: `token_server_refuses_without_credentials` in
    // the fault table.
}

#[test]
fn token_auth_with_identity_token() {
    // `identitytoken` in auths: an OAuth2 refresh token, exchanged by POST
    let ts = TokenServer::start(TokenOpts {
        anonymous: false,
        refresh_tokens: vec!["refresh-7d1e".into()],
        ..Default::default()
    });
    let app = Image::single("identity", Format::Oci);
    let seeded = app.clone();
    let reg = Registry::start(RegistryOpts {
        auth: ts.auth(),
        seed: Some(Box::new(move |root| {
            support::seed::seed_image(root, "team/app", "1", &seeded)
        })),
        ..Default::default()
    });
    let ws = workspace_for(&reg.url());
    ws.docker_config(&json!({"auths": {"ghcr.io": {
        "auth": STANDARD.encode("<token>:"),
        "identitytoken": "refresh-7d1e",
    }}}));
    let run = ws.imagepin(&["resolve", "ghcr.io/team/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/team/app:1"), Some(app.digest()));

    // a refresh token the server does not accept: refused, and not printed
    ws.docker_config(&json!({"auths": {"ghcr.io": {
        "auth": STANDARD.encode("<token>:"),
        "identitytoken": "revoked-93ab",
    }}}));
    let run = ws.imagepin(&["resolve", "--no-cache", "ghcr.io/team/app:1"]);
    assert_failed(&run);
    assert!(run.stderr.contains("ghcr.io/team/app:1"), "{run}");
    assert!(!run.stderr.contains("revoked-93ab"), "{run}");
}

#[test]
fn insufficient_scope_fetches_a_new_token() {
    // The first token grants nothing: the registry answers 401 with
    // error="insufficient_scope", and a new token must be fetched.
    let ts = TokenServer::start(TokenOpts {
        empty_first: 1,
        ..Default::default()
    });
    let app = Image::single("scope", Format::Oci);
    let seeded = app.clone();
    let reg = Registry::start(RegistryOpts {
        auth: ts.auth(),
        seed: Some(Box::new(move |root| {
            support::seed::seed_image(root, "org/app", "1", &seeded)
        })),
        ..Default::default()
    });
    let ws = workspace_for(&reg.url());
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
    assert_eq!(ts.requests(), 2, "{:?}", ts.requests_by_scope());
}

#[test]
fn tls_with_ca_file() {
    let reg = Registry::start(RegistryOpts {
        tls: true,
        ..Default::default()
    });
    let app = Image::multi_arch("tls-app", Format::Oci);
    reg.pusher().push("org/app", "1", &app);

    let ws = Workspace::new();
    ws.write("certs/ca.pem", reg.ca_pem().unwrap());
    ws.config(&format!(
        "{}ca-file = \"certs/ca.pem\"\n",
        mapping(&["ghcr.io"], &reg.url())
    ));
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));

    // `insecure = true` accepts the unverified certificate instead
    let ws = Workspace::new();
    ws.config(&format!(
        "{}insecure = true\n",
        mapping(&["ghcr.io"], &reg.url())
    ));
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
    // Without either, see the fault table: `tls_without_the_ca`.
}

#[test]
fn tls_with_self_signed_certificate_in_ca_file() {
    let reg = Registry::start(RegistryOpts {
        tls: true,
        self_signed: true,
        ..Default::default()
    });
    let app = Image::single("self-signed", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let ws = Workspace::new();
    ws.write("server.pem", reg.ca_pem().unwrap());
    ws.config(&format!(
        "{}ca-file = \"server.pem\"\n",
        mapping(&["ghcr.io"], &reg.url())
    ));
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
}

#[test]
fn not_found_names_the_image() {
    let reg = Registry::anonymous();
    let app = Image::single("nf", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let ws = workspace_for(&reg.url());
    let run = ws.imagepin(&[
        "resolve",
        "ghcr.io/org/app:1",
        "ghcr.io/org/app:no-such-tag",
        "ghcr.io/org/no-such-repo:1",
    ]);
    assert_failed(&run);
    // the image that exists is still answered
    assert_eq!(
        run.digest_of("ghcr.io/org/app:1"),
        Some(app.digest()),
        "{run}"
    );
    assert_eq!(run.pairs().len(), 1, "{run}");
    for r in ["ghcr.io/org/app:no-such-tag", "ghcr.io/org/no-such-repo:1"] {
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(r))
            .unwrap_or_else(|| panic!("no message names {r}:\n{run}"));
        assert!(
            contains_any(line, &["not found", "no such", "404", "unknown"]),
            "{line}"
        );
    }
}

#[test]
fn warm_cache_makes_no_requests_and_offline_answers_from_it() {
    let reg = Registry::anonymous();
    let p = reg.pusher();
    let python = Image::multi_arch("cache-python", Format::Oci);
    let app = Image::single("cache-app", Format::Oci);
    p.push("library/python", "3.12", &python);
    p.push("org/app", "1", &app);
    let proxy = Proxy::counting(reg.addr());
    let ws = workspace_for(&proxy.url());
    let args = ["resolve", "python:3.12", "ghcr.io/org/app:1"];
    let first = ws.imagepin(&args);
    assert_ok(&first);
    assert_eq!(proxy.manifest_requests(), 2, "{:?}", proxy.request_log());

    proxy.reset_counts();
    let second = ws.imagepin(&args);
    assert_ok(&second);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(proxy.requests(), 0, "{:?}", proxy.request_log());
    assert_eq!(proxy.connections(), 0);

    // --offline needs no registry at all
    drop(proxy);
    drop(reg);
    let offline = ws.imagepin(&["resolve", "--offline", "python:3.12", "ghcr.io/org/app:1"]);
    assert_ok(&offline);
    assert_eq!(offline.digest_of("python:3.12"), Some(python.digest()));
    assert_eq!(offline.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
}

#[test]
fn corrupt_cache_is_discarded() {
    let reg = Registry::anonymous();
    let app = Image::single("corrupt-cache", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let ws = workspace_for(&reg.url());
    assert_ok(&ws.imagepin(&["resolve", "ghcr.io/org/app:1"]));
    // scribble over every file the cache wrote
    let mut n = 0;
    for entry in walk(&ws.cache) {
        std::fs::write(&entry, b"\x00{not json").unwrap();
        n += 1;
    }
    assert!(n > 0, "the first run wrote no cache file");
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn basic_auth_from_podman_auth_files() {
    let reg = basic_registry("gina", "podman-secret");
    let app = Image::single("podman", Format::Oci);
    reg.pusher().push("team/app", "1", &app);
    let entry = json!({"auths": {"ghcr.io": auth_entry("gina", "podman-secret")}});

    // $XDG_RUNTIME_DIR/containers/auth.json
    let ws = workspace_for(&reg.url());
    let dir = ws.runtime_dir().join("containers");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("auth.json"), entry.to_string()).unwrap();
    let run = ws.imagepin(&["resolve", "ghcr.io/team/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/team/app:1"), Some(app.digest()));

    // $REGISTRY_AUTH_FILE
    let mut ws = workspace_for(&reg.url());
    let file = ws.root().join("elsewhere-auth.json");
    std::fs::write(&file, entry.to_string()).unwrap();
    ws.set_env("REGISTRY_AUTH_FILE", file.to_str().unwrap());
    let run = ws.imagepin(&["resolve", "ghcr.io/team/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/team/app:1"), Some(app.digest()));
}

/// A registry with `n` tags of `bench/many` seeded into storage.
fn registry_with_tags(n: usize) -> (Registry, Vec<(String, String)>) {
    let images: Vec<(String, Image)> = (0..n)
        .map(|i| {
            (
                format!("t{i}"),
                Image::single(&format!("many-{i}"), Format::Oci),
            )
        })
        .collect();
    let expected = images
        .iter()
        .map(|(t, img)| (format!("ghcr.io/bench/many:{t}"), img.digest()))
        .collect();
    let reg = Registry::start(RegistryOpts {
        seed: Some(Box::new(move |root| {
            for (tag, img) in &images {
                support::seed::seed_image(root, "bench/many", tag, img);
            }
        })),
        ..Default::default()
    });
    (reg, expected)
}

#[test]
fn parallel_requests_are_bounded_per_host() {
    let (reg, expected) = registry_with_tags(48);
    let args: Vec<&str> = std::iter::once("resolve")
        .chain(expected.iter().map(|(r, _)| r.as_str()))
        .collect();
    for (concurrency, low, high) in [(Some(3), 2, 3), (None, 4, 16)] {
        let proxy = Proxy::start(ProxyOpts {
            latency: Duration::from_millis(25),
            ..ProxyOpts::to(reg.addr())
        });
        let ws = Workspace::new();
        let mut config = mapping(&["ghcr.io"], &proxy.url());
        if let Some(c) = concurrency {
            config.push_str(&format!("concurrency = {c}\n"));
        }
        ws.config(&config);
        let run = ws.imagepin(&args);
        assert_ok(&run);
        for (r, d) in &expected {
            assert_eq!(run.digest_of(r).as_ref(), Some(d), "{r}");
        }
        let max = proxy.max_concurrent_manifest_requests();
        assert!(
            (low..=high).contains(&max),
            "concurrency {concurrency:?}: {max} manifest requests at once"
        );
        assert_eq!(proxy.manifest_requests(), expected.len());
        // stderr is a pipe here: no progress line, whatever the count
        assert!(!run.stderr.contains("resolving"), "{run}");
    }
}

#[test]
fn cache_entries_expire_after_cache_ttl() {
    let reg = Registry::anonymous();
    let app = Image::single("ttl", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let proxy = Proxy::counting(reg.addr());
    let ws = Workspace::new();
    ws.config(&format!(
        "cache-ttl = \"2s\"\n{}",
        mapping(&["ghcr.io"], &proxy.url())
    ));
    assert_ok(&ws.imagepin(&["resolve", "ghcr.io/org/app:1"]));
    assert_ok(&ws.imagepin(&["resolve", "ghcr.io/org/app:1"]));
    assert_eq!(proxy.manifest_requests(), 1, "{:?}", proxy.request_log());
    std::thread::sleep(Duration::from_millis(2100));
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
    assert_eq!(proxy.manifest_requests(), 2, "{:?}", proxy.request_log());
}

#[test]
fn loopback_registries_need_no_configuration() {
    // plain HTTP to a loopback address is allowed, as Docker allows it
    let reg = Registry::anonymous();
    let app = Image::multi_arch("loopback", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let ws = Workspace::new();
    let port = reg.addr().port();
    let refs = [
        format!("127.0.0.1:{port}/org/app:1"),
        format!("localhost:{port}/org/app:1"),
    ];
    let run = ws.imagepin(&["resolve", &refs[0], &refs[1]]);
    assert_ok(&run);
    for r in &refs {
        assert_eq!(run.digest_of(r), Some(app.digest()), "{run}");
    }

    // over TLS, with the CA configured for that host
    let tls = Registry::start(RegistryOpts {
        tls: true,
        ..Default::default()
    });
    tls.pusher().push("org/app", "1", &app);
    let ws = Workspace::new();
    ws.write("ca.pem", tls.ca_pem().unwrap());
    ws.config(&format!(
        "[registries.\"{}\"]\nca-file = \"ca.pem\"\n",
        tls.host()
    ));
    let r = format!("{}/org/app:1", tls.host());
    let run = ws.imagepin(&["resolve", &r]);
    assert_ok(&run);
    assert_eq!(run.digest_of(&r), Some(app.digest()), "{run}");
}

#[test]
fn untagged_reference_means_latest() {
    let reg = Registry::anonymous();
    let latest = Image::multi_arch("latest", Format::Oci);
    reg.pusher().push("org/app", "latest", &latest);
    let ws = workspace_for(&reg.url());
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app"]);
    assert_ok(&run);
    assert_eq!(
        run.digest_of("ghcr.io/org/app"),
        Some(latest.digest()),
        "{run}"
    );
}

#[test]
fn invalid_reference_is_an_error_without_requests() {
    let reg = Registry::anonymous();
    let app = Image::single("valid", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let proxy = Proxy::counting(reg.addr());
    let ws = workspace_for(&proxy.url());
    let run = ws.imagepin(&["resolve", "ghcr.io/Org/App:1", "ghcr.io/org/app:1"]);
    assert_failed(&run);
    assert!(run.stderr.contains("ghcr.io/Org/App:1"), "{run}");
    assert_eq!(
        run.digest_of("ghcr.io/org/app:1"),
        Some(app.digest()),
        "{run}"
    );
    assert_eq!(proxy.manifest_requests(), 1, "{:?}", proxy.request_log());
}

#[test]
fn http_proxy_environment_is_honoured() {
    let reg = Registry::anonymous();
    let app = Image::single("via-proxy", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    // a forward proxy: requests arrive in absolute form and go to the registry
    let proxy = Proxy::counting(reg.addr());
    let mut ws = workspace_for(&reg.url());
    ws.set_env("HTTP_PROXY", &proxy.url());
    let run = ws.imagepin(&["resolve", "--no-cache", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
    assert_eq!(proxy.manifest_requests(), 1, "{:?}", proxy.request_log());
    assert!(
        proxy.request_log().iter().any(|l| l.contains("http://")),
        "{:?}",
        proxy.request_log()
    );

    proxy.reset_counts();
    ws.set_env("NO_PROXY", "127.0.0.1");
    let run = ws.imagepin(&["resolve", "--no-cache", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(proxy.requests(), 0, "{:?}", proxy.request_log());
}

#[test]
fn credential_store_without_an_entry_falls_back_to_anonymous() {
    // Public images on a token registry (like Docker Hub) with a global
    // credsStore that has no entry for it, or that is not installed.
    let ts = TokenServer::start(TokenOpts::default());
    let app = Image::multi_arch("public", Format::Oci);
    let seeded = app.clone();
    let reg = Registry::start(RegistryOpts {
        auth: ts.auth(),
        seed: Some(Box::new(move |root| {
            support::seed::seed_image(root, "org/app", "1", &seeded)
        })),
        ..Default::default()
    });
    let ws = workspace_for(&reg.url());
    let log = credential_helper(&ws, "nobody", "unused");
    ws.docker_config(&json!({"credsStore": "test"}));
    let run = ws.imagepin(&["resolve", "--no-cache", "quay.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("quay.io/org/app:1"), Some(app.digest()));
    let asked = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(asked.lines().any(|l| l == "quay.io"), "{asked}");

    // a credsStore that is not installed (a config copied from Docker Desktop)
    ws.docker_config(&json!({"credsStore": "desktop"}));
    let run = ws.imagepin(&["resolve", "--no-cache", "quay.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("quay.io/org/app:1"), Some(app.digest()));
}

#[test]
fn a_hung_registry_does_not_hold_up_the_others() {
    let reg = Registry::anonymous();
    let app = Image::multi_arch("faulty", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let hung = Proxy::start(ProxyOpts {
        fault: Fault::Hang { first: usize::MAX },
        ..ProxyOpts::to(reg.addr())
    });
    let mut ws = Workspace::new();
    ws.config(&format!(
        "{}{}",
        mapping(&["ghcr.io"], &hung.url()),
        mapping(&["quay.io"], &reg.url())
    ));
    ws.set_env("IMAGEPIN_REQUEST_TIMEOUT", "2s");
    let run = ws.imagepin_within(
        &["resolve", "ghcr.io/org/app:1", "quay.io/org/app:1"],
        Duration::from_secs(40),
    );
    assert_failed(&run);
    assert_eq!(
        run.digest_of("quay.io/org/app:1"),
        Some(app.digest()),
        "{run}"
    );
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), None, "{run}");
    assert!(run.stderr.contains("ghcr.io/org/app:1"), "{run}");
}

// ---- Hostile registries and repositories (issue 8) ----

/// A token registry (realm `realm`, or the token server's own) holding
/// `org/app:1`, seeded on disk so no push needs a token.
pub(super) fn token_registry(ts: &TokenServer, realm: Option<&str>) -> (Registry, Image) {
    let app = Image::single("hostile-token", Format::Oci);
    let seeded = app.clone();
    let reg = Registry::start(RegistryOpts {
        auth: match realm {
            Some(r) => ts.auth_with_realm(r),
            None => ts.auth(),
        },
        seed: Some(Box::new(move |root| {
            support::seed::seed_image(root, "org/app", "1", &seeded)
        })),
        ..Default::default()
    });
    (reg, app)
}

#[test]
fn absurd_token_lifetimes_are_used_not_fatal() {
    // (expires_in, why): each must still resolve (2^64-1 used to panic:
    // "overflow when adding duration to instant"; -1 made the answer unusable).
    for (expires_in, case) in [
        (json!(u64::MAX), "2^64-1"),
        (json!(-1), "negative"),
        (json!(1e300), "huge float"),
        (json!("soon"), "not a number"),
        (json!(0), "zero"),
    ] {
        let ts = TokenServer::start(TokenOpts {
            expires_in: Some(expires_in),
            ..Default::default()
        });
        let (reg, app) = token_registry(&ts, None);
        let ws = workspace_for(&reg.url());
        let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
        assert_eq!(run.code, Some(0), "{case}:\n{run}");
        assert_eq!(
            run.digest_of("ghcr.io/org/app:1"),
            Some(app.digest()),
            "{case}"
        );
    }
}

#[test]
fn repository_config_cannot_send_credentials_to_a_loopback_endpoint() {
    // A committed .imagepin.toml maps ghcr.io to whatever listens on a
    // loopback port; the user's ghcr.io credentials must not go there ...
    let reg = basic_registry("frank", "ghcr-secret");
    let app = Image::single("mirror-creds", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let mut ws = untrusted_workspace_for(&reg.url());
    ws.docker_config(&json!({"auths": {"ghcr.io": auth_entry("frank", "ghcr-secret")}}));
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
    assert_failed(&run);
    assert!(run.stderr.contains("HTTP 401"), "{run}");
    assert!(
        run.stderr
            .contains(&format!("IMAGEPIN_TRUST_MIRROR_CREDENTIALS={}", reg.host())),
        "the error says how to opt in:\n{run}"
    );
    assert!(
        !reg.log_text()
            .contains(&STANDARD.encode("frank:ghcr-secret")),
        "credentials reached the endpoint"
    );
    // ... unless the user says so outside the repository.
    ws.set_env("IMAGEPIN_TRUST_MIRROR_CREDENTIALS", &reg.host());
    let run = ws.imagepin(&["resolve", "ghcr.io/org/app:1"]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
}

#[test]
fn token_realm_on_another_host_does_not_get_the_registry_credentials() {
    let ts = TokenServer::start(TokenOpts {
        users: vec![("gina".into(), "realm-secret".into())],
        anonymous: false,
        ..Default::default()
    });
    // Same machine, another host name: `localhost` is not `127.0.0.1`.
    let realm = format!("http://localhost:{}/token", ts.addr().port());
    let (reg, app) = token_registry(&ts, Some(&realm));
    let ws = Workspace::new();
    let reference = format!("{}/org/app:1", reg.host());
    ws.docker_config(&json!({"auths": {reg.host(): auth_entry("gina", "realm-secret")}}));
    let run = ws.imagepin(&["resolve", &reference]);
    assert_failed(&run);
    let realm_host = format!("localhost:{}", ts.addr().port());
    assert!(
        run.stderr.contains(&format!(
            "were not sent to the token server {realm_host}, which is another host"
        )),
        "{run}"
    );
    // Credentials stored for the realm host itself are sent to it.
    ws.docker_config(&json!({"auths": {
        reg.host(): auth_entry("gina", "realm-secret"),
        realm_host.clone(): auth_entry("gina", "realm-secret"),
    }}));
    let run = ws.imagepin(&["resolve", &reference]);
    assert_ok(&run);
    assert_eq!(run.digest_of(&reference), Some(app.digest()));
}

#[test]
fn docker_auth_config_variable_is_a_credential_source() {
    let reg = basic_registry("hana", "gitlab-style");
    let app = Image::single("auth-config-env", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let mut ws = Workspace::new();
    let reference = format!("{}/org/app:1", reg.host());
    let config = json!({"auths": {reg.host(): auth_entry("hana", "gitlab-style")}});
    ws.set_env("DOCKER_AUTH_CONFIG", &config.to_string());
    let run = ws.imagepin(&["resolve", &reference]);
    assert_ok(&run);
    assert_eq!(run.digest_of(&reference), Some(app.digest()));
    assert!(!run.stderr.contains("gitlab-style"), "{run}");
}

#[test]
fn offline_answers_from_a_cache_older_than_cache_ttl_and_says_how_old() {
    // A CI cache restored from yesterday: too old to trust online, still the
    // answer offline.
    let reg = Registry::anonymous();
    let app = Image::single("yesterday", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let ws = workspace_for(&reg.url());
    assert_ok(&ws.imagepin(&["resolve", "ghcr.io/org/app:1", "quay.io/org/app:1"]));
    let file = ws.root().join("cache/imagepin/digests-v1.tsv");
    let text = std::fs::read_to_string(&file).unwrap();
    let aged: String = text
        .lines()
        .map(|l| match l.split_once('\t') {
            Some((t, rest)) => match t.parse::<u64>() {
                Ok(t) => format!("{}\t{rest}\n", t - 26 * 3600),
                Err(_) => format!("{l}\n"),
            },
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&file, aged).unwrap();
    drop(reg);
    let run = ws.imagepin(&[
        "resolve",
        "--offline",
        "ghcr.io/org/app:1",
        "quay.io/org/app:1",
    ]);
    assert_ok(&run);
    assert_eq!(run.digest_of("ghcr.io/org/app:1"), Some(app.digest()));
    assert!(
        run.stderr
            .contains("answered 2 references from the cache (oldest 26 h old)"),
        "{run}"
    );
}

/// `-v` says which configuration was read, each registry's endpoint and
/// where its credentials came from (never the secret), and the cache's
/// hits and misses; without `-v`, none of it.
#[test]
fn verbose_says_configuration_endpoint_credential_source_and_cache() {
    let reg = basic_registry("alice", "s3cret-verbose");
    let app = Image::single("verbose-app", Format::Oci);
    reg.pusher().push("team/app", "1", &app);
    let ws = workspace_for(&reg.url());
    ws.docker_config(&json!({"auths": {"ghcr.io": auth_entry("alice", "s3cret-verbose")}}));
    ws.write("Dockerfile", "FROM ghcr.io/team/app:1\n");
    let run = ws.imagepin(&["-v", "--diff", "Dockerfile"]);
    assert_eq!(run.code, Some(1), "{run}");
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("imagepin: "))
        .collect();
    assert!(
        notes
            .iter()
            .any(|l| l.starts_with("imagepin: configuration: ") && l.ends_with(".imagepin.toml")),
        "{run}"
    );
    assert!(
        notes.iter().any(|l| l.contains("cache: 0 hits, 1 miss")),
        "{run}"
    );
    assert!(
        notes
            .iter()
            .any(|l| l.contains("ghcr.io") && l.contains(&reg.url()) && l.contains("config.json")),
        "{run}"
    );
    assert!(!run.stderr.contains("s3cret-verbose"), "{run}");
    let quiet = ws.imagepin(&["--diff", "--no-cache", "Dockerfile"]);
    assert!(!quiet.stderr.contains("imagepin: configuration"), "{quiet}");
    let check = ws.imagepin(&["--check", "-v", "Dockerfile"]);
    assert!(
        check.stderr.contains("imagepin: configuration: "),
        "{check}"
    );
}

/// When every lookup fails for one network-wide reason, it is said once,
/// with the count and what to do, instead of once per reference.
#[test]
fn one_root_cause_is_said_once_with_what_to_do() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let ws = workspace_for(&endpoint);
    ws.write(
        "Dockerfile",
        "FROM ghcr.io/a/one:1\nFROM ghcr.io/a/two:1\nFROM ghcr.io/a/three:1\n",
    );
    let run = ws.imagepin(&["--fix", "--no-cache", "Dockerfile"]);
    assert_eq!(run.code, Some(2), "{run}");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{run}");
    assert!(errors[0].starts_with("imagepin: error: all 3"), "{run}");
    assert!(
        errors[0].contains("all 3 lookups failed for one reason"),
        "{run}"
    );
    assert!(errors[0].contains("SKIP=imagepin"), "{run}");
    assert!(errors[0].contains("--offline"), "{run}");
    let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    ws.write(
        "pinned.Dockerfile",
        &format!("FROM ghcr.io/a/one:1@{d}\nFROM ghcr.io/a/two:1@{d}\n"),
    );
    let verify = ws.imagepin(&["--check", "--verify", "--no-cache", "pinned.Dockerfile"]);
    assert_eq!(verify.code, Some(2), "{verify}");
    let errors: Vec<&str> = verify
        .stdout
        .lines()
        .chain(verify.stderr.lines())
        .filter(|l| l.contains("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{verify}");
    assert!(
        errors[0].contains("lookups failed for one reason"),
        "{verify}"
    );
}
