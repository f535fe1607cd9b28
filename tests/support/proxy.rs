//! An HTTP/1.1 proxy that sits between imagepin and a plain-HTTP registry
//! (configured as the registry's `endpoint`): it adds latency (per new
//! connection and per request, like a slow network), injects faults into
//! manifest requests, and counts manifest requests (HEAD/GET on
//! `/manifests/`) and token requests. Paths under `/token` go to an optional
//! token server, so a registry whose realm is `<proxy>/token` has its token
//! traffic counted and delayed too.

use std::io::{BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http1::{self, Head};

/// A fault applied to manifest requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// The first `first` manifest requests get 429 with `Retry-After: retry_after`
    /// (`"date+N"` sends the HTTP date N seconds after the answer).
    TooManyRequests { first: usize, retry_after: String },
    /// The first `first` manifest requests get 500.
    ServerError { first: usize },
    /// The first `first` manifest requests get their connection reset (RST).
    Reset { first: usize },
    /// The first `first` manifest requests are read and never answered.
    Hang { first: usize },
    /// Every manifest answer carries this `Docker-Content-Digest` instead.
    DigestHeader(String),
    /// Manifest answers lose their `Docker-Content-Digest` header.
    NoDigestHeader,
    /// Manifest requests are answered `307` to the same path under this
    /// base URL (`http://127.0.0.1:PORT`).
    Redirect(String),
    /// Blob GETs (`/blobs/`) are answered `307` to the same path under this
    /// base URL, as registries send blob reads to their storage.
    RedirectBlobs(String),
}

#[derive(Debug, Clone)]
pub struct ProxyOpts {
    pub upstream: SocketAddr,
    /// Where `/token...` requests go (a [`super::TokenServer`]).
    pub token_upstream: Option<SocketAddr>,
    /// Added once per new client connection and once per request.
    pub latency: Duration,
    pub fault: Fault,
}

impl ProxyOpts {
    pub fn to(upstream: SocketAddr) -> ProxyOpts {
        ProxyOpts {
            upstream,
            token_upstream: None,
            latency: Duration::ZERO,
            fault: Fault::None,
        }
    }
}

#[derive(Default)]
struct Stats {
    requests: AtomicUsize,
    manifest_requests: AtomicUsize,
    manifest_gets: AtomicUsize,
    token_requests: AtomicUsize,
    connections: AtomicUsize,
    /// Manifest requests being handled now, and the most at once.
    inflight: AtomicUsize,
    max_inflight: AtomicUsize,
    log: Mutex<Vec<String>>,
    /// Every request's start (+1) and end (-1), for the in-flight timeline.
    timeline: Mutex<Vec<(Instant, i32)>>,
}

struct Shared {
    opts: ProxyOpts,
    stats: Stats,
    stop: AtomicBool,
}

pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    pub fn start(opts: ProxyOpts) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            opts,
            stats: Stats::default(),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let s = s.clone();
                    std::thread::spawn(move || serve(conn, &s));
                }
            }
        });
        Proxy { addr, shared }
    }

    /// A plain pass-through proxy that only counts.
    pub fn counting(upstream: SocketAddr) -> Proxy {
        Proxy::start(ProxyOpts::to(upstream))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: use as `endpoint`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// HEAD/GET requests on `/v2/<name>/manifests/<ref>`.
    pub fn manifest_requests(&self) -> usize {
        self.shared.stats.manifest_requests.load(Ordering::SeqCst)
    }

    /// GET requests on manifests (Docker Hub counts these against quota).
    pub fn manifest_gets(&self) -> usize {
        self.shared.stats.manifest_gets.load(Ordering::SeqCst)
    }

    pub fn token_requests(&self) -> usize {
        self.shared.stats.token_requests.load(Ordering::SeqCst)
    }

    /// All requests, of any kind.
    pub fn requests(&self) -> usize {
        self.shared.stats.requests.load(Ordering::SeqCst)
    }

    /// The most manifest requests that were in flight at the same time.
    pub fn max_concurrent_manifest_requests(&self) -> usize {
        self.shared.stats.max_inflight.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.shared.stats.connections.load(Ordering::SeqCst)
    }

    /// Requests in flight over time since the first request (after
    /// [`Proxy::reset_counts`]): (time of the change, count after it).
    /// Only `benches/resolve.rs` prints it.
    #[allow(dead_code)]
    pub fn timeline(&self) -> Vec<(Duration, usize)> {
        let mut events = self.shared.stats.timeline.lock().expect("lock").clone();
        events.sort_by_key(|(t, d)| (*t, *d));
        let Some(&(first, _)) = events.first() else {
            return Vec::new();
        };
        let mut now: i64 = 0;
        events
            .into_iter()
            .map(|(t, d)| {
                now += i64::from(d);
                (t - first, usize::try_from(now.max(0)).unwrap_or(0))
            })
            .collect()
    }

    /// `METHOD target` of every request so far.
    pub fn request_log(&self) -> Vec<String> {
        self.shared.stats.log.lock().expect("lock").clone()
    }

    pub fn reset_counts(&self) {
        let s = &self.shared.stats;
        for c in [
            &s.requests,
            &s.manifest_requests,
            &s.manifest_gets,
            &s.token_requests,
            &s.connections,
            &s.max_inflight,
        ] {
            c.store(0, Ordering::SeqCst);
        }
        s.log.lock().expect("lock").clear();
        s.timeline.lock().expect("lock").clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(100));
    }
}

