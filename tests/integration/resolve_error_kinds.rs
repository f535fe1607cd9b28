//! Every failure the resolver reports carries its kind, set where the fact
//! is known (the HTTP status, the I/O error, the refused answer), so the
//! one-root-cause summary and callers branch on the kind, not the wording.
//! Each row makes one class of failure happen for real on loopback: real
//! `docker-registry` instances (anonymous, Basic auth, TLS), the fault
//! proxy, a closed port, a missing credential helper, `--offline`.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::time::Duration;

use crate::support::{Auth, Fault, Format, Image, Proxy, ProxyOpts, Registry, RegistryOpts};
use imagepin::Config;
use imagepin::ResolveEnv as Env;
use imagepin::{
    DigestSource, ErrorKind, ResolveError, ResolveOptions, Resolver, TagRef, root_cause,
};

/// One lookup of `ghcr.io/org/app:1`, sent to `endpoint`, with `env` and
/// `opts`; its error.
fn fail(endpoint: &str, env: Env, opts: ResolveOptions) -> ResolveError {
    fail_repo(endpoint, "org/app", env, opts)
}

fn fail_repo(endpoint: &str, repo: &str, env: Env, opts: ResolveOptions) -> ResolveError {
    let text = format!("[registries.\"ghcr.io\"]\nendpoint = \"{endpoint}\"\n");
    let config = Config::parse(&text, Path::new("/t/.imagepin.toml"), Path::new("/t")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let env = Env {
        xdg_cache_home: Some(cache.path().to_path_buf()),
        ..env
    };
    let r = Resolver::with_env(&config, opts, env).unwrap();
    let tag = TagRef {
        registry: "ghcr.io".into(),
        repository: repo.into(),
        tag: "1".into(),
    };
    let mut got = r.resolve_tags(&[tag]);
    got.remove(0).unwrap_err()
}

fn no_cache() -> ResolveOptions {
    ResolveOptions {
        no_cache: true,
        ..Default::default()
    }
}

/// A Docker config in a fresh directory (kept alive by the caller).
fn docker_config(json: &str) -> (tempfile::TempDir, Env) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), json).unwrap();
    let env = Env {
        docker_config: Some(dir.path().to_path_buf()),
        // No helper can be found on this PATH.
        path: Some(dir.path().as_os_str().to_owned()),
        ..Env::default()
    };
    (dir, env)
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn each_class_of_failure_has_its_kind() {
    let anon = Registry::anonymous();
    anon.pusher()
        .push("org/app", "1", &Image::single("kinds", Format::Oci));
    let basic = Registry::start(RegistryOpts {
        auth: Auth::Basic {
            user: "me".into(),
            password: "right".into(),
        },
        ..Default::default()
    });
    let tls = Registry::start(RegistryOpts {
        tls: true,
        ..Default::default()
    });
    let fault = |fault: Fault| {
        Proxy::start(ProxyOpts {
            fault,
            ..ProxyOpts::to(anon.addr())
        })
    };
    let rate_limited = fault(Fault::TooManyRequests {
        first: usize::MAX,
        retry_after: "60".into(),
    });
    let failing = fault(Fault::ServerError { first: usize::MAX });
    let reset = fault(Fault::Reset { first: usize::MAX });
    let lying = fault(Fault::DigestHeader("sha256:nothex".into()));
    let closed = crate::support::free_port();
    let (_wrong_dir, wrong_password) = docker_config(&format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
        basic.host(),
        b64("me:wrong")
    ));
    let (_helper_dir, missing_helper) = docker_config(&format!(
        r#"{{"credHelpers":{{"{}":"imagepin-test-absent"}}}}"#,
        basic.host()
    ));

    let rows: Vec<(&str, ResolveError, ErrorKind)> = vec![
        (
            "HTTP 404",
            fail_repo(&anon.url(), "org/missing", Env::default(), no_cache()),
            ErrorKind::NotFound,
        ),
        (
            "HTTP 401, no credentials",
            fail(&basic.url(), Env::default(), no_cache()),
            ErrorKind::NoCredentials,
        ),
        (
            "HTTP 401, wrong credentials",
            fail(&basic.url(), wrong_password, no_cache()),
            ErrorKind::Auth,
        ),
        (
            "HTTP 429 asking for 60 s",
            fail(&rate_limited.url(), Env::default(), no_cache()),
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(60)),
            },
        ),
        (
            "HTTP 500 after the retries",
            fail(&failing.url(), Env::default(), no_cache()),
            ErrorKind::ServerError,
        ),
        (
            "connection refused",
            fail(
                &format!("http://127.0.0.1:{closed}"),
                Env::default(),
                no_cache(),
            ),
            ErrorKind::Unreachable,
        ),
        (
            "connection reset",
            fail(&reset.url(), Env::default(), no_cache()),
            ErrorKind::Unreachable,
        ),
        (
            "certificate from an unknown CA",
            fail(
                &format!("https://{}", tls.host()),
                Env::default(),
                no_cache(),
            ),
            ErrorKind::Tls,
        ),
        (
            "malformed Docker-Content-Digest",
            fail(&lying.url(), Env::default(), no_cache()),
            ErrorKind::InvalidAnswer,
        ),
        (
            "credential helper not installed",
            fail(&basic.url(), missing_helper, no_cache()),
            ErrorKind::Credentials,
        ),
        (
            "--offline, not cached",
            fail(
                &anon.url(),
                Env::default(),
                ResolveOptions {
                    offline: true,
                    ..Default::default()
                },
            ),
            ErrorKind::NotCached,
        ),
    ];
    for (what, e, kind) in &rows {
        assert_eq!(e.kind, *kind, "{what}: {e}");
        assert_eq!(e.kind(), *kind, "{what}: {e}");
    }
    // Only the network-wide kinds make one root cause.
    for (what, e, kind) in &rows {
        let two = [e.clone(), e.clone()];
        assert_eq!(root_cause(&two).is_some(), kind.is_network(), "{what}: {e}");
    }
}

#[test]
fn configuration_errors_have_the_config_kind() {
    let text = "[registries.\"ghcr.io\"]\nendpoint = \"https://me:pw@mirror.example\"\n";
    let config = Config::parse(text, Path::new("/t/.imagepin.toml"), Path::new("/t")).unwrap();
    let e = Resolver::with_env(&config, no_cache(), Env::default())
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert!(!e.message.contains("pw@"), "{e}");

    let text = "[registries.\"ghcr.io\"]\nca-file = \"/nonexistent/imagepin-ca.pem\"\n";
    let config = Config::parse(text, Path::new("/t/.imagepin.toml"), Path::new("/t")).unwrap();
    let e = Resolver::with_env(&config, no_cache(), Env::default())
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
}
