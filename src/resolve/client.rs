//! HTTP transport: shared reqwest clients (rustls; one per distinct trust:
//! the usual roots, each registry's `ca-file`, `insecure`; proxies from the
//! environment), timeouts, retries with
//! exponential backoff and jitter on connection errors and 5xx, bounded waits
//! on 429 `Retry-After`, and plain-language descriptions of transport failures.

use std::collections::BTreeMap;
use std::error::Error as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use reqwest::{Client, RequestBuilder, Response, StatusCode};

use rustls::pki_types::CertificateDer;

use super::tls::{client_config, read_pem_certs};
use crate::config::Config;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts for connection errors and 5xx answers.
pub const MAX_ATTEMPTS: u32 = 3;
/// The longest total time spent waiting on 429 answers for one request.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(30);
/// How many 429 answers one request waits out before giving up.
const MAX_RATE_LIMITED: u32 = 4;
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Overrides [`REQUEST_TIMEOUT`] (e.g. `5s`), mainly for tests of hung servers.
pub const TIMEOUT_ENV: &str = "IMAGEPIN_REQUEST_TIMEOUT";

/// The shared clients: `secure` verifies certificates against the system
/// and webpki roots; `with_ca` adds one `ca-file` each, so a CA configured for
/// one registry is trusted for that registry only; `insecure` exists only when
/// some registry is declared `insecure = true`.
pub struct Http {
    secure: Client,
    with_ca: BTreeMap<PathBuf, Client>,
    insecure: Option<Client>,
}

/// Which certificates the requests for one registry trust, and the
/// configuration section that says so (named in TLS hints).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trust {
    /// The `[registries."<section>"]` key: the registry as written in references.
    pub section: String,
    /// `insecure = true`: certificates are not verified.
    pub insecure: bool,
    /// The registry's `ca-file`, trusted in addition to the usual roots.
    pub ca_file: Option<PathBuf>,
}

/// The certificates of every `ca-file`, by path (errors name the file and
/// the registry it is configured for).
pub type CaFiles = BTreeMap<PathBuf, Vec<CertificateDer<'static>>>;

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
    Other,
}

/// Reads every `ca-file` of the configuration (errors name the file).
pub fn load_ca_files(config: &Config) -> Result<CaFiles, String> {
    let mut cas = CaFiles::new();
    for (host, rc) in &config.registries {
        if let Some(path) = &rc.ca_file {
            let certs = read_pem_certs(path).map_err(|e| format!("ca-file for {host}: {e}"))?;
            cas.insert(path.clone(), certs);
        }
    }
    Ok(cas)
}

impl Http {
    pub fn new(cas: &CaFiles, any_insecure: bool, timeout: Duration) -> Result<Http, String> {
        let build = |insecure: bool, extra: Option<&[CertificateDer<'static>]>| {
            let mut b = Client::builder()
                .use_rustls_tls()
                .connect_timeout(CONNECT_TIMEOUT.min(timeout))
                .timeout(timeout)
                .user_agent(concat!("imagepin/", env!("CARGO_PKG_VERSION")))
                .danger_accept_invalid_certs(insecure);
            if let Some(certs) = extra {
                b = b.use_preconfigured_tls(client_config(certs)?);
            }
            b.build()
                .map_err(|e| format!("cannot set up the HTTP client: {}", chain(&e)))
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
        })
    }

    /// The client for a registry's trust settings.
    pub fn client(&self, trust: &Trust) -> &Client {
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
    pub async fn send(
        &self,
        trust: &Trust,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, TransportError> {
        self.send_with(trust, MAX_ATTEMPTS, build).await
    }

    /// [`Http::send`] with at most `max_attempts` tries on connection
    /// errors and 5xx (1 when another endpoint will be tried next).
    pub async fn send_with(
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
            match build(client).send().await {
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
                    if limited + 1 >= MAX_RATE_LIMITED || waited + wait > MAX_RATE_LIMIT_WAIT {
                        return Ok(resp);
                    }
                    tokio::time::sleep(wait).await;
                    waited += wait;
                    limited += 1;
                }
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    let t = describe(&e, &trust.section);
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

/// A response header as text, if present and valid.
pub fn header<'r>(resp: &'r Response, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
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
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The error and its causes, joined with ": " (never contains credentials:
/// we never put them in URLs).
pub fn chain(e: &dyn std::error::Error) -> String {
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

/// Classifies a reqwest error (DNS, TLS, refused, reset, timeout) and words it.
/// `section` is the configuration section to name in hints (the registry as
/// written in references, not the endpoint's host).
pub fn describe(e: &reqwest::Error, section: &str) -> TransportError {
    let host = e
        .url()
        .map(|u| {
            let h = u.host_str().unwrap_or("?");
            match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            }
        })
        .unwrap_or_else(|| "the registry".to_string());
    let detail = chain(e);
    let lower = detail.to_ascii_lowercase();
    let io_kind = {
        let mut cur: Option<&dyn std::error::Error> = e.source();
        let mut kind = None;
        while let Some(c) = cur {
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                kind = Some(io.kind());
            }
            cur = c.source();
        }
        kind
    };
    use std::io::ErrorKind as K;
    let (kind, message) = if e.is_timeout() || lower.contains("timed out") {
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
    } else if lower.contains("certificate")
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
}
