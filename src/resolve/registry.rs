//! The async registry client: per-host endpoint discovery (`GET /v2/`, HTTPS
//! then plain HTTP where allowed, which also learns the auth challenge),
//! authenticated requests that answer a 401 once, and the resolution rule:
//! `HEAD` the manifest with all four manifest media types, or `GET` it and
//! hash the bytes when `Docker-Content-Digest` is missing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use sha2::{Digest as _, Sha256};
use tokio::sync::{OnceCell, Semaphore};

use super::auth::{Challenge, Token, TokenCache, basic_header, fetch_token, login_command};
use super::client::{Http, TransportKind, chain, header};
use super::credentials::{self, Env, Found, Secret};
use super::endpoint::{Endpoint, endpoint_for};
use super::{DigestRef, TagRef};
use crate::config::{Config, DEFAULT_CONCURRENCY};
use crate::reference::validate_digest;

/// OCI index, Docker manifest list, OCI manifest, Docker schema2 manifest.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifests larger than this are refused.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

pub struct Registry {
    http: Http,
    config: Config,
    env: Env,
    helper_timeout: Duration,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    tokens: TokenCache,
}

/// What is known about one registry host during a run.
struct Host {
    name: String,
    /// Whose credentials to use (see [`Endpoint::auth_host`]).
    auth_host: String,
    endpoint: Result<Endpoint, String>,
    permits: Semaphore,
    /// The base URL that answered `GET /v2/`, or why none did.
    base: OnceCell<Result<String, String>>,
    /// The last challenge seen, so later requests authenticate up front.
    challenge: Mutex<Option<Challenge>>,
    creds: OnceCell<Result<Option<Found>, String>>,
}

/// How a request was authenticated.
#[derive(Clone)]
enum Auth {
    Anonymous,
    Basic {
        header: String,
        source: String,
    },
    Bearer {
        token: Token,
        source: Option<String>,
    },
}

impl Auth {
    fn header(&self) -> Option<String> {
        match self {
            Auth::Anonymous => None,
            Auth::Basic { header, .. } => Some(header.clone()),
            Auth::Bearer { token, .. } => Some(format!("Bearer {}", token.value)),
        }
    }

    fn source(&self) -> Option<&str> {
        match self {
            Auth::Anonymous => None,
            Auth::Basic { source, .. } => Some(source),
            Auth::Bearer { source, .. } => source.as_deref(),
        }
    }
}

impl Registry {
    pub fn new(http: Http, config: Config, env: Env) -> Registry {
        Registry {
            http,
            helper_timeout: config.credential_helper_timeout,
            config,
            env,
            hosts: Mutex::new(HashMap::new()),
            tokens: TokenCache::default(),
        }
    }

    fn host(&self, name: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(name.to_string())
            .or_insert_with(|| {
                let permits = self
                    .config
                    .registry(name)
                    .and_then(|r| r.concurrency)
                    .unwrap_or(DEFAULT_CONCURRENCY)
                    .max(1);
                let endpoint = endpoint_for(name, &self.config);
                Arc::new(Host {
                    name: name.to_string(),
                    auth_host: endpoint
                        .as_ref()
                        .map_or_else(|_| name.to_string(), |e| e.auth_host.clone()),
                    endpoint,
                    permits: Semaphore::new(permits),
                    base: OnceCell::new(),
                    challenge: Mutex::new(None),
                    creds: OnceCell::new(),
                })
            })
            .clone()
    }