fn retry_after_value(spec: &str) -> String {
    match spec.strip_prefix("date+").and_then(|n| n.parse().ok()) {
        Some(secs) => {
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(secs))
        }
        None => spec.to_string(),
    }
}

/// Puts a request on the timeline from now until dropped.
struct OnTimeline<'a>(&'a Stats);

impl<'a> OnTimeline<'a> {
    fn enter(stats: &'a Stats) -> OnTimeline<'a> {
        stats
            .timeline
            .lock()
            .expect("lock")
            .push((Instant::now(), 1));
        OnTimeline(stats)
    }
}

impl Drop for OnTimeline<'_> {
    fn drop(&mut self) {
        self.0
            .timeline
            .lock()
            .expect("lock")
            .push((Instant::now(), -1));
    }
}

/// Counts a manifest request as in flight until dropped.
struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats) -> InFlight<'a> {
        let now = stats.inflight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_inflight.fetch_max(now, Ordering::SeqCst);
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Upstream {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

fn connect(addr: SocketAddr) -> Option<Upstream> {
    let s = TcpStream::connect(addr).ok()?;
    let _ = s.set_nodelay(true);
    Some(Upstream {
        reader: BufReader::new(s.try_clone().ok()?),
        writer: s,
    })
}

fn serve(conn: TcpStream, s: &Shared) {
    s.stats.connections.fetch_add(1, Ordering::SeqCst);
    let _ = conn.set_nodelay(true);
    if !s.opts.latency.is_zero() {
        std::thread::sleep(s.opts.latency); // the connection handshake's round trip
    }
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = BufWriter::new(conn);
    let mut registry: Option<Upstream> = None;
    let mut token: Option<Upstream> = None;
    loop {
        let Ok(Some(head)) = http1::read_head(&mut reader) else {
            return;
        };
        let Ok(body) = http1::read_body(&mut reader, &head, false, false) else {
            return;
        };
        let method = head.first().to_string();
        let target = head.second().to_string();
        s.stats.requests.fetch_add(1, Ordering::SeqCst);
        s.stats
            .log
            .lock()
            .expect("lock")
            .push(format!("{method} {target}"));
        let is_token = target.starts_with("/token");
        let is_manifest = (method == "HEAD" || method == "GET") && target.contains("/manifests/");
        if is_token {
            s.stats.token_requests.fetch_add(1, Ordering::SeqCst);
        }
        let _inflight = is_manifest.then(|| InFlight::enter(&s.stats));
        let _on_timeline = OnTimeline::enter(&s.stats);
        if !s.opts.latency.is_zero() {
            std::thread::sleep(s.opts.latency);
        }
        if let Fault::RedirectBlobs(base) = &s.opts.fault {
            if method == "GET" && target.contains("/blobs/") {
                let location = format!("{base}{target}");
                let headers = [("Location", location.as_str())];
                if http1::write_response(&mut writer, 307, &headers, b"").is_err() {
                    return;
                }
                continue;
            }
        }
        if is_manifest {
            let nth = s.stats.manifest_requests.fetch_add(1, Ordering::SeqCst) + 1;
            if method == "GET" {
                s.stats.manifest_gets.fetch_add(1, Ordering::SeqCst);
            }
            match &s.opts.fault {
                Fault::TooManyRequests { first, retry_after } if nth <= *first => {
                    let retry_after = retry_after_value(retry_after);
                    let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit (imagepin test)"}]}"#;
                    let headers = [
                        ("Content-Type", "application/json"),
                        ("Retry-After", retry_after.as_str()),
                        ("RateLimit-Limit", "100;w=21600"),
                        ("RateLimit-Remaining", "0;w=21600"),
                    ];
                    let body: &[u8] = if method == "HEAD" { b"" } else { body };
                    if http1::write_response(&mut writer, 429, &headers, body).is_err() {
                        return;
                    }
                    continue;
                }
                Fault::ServerError { first } if nth <= *first => {
                    let body: &[u8] = if method == "HEAD" {
                        b""
                    } else {
                        b"internal error"
                    };
                    if http1::write_response(&mut writer, 500, &[], body).is_err() {
                        return;
                    }
                    continue;
                }
                Fault::Reset { first } if nth <= *first => {
                    reset(writer);
                    return;
                }
                Fault::Redirect(base) => {
                    let location = format!("{base}{target}");
                    let headers = [("Location", location.as_str())];
                    if http1::write_response(&mut writer, 307, &headers, b"").is_err() {
                        return;
                    }
                    continue;
                }
                Fault::Hang { first } if nth <= *first => {
                    while !s.stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    return;
                }
                _ => {}
            }
        }
        let (slot, addr) = match (is_token, s.opts.token_upstream) {
            (true, Some(t)) => (&mut token, t),
            _ => (&mut registry, s.opts.upstream),
        };
        let Some(answer) = forward(slot, addr, &head, &body) else {
            let _ = http1::write_response(&mut writer, 502, &[], b"upstream unreachable");
            return;
        };
        let (mut rhead, rbody) = answer;
        if is_manifest {
            match &s.opts.fault {
                Fault::DigestHeader(d) if rhead.header("docker-content-digest").is_some() => {
                    rhead.set_header("Docker-Content-Digest", d);
                }
                Fault::NoDigestHeader => rhead.remove_header("docker-content-digest"),
                _ => {}
            }
        }
        if writer.write_all(&rhead.to_bytes()).is_err()
            || writer.write_all(&rbody).is_err()
            || writer.flush().is_err()
        {
            return;
        }
    }
}

/// Sends one request upstream (reconnecting once if a kept-alive connection
/// was closed) and reads the answer, re-framed with a Content-Length.
fn forward(
    slot: &mut Option<Upstream>,
    addr: SocketAddr,
    head: &Head,
    body: &[u8],
) -> Option<(Head, Vec<u8>)> {
    for _ in 0..2 {
        if slot.is_none() {
            *slot = connect(addr);
        }
        let up = slot.as_mut()?;
        let sent =
            up.writer.write_all(&head.to_bytes()).is_ok() && up.writer.write_all(body).is_ok();
        if sent {
            if let Ok(Some(mut rhead)) = http1::read_head(&mut up.reader) {
                let status = rhead.status();
                let bodiless =
                    head.first() == "HEAD" || status < 200 || status == 204 || status == 304;
                if let Ok(rbody) = http1::read_body(&mut up.reader, &rhead, bodiless, true) {
                    let close = rhead
                        .header("connection")
                        .is_some_and(|c| c.eq_ignore_ascii_case("close"));
                    if rhead.header("transfer-encoding").is_some() {
                        rhead.remove_header("transfer-encoding");
                        rhead.set_header("Content-Length", &rbody.len().to_string());
                    } else if !bodiless && rhead.header("content-length").is_none() {
                        rhead.set_header("Content-Length", &rbody.len().to_string());
                    }
                    rhead.remove_header("connection");
                    if close {
                        *slot = None;
                    }
                    return Some((rhead, rbody));
                }
            }
        }
        *slot = None;
    }
    None
}

/// Closes the connection with a TCP RST (SO_LINGER 0) instead of a FIN.
fn reset(writer: BufWriter<TcpStream>) {
    let Ok(stream) = writer.into_inner() else {
        return;
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        return;
    };
    let _guard = rt.enter();
    if stream.set_nonblocking(true).is_ok() {
        if let Ok(s) = tokio::net::TcpStream::from_std(stream) {
            let _ = s.set_zero_linger();
            drop(s);
        }
    }
}
