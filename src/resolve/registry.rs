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
use super::client::{Http, TransportKind, authority, header, read_capped, retry_after};
use super::credentials::{self, Env, Found, Secret};
use super::endpoint::{Endpoint, endpoint_for};
use super::error::{ErrorKind, RegistryError};
use super::facts;
use super::{Created, DigestRef, ImageFacts, Platform, TagRef};
use crate::config::{Config, DEFAULT_CONCURRENCY, MAX_CONCURRENCY};
use crate::reference::validate_digest;

/// OCI index, Docker manifest list, OCI manifest, Docker schema2 manifest.
pub(crate) const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifests larger than this are refused.
pub(crate) const MAX_MANIFEST_BYTES: usize = 4 << 20;

pub(crate) struct Registry {
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
    /// The mirrored registry whose credentials may be used too (the user
    /// trusts this endpoint with them, see [`credentials::TRUST_MIRROR_ENV`]).
    fallback_auth_host: Option<String>,
    endpoint: Result<Endpoint, RegistryError>,
    /// Bounds the requests in flight to the registry (`concurrency`).
    permits: Semaphore,
    /// Bounds the token fetches in flight for this registry, separately, so
    /// tokens for the next repositories are fetched while manifests are asked.
    token_permits: Semaphore,
    /// The base URL that answered `GET /v2/`, or why none did.
    base: OnceCell<Result<String, RegistryError>>,
    /// The last challenge seen, so later requests authenticate up front.
    challenge: Mutex<Option<Challenge>>,
    creds: OnceCell<Result<Option<Found>, RegistryError>>,
    /// Credentials stored for a token realm on another host (its authority
    /// and the lookup's result).
    realm_creds: OnceCell<(String, Result<Option<Found>, RegistryError>)>,
}

impl Host {
    /// Which certificates requests for this registry trust.
    fn trust(&self) -> super::client::Trust {
        self.endpoint
            .as_ref()
            .map_or_else(|_| super::client::Trust::default(), |e| e.trust.clone())
    }

    /// The registry whose credentials this (mirror) endpoint may fall back
    /// to: only when the user trusts the mirror outside the repository.
    fn fallback_auth_host(&self) -> Option<&str> {
        self.fallback_auth_host.as_deref()
    }

    /// For an endpoint whose registry's credentials were not used because
    /// the user does not trust it: how to opt in ("" otherwise).
    fn untrusted_mirror_hint(&self) -> String {
        match (&self.endpoint, &self.fallback_auth_host) {
            (
                Ok(Endpoint {
                    mirror_of: Some(registry),
                    ..
                }),
                None,
            ) => format!(
                "; credentials stored for {registry} are not sent to this endpoint unless you \
                 trust it, outside the repository: {}={}",
                credentials::TRUST_MIRROR_ENV,
                self.auth_host
            ),
            _ => String::new(),
        }
    }

