//! HTTP transport: shared reqwest clients (rustls; one per distinct trust:
//! the usual roots, each registry's `ca-file`, `insecure`; proxies from the
//! environment), timeouts, retries with
//! exponential backoff and jitter on connection errors and 5xx, bounded waits
//! on 429 `Retry-After`, redirects (never from HTTPS to plain HTTP), bounded
//! body reads, and plain-language descriptions of transport failures (naming
//! the redirect target or the proxy when that is what failed).

use std::collections::BTreeMap;
use std::error::Error as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use reqwest::{Client, RequestBuilder, Response, StatusCode, Url, redirect};

use rustls::pki_types::CertificateDer;

use super::error::{ErrorKind, RegistryError};
use super::tls::{client_config, read_pem_certs};
use crate::config::Config;

pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts for connection errors and 5xx answers.
pub(crate) const MAX_ATTEMPTS: u32 = 3;
/// The longest total time spent waiting on 429 answers for one request.
pub(crate) const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(30);
/// How many 429 answers one request waits out before giving up.
const MAX_RATE_LIMITED: u32 = 4;
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Overrides [`REQUEST_TIMEOUT`] (e.g. `5s`), mainly for tests of hung servers.
pub(crate) const TIMEOUT_ENV: &str = "IMAGEPIN_REQUEST_TIMEOUT";
/// The end of an unreachable-proxy message: the advice, which the one
/// root cause of a run gives in its own words (see [`super::cause`]).
pub(crate) const PROXY_HINT: &str = "; check the proxy setting";
/// Redirects followed for one request at most.
pub(crate) const MAX_REDIRECTS: usize = 10;

tokio::task_local! {
    /// The last redirect target of the request being sent in this task, so a
    /// failure after a redirect names the server that actually failed.
    static LAST_REDIRECT: std::cell::RefCell<Option<Url>>;
}

/// The shared clients: `secure` verifies certificates against the system
/// and webpki roots; `with_ca` adds one `ca-file` each, so a CA configured for
/// one registry is trusted for that registry only; `insecure` exists only when
/// some registry is declared `insecure = true`.
pub(crate) struct Http {
    secure: Client,
    with_ca: BTreeMap<PathBuf, Client>,
    insecure: Option<Client>,
    proxies: ProxyEnv,
}

/// Which certificates the requests for one registry trust, and the
/// configuration section that says so (named in TLS hints).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Trust {
    /// The `[registries."<section>"]` key: the registry as written in references.
    pub section: String,
    /// `insecure = true`: certificates are not verified.
    pub insecure: bool,
    /// The registry's `ca-file`, trusted in addition to the usual roots.
    pub ca_file: Option<PathBuf>,
}

/// The certificates of every `ca-file`, by path (errors name the file and
/// the registry it is configured for).
pub(crate) type CaFiles = BTreeMap<PathBuf, Vec<CertificateDer<'static>>>;

/// A transport failure (no HTTP answer), described for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub kind: TransportKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Dns,
    Tls,
    Refused,
    Reset,
    Timeout,
    /// A redirect imagepin refuses to follow (HTTPS to HTTP, too many).
    Redirect,
    /// The configured HTTP(S) proxy cannot be reached.
    Proxy,
    Other,
}

impl TransportKind {
    /// The resolve error kind of this transport failure.
    pub fn error_kind(self) -> ErrorKind {
        match self {
            TransportKind::Dns => ErrorKind::Dns,
            TransportKind::Tls => ErrorKind::Tls,
            TransportKind::Proxy => ErrorKind::Proxy,
            TransportKind::Redirect => ErrorKind::InvalidAnswer,
            TransportKind::Refused
            | TransportKind::Reset
            | TransportKind::Timeout
            | TransportKind::Other => ErrorKind::Unreachable,
        }
    }
}

impl From<TransportError> for RegistryError {
    fn from(t: TransportError) -> RegistryError {
        RegistryError::new(t.kind.error_kind(), t.message)
    }
}

/// Why a redirect was not followed (the error reqwest carries).
#[derive(Debug)]
struct RedirectRefused(String);

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedirectRefused {}

/// A URL (or `host:port`) for messages, with any `user:password@` removed.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").map_or(("", url), |(s, r)| (s, r));
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if scheme.is_empty() {
        format!("{authority}{path}")
    } else {
        format!("{scheme}://{authority}{path}")
    }
}

