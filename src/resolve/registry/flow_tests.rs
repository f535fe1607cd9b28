//! The request flow against a scripted HTTP server, where the exact
//! requests matter: the `Accept` header, the number of attempts, tokens,
//! Basic, identity tokens, the HTTP fallback. The outcome of each fault
//! (429, timeouts, the GET fallback, malformed digests) is a row of the
//! integration tests' fault table, against a real registry.

use super::*;
use crate::resolve::ErrorKind;

use super::super::scripted_server::{self, Action, Req, ok};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Instant;

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn registry(port: u16, env: Env, timeout: Duration) -> Arc<Registry> {
    let cfg = Config::parse(
        &format!("[registries.\"mock.test\"]\nendpoint = \"http://127.0.0.1:{port}\""),
        Path::new("/t/.imagepin.toml"),
        Path::new("/t"),
    )
    .unwrap();
    // The user trusts this mirror with mock.test's credentials (outside the
    // repository); without that, see `mirror_gets_no_credentials_unless_trusted`.
    let mut env = env;
    env.trusted_mirrors.push(format!("127.0.0.1:{port}"));
    Arc::new(Registry::new(
        Http::new(&Default::default(), false, timeout).unwrap(),
        cfg,
        env,
    ))
}

fn tag(repo: &str, t: &str) -> TagRef {
    TagRef {
        registry: "mock.test".into(),
        repository: repo.into(),
        tag: t.into(),
    }
}

const T: Duration = Duration::from_secs(10);

fn digest(d: &str) -> Vec<(&'static str, String)> {
    vec![("Docker-Content-Digest", d.to_string())]
}

async fn resolve_one(
    handler: impl Fn(&Req) -> Action + Send + Sync + 'static,
    env: Env,
    timeout: Duration,
) -> Result<String, RegistryError> {
    let port = scripted_server::serve(Arc::new(handler)).await;
    registry(port, env, timeout)
        .resolve_tag(&tag("app", "1"))
        .await
}

#[tokio::test]
async fn head_sends_all_manifest_types_and_uses_the_header_digest() {
    let r = resolve_one(
        |q| match (q.method.as_str(), q.path.as_str()) {
            ("GET", "/v2/") => ok(vec![], b""),
            ("HEAD", "/v2/app/manifests/1") if q.header("accept") == Some(ACCEPT) => {
                ok(digest(D), b"")
            }
            _ => Action::Respond(400, vec![], vec![]),
        },
        Env::default(),
        T,
    )
    .await;
    assert_eq!(r.unwrap(), D);
}

#[tokio::test]
async fn not_found_names_tag_and_repository() {
    let e = resolve_one(
        |q| match q.method.as_str() {
            "HEAD" => Action::Respond(404, vec![], vec![]),
            _ => ok(vec![], b""),
        },
        Env::default(),
        T,
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("no tag `1` in repository `app`"), "{e}");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let heads = Arc::new(AtomicUsize::new(0));
    let h = heads.clone();
    let r = resolve_one(
        move |q| match q.method.as_str() {
            "HEAD" if h.fetch_add(1, SeqCst) == 0 => Action::Respond(500, vec![], vec![]),
            "HEAD" => ok(digest(D), b""),
            _ => ok(vec![], b""),
        },
        Env::default(),
        T,
    )
    .await;
    assert_eq!(r.unwrap(), D);
    assert_eq!(heads.load(SeqCst), 2);

    let heads = Arc::new(AtomicUsize::new(0));
    let h = heads.clone();
    let e = resolve_one(
        move |q| match q.method.as_str() {
            "HEAD" => {
                h.fetch_add(1, SeqCst);
                Action::Respond(503, vec![], vec![])
            }
            _ => ok(vec![], b""),
        },
        Env::default(),
        T,
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("HTTP 503 after 3 attempts"), "{e}");
    assert_eq!(e.kind, ErrorKind::ServerError, "{e}");
    assert_eq!(heads.load(SeqCst), 3);
}