    /// The hosts whose credentials were looked for, for messages.
    fn credential_hosts(&self) -> String {
        match self.fallback_auth_host() {
            Some(f) => format!("{} or {f}", self.auth_host),
            None => self.auth_host.clone(),
        }
    }
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
    pub(crate) fn new(http: Http, config: Config, env: Env) -> Registry {
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
                    .clamp(1, MAX_CONCURRENCY);
                let endpoint = endpoint_for(name, &self.config);
                let auth_host = endpoint
                    .as_ref()
                    .map_or_else(|_| name.to_string(), |e| e.auth_host.clone());
                let fallback_auth_host = endpoint
                    .as_ref()
                    .ok()
                    .and_then(|e| e.mirror_of.clone())
                    .filter(|_| self.env.trusts_mirror(&auth_host));
                Arc::new(Host {
                    name: name.to_string(),
                    auth_host,
                    fallback_auth_host,
                    endpoint,
                    permits: Semaphore::new(permits),
                    token_permits: Semaphore::new(permits),
                    base: OnceCell::new(),
                    challenge: Mutex::new(None),
                    creds: OnceCell::new(),
                    realm_creds: OnceCell::new(),
                })
            })
            .clone()
    }

    /// One line per registry used in this run: where its requests went and
    /// which credential source it used (never the secret), for `-v`.
    pub(crate) fn notes(&self) -> Vec<String> {
        let hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<&String> = hosts.keys().collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|n| hosts.get(n))
            .map(|h| {
                let endpoint = match h.base.get() {
                    Some(Ok(b)) => b.clone(),
                    Some(Err(_)) => "unreachable".to_string(),
                    None => match &h.endpoint {
                        Ok(e) => e.candidates.join(" or "),
                        Err(_) => "invalid endpoint".to_string(),
                    },
                };
                let creds = match h.creds.get() {
                    Some(Ok(Some(f))) => format!("credentials from {}", f.source),
                    Some(Ok(None)) => {
                        format!("no credentials for {} (anonymous)", h.credential_hosts())
                    }
                    Some(Err(_)) => "credential lookup failed".to_string(),
                    None => "no credentials needed".to_string(),
                };
                let realm = match h.realm_creds.get() {
                    Some((realm, Ok(Some(f)))) => {
                        format!("; token server {realm}: credentials from {}", f.source)
                    }
                    Some((realm, _)) => format!("; token server {realm}: anonymous"),
                    None => String::new(),
                };
                format!("registry {}: {endpoint}; {creds}{realm}", h.name)
            })
            .collect()
    }

    /// The current digest of a tag. Errors carry their kind and a message
    /// for the user.
    pub(crate) async fn resolve_tag(&self, t: &TagRef) -> Result<String, RegistryError> {
        let host = self.host(&t.registry);
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
        let body = read_capped(resp, MAX_MANIFEST_BYTES, "the manifest", &host.name).await?;
        Ok(sha256_digest(&body))
    }

    /// Whether a digest exists in its repository (`HEAD` by digest).
    pub(crate) async fn digest_exists(&self, d: &DigestRef) -> Result<bool, RegistryError> {
        let host = self.host(&d.registry);
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

    /// What a digest is and when it was created (see
    /// [`super::DigestSource::describe`]): `GET` the manifest by digest; for
    /// an index, its platform children, and the date from the index's
    /// annotation, else from one child (linux/amd64, else the first): the
    /// annotation on its entry in the index, else its manifest's
    /// annotation, else its config; for one image, its config's
    /// platform, and the date from the manifest's annotation, else the
    /// config. Every body read is capped and checked against its digest.
    pub(crate) async fn describe(&self, d: &DigestRef) -> Result<ImageFacts, RegistryError> {
        let host = self.host(&d.registry);
        let base = self.base(&host).await?;
        let bytes = self
            .get_manifest(&host, &base, &d.repository, &d.digest)
            .await?;
        match facts::parse_manifest(&bytes).map_err(|e| e.context(&d.digest))? {
            facts::Manifest::Index {
                platforms,
                created,
                entry_created,
            } => {
                let mut out = ImageFacts {
                    index: true,
                    platforms,
                    created: created.map(|unix| Created {
                        unix,
                        source: format!("annotation {} on the index", facts::CREATED_ANNOTATION),
                    }),
                };
                if out.created.is_some() {
                    return Ok(out);
                }
                let chosen = out
                    .platforms
                    .iter()
                    .find(|p| p.os == "linux" && p.architecture == "amd64")
                    .or_else(|| out.platforms.first())
                    .cloned();
                if let Some((p, unix)) = chosen
                    .as_ref()
                    .and_then(|p| Some((p, *entry_created.get(&p.digest)?)))
                {
                    out.created = Some(Created {
                        unix,
                        source: format!(
                            "annotation {} on the index's {p} entry",
                            facts::CREATED_ANNOTATION
                        ),
                    });
                } else if let Some(p) = chosen {
                    let child = self
                        .get_manifest(&host, &base, &d.repository, &p.digest)
                        .await?;
                    if let facts::Manifest::Image { config, created } =
                        facts::parse_manifest(&child)
                            .map_err(|e| e.context(format!("{} ({p})", p.digest)))?
                    {
                        out.created = match created {
                            Some(unix) => Some(Created {
                                unix,
                                source: format!(
                                    "annotation {} on the {p} manifest",
                                    facts::CREATED_ANNOTATION
                                ),
                            }),
                            None => self
                                .get_config(&host, &base, &d.repository, &config)
                                .await?
                                .created
                                .map(|unix| Created {
                                    unix,
                                    source: format!("config of {p}"),
                                }),
                        };
                    }
                }
                Ok(out)
            }
            facts::Manifest::Image { config, created } => {
                let c = self
                    .get_config(&host, &base, &d.repository, &config)
                    .await?;
                let platforms = match (c.os, c.architecture) {
                    (Some(os), Some(architecture)) => vec![Platform {
                        os,
                        architecture,
                        variant: c.variant,
                        digest: d.digest.clone(),
                    }],
                    _ => Vec::new(),
                };
                let created = match created {
                    Some(unix) => Some(Created {
                        unix,
                        source: format!("annotation {} on the manifest", facts::CREATED_ANNOTATION),
                    }),
                    None => c.created.map(|unix| Created {
                        unix,
                        source: "image config".to_string(),
                    }),
                };
                Ok(ImageFacts {
                    index: false,
                    platforms,
                    created,
                })
            }
        }
    }

    /// The bytes of a manifest, by digest, checked against it.
    async fn get_manifest(
        &self,
        host: &Host,
        base: &str,
        repo: &str,
        digest: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let url = format!("{base}/v2/{repo}/manifests/{digest}");
        let (resp, auth) = self.request(host, repo, Method::GET, &url).await?;
        if !resp.status().is_success() {
            return Err(self.status_error(host, repo, None, &resp, &auth));
        }
        let body = read_capped(resp, MAX_MANIFEST_BYTES, "the manifest", &host.name).await?;
        check_content(&host.name, digest, &body, "manifest")?;
        Ok(body)
    }

    /// An image config blob (registries often redirect blob reads to
    /// storage; the client follows, never from HTTPS to plain HTTP, and
    /// drops the credentials when the host changes), capped and checked.
    async fn get_config(
        &self,
        host: &Host,
        base: &str,
        repo: &str,
        digest: &str,
    ) -> Result<facts::ImageConfig, RegistryError> {
        let url = format!("{base}/v2/{repo}/blobs/{digest}");
        let (resp, auth) = self.request(host, repo, Method::GET, &url).await?;
        if !resp.status().is_success() {
            return Err(self
                .status_error(host, repo, None, &resp, &auth)
                .context(format!("the image config {digest}")));
        }
        let body = read_capped(
            resp,
            facts::MAX_CONFIG_BYTES,
            "the image config",
            &host.name,
        )
        .await?;
        check_content(&host.name, digest, &body, "image config")?;
        facts::parse_config(&body).map_err(|e| e.context(digest))
    }

    /// Finds the base URL that serves the host (once per run), learning the
    /// auth challenge from the `/v2/` answer.
    async fn base(&self, host: &Host) -> Result<String, RegistryError> {
        host.base.get_or_init(|| self.discover(host)).await.clone()
    }

    async fn discover(&self, host: &Host) -> Result<String, RegistryError> {
        let ep = host.endpoint.clone()?;
        let mut first_error: Option<RegistryError> = None;
        for (i, base) in ep.candidates.iter().enumerate() {
            let url = format!("{base}/v2/");
            let last = i + 1 == ep.candidates.len();
            let attempts = if last { super::client::MAX_ATTEMPTS } else { 1 };
            match self
                .http
                .send_with(&ep.trust, attempts, |c| c.get(&url))
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
                        RegistryError::invalid_answer(format!(
                            "{base} does not answer like a registry (HTTP {status})"
                        ))
                    }));
                }
                Err(e) => {
                    // A refused redirect is an answer: trying plain HTTP next would
                    // be the downgrade the refusal is about.
                    let fall_back =
                        !last && !matches!(e.kind, TransportKind::Dns | TransportKind::Redirect);
                    if !fall_back {
                        return Err(first_error.unwrap_or_else(|| e.into()));
                    }
                    first_error.get_or_insert_with(|| e.into());
                }
            }
        }
        Err(first_error
            .unwrap_or_else(|| RegistryError::config(format!("no endpoint for {}", host.name))))
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
    ) -> Result<(Response, Auth), RegistryError> {
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
    ) -> Result<Response, RegistryError> {
        let trust = host.trust();
        let value = auth.header();
        let _permit = host
            .permits
            .acquire()
            .await
            .map_err(|e| RegistryError::other(e.to_string()))?;
        self.http
            .send(&trust, |c| {
                let r = c
                    .request(method.clone(), url)
                    .header(reqwest::header::ACCEPT, ACCEPT);
                match &value {
                    Some(v) => r.header(reqwest::header::AUTHORIZATION, v),
                    None => r,
                }
            })
            .await
            .map_err(RegistryError::from)
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
    ) -> Result<Auth, RegistryError> {
        match ch {
            Challenge::Bearer { realm, service, .. } => {
                let slot = self.tokens.slot(&host.name, repo);
                let mut guard = slot.lock().await;
                match &*guard {
                    Some(Ok(t)) if t.is_fresh() && Some(t.value.as_str()) != stale => {
                        let creds = self
                            .realm_creds(host, realm)
                            .await
                            .ok()
                            .and_then(|(c, _)| c);
                        return Ok(Auth::Bearer {
                            token: t.clone(),
                            source: creds.map(|c| c.source),
                        });
                    }
                    Some(Err(e)) => return Err(e.clone()),
                    _ => {}
                }
                let (creds, withheld) = match self.realm_creds(host, realm).await {
                    Ok(c) => c,
                    Err(e) => {
                        *guard = Some(Err(e.clone()));
                        return Err(e);
                    }
                };
                let trust = host.trust();
                let _permit = host
                    .token_permits
                    .acquire()
                    .await
                    .map_err(|e| RegistryError::other(e.to_string()))?;
                let fetched = fetch_token(
                    &self.http,
                    &trust,
                    &host.name,
                    realm,
                    service.as_deref(),
                    repo,
                    creds.as_ref(),
                )
                .await;
                // Credential hints only where credentials were the problem.
                let fetched = fetched.map_err(|e| match (&creds, withheld) {
                    (Some(_), _) => e,
                    _ if !e.kind.is_auth() => e,
                    (None, Some(note)) => e.map_message(|m| format!("{m}; {note}")),
                    (None, None) => e.map_message(|m| {
                        format!(
                            "{m}; no credentials for {} were found (looked in {}){}",
                            host.credential_hosts(),
                            credentials::searched(&self.env),
                            host.untrusted_mirror_hint()
                        )
                    }),
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

    /// The credentials to send to a token realm, and when the registry's
    /// own were withheld, why (for messages). The registry's credentials go
    /// to a realm on the same host (ports aside) as the server contacted, or
    /// to Docker Hub's auth.docker.io (one service with registry-1.docker.io);
    /// any other realm host gets only the credentials stored for that host
    /// itself, or none.
    async fn realm_creds(
        &self,
        host: &Host,
        realm: &str,
    ) -> Result<(Option<Found>, Option<String>), RegistryError> {
        let Some(realm_host) = reqwest::Url::parse(realm).ok().and_then(|u| {
            u.host_str()
                .map(|h| (h.to_ascii_lowercase(), authority(&u)))
        }) else {
            // fetch_token reports the invalid realm.
            return Ok((None, None));
        };
        let (realm_name, realm_authority) = realm_host;
        if realm_may_use_registry_credentials(&host.auth_host, &realm_name) {
            return Ok((self.creds(host).await?, None));
        }
        let own = host
            .realm_creds
            .get_or_init(|| async {
                (
                    realm_authority.clone(),
                    credentials::lookup(&self.env, &realm_authority, self.helper_timeout).await,
                )
            })
            .await;
        let own = if own.0 == realm_authority {
            own.1.clone()?
        } else {
            credentials::lookup(&self.env, &realm_authority, self.helper_timeout).await?
        };
        let withheld = match (&own, self.creds(host).await) {
            (None, Ok(Some(_))) => Some(format!(
                "the credentials for {} were not sent to the token server {realm_authority}, \
                 which is another host; if you trust it, store credentials for it \
                 (`docker login {realm_authority}`)",
                host.credential_hosts()
            )),
            _ => None,
        };
        Ok((own, withheld))
    }

    /// Credentials for the host, looked up once per run.
    async fn creds(&self, host: &Host) -> Result<Option<Found>, RegistryError> {
        let fallback = host.fallback_auth_host();
        host.creds
            .get_or_init(|| async {
                let found =
                    credentials::lookup(&self.env, &host.auth_host, self.helper_timeout).await?;
                match (found, fallback) {
                    (None, Some(registry)) => {
                        credentials::lookup(&self.env, registry, self.helper_timeout).await
                    }
                    (found, _) => Ok(found),
                }
            })
            .await
            .clone()
    }

    /// An actionable message for a non-success answer, of the kind its
    /// status says.
    fn status_error(
        &self,
        host: &Host,
        repo: &str,
        tag: Option<&str>,
        resp: &Response,
        auth: &Auth,
    ) -> RegistryError {
        let status = resp.status();
        let name = &host.name;
        let login = login_command(host.fallback_auth_host().unwrap_or(&host.auth_host));
        let auth_host = host.credential_hosts();
        let untrusted_mirror = host.untrusted_mirror_hint();
        let creds = || match auth.source() {
            Some(s) => format!("the credentials from {s} were not accepted"),
            None => format!(
                "no credentials for {auth_host} were found (looked in {}); run `{login}`{untrusted_mirror}",
                credentials::searched(&self.env)
            ),
        };
        let refused = if auth.source().is_some() {
            ErrorKind::Auth
        } else {
            ErrorKind::NoCredentials
        };
        let (kind, message) = match status {
            StatusCode::UNAUTHORIZED => (
                refused,
                format!("authentication required by {name} (HTTP 401): {}", creds()),
            ),
            StatusCode::FORBIDDEN => (
                refused,
                format!(
                    "access to {repo} denied by {name} (HTTP 403): {}",
                    match auth.source() {
                        Some(s) => format!("the credentials from {s} do not grant pull access"),
                        None => creds(),
                    }
                ),
            ),
            StatusCode::NOT_FOUND => (
                ErrorKind::NotFound,
                match tag {
                    Some(tag) => format!(
                        "not found (HTTP 404): {name} has no tag `{tag}` in repository `{repo}`, or no such repository"
                    ),
                    None => format!("not found (HTTP 404) in {name}/{repo}"),
                },
            ),
            StatusCode::TOO_MANY_REQUESTS => {
                let remaining = header(resp, "ratelimit-remaining")
                    .map(|r| format!("; RateLimit-Remaining: {r}"))
                    .unwrap_or_default();
                let retry = header(resp, "retry-after")
                    .map(|r| format!("; Retry-After: {r}"))
                    .unwrap_or_default();
                (
                    ErrorKind::RateLimited {
                        retry_after: retry_after(resp),
                    },
                    format!(
                        "rate limited by {name} (HTTP 429{remaining}{retry}); wait and try again{}",
                        if auth.source().is_none() {
                            ", or log in for a higher limit"
                        } else {
                            ""
                        }
                    ),
                )
            }
            s if s.is_server_error() => (
                ErrorKind::ServerError,
                format!(
                    "{name} answered HTTP {} after {} attempts; the registry is failing, try again later",
                    s.as_u16(),
                    super::client::MAX_ATTEMPTS
                ),
            ),
            s => (
                ErrorKind::Other,
                format!("unexpected answer from {name}: HTTP {}", s.as_u16()),
            ),
        };
        RegistryError::new(kind, message)
    }
}

/// Whether a token realm on `realm_host` may receive the credentials of the
/// server `auth_host` (`host[:port]`): the same host name (ports may
/// differ), or Docker Hub's registry and its auth service.
pub(crate) fn realm_may_use_registry_credentials(auth_host: &str, realm_host: &str) -> bool {
    let server = if let Some(rest) = auth_host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if auth_host.matches(':').count() > 1 {
        auth_host
    } else {
        auth_host.split(':').next().unwrap_or(auth_host)
    };
    let realm = realm_host.trim_start_matches('[').trim_end_matches(']');
    server.eq_ignore_ascii_case(realm)
        || (credentials::key_host(auth_host) == crate::reference::DOCKER_HUB
            && realm.eq_ignore_ascii_case(DOCKER_HUB_AUTH))
}

/// Docker Hub's token service.
pub(crate) const DOCKER_HUB_AUTH: &str = "auth.docker.io";

/// Validates a digest the registry sent; a malformed one is an error.
fn checked_digest(registry: &str, d: &str) -> Result<String, RegistryError> {
    validate_digest(d).map_err(|e| {
        RegistryError::invalid_answer(format!(
            "{registry} sent a malformed Docker-Content-Digest ({e}); refusing to use it"
        ))
    })?;
    Ok(d.to_string())
}

/// Content read by digest must hash to it (sha256; other algorithms are
/// taken as sent).
fn check_content(
    registry: &str,
    digest: &str,
    body: &[u8],
    what: &str,
) -> Result<(), RegistryError> {
    if digest.starts_with("sha256:") && sha256_digest(body) != digest {
        return Err(RegistryError::invalid_answer(format!(
            "{registry} sent a {what} for {digest} whose content does not match that digest; refusing it"
        )));
    }
    Ok(())
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
            assert!(
                e.message.contains("reg.example") && e.message.contains("malformed"),
                "{e}"
            );
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
}

#[cfg(test)]
mod flow_tests;
