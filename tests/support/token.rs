//! A token server for distribution's `auth: token` (the Docker Hub / ghcr
//! flow): `GET /token?service=S&scope=repository:NAME:pull` answers an ES256
//! JWT signed with a key whose self-signed certificate is the registry's
//! `rootcertbundle`. The key is named by the `x5c` header (default) or by
//! `kid` = the libtrust key id. Claims: `iss`, `aud` (a string), `exp`,
//! `nbf`, `iat`, `access`. Counts requests; can require Basic credentials.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{CertificateParams, DnType, KeyPair, PublicKeyData};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;

use super::http1;
use super::registry::Auth;

pub const SERVICE: &str = "imagepin-test-registry";
pub const ISSUER: &str = "imagepin-test-issuer";

/// Which JSON fields carry the token in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenField {
    Both,
    TokenOnly,
    AccessTokenOnly,
}

#[derive(Debug, Clone)]
pub struct TokenOpts {
    /// Accepted Basic credentials (user, password).
    pub users: Vec<(String, String)>,
    /// Issue tokens to requests without credentials.
    pub anonymous: bool,
    pub field: TokenField,
    /// `expires_in` and the JWT lifetime.
    pub ttl: Duration,
    /// Name the key by `kid` (libtrust key id) instead of an `x5c` chain.
    pub use_kid: bool,
    /// Added before answering each token request.
    pub latency: Duration,
    /// The first N tokens grant nothing (the registry then answers 401
    /// with `error="insufficient_scope"`).
    pub empty_first: usize,
    /// Refresh tokens accepted by the OAuth2 flow (`POST /token` with
    /// `grant_type=refresh_token`), as Docker uses for `identitytoken`.
    pub refresh_tokens: Vec<String>,
    /// Sent as `expires_in` instead of `ttl` (absurd values: 2^64-1, -1, ...).
    pub expires_in: Option<serde_json::Value>,
    /// Token answers never end: a 200 whose body streams forever (throttled
    /// to about 64 MB/s) until the client goes away.
    pub endless_body: bool,
}

impl Default for TokenOpts {
    fn default() -> Self {
        TokenOpts {
            users: Vec::new(),
            anonymous: true,
            field: TokenField::Both,
            ttl: Duration::from_secs(300),
            use_kid: false,
            latency: Duration::ZERO,
            empty_first: 0,
            refresh_tokens: Vec::new(),
            expires_in: None,
            endless_body: false,
        }
    }
}

struct Shared {
    opts: TokenOpts,
    key: EcdsaKeyPair,
    cert_b64: String,
    kid: String,
    requests: AtomicUsize,
    scopes: std::sync::Mutex<HashMap<String, usize>>,
    stop: AtomicBool,
}

pub struct TokenServer {
    addr: SocketAddr,
    cert_pem: String,
    shared: Arc<Shared>,
}