    /// The current digest of a tag. Errors are messages for the user.
    pub async fn resolve_tag(&self, t: &TagRef) -> Result<String, String> {
        let host = self.host(&t.registry);
        let _permit = host.permits.acquire().await.map_err(|e| e.to_string())?;
        let base = self.base(&host).await?;
        let url = format!("{base}/v2/{}/manifests/{}", t.repository, t.tag);
        let (resp, auth) = self
            .request(&host, &t.repository, Method::HEAD, &url)
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(self.status_error(&host, &t.repository, Some(&t.tag), &resp, &auth));
        }
        if let Some(d) = header(&resp, "docker-content-digest") {
            return checked_digest(&host.name, d.trim());
        }
        // No digest header: fetch the manifest and hash its exact bytes.
        let (resp, auth) = self
            .request(&host, &t.repository, Method::GET, &url)
            .await?;
        if !resp.status().is_success() {
            return Err(self.status_error(&host, &t.repository, Some(&t.tag), &resp, &auth));
        }
        let body = read_capped(resp, &host.name).await?;
        Ok(sha256_digest(&body))
    }

    /// Whether a digest exists in its repository (`HEAD` by digest).
    pub async fn digest_exists(&self, d: &DigestRef) -> Result<bool, String> {
        let host = self.host(&d.registry);
        let _permit = host.permits.acquire().await.map_err(|e| e.to_string())?;
        let base = self.base(&host).await?;
        let url = format!("{base}/v2/{}/manifests/{}", d.repository, d.digest);
        let (resp, auth) = self
            .request(&host, &d.repository, Method::HEAD, &url)
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.status_error(&host, &d.repository, None, &resp, &auth)),
        }
    }

    /// Finds the base URL that serves the host (once per run), learning the
    /// auth challenge from the `/v2/` answer.
    async fn base(&self, host: &Host) -> Result<String, String> {
        host.base.get_or_init(|| self.discover(host)).await.clone()
    }

    async fn discover(&self, host: &Host) -> Result<String, String> {
        let ep = host.endpoint.clone()?;
        let mut first_error: Option<String> = None;
        for (i, base) in ep.candidates.iter().enumerate() {
            let url = format!("{base}/v2/");
            let last = i + 1 == ep.candidates.len();
            let attempts = if last { super::client::MAX_ATTEMPTS } else { 1 };
            match self
                .http
                .send_with(ep.insecure, attempts, |c| c.get(&url))
                .await
            {
                Ok(resp) => {
                    let status = resp.status();
                    if status == StatusCode::UNAUTHORIZED {
                        self.learn_challenge(host, &resp);
                    }
                    // A plain-HTTP fallback must look like a registry; an
                    // HTTPS server answering 400 to plain HTTP does not.
                    let registry_like = status.is_success()
                        || status == StatusCode::UNAUTHORIZED
                        || status == StatusCode::FORBIDDEN
                        || header(&resp, "docker-distribution-api-version").is_some();
                    if i == 0 || registry_like {
                        return Ok(base.clone());
                    }
                    return Err(first_error.unwrap_or_else(|| {
                        format!("{base} does not answer like a registry (HTTP {status})")
                    }));
                }
                Err(e) => {
                    let fall_back = !last && !matches!(e.kind, TransportKind::Dns);
                    if !fall_back {
                        return Err(first_error.unwrap_or(e.message));
                    }
                    first_error.get_or_insert(e.message);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| format!("no endpoint for {}", host.name)))
    }

    fn learn_challenge(&self, host: &Host, resp: &Response) -> Option<Challenge> {
        let all: Vec<Challenge> = resp
            .headers()
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(super::auth::parse_challenges)
            .collect();
        let ch = super::auth::preferred(all)?;
        let mut known = host.challenge.lock().unwrap_or_else(|p| p.into_inner());
        // Keep a stable realm/service; the error parameter is per answer.
        *known = Some(match &ch {
            Challenge::Bearer { realm, service, .. } => Challenge::Bearer {
                realm: realm.clone(),
                service: service.clone(),
                scope: None,
                error: None,
            },
            c => c.clone(),
        });
        Some(ch)
    }

    /// Sends one request, authenticated as the known challenge asks; on a
    /// 401 learns the challenge and retries once with fresh credentials.
    async fn request(
        &self,
        host: &Host,
        repo: &str,
        method: Method,
        url: &str,
    ) -> Result<(Response, Auth), String> {
        let known = host
            .challenge
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let auth = match &known {
            Some(ch) => self.auth_for(host, repo, ch, None).await?,
            None => Auth::Anonymous,
        };
        let resp = self.send(host, &method, url, &auth).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok((resp, auth));
        }
        let Some(ch) = self.learn_challenge(host, &resp) else {
            return Ok((resp, auth));
        };
        let stale = match &auth {
            Auth::Bearer { token, .. } => Some(token.value.clone()),
            _ => None,
        };
        let retry = match (&ch, &auth) {
            // A token for the wrong scope, or expired: fetch a new one once.
            (Challenge::Bearer { .. }, _) => true,
            // Basic credentials already sent were rejected: do not repeat.
            (Challenge::Basic { .. }, Auth::Basic { .. }) => false,
            (Challenge::Basic { .. }, _) => true,
        };
        if !retry {
            return Ok((resp, auth));
        }
        let fresh = self.auth_for(host, repo, &ch, stale.as_deref()).await?;
        if matches!(fresh, Auth::Anonymous) {
            return Ok((resp, fresh));
        }
        let resp = self.send(host, &method, url, &fresh).await?;
        Ok((resp, fresh))
    }

    async fn send(
        &self,
        host: &Host,
        method: &Method,
        url: &str,
        auth: &Auth,
    ) -> Result<Response, String> {
        let insecure = host.endpoint.as_ref().is_ok_and(|e| e.insecure);
        let value = auth.header();
        self.http
            .send(insecure, |c| {
                let r = c
                    .request(method.clone(), url)
                    .header(reqwest::header::ACCEPT, ACCEPT);
                match &value {
                    Some(v) => r.header(reqwest::header::AUTHORIZATION, v),
                    None => r,
                }
            })
            .await
            .map_err(|e| e.message)
    }

    /// Credentials for a challenge: a Bearer token (one fetch per repository,
    /// shared by concurrent requests; `stale` is a token the registry just
    /// refused) or a Basic header.
    async fn auth_for(
        &self,
        host: &Host,
        repo: &str,
        ch: &Challenge,
        stale: Option<&str>,
    ) -> Result<Auth, String> {
        match ch {
            Challenge::Bearer { realm, service, .. } => {
                let slot = self.tokens.slot(&host.name, repo);
                let mut guard = slot.lock().await;
                match &*guard {
                    Some(Ok(t)) if t.is_fresh() && Some(t.value.as_str()) != stale => {
                        let creds = self.creds(host).await.ok().flatten();
                        return Ok(Auth::Bearer {
                            token: t.clone(),
                            source: creds.map(|c| c.source),
                        });
                    }
                    Some(Err(e)) => return Err(e.clone()),
                    _ => {}
                }
                let creds = match self.creds(host).await {
                    Ok(c) => c,
                    Err(e) => {
                        *guard = Some(Err(e.clone()));
                        return Err(e);
                    }
                };
                let insecure = host.endpoint.as_ref().is_ok_and(|e| e.insecure);
                let fetched = fetch_token(
                    &self.http,
                    insecure,
                    &host.name,
                    realm,
                    service.as_deref(),
                    repo,
                    creds.as_ref(),
                )
                .await;
                let fetched = fetched.map_err(|e| match &creds {
                    Some(_) => e,
                    None => format!(
                        "{e}; no credentials for {} were found (looked in {})",
                        host.auth_host,
                        credentials::searched(&self.env)
                    ),
                });
                *guard = Some(fetched.clone());
                let token = fetched?;
                Ok(Auth::Bearer {
                    token,
                    source: creds.map(|c| c.source),
                })
            }
            Challenge::Basic { .. } => match self.creds(host).await? {
                Some(Found {
                    secret: Secret::Basic { username, password },
                    source,
                }) => Ok(Auth::Basic {
                    header: basic_header(&username, &password),
                    source,
                }),
                _ => Ok(Auth::Anonymous),
            },
        }
    }

    /// Credentials for the host, looked up once per run.
    async fn creds(&self, host: &Host) -> Result<Option<Found>, String> {
        host.creds
            .get_or_init(|| credentials::lookup(&self.env, &host.auth_host, self.helper_timeout))
            .await
            .clone()
    }

    /// An actionable message for a non-success answer.
    fn status_error(
        &self,
        host: &Host,
        repo: &str,
        tag: Option<&str>,
        resp: &Response,
        auth: &Auth,
    ) -> String {
        let status = resp.status();
        let name = &host.name;
        let login = login_command(&host.auth_host);
        let auth_host = &host.auth_host;
        let creds = || match auth.source() {
            Some(s) => format!("the credentials from {s} were not accepted"),
            None => format!(
                "no credentials for {auth_host} were found (looked in {}); run `{login}`",
                credentials::searched(&self.env)
            ),
        };
        match status {
            StatusCode::UNAUTHORIZED => {
                format!("authentication required by {name} (HTTP 401): {}", creds())
            }
            StatusCode::FORBIDDEN => format!(
                "access to {repo} denied by {name} (HTTP 403): {}",
                match auth.source() {
                    Some(s) => format!("the credentials from {s} do not grant pull access"),
                    None => creds(),
                }
            ),
            StatusCode::NOT_FOUND => match tag {
                Some(tag) => format!(
                    "not found (HTTP 404): {name} has no tag `{tag}` in repository `{repo}`, or no such repository"
                ),
                None => format!("not found (HTTP 404) in {name}/{repo}"),
            },
            StatusCode::TOO_MANY_REQUESTS => {
                let remaining = header(resp, "ratelimit-remaining")
                    .map(|r| format!("; RateLimit-Remaining: {r}"))
                    .unwrap_or_default();
                let retry = header(resp, "retry-after")
                    .map(|r| format!("; Retry-After: {r}"))
                    .unwrap_or_default();
                format!(
                    "rate limited by {name} (HTTP 429{remaining}{retry}); wait and try again{}",
                    if auth.source().is_none() {
                        ", or log in for a higher limit"
                    } else {
                        ""
                    }
                )
            }
            s if s.is_server_error() => format!(
                "{name} answered HTTP {} after {} attempts; the registry is failing, try again later",
                s.as_u16(),
                super::client::MAX_ATTEMPTS
            ),
            s => format!("unexpected answer from {name}: HTTP {}", s.as_u16()),
        }
    }
}