/// A token server on the same port: `/token?...scope=repository:R:pull`
/// answers `tok-R`; manifests need `Bearer tok-R`.
fn bearer_handler(tokens: Arc<AtomicUsize>, heads: Arc<AtomicUsize>) -> impl Fn(&Req) -> Action {
    move |q| {
        let host = q.header("host").unwrap_or("").to_string();
        let challenge = format!(r#"Bearer realm="http://{host}/token",service="svc""#);
        if q.path == "/v2/" {
            return Action::Respond(401, vec![("WWW-Authenticate", challenge)], vec![]);
        }
        if let Some(query) = q.path.strip_prefix("/token?") {
            tokens.fetch_add(1, SeqCst);
            let repo = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("scope=repository%3A"))
                .and_then(|s| s.strip_suffix("%3Apull"))
                .unwrap_or("?")
                .replace("%2F", "/");
            let body = format!(r#"{{"token":"tok-{repo}","expires_in":300}}"#);
            return ok(vec![], body.as_bytes());
        }
        let repo = q
            .path
            .strip_prefix("/v2/")
            .and_then(|p| p.split("/manifests/").next())
            .unwrap_or("");
        if q.header("authorization") == Some(&format!("Bearer tok-{repo}")) {
            heads.fetch_add(1, SeqCst);
            ok(digest(D), b"")
        } else {
            Action::Respond(401, vec![("WWW-Authenticate", challenge)], vec![])
        }
    }
}

#[tokio::test]
async fn one_token_request_per_repository_shared_by_concurrent_requests() {
    let (tokens, heads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let port =
        scripted_server::serve(Arc::new(bearer_handler(tokens.clone(), heads.clone()))).await;
    let reg = registry(port, Env::default(), T);
    let mut set = tokio::task::JoinSet::new();
    for repo in ["a", "b/c"] {
        for t in 0..6 {
            let reg = reg.clone();
            let tr = tag(repo, &t.to_string());
            set.spawn(async move { reg.resolve_tag(&tr).await });
        }
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().unwrap(), D);
    }
    assert_eq!(tokens.load(SeqCst), 2);
    assert_eq!(heads.load(SeqCst), 12);
}

#[tokio::test]
async fn insufficient_scope_fetches_a_new_token_once() {
    let tokens = Arc::new(AtomicUsize::new(0));
    let t = tokens.clone();
    let r = resolve_one(
        move |q| {
            let host = q.header("host").unwrap_or("").to_string();
            let ch = format!(r#"Bearer realm="http://{host}/token",service="svc""#);
            if q.path == "/v2/" {
                Action::Respond(401, vec![("WWW-Authenticate", ch)], vec![])
            } else if q.path.starts_with("/token") {
                let n = t.fetch_add(1, SeqCst);
                let tok = if n == 0 { "stale" } else { "fresh" };
                ok(vec![], format!(r#"{{"access_token":"{tok}"}}"#).as_bytes())
            } else if q.header("authorization") == Some("Bearer fresh") {
                ok(digest(D), b"")
            } else {
                let ch = format!(r#"{ch},scope="repository:app:pull",error="insufficient_scope""#);
                Action::Respond(401, vec![("WWW-Authenticate", ch)], vec![])
            }
        },
        Env::default(),
        T,
    )
    .await;
    assert_eq!(r.unwrap(), D);
    assert_eq!(tokens.load(SeqCst), 2);
}

fn docker_config(dir: &Path, json: &str) -> Env {
    std::fs::write(dir.join("config.json"), json).unwrap();
    Env {
        docker_config: Some(dir.to_path_buf()),
        ..Env::default()
    }
}

fn basic_handler(q: &Req) -> Action {
    let ch = vec![("WWW-Authenticate", r#"Basic realm="test""#.to_string())];
    if q.header("authorization") == Some("Basic dXNlcjpwYXNz") {
        ok(digest(D), b"")
    } else {
        Action::Respond(401, ch, vec![])
    }
}

#[tokio::test]
async fn basic_auth_uses_docker_config_and_never_shows_the_secret() {
    let d = tempfile::tempdir().unwrap();
    let env = docker_config(
        d.path(),
        r#"{"auths":{"mock.test":{"auth":"dXNlcjpwYXNz"}}}"#,
    );
    assert_eq!(resolve_one(basic_handler, env, T).await.unwrap(), D);

    // user:wrongpass
    let env = docker_config(
        d.path(),
        r#"{"auths":{"mock.test":{"auth":"dXNlcjp3cm9uZ3Bhc3M="}}}"#,
    );
    let e = resolve_one(basic_handler, env, T).await.unwrap_err();
    assert!(
        e.message.contains("401") && e.message.contains("config.json"),
        "{e}"
    );
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    assert!(
        !e.message.contains("wrongpass") && !e.message.contains("dXNlcjp3"),
        "{e}"
    );

    let e = resolve_one(basic_handler, Env::default(), T)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("no credentials") && e.message.contains("docker login mock.test"),
        "{e}"
    );
    assert_eq!(e.kind, ErrorKind::NoCredentials, "{e}");
}

#[tokio::test]
async fn mirror_gets_no_credentials_unless_trusted() {
    // `.imagepin.toml` maps mock.test to a loopback endpoint; the user's
    // credentials for mock.test must not go there by default.
    let d = tempfile::tempdir().unwrap();
    let env = docker_config(
        d.path(),
        r#"{"auths":{"mock.test":{"auth":"dXNlcjpwYXNz"}}}"#,
    );
    let port = scripted_server::serve(Arc::new(basic_handler)).await;
    let cfg = Config::parse(
        &format!("[registries.\"mock.test\"]\nendpoint = \"http://127.0.0.1:{port}\""),
        Path::new("/t/.imagepin.toml"),
        Path::new("/t"),
    )
    .unwrap();
    let http = || Http::new(&Default::default(), false, T).unwrap();
    let untrusted = Registry::new(http(), cfg.clone(), env.clone());
    let e = untrusted.resolve_tag(&tag("app", "1")).await.unwrap_err();
    assert!(
        e.message.contains("401") && e.message.contains(&format!("127.0.0.1:{port}")),
        "{e}"
    );
    let mut trusting = env;
    trusting.trusted_mirrors = vec![format!("127.0.0.1:{port}")];
    let r = Registry::new(http(), cfg, trusting);
    assert_eq!(r.resolve_tag(&tag("app", "1")).await.unwrap(), D);
    assert!(
        r.notes()
            .iter()
            .any(|n| n.contains("credentials from") && n.contains("mock.test")),
        "{:?}",
        r.notes()
    );
}

#[tokio::test]
async fn token_realm_on_another_host_gets_only_its_own_credentials() {
    // The registry (127.0.0.1) names a realm on `localhost`: another host
    // name. mock.test's credentials must not be sent there.
    let d = tempfile::tempdir().unwrap();
    let sent = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let s = sent.clone();
    let handler = move |q: &Req| {
        let port = q
            .header("host")
            .and_then(|h| h.rsplit(':').next())
            .unwrap_or("")
            .to_string();
        let ch = format!(r#"Bearer realm="http://localhost:{port}/token",service="svc""#);
        if q.path.starts_with("/token") {
            s.lock()
                .unwrap()
                .push(q.header("authorization").unwrap_or("-").to_string());
            return ok(vec![], br#"{"token":"tok"}"#);
        }
        if q.header("authorization") == Some("Bearer tok") {
            ok(digest(D), b"")
        } else {
            Action::Respond(401, vec![("WWW-Authenticate", ch)], vec![])
        }
    };
    let port = scripted_server::serve(Arc::new(handler)).await;
    let run = |config_json: String| {
        let env = docker_config(d.path(), &config_json);
        registry(port, env, T)
    };
    let r = run(r#"{"auths":{"mock.test":{"auth":"dXNlcjpwYXNz"}}}"#.to_string());
    assert_eq!(r.resolve_tag(&tag("app", "1")).await.unwrap(), D);
    assert_eq!(sent.lock().unwrap().as_slice(), ["-"], "sent anonymously");
    // Credentials stored for the realm host itself are used there.
    sent.lock().unwrap().clear();
    let r = run(format!(
        r#"{{"auths":{{"mock.test":{{"auth":"dXNlcjpwYXNz"}},"localhost:{port}":{{"auth":"cmVhbG06cHc="}}}}}}"#
    ));
    assert_eq!(r.resolve_tag(&tag("app", "1")).await.unwrap(), D);
    assert_eq!(sent.lock().unwrap().as_slice(), ["Basic cmVhbG06cHc="]);
}

#[test]
fn realm_hosts_that_share_the_registry_credentials() {
    for (server, realm, ok) in [
        ("ghcr.io", "ghcr.io", true),
        ("127.0.0.1:5000", "127.0.0.1", true),
        ("[::1]:5000", "[::1]", true),
        ("docker.io", "auth.docker.io", true),
        ("registry-1.docker.io", "auth.docker.io", true),
        ("ghcr.io", "auth.docker.io", false),
        ("127.0.0.1:5000", "localhost", false),
        ("registry.gitlab.com", "gitlab.com", false),
        ("quay.io", "quay.io.evil.example", false),
    ] {
        assert_eq!(
            realm_may_use_registry_credentials(server, realm),
            ok,
            "{server} -> {realm}"
        );
    }
}

#[tokio::test]
async fn identity_token_is_exchanged_as_a_refresh_token() {
    let d = tempfile::tempdir().unwrap();
    let env = docker_config(
        d.path(),
        r#"{"auths":{"mock.test":{"auth":"","identitytoken":"idt-123"}}}"#,
    );
    let r = resolve_one(
        |q| {
            let host = q.header("host").unwrap_or("").to_string();
            let ch = format!(r#"Bearer realm="http://{host}/token",service="svc""#);
            if q.method == "POST" && q.path == "/token" {
                let body = String::from_utf8_lossy(&q.body).to_string();
                if body.contains("grant_type=refresh_token")
                    && body.contains("refresh_token=idt-123")
                    && body.contains("service=svc")
                {
                    return ok(vec![], br#"{"access_token":"acc"}"#);
                }
                return Action::Respond(401, vec![], vec![]);
            }
            if q.header("authorization") == Some("Bearer acc") {
                ok(digest(D), b"")
            } else {
                Action::Respond(401, vec![("WWW-Authenticate", ch)], vec![])
            }
        },
        env,
        T,
    )
    .await;
    assert_eq!(r.unwrap(), D);
}

#[tokio::test]
async fn closed_connections_are_retried_then_reported() {
    let n = Arc::new(AtomicUsize::new(0));
    let c = n.clone();
    let e = resolve_one(
        move |_| {
            c.fetch_add(1, SeqCst);
            Action::Close
        },
        Env::default(),
        T,
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("reset or closed"), "{e}");
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
    assert_eq!(n.load(SeqCst), 3);
}

#[tokio::test]
async fn loopback_registries_fall_back_to_plain_http() {
    let port = scripted_server::serve(Arc::new(|q: &Req| match q.method.as_str() {
        "HEAD" => ok(digest(D), b""),
        _ => ok(vec![], b""),
    }))
    .await;
    let reg = Arc::new(Registry::new(
        Http::new(&Default::default(), false, T).unwrap(),
        Config::default(),
        Env::default(),
    ));
    let t = TagRef {
        registry: format!("127.0.0.1:{port}"),
        repository: "app".into(),
        tag: "1".into(),
    };
    let start = Instant::now();
    assert_eq!(reg.resolve_tag(&t).await.unwrap(), D);
    assert!(start.elapsed() < Duration::from_secs(2));
    // A remote host is never tried over plain HTTP.
    let remote = endpoint_for("registry.example.com", &Config::default()).unwrap();
    assert!(remote.candidates.iter().all(|c| c.starts_with("https://")));
}

#[tokio::test]
async fn digest_existence_is_a_head_by_digest() {
    let port = scripted_server::serve(Arc::new(|q: &Req| {
        if q.path == format!("/v2/app/manifests/{D}") {
            ok(digest(D), b"")
        } else if q.path == "/v2/" {
            ok(vec![], b"")
        } else {
            Action::Respond(404, vec![], vec![])
        }
    }))
    .await;
    let reg = registry(port, Env::default(), T);
    assert!(reg.digest_exists(&dr(D)).await.unwrap());
    let other = D.replace("0123", "3210");
    assert!(!reg.digest_exists(&dr(&other)).await.unwrap());
}

/// `mock.test/app@<d>`.
fn dr(d: &str) -> DigestRef {
    DigestRef {
        registry: "mock.test".into(),
        repository: "app".into(),
        digest: d.into(),
    }
}

/// `sha256:…` of some bytes.
fn sha(bytes: &[u8]) -> String {
    super::sha256_digest(bytes)
}

#[tokio::test]
async fn describe_refuses_what_does_not_match_its_digest_or_is_too_large() {
    let big_config = vec![b' '; facts::MAX_CONFIG_BYTES + 1];
    let big_digest = sha(&big_config);
    let manifest_of = |config: &str| {
        format!(r#"{{"schemaVersion":2,"config":{{"digest":"{config}"}},"layers":[]}}"#)
            .into_bytes()
    };
    let good_config = br#"{"os":"linux","architecture":"amd64","created":"2026-10-01T00:00:00Z"}"#;
    let good = manifest_of(&sha(good_config));
    let huge = manifest_of(&big_digest);
    let liar_body = manifest_of(&sha(good_config));
    let liar = D.to_string(); // served for D, but hashes to something else
    let (g, h) = (good.clone(), huge.clone());
    let (gd, hd) = (sha(&good), sha(&huge));
    let cfg_digest = sha(good_config);
    let port = scripted_server::serve(Arc::new(move |q: &Req| {
        let p = q.path.as_str();
        if p == "/v2/" {
            ok(vec![], b"")
        } else if p == format!("/v2/app/manifests/{gd}") {
            ok(vec![], &g)
        } else if p == format!("/v2/app/manifests/{hd}") {
            ok(vec![], &h)
        } else if p == format!("/v2/app/manifests/{liar}") {
            ok(vec![], &liar_body)
        } else if p == format!("/v2/app/blobs/{cfg_digest}") {
            ok(vec![], good_config)
        } else if p == format!("/v2/app/blobs/{big_digest}") {
            ok(vec![], &big_config)
        } else {
            Action::Respond(404, vec![], vec![])
        }
    }))
    .await;
    let reg = registry(port, Env::default(), T);
    let f = reg.describe(&dr(&sha(&good))).await.unwrap();
    assert!(!f.index);
    assert_eq!(f.platforms.len(), 1);
    assert_eq!(f.platforms[0].to_string(), "linux/amd64");
    assert_eq!(f.created.as_ref().map(|c| c.unix), Some(1_790_812_800));
    assert_eq!(f.created.unwrap().source, "image config");
    let e = reg.describe(&dr(D)).await.unwrap_err();
    assert!(e.message.contains("does not match that digest"), "{e}");
    assert_eq!(e.kind, ErrorKind::InvalidAnswer, "{e}");
    let e = reg.describe(&dr(&sha(&huge))).await.unwrap_err();
    assert!(e.message.contains("larger than 1 MiB"), "{e}");
    assert_eq!(e.kind, ErrorKind::InvalidAnswer, "{e}");
    let gone = D.replace("0123", "3210");
    let e = reg.describe(&dr(&gone)).await.unwrap_err();
    assert!(e.message.contains("404"), "{e}");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}
