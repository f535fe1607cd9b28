//! The fault table: what goes wrong between imagepin and a registry, and
//! what the user gets. Each row is one test: a registry on loopback holding
//! `org/app:1` (ghcr.io mapped to it), a fault in front of it, and the
//! outcome of `imagepin resolve ghcr.io/org/app:1`:
//!
//! - `resolves(n)`: exit 0 with the right digest, after `n` manifest
//!   requests (the retries);
//! - `fails()`: exit 2, no digest printed, the image named on stderr, no
//!   secret of the setup in the output, and stderr as in the row's snapshot
//!   (`snapshots/integration__registry_faults__<row>.snap`: the wording
//!   users read, with ports and temporary paths redacted).
//!
//! `config_error()` is `fails()` for a configuration refused before any
//! lookup (the image is not named). A new fault is one row: a setup
//! function if none fits, and the row in `faults!`. Faults whose checks go
//! beyond one run (a partial answer, credentials that must not reach a
//! server, a second run after the user opts in) stay tests of their own in
//! `registry`.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::registry::{auth_entry, basic_registry, mapping, token_registry, workspace_for};
use crate::support::{
    self, Fault, Format, Image, Proxy, ProxyOpts, Registry, RegistryOpts, TokenOpts, TokenServer,
    Workspace,
};

const REFERENCE: &str = "ghcr.io/org/app:1";

/// One row's world: the workspace to run in, the reference to resolve,
/// what keeps its servers alive, the proxy to count requests at, and what
/// must never be printed.
struct Setup {
    ws: Workspace,
    flags: Vec<&'static str>,
    reference: String,
    app: Option<Image>,
    proxy: Option<Proxy>,
    secrets: Vec<String>,
    roles: Vec<(String, &'static str)>,
    _servers: Vec<Box<dyn std::any::Any>>,
}

impl Setup {
    fn new(ws: Workspace) -> Setup {
        Setup {
            ws,
            flags: Vec::new(),
            reference: REFERENCE.to_string(),
            app: None,
            proxy: None,
            secrets: Vec::new(),
            roles: Vec::new(),
            _servers: Vec::new(),
        }
    }

    fn env(mut self, key: &str, value: &str) -> Setup {
        self.ws.set_env(key, value);
        self
    }