/// The redirect rule: at most [`MAX_REDIRECTS`], and never from HTTPS to
/// plain HTTP (whatever the host: an answer over plain HTTP can be forged on
/// the way). Records the target for error messages.
fn redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let _ = LAST_REDIRECT.try_with(|c| *c.borrow_mut() = Some(attempt.url().clone()));
        let plain = attempt.url().scheme() != "https";
        let target = redact_userinfo(attempt.url().as_str());
        let from_https = attempt
            .previous()
            .last()
            .is_some_and(|u| u.scheme() == "https");
        let hops = attempt.previous().len();
        if from_https && plain {
            attempt.error(RedirectRefused(format!(
                "redirected to {target}, which is not HTTPS; refusing to follow a redirect from HTTPS to plain HTTP"
            )))
        } else if hops > MAX_REDIRECTS {
            attempt.error(RedirectRefused(format!(
                "redirected more than {MAX_REDIRECTS} times (last to {target}); giving up"
            )))
        } else {
            attempt.follow()
        }
    })
}

/// The proxy settings of the environment, as reqwest reads them, for naming
/// the proxy when it cannot be reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProxyEnv {
    /// (variable, value) for `http://` URLs.
    http: Option<(String, String)>,
    /// (variable, value) for `https://` URLs.
    https: Option<(String, String)>,
    no_proxy: Vec<String>,
}