impl TokenServer {
    pub fn start(opts: TokenOpts) -> TokenServer {
        let key_pair = KeyPair::generate().expect("token key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "imagepin test token signer");
        let cert = params.self_signed(&key_pair).expect("self-sign token cert");
        let rng = ring::rand::SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &rng,
        )
        .expect("load token key");
        let shared = Arc::new(Shared {
            opts,
            key,
            cert_b64: STANDARD.encode(cert.der().as_ref()),
            kid: libtrust_key_id(&key_pair.subject_public_key_info()),
            requests: AtomicUsize::new(0),
            scopes: Default::default(),
            stop: AtomicBool::new(false),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token server");
        let addr = listener.local_addr().expect("addr");
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
        TokenServer {
            addr,
            cert_pem: cert.pem(),
            shared,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/token`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// Registry auth settings that trust this server, with realm `realm`
    /// (normally [`TokenServer::realm`]; a proxy's URL to route through it).
    pub fn auth_with_realm(&self, realm: &str) -> Auth {
        Auth::Token {
            realm: realm.to_string(),
            service: SERVICE.to_string(),
            issuer: ISSUER.to_string(),
            root_cert_pem: self.cert_pem.clone(),
        }
    }

    pub fn auth(&self) -> Auth {
        self.auth_with_realm(&self.realm())
    }

    /// Token requests answered or refused so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Token requests per requested scope string.
    pub fn requests_by_scope(&self) -> HashMap<String, usize> {
        self.shared.scopes.lock().expect("lock").clone()
    }

    pub fn reset_counts(&self) {
        self.shared.requests.store(0, Ordering::SeqCst);
        self.shared.scopes.lock().expect("lock").clear();
    }

    /// A signed token for `access` (`[{"type":..,"name":..,"actions":[..]}]`).
    pub fn token_for(&self, access: serde_json::Value) -> String {
        sign(&self.shared, access)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(100));
    }
}

fn serve(conn: TcpStream, s: &Shared) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut writer = BufWriter::new(conn);
    while let Ok(Some(head)) = http1::read_head(&mut reader) {
        let Ok(request_body) = http1::read_body(&mut reader, &head, false, false) else {
            return;
        };
        if s.opts.endless_body && head.second().starts_with("/token") {
            s.requests.fetch_add(1, Ordering::SeqCst);
            endless(writer, s);
            return;
        }
        let (status, headers, body) = answer(&head, &request_body, s);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if http1::write_response(&mut writer, status, &headers, &body).is_err() {
            return;
        }
    }
}

fn answer(
    head: &http1::Head,
    request_body: &[u8],
    s: &Shared,
) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    let target = head.second();
    if !target.starts_with("/token") {
        return (404, vec![], b"not found".to_vec());
    }
    let nth = s.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if !s.opts.latency.is_zero() {
        std::thread::sleep(s.opts.latency);
    }
    let post = head.first() == "POST";
    let query = if post {
        http1::query_pairs(&format!("?{}", String::from_utf8_lossy(request_body)))
    } else {
        http1::query_pairs(target)
    };
    let scopes: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .collect();
    {
        let mut m = s.scopes.lock().expect("lock");
        *m.entry(scopes.join(" ")).or_default() += 1;
    }
    let challenge = vec![(
        "WWW-Authenticate",
        "Basic realm=\"imagepin-test-token\"".to_string(),
    )];
    let json_type = ("Content-Type", "application/json".to_string());
    if post {
        // OAuth2: grant_type=refresh_token with a known refresh token
        let field = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let ok = field("grant_type") == Some("refresh_token")
            && field("refresh_token").is_some_and(|t| s.opts.refresh_tokens.iter().any(|r| r == t));
        if !ok {
            let body = br#"{"error":"invalid_grant"}"#;
            return (401, vec![json_type], body.to_vec());
        }
    } else {
        match head.header("authorization") {
            Some(a) if a.len() > 6 && a[..6].eq_ignore_ascii_case("basic ") => {
                let decoded = STANDARD
                    .decode(a[6..].trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default();
                let (user, pass) = decoded.split_once(':').unwrap_or((&decoded, ""));
                if !s.opts.users.iter().any(|(u, p)| u == user && p == pass) {
                    let body =
                        br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#;
                    return (401, [challenge, vec![json_type]].concat(), body.to_vec());
                }
            }
            _ if !s.opts.anonymous => {
                let body =
                    br#"{"errors":[{"code":"UNAUTHORIZED","message":"credentials required"}]}"#;
                return (401, [challenge, vec![json_type]].concat(), body.to_vec());
            }
            _ => {}
        }
    }
    let mut access = Vec::new();
    for sc in &scopes {
        for one in sc.split(' ') {
            // repository:library/python:pull,push  (names may contain ':port')
            let Some((typ, rest)) = one.split_once(':') else {
                continue;
            };
            let Some((name, actions)) = rest.rsplit_once(':') else {
                continue;
            };
            access.push(json!({"type": typ, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}));
        }
    }
    if nth <= s.opts.empty_first {
        access.clear();
    }
    let token = sign(s, json!(access));
    let mut body = json!({"expires_in": s.opts.ttl.as_secs()});
    if let Some(v) = &s.opts.expires_in {
        body["expires_in"] = v.clone();
    }
    if s.opts.field != TokenField::AccessTokenOnly {
        body["token"] = json!(token);
    }
    if s.opts.field != TokenField::TokenOnly {
        body["access_token"] = json!(token);
    }
    (
        200,
        vec![json_type],
        serde_json::to_vec(&body).expect("json"),
    )
}

/// A 200 answer whose body never ends (delimited by the connection's close,
/// which never comes).
fn endless(mut w: BufWriter<TcpStream>, s: &Shared) {
    use std::io::Write;
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"token\":\"";
    if w.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b'a'; 64 << 10];
    while !s.stop.load(Ordering::SeqCst) {
        if w.write_all(&chunk).and_then(|()| w.flush()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn sign(s: &Shared, access: serde_json::Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut header = json!({"typ": "JWT", "alg": "ES256"});
    if s.opts.use_kid {
        header["kid"] = json!(s.kid);
    } else {
        header["x5c"] = json!([s.cert_b64]);
    }
    let claims = json!({
        "iss": ISSUER,
        "sub": "imagepin-test",
        "aud": SERVICE,
        "exp": now + s.opts.ttl.as_secs(),
        "nbf": now - 1,
        "iat": now,
        "jti": format!("{now}-{}", s.requests.load(Ordering::SeqCst)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("json")),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"))
    );
    let rng = ring::rand::SystemRandom::new();
    let sig = s
        .key
        .sign(&rng, signing_input.as_bytes())
        .expect("sign token");
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// libtrust key id: base32(sha256(SPKI DER)[..30]) in 12 groups of 4, ':'-joined.
pub fn libtrust_key_id(spki_der: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(spki_der);
    let b32 = base32(&digest[..30]);
    b32.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join(":")
}

fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}