    /// `imagepin resolve FLAGS REFERENCE`.
    fn flags(mut self, flags: &[&'static str]) -> Setup {
        self.flags = flags.to_vec();
        self
    }

    fn reference(mut self, reference: String) -> Setup {
        self.reference = reference;
        self
    }

    /// Shows `host` (`127.0.0.1:PORT`) as `[ROLE]` in the snapshot, so it
    /// says which server an error names.
    fn role(mut self, host: String, role: &'static str) -> Setup {
        self.roles.push((host, role));
        self
    }

    fn keep(mut self, server: impl std::any::Any) -> Setup {
        self._servers.push(Box::new(server));
        self
    }
}

/// What the row expects.
struct Outcome {
    resolves: bool,
    names_the_image: bool,
    manifest_requests: Option<usize>,
    manifest_gets: Option<usize>,
    at_least: Duration,
    at_most: Duration,
}

fn resolves(manifest_requests: usize) -> Outcome {
    Outcome {
        resolves: true,
        names_the_image: true,
        manifest_requests: Some(manifest_requests),
        manifest_gets: None,
        at_least: Duration::ZERO,
        at_most: Duration::from_secs(40),
    }
}

fn fails() -> Outcome {
    Outcome {
        resolves: false,
        ..resolves(0)
    }
    .requests(None)
}

/// Exit 2 before any lookup: the configuration is wrong.
fn config_error() -> Outcome {
    Outcome {
        names_the_image: false,
        ..fails()
    }
}

impl Outcome {
    fn requests(mut self, n: Option<usize>) -> Outcome {
        self.manifest_requests = n;
        self
    }
    /// Of the manifest requests, this many are GETs (the rest HEADs).
    fn gets(mut self, n: usize) -> Outcome {
        self.manifest_gets = Some(n);
        self
    }
    /// The run waited at least this long (a `Retry-After` honoured).
    fn waiting(mut self, d: Duration) -> Outcome {
        self.at_least = d;
        self
    }
    /// The run ended within this (no long sleep, a timeout that applied).
    fn within(mut self, d: Duration) -> Outcome {
        self.at_most = d;
        self
    }
}

// ---- setups ---------------------------------------------------------------------

/// `org/app:1` behind a proxy that injects `fault`.
fn through(fault: Fault) -> Setup {
    let reg = Registry::anonymous();
    let app = Image::multi_arch("faulty", Format::Oci);
    reg.pusher().push("org/app", "1", &app);
    let proxy = Proxy::start(ProxyOpts {
        fault,
        ..ProxyOpts::to(reg.addr())
    });
    let mut setup = Setup::new(workspace_for(&proxy.url()))
        .role(support::host_of(proxy.addr()), "ENDPOINT")
        .keep(reg);
    setup.app = Some(app);
    setup.proxy = Some(proxy);
    setup
}

/// ghcr.io mapped to a loopback port nothing listens on.
fn nothing_listening() -> Setup {
    let host = format!("127.0.0.1:{}", support::free_port());
    Setup::new(workspace_for(&format!("http://{host}"))).role(host, "ENDPOINT")
}

/// A Basic-auth registry and a Docker config with the wrong password.
fn wrong_password() -> Setup {
    let reg = basic_registry("erin", "right-password");
    reg.pusher()
        .push("org/app", "1", &Image::single("401", Format::Oci));
    let ws = workspace_for(&reg.url());
    let wrong = "wrong-pass-7f3a";
    ws.docker_config(&json!({"auths": {"ghcr.io": auth_entry("erin", wrong)}}));
    let mut setup = Setup::new(ws).keep(reg);
    setup.secrets = vec![wrong.into(), STANDARD.encode(format!("erin:{wrong}"))];
    setup
}

/// An HTTPS registry whose CA the configuration does not name.
fn tls_without_ca_file() -> Setup {
    let reg = Registry::start(RegistryOpts {
        tls: true,
        ..Default::default()
    });
    reg.pusher()
        .push("org/app", "1", &Image::single("tls", Format::Oci));
    Setup::new(workspace_for(&reg.url()))
        .role(reg.host(), "ENDPOINT")
        .keep(reg)
        .flags(&["--no-cache"])
}

/// `--offline` with an empty cache, a counting proxy to show no request.
fn offline_with_an_empty_cache() -> Setup {
    let reg = Registry::anonymous();
    let proxy = Proxy::counting(reg.addr());
    let mut setup = Setup::new(workspace_for(&proxy.url()))
        .keep(reg)
        .flags(&["--offline"]);
    setup.proxy = Some(proxy);
    setup
}

/// A token server whose answer never ends (a 1 MiB cap must cut it off
/// before the 5 s request timeout would).
fn endless_token_answer() -> Setup {
    let ts = TokenServer::start(TokenOpts {
        endless_body: true,
        ..Default::default()
    });
    let (reg, _) = token_registry(&ts, None);
    Setup::new(workspace_for(&reg.url()))
        .role(support::host_of(ts.addr()), "TOKEN-SERVER")
        .env("IMAGEPIN_REQUEST_TIMEOUT", "5s")
        .keep(reg)
        .keep(ts)
}

/// A token server that knows only other users, and no credentials.
fn token_refused_without_credentials() -> Setup {
    let ts = TokenServer::start(TokenOpts {
        users: vec![("dave".into(), "token-secret".into())],
        anonymous: false,
        ..Default::default()
    });
    let (reg, _) = token_registry(&ts, None);
    Setup::new(workspace_for(&reg.url()))
        .role(support::host_of(ts.addr()), "TOKEN-SERVER")
        .role(reg.host(), "ENDPOINT")
        .keep(reg)
        .keep(ts)
}

/// An HTTPS registry that redirects to a plain-HTTP one holding the tag:
/// following would pin a digest anyone on the path could have forged.
fn https_redirecting_to_plain_http() -> Setup {
    let plain = Registry::anonymous();
    plain
        .pusher()
        .push("org/app", "1", &Image::single("downgrade", Format::Oci));
    let ca = support::TestCa::new();
    let https = support::TlsRedirect::start(&ca, &plain.url());
    let ws = Workspace::new();
    ws.write("ca.pem", &ca.ca_pem);
    ws.config(&format!(
        "[registries.\"{}\"]\nca-file = \"ca.pem\"\n",
        https.host()
    ));
    let reference = format!("{}/org/app:1", https.host());
    Setup::new(ws)
        .flags(&["--no-cache"])
        .reference(reference)
        .role(https.host(), "HTTPS-REGISTRY")
        .role(plain.host(), "PLAIN-REGISTRY")
        .keep(plain)
        .keep(https)
}

/// A `ca-file` configured for quay.io only, and ghcr.io sent to the same
/// HTTPS server: the CA is not trusted for ghcr.io, and the hint names the
/// section the user wrote, not the endpoint's host.
fn ca_file_of_another_registry() -> Setup {
    let reg = Registry::start(RegistryOpts {
        tls: true,
        ..Default::default()
    });
    reg.pusher()
        .push("org/app", "1", &Image::single("ca-scope", Format::Oci));
    let ws = Workspace::new();
    ws.write("ca.pem", reg.ca_pem().unwrap());
    ws.config(&format!(
        "{}[registries.\"quay.io\"]\nca-file = \"ca.pem\"\n",
        mapping(&["ghcr.io"], &reg.url())
    ));
    Setup::new(ws).role(reg.host(), "ENDPOINT").keep(reg)
}

/// A registry that redirects to a closed port: the error names the
/// redirect's target, not the registry.
fn redirect_to_a_closed_port() -> Setup {
    let reg = Registry::anonymous();
    reg.pusher()
        .push("org/app", "1", &Image::single("who-failed", Format::Oci));
    let closed = support::free_port();
    let redirecting = Proxy::start(ProxyOpts {
        fault: Fault::Redirect(format!("http://127.0.0.1:{closed}")),
        ..ProxyOpts::to(reg.addr())
    });
    Setup::new(workspace_for(&redirecting.url()))
        .flags(&["--no-cache"])
        .role(support::host_of(redirecting.addr()), "ENDPOINT")
        .role(format!("127.0.0.1:{closed}"), "REDIRECT-TARGET")
        .keep(reg)
        .keep(redirecting)
}

/// `HTTPS_PROXY`/`HTTP_PROXY` pointing at a closed port: the error names
/// the proxy and the variable, not the registry.
fn proxy_variable_to_a_closed_port() -> Setup {
    let reg = Registry::anonymous();
    reg.pusher()
        .push("org/app", "1", &Image::single("who-failed", Format::Oci));
    let dead_host = format!("127.0.0.1:{}", support::free_port());
    let dead = format!("http://{dead_host}");
    Setup::new(workspace_for(&reg.url()))
        .role(reg.host(), "ENDPOINT")
        .role(dead_host, "PROXY")
        .env("HTTP_PROXY", &dead)
        .env("HTTPS_PROXY", &dead)
        .flags(&["--no-cache"])
        .keep(reg)
}

/// A credential helper that never answers (`credential-helper-timeout =
/// "1s"`, well under the 10 s default): `body` is the helper script.
fn hanging_credential_helper(body: &str) -> Setup {
    let reg = basic_registry("frank", "pw");
    reg.pusher()
        .push("org/app", "1", &Image::single("hung-helper", Format::Oci));
    let ws = Workspace::new();
    ws.config(&format!(
        "credential-helper-timeout = \"1s\"\n{}",
        mapping(&["ghcr.io"], &reg.url())
    ));
    ws.script("docker-credential-hang", body);
    ws.docker_config(&json!({"credHelpers": {"ghcr.io": "hang"}}));
    let host = reg.host();
    Setup::new(ws)
        .env("IMAGEPIN_TRUST_MIRROR_CREDENTIALS", &host)
        .keep(reg)
}

/// A concurrency no machine has: a configuration error, not a panic.
fn absurd_concurrency() -> Setup {
    let ws = Workspace::new();
    ws.config("[registries.\"ghcr.io\"]\nconcurrency = 18446744073709551615\n");
    Setup::new(ws)
}

// ---- the table --------------------------------------------------------------------

macro_rules! faults {
    ($($row:ident: $setup:expr => $outcome:expr;)*) => {$(
        #[test]
        fn $row() {
            check(stringify!($row), $setup, $outcome);
        }
    )*};
}

faults! {
    // a 429, its Retry-After in seconds, waited out
    rate_limited_waits_for_retry_after_then_succeeds:
        through(Fault::TooManyRequests { first: 1, retry_after: "1".into() })
        => resolves(2).waiting(Duration::from_millis(900));
    // a 429, its Retry-After an HTTP date 2 s later (whole seconds: 1-2 s away)
    rate_limited_with_retry_after_date_then_succeeds:
        through(Fault::TooManyRequests { first: 1, retry_after: "date+2".into() })
        => resolves(2).waiting(Duration::from_millis(900));
    // Retry-After beyond the bound: an error showing it and RateLimit-Remaining, no sleep
    rate_limited_for_long_is_a_rate_limit_error_without_waiting:
        through(Fault::TooManyRequests { first: usize::MAX, retry_after: "120".into() })
        => fails().within(Duration::from_secs(10));
    server_error_then_success:
        through(Fault::ServerError { first: 1 }) => resolves(2);
    server_error_for_good_names_the_image:
        through(Fault::ServerError { first: usize::MAX }) => fails();
    connection_reset_then_success:
        through(Fault::Reset { first: 1 }) => resolves(2);
    connection_reset_for_good_names_the_image:
        through(Fault::Reset { first: usize::MAX }) => fails();
    // the request timeout (default 30 s) applies to each request
    hung_server_is_a_timeout_error:
        through(Fault::Hang { first: usize::MAX }).env("IMAGEPIN_REQUEST_TIMEOUT", "2s")
        => fails();
    malformed_digest_header_is_an_error:
        through(Fault::DigestHeader("sha256:ZZZ-not-a-digest".into())) => fails();
    // no Docker-Content-Digest on the HEAD: one GET, and the digest of the body
    missing_digest_header_falls_back_to_get_and_hashes_the_body:
        through(Fault::NoDigestHeader) => resolves(2).gets(1);
    unreachable_registry_names_the_image:
        nothing_listening() => fails();
    // says which registry refused and where the credentials came from
    unauthorized_names_registry_and_hides_password:
        wrong_password() => fails();
    token_server_refuses_without_credentials:
        token_refused_without_credentials() => fails();
    endless_token_answer_is_cut_off_naming_the_token_server:
        endless_token_answer() => fails();
    tls_without_the_ca_is_a_certificate_error:
        tls_without_ca_file() => fails();
    offline_cache_miss_names_the_reference:
        offline_with_an_empty_cache() => fails().requests(Some(0));
    https_registry_redirecting_to_plain_http_is_refused:
        https_redirecting_to_plain_http() => fails();
    ca_file_applies_only_to_its_own_registry:
        ca_file_of_another_registry() => fails();
    redirect_to_a_closed_port_names_the_target:
        redirect_to_a_closed_port() => fails();
    dead_proxy_is_named_with_its_variable:
        proxy_variable_to_a_closed_port() => fails();
    // `exec sleep`, cut off after the configured 1 s
    hanging_credential_helper_is_cut_off:
        hanging_credential_helper("#!/bin/sh\nexec sleep 60\n")
        => fails().within(Duration::from_secs(8));
    // a shell whose child keeps the pipes open
    hanging_credential_helper_child_is_cut_off:
        hanging_credential_helper("#!/bin/sh\nsleep 60\necho late\n")
        => fails().within(Duration::from_secs(8));
    absurd_concurrency_is_a_configuration_error_not_a_panic:
        absurd_concurrency() => config_error();
}

fn check(row: &str, setup: Setup, want: Outcome) {
    let reference = setup.reference.as_str();
    let args: Vec<&str> = std::iter::once("resolve")
        .chain(setup.flags.iter().copied())
        .chain([reference])
        .collect();
    let run = setup.ws.imagepin_within(&args, want.at_most);
    assert!(
        !run.timed_out,
        "{row}: not done within {:?}:\n{run}",
        want.at_most
    );
    assert!(
        run.elapsed >= want.at_least,
        "{row}: answered too early:\n{run}"
    );
    if let Some(proxy) = &setup.proxy {
        if let Some(n) = want.manifest_requests {
            assert_eq!(
                proxy.manifest_requests(),
                n,
                "{row}: {:?}",
                proxy.request_log()
            );
        }
        if let Some(n) = want.manifest_gets {
            assert_eq!(proxy.manifest_gets(), n, "{row}: {:?}", proxy.request_log());
        }
    }
    if want.resolves {
        assert_eq!(run.code, Some(0), "{row}:\n{run}");
        let app = setup.app.as_ref().unwrap();
        assert_eq!(
            run.digest_of(reference),
            Some(app.digest()),
            "{row}:\n{run}"
        );
        return;
    }
    assert_eq!(run.code, Some(2), "{row}:\n{run}");
    assert!(
        run.stdout.is_empty(),
        "{row}: no digest may be printed:\n{run}"
    );
    assert!(
        !want.names_the_image || run.stderr.contains(reference),
        "{row}: the image is not named:\n{run}"
    );
    for secret in &setup.secrets {
        assert!(
            !run.stderr.contains(secret.as_str()),
            "{row}: a secret leaked:\n{run}"
        );
    }
    let mut transcript = run.transcript();
    for (host, role) in &setup.roles {
        transcript = transcript.replace(host.as_str(), &format!("[{role}]"));
    }
    let _redacted = support::snapshot::redacted_digests();
    insta::assert_snapshot!(row, transcript);
}