/// Validates a digest the registry sent; a malformed one is an error.
fn checked_digest(registry: &str, d: &str) -> Result<String, String> {
    validate_digest(d).map_err(|e| {
        format!("{registry} sent a malformed Docker-Content-Digest ({e}); refusing to use it")
    })?;
    Ok(d.to_string())
}

fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

async fn read_capped(mut resp: Response, registry: &str) -> Result<Vec<u8>, String> {
    let too_big = || {
        format!(
            "the manifest from {registry} is larger than {} MiB; refusing it",
            MAX_MANIFEST_BYTES >> 20
        )
    };
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_MANIFEST_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("reading the manifest from {registry} failed: {}", chain(&e)))?
    {
        if body.len() + chunk.len() > MAX_MANIFEST_BYTES {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_header_digests_are_errors() {
        let good = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(checked_digest("r", good).unwrap(), good);
        for bad in [
            "sha256:0123",
            "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "",
            "sha256:../../etc/passwd",
        ] {
            let e = checked_digest("reg.example", bad).unwrap_err();
            assert!(e.contains("reg.example") && e.contains("malformed"), "{e}");
        }
    }

    #[test]
    fn sha256_of_bytes() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn accept_lists_all_four_types() {
        for t in [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ] {
            assert!(ACCEPT.contains(t), "{t}");
        }
    }

    // --- The request flow against a scripted HTTP server. ---

    use super::super::mock::{self, Action, Req, ok};
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
        Arc::new(Registry::new(
            Http::new(&[], false, timeout).unwrap(),
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
    ) -> Result<String, String> {
        let port = mock::serve(Arc::new(handler)).await;
        // Credentials are keyed by the endpoint actually contacted.
        if let Some(dir) = &env.docker_config {
            let p = dir.join("config.json");
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, text.replace("{PORT}", &port.to_string())).unwrap();
        }
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
    async fn missing_digest_header_gets_and_hashes_the_manifest() {
        let gets = Arc::new(AtomicUsize::new(0));
        let g = gets.clone();
        let r = resolve_one(
            move |q| match q.method.as_str() {
                "GET" if q.path == "/v2/" => ok(vec![], b""),
                "HEAD" => ok(vec![], b"{}"),
                "GET" => {
                    g.fetch_add(1, SeqCst);
                    ok(vec![], b"")
                }
                _ => Action::Close,
            },
            Env::default(),
            T,
        )
        .await;
        assert_eq!(r.unwrap(), sha256_digest(b""));
        assert_eq!(gets.load(SeqCst), 1);
    }

    #[tokio::test]
    async fn malformed_header_digest_names_the_problem() {
        let e = resolve_one(
            |q| match q.method.as_str() {
                "HEAD" => ok(digest("sha256:nothex"), b""),
                _ => ok(vec![], b""),
            },
            Env::default(),
            T,
        )
        .await
        .unwrap_err();
        assert!(e.contains("malformed Docker-Content-Digest"), "{e}");
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
        assert!(e.contains("no tag `1` in repository `app`"), "{e}");
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
        assert!(e.contains("HTTP 503 after 3 attempts"), "{e}");
        assert_eq!(heads.load(SeqCst), 3);
    }

    #[tokio::test]
    async fn rate_limits_wait_for_retry_after_within_a_bound() {
        let heads = Arc::new(AtomicUsize::new(0));
        let h = heads.clone();
        let start = Instant::now();
        let r = resolve_one(
            move |q| match q.method.as_str() {
                "HEAD" if h.fetch_add(1, SeqCst) == 0 => {
                    Action::Respond(429, vec![("Retry-After", "1".into())], vec![])
                }
                "HEAD" => ok(digest(D), b""),
                _ => ok(vec![], b""),
            },
            Env::default(),
            T,
        )
        .await;
        assert_eq!(r.unwrap(), D);
        assert!(start.elapsed() >= Duration::from_secs(1));

        let start = Instant::now();
        let e = resolve_one(
            |q| match q.method.as_str() {
                "HEAD" => Action::Respond(
                    429,
                    vec![
                        ("Retry-After", "3600".into()),
                        ("RateLimit-Remaining", "0;w=21600".into()),
                    ],
                    vec![],
                ),
                _ => ok(vec![], b""),
            },
            Env::default(),
            T,
        )
        .await
        .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(
            e.contains("rate limited") && e.contains("RateLimit-Remaining: 0;w=21600"),
            "{e}"
        );
    }

    /// A token server on the same port: `/token?...scope=repository:R:pull`
    /// answers `tok-R`; manifests need `Bearer tok-R`.
    fn bearer_handler(
        tokens: Arc<AtomicUsize>,
        heads: Arc<AtomicUsize>,
    ) -> impl Fn(&Req) -> Action {
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
        let port = mock::serve(Arc::new(bearer_handler(tokens.clone(), heads.clone()))).await;
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
                    let ch =
                        format!(r#"{ch},scope="repository:app:pull",error="insufficient_scope""#);
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
            r#"{"auths":{"127.0.0.1:{PORT}":{"auth":"dXNlcjpwYXNz"}}}"#,
        );
        assert_eq!(resolve_one(basic_handler, env, T).await.unwrap(), D);

        // user:wrongpass
        let env = docker_config(
            d.path(),
            r#"{"auths":{"127.0.0.1:{PORT}":{"auth":"dXNlcjp3cm9uZ3Bhc3M="}}}"#,
        );
        let e = resolve_one(basic_handler, env, T).await.unwrap_err();
        assert!(e.contains("401") && e.contains("config.json"), "{e}");
        assert!(!e.contains("wrongpass") && !e.contains("dXNlcjp3"), "{e}");

        let e = resolve_one(basic_handler, Env::default(), T)
            .await
            .unwrap_err();
        assert!(
            e.contains("no credentials") && e.contains("docker login 127.0.0.1:"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_mirror_never_receives_the_registry_credentials() {
        let d = tempfile::tempdir().unwrap();
        let env = docker_config(
            d.path(),
            r#"{"auths":{"mock.test":{"auth":"dXNlcjpwYXNz"}}}"#,
        );
        let e = resolve_one(basic_handler, env, T).await.unwrap_err();
        assert!(e.contains("no credentials for 127.0.0.1:"), "{e}");
    }

    #[tokio::test]
    async fn identity_token_is_exchanged_as_a_refresh_token() {
        let d = tempfile::tempdir().unwrap();
        let env = docker_config(
            d.path(),
            r#"{"auths":{"127.0.0.1:{PORT}":{"auth":"","identitytoken":"idt-123"}}}"#,
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
    async fn hung_server_times_out() {
        let start = Instant::now();
        let e = resolve_one(|_| Action::Hang, Env::default(), Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(e.contains("timed out"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
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
        assert!(e.contains("reset or closed"), "{e}");
        assert_eq!(n.load(SeqCst), 3);
    }

    #[tokio::test]
    async fn loopback_registries_fall_back_to_plain_http() {
        let port = mock::serve(Arc::new(|q: &Req| match q.method.as_str() {
            "HEAD" => ok(digest(D), b""),
            _ => ok(vec![], b""),
        }))
        .await;
        let reg = Arc::new(Registry::new(
            Http::new(&[], false, T).unwrap(),
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
        let port = mock::serve(Arc::new(|q: &Req| {
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
        let dr = |d: &str| DigestRef {
            registry: "mock.test".into(),
            repository: "app".into(),
            digest: d.into(),
        };
        assert!(reg.digest_exists(&dr(D)).await.unwrap());
        let other = D.replace("0123", "3210");
        assert!(!reg.digest_exists(&dr(&other)).await.unwrap());
    }
}