impl ProxyEnv {
    pub(crate) fn from_process() -> ProxyEnv {
        ProxyEnv::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads `HTTP_PROXY`/`http_proxy`, `HTTPS_PROXY`/`https_proxy`,
    /// `ALL_PROXY`/`all_proxy` and `NO_PROXY`/`no_proxy` through `var`.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        let first = |names: &[&str]| {
            names.iter().find_map(|n| {
                var(n)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (n.to_string(), redact_userinfo(v.trim())))
            })
        };
        let all = first(&["ALL_PROXY", "all_proxy"]);
        ProxyEnv {
            http: first(&["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone()),
            https: first(&["HTTPS_PROXY", "https_proxy"]).or(all),
            no_proxy: first(&["NO_PROXY", "no_proxy"])
                .map(|(_, v)| {
                    v.split(',')
                        .map(|s| s.trim().to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The proxy (variable, value) requests to `url` go through, if any.
    pub(crate) fn for_url(&self, url: &Url) -> Option<&(String, String)> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let bypass = self.no_proxy.iter().any(|n| {
            let n = n.trim_start_matches("*.").trim_start_matches('.');
            n == "*" || host == n || host.ends_with(&format!(".{n}"))
        });
        (!bypass).then_some(proxy)
    }
}

/// Reads every `ca-file` of the configuration (errors name the file).
pub(crate) fn load_ca_files(config: &Config) -> Result<CaFiles, RegistryError> {
    let mut cas = CaFiles::new();
    for (host, rc) in &config.registries {
        if let Some(path) = &rc.ca_file {
            let certs =
                read_pem_certs(path).map_err(|e| e.context(format!("ca-file for {host}")))?;
            cas.insert(path.clone(), certs);
        }
    }
    Ok(cas)
}

impl Http {
    pub(crate) fn new(
        cas: &CaFiles,
        any_insecure: bool,
        timeout: Duration,
    ) -> Result<Http, RegistryError> {
        let build = |insecure: bool, extra: Option<&[CertificateDer<'static>]>| {
            let mut b = Client::builder()
                .use_rustls_tls()
                .connect_timeout(CONNECT_TIMEOUT.min(timeout))
                .timeout(timeout)
                .user_agent(concat!("imagepin/", env!("CARGO_PKG_VERSION")))
                .redirect(redirect_policy())
                .danger_accept_invalid_certs(insecure);
            if let Some(certs) = extra {
                b = b.use_preconfigured_tls(client_config(certs)?);
            }
            b.build().map_err(|e| {
                RegistryError::other(format!("cannot set up the HTTP client: {}", chain(&e)))
            })
        };
        let mut with_ca = BTreeMap::new();
        for (path, certs) in cas {
            with_ca.insert(path.clone(), build(false, Some(certs))?);
        }
        Ok(Http {
            secure: build(false, None)?,
            with_ca,
            insecure: if any_insecure {
                Some(build(true, None)?)
            } else {
                None
            },
            proxies: ProxyEnv::from_process(),
        })
    }

    /// The client for a registry's trust settings.
    pub(crate) fn client(&self, trust: &Trust) -> &Client {
        if trust.insecure {
            if let Some(c) = &self.insecure {
                return c;
            }
        }
        trust
            .ca_file
            .as_ref()
            .and_then(|p| self.with_ca.get(p))
            .unwrap_or(&self.secure)
    }

    /// Sends the request built by `build`, retrying connection errors and 5xx
    /// (with backoff) and 429 (after `Retry-After`, within a bound). The last
    /// answer is returned whatever its status; only transport failures are errors.
    pub(crate) async fn send(
        &self,
        trust: &Trust,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, TransportError> {
        self.send_with(trust, MAX_ATTEMPTS, build).await
    }

    /// [`Http::send`] with at most `max_attempts` tries on connection
    /// errors and 5xx (1 when another endpoint will be tried next).
    pub(crate) async fn send_with(
        &self,
        trust: &Trust,
        max_attempts: u32,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, TransportError> {
        let client = self.client(trust);
        let mut attempt = 0;
        let mut limited = 0;
        let mut waited = Duration::ZERO;
        loop {
            let sent = LAST_REDIRECT
                .scope(std::cell::RefCell::new(None), async {
                    let r = build(client).send().await;
                    (r, LAST_REDIRECT.with(|c| c.borrow().clone()))
                })
                .await;
            match sent.0 {
                Ok(resp) if resp.status().is_server_error() && attempt + 1 < max_attempts => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Ok(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let wait = match header(&resp, "retry-after") {
                        Some(v) => match parse_retry_after(v, SystemTime::now()) {
                            Some(d) => d,
                            None => backoff(limited + 2),
                        },
                        None => backoff(limited + 2),
                    };
                    if limited + 1 >= MAX_RATE_LIMITED
                        || waited.saturating_add(wait) > MAX_RATE_LIMIT_WAIT
                    {
                        return Ok(resp);
                    }
                    tokio::time::sleep(wait).await;
                    waited = waited.saturating_add(wait);
                    limited += 1;
                }
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    let t = describe_via(&e, &trust.section, sent.1.as_ref(), &self.proxies);
                    let retry = matches!(t.kind, TransportKind::Refused | TransportKind::Reset)
                        || (t.kind == TransportKind::Other && e.is_connect());
                    if retry && attempt + 1 < max_attempts {
                        tokio::time::sleep(backoff(attempt)).await;
                        attempt += 1;
                    } else {
                        return Err(t);
                    }
                }
            }
        }
    }
}

/// Reads a whole answer body, at most `limit` bytes: a longer (or endless)
/// body is refused as soon as it passes the limit, naming `what` and `host`
/// (e.g. "the token answer", "auth.example.com"): an invalid answer; a
/// body cut off on the way is a transport failure.
pub(crate) async fn read_capped(
    mut resp: Response,
    limit: usize,
    what: &str,
    host: &str,
) -> Result<Vec<u8>, RegistryError> {
    let too_big = || {
        RegistryError::invalid_answer(format!(
            "{what} from {host} is larger than {}; refusing it",
            human_bytes(limit)
        ))
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        RegistryError::new(
            ErrorKind::Unreachable,
            format!("reading {what} from {host} failed: {}", chain(&e)),
        )
    })? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// A response header as text, if present and valid.
pub(crate) fn header<'r>(resp: &'r Response, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The wait a 429 answer asks for (`Retry-After`), when it says.
pub(crate) fn retry_after(resp: &Response) -> Option<Duration> {
    header(resp, "retry-after").and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// Exponential backoff with jitter: base·2^attempt plus up to 50 % more.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE * 2u32.saturating_pow(attempt.min(6));
    let jitter = jitter_fraction();
    base + base.mul_f64(jitter * 0.5)
}

/// A number in [0, 1) that differs between calls (no RNG crate needed).
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() % 10_000) as f64 / 10_000.0
}

/// `Retry-After`: delay-seconds or an HTTP date (relative to `now`).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // An absurd number of seconds saturates (and is then refused as too long).
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The error and its causes, joined with ": " (never contains credentials:
/// we never put them in URLs).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// `host[:port]` of a URL, for messages.
pub(crate) fn authority(u: &Url) -> String {
    let h = u.host_str().unwrap_or("?");
    match u.port() {
        Some(p) => format!("{h}:{p}"),
        None => h.to_string(),
    }
}

/// Classifies a reqwest error (DNS, TLS, refused, reset, timeout) and words
/// it. `section` is the configuration section to name in hints (the registry
/// as written in references, not the endpoint's host); the request may have
/// been redirected (`redirected`: the last target, which is then the server
/// named) and may have gone through a proxy of `proxies` (a proxy that
/// cannot be reached is named as such, not as the registry being down).
pub(crate) fn describe_via(
    e: &reqwest::Error,
    section: &str,
    redirected: Option<&Url>,
    proxies: &ProxyEnv,
) -> TransportError {
    let url = redirected.or(e.url());
    let host = url
        .map(authority)
        .unwrap_or_else(|| "the registry".to_string());
    let detail = chain(e);
    if e.is_redirect() {
        let origin = e
            .url()
            .map(authority)
            .unwrap_or_else(|| "the registry".to_string());
        let mut why = detail.clone();
        let mut cur = e.source();
        while let Some(c) = cur {
            if let Some(r) = c.downcast_ref::<RedirectRefused>() {
                why = r.0.clone();
            }
            cur = c.source();
        }
        return TransportError {
            kind: TransportKind::Redirect,
            message: format!("{origin} {why}"),
        };
    }
    let t = describe_detail(e, section, &host, &detail);
    let via_proxy = url.and_then(|u| proxies.for_url(u));
    match (t.kind, via_proxy) {
        (TransportKind::Refused | TransportKind::Dns, Some((var, proxy))) => TransportError {
            kind: TransportKind::Proxy,
            message: format!(
                "cannot reach the proxy {proxy} (from {var}) to talk to {host}: {}{PROXY_HINT}",
                if t.kind == TransportKind::Dns {
                    "its host name does not resolve"
                } else {
                    "connection refused"
                }
            ),
        },
        _ => t,
    }
}

fn describe_detail(e: &reqwest::Error, section: &str, host: &str, detail: &str) -> TransportError {
    let detail = detail.to_string();
    let lower = detail.to_ascii_lowercase();
    // The typed facts first: an I/O error kind, a rustls error inside it.
    // reqwest and hyper say "dns error" and "timed out" only in words, so
    // their wording is the fallback (theirs, not ours).
    let (io_kind, rustls_error) = {
        let mut cur: Option<&dyn std::error::Error> = e.source();
        let mut kind = None;
        let mut tls = false;
        while let Some(c) = cur {
            tls |= c.is::<rustls::Error>();
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                kind = Some(io.kind());
                tls |= io.get_ref().is_some_and(|i| i.is::<rustls::Error>());
            }
            cur = c.source();
        }
        (kind, tls)
    };
    use std::io::ErrorKind as K;
    let (kind, message) = if e.is_timeout()
        || io_kind == Some(K::TimedOut)
        || lower.contains("timed out")
    {
        (
            TransportKind::Timeout,
            format!("timed out talking to {host} (no answer within the time limit)"),
        )
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        (
            TransportKind::Dns,
            format!(
                "cannot resolve host name {host} (DNS): check the registry name and your network"
            ),
        )
    } else if rustls_error
        || lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
    {
        (
            TransportKind::Tls,
            format!(
                "TLS failure talking to {host} ({detail}); for a private CA set `ca-file` under [registries.\"{section}\"] in .imagepin.toml"
            ),
        )
    } else if io_kind == Some(K::ConnectionRefused) || lower.contains("connection refused") {
        (
            TransportKind::Refused,
            format!("connection refused by {host}: is the registry running?"),
        )
    } else if matches!(
        io_kind,
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof)
    ) || lower.contains("connection reset")
        || lower.contains("connection closed")
        || lower.contains("incomplete")
    {
        (
            TransportKind::Reset,
            format!("connection to {host} was reset or closed before an answer"),
        )
    } else {
        (
            TransportKind::Other,
            format!("cannot reach {host}: {detail}"),
        )
    };
    TransportError { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        // Absurd values saturate (and are then too long to wait for).
        assert_eq!(
            parse_retry_after("99999999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_bounded() {
        for attempt in 0..3 {
            let b = backoff(attempt);
            let base = BACKOFF_BASE * 2u32.pow(attempt);
            assert!(b >= base && b <= base + base / 2, "{attempt}: {b:?}");
        }
    }

    #[test]
    fn proxies_from_the_environment_and_no_proxy() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            ProxyEnv::from_vars(move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        let url = |u: &str| Url::parse(u).unwrap();
        let p = vars(&[
            ("HTTPS_PROXY", "http://proxy.lan:3128"),
            ("NO_PROXY", "internal.lan, .corp.example,127.0.0.1"),
        ]);
        assert_eq!(
            p.for_url(&url("https://ghcr.io/v2/")),
            Some(&(
                "HTTPS_PROXY".to_string(),
                "http://proxy.lan:3128".to_string()
            ))
        );
        assert_eq!(p.for_url(&url("http://ghcr.io/v2/")), None);
        assert_eq!(p.for_url(&url("https://internal.lan/v2/")), None);
        assert_eq!(p.for_url(&url("https://reg.corp.example/v2/")), None);
        assert_eq!(p.for_url(&url("https://127.0.0.1:5000/v2/")), None);
        let p = vars(&[("all_proxy", "socks5://x:1"), ("no_proxy", "*")]);
        assert_eq!(p.for_url(&url("https://ghcr.io/")), None);
        let p = vars(&[("all_proxy", "http://x:1")]);
        assert_eq!(p.for_url(&url("http://ghcr.io/")).unwrap().0, "all_proxy");
        // Proxy credentials never reach a message.
        let p = vars(&[("HTTPS_PROXY", "http://me:hunter2@proxy.lan:3128")]);
        assert_eq!(
            p.for_url(&url("https://ghcr.io/")).unwrap().1,
            "http://proxy.lan:3128"
        );
        assert_eq!(redact_userinfo("u:p@h:1/x@y"), "h:1/x@y");
    }

    #[tokio::test]
    async fn absurd_timeouts_and_retry_after_do_not_panic() {
        // A 429 asking for 2^64-1 seconds is answered at once, as a 429.
        let port = super::super::scripted_server::serve(std::sync::Arc::new(
            |_: &super::super::scripted_server::Req| {
                super::super::scripted_server::Action::Respond(
                    429,
                    vec![("Retry-After", u64::MAX.to_string())],
                    vec![],
                )
            },
        ))
        .await;
        let huge = Duration::from_secs(u64::MAX);
        let http = Http::new(&CaFiles::new(), false, huge).unwrap();
        let url = format!("http://127.0.0.1:{port}/v2/");
        let resp = http.send(&Trust::default(), |c| c.get(&url)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[tokio::test]
    async fn refused_connection_is_described() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let http = Http::new(&CaFiles::new(), false, Duration::from_secs(5)).unwrap();
        let url = format!("http://127.0.0.1:{port}/v2/");
        let e = http
            .send(&Trust::default(), |c| c.get(&url))
            .await
            .unwrap_err();
        assert_eq!(e.kind, TransportKind::Refused, "{e:?}");
        assert!(e.message.contains(&format!("127.0.0.1:{port}")), "{e:?}");
    }

    #[tokio::test]
    async fn transport_failures_have_their_kinds() {
        // Plain HTTP where TLS is expected: the handshake fails (a rustls error).
        let port = super::super::scripted_server::serve(std::sync::Arc::new(
            |_: &super::super::scripted_server::Req| {
                super::super::scripted_server::Action::Respond(200, vec![], vec![])
            },
        ))
        .await;
        let http = Http::new(&CaFiles::new(), false, Duration::from_secs(5)).unwrap();
        let url = format!("https://127.0.0.1:{port}/v2/");
        let e = http
            .send(&Trust::default(), |c| c.get(&url))
            .await
            .unwrap_err();
        assert_eq!(e.kind, TransportKind::Tls, "{e:?}");
        assert!(e.message.starts_with("TLS failure talking to"), "{e:?}");
        assert_eq!(RegistryError::from(e).kind, ErrorKind::Tls);
        // The kinds the rest of the resolver sees.
        for (t, k) in [
            (TransportKind::Dns, ErrorKind::Dns),
            (TransportKind::Proxy, ErrorKind::Proxy),
            (TransportKind::Tls, ErrorKind::Tls),
            (TransportKind::Redirect, ErrorKind::InvalidAnswer),
            (TransportKind::Refused, ErrorKind::Unreachable),
            (TransportKind::Reset, ErrorKind::Unreachable),
            (TransportKind::Timeout, ErrorKind::Unreachable),
            (TransportKind::Other, ErrorKind::Unreachable),
        ] {
            assert_eq!(t.error_kind(), k, "{t:?}");
        }
    }
}
