//! Registry authentication: parsing `WWW-Authenticate` challenges, fetching
//! Bearer tokens from the realm (anonymously, with Basic credentials, or with
//! an identity token as an OAuth2 refresh token), and the per-(registry,
//! repository) token cache that makes concurrent requests share one fetch.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use serde::Deserialize;

use super::client::{Http, Trust, header, read_capped, retry_after};
use super::credentials::{Found, Secret};
use super::endpoint::is_loopback;
use super::error::{ErrorKind, RegistryError};

/// Token lifetime when the token server does not say (`expires_in`).
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// The longest a token is kept, whatever `expires_in` says (a run is short).
pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Token answers larger than this are refused (real ones are a few KiB).
pub(crate) const MAX_TOKEN_ANSWER_BYTES: usize = 1 << 20;

/// One challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
        error: Option<String>,
    },
    Basic {
        realm: Option<String>,
    },
}

/// Parses every challenge in a `WWW-Authenticate` value (RFC 7235: a scheme,
/// then `key=value` or `key="quoted, value"` parameters separated by commas).
/// Unknown schemes and Bearer challenges without a realm are left out.
pub(crate) fn parse_challenges(value: &str) -> Vec<Challenge> {
    let mut out = Vec::new();
    let mut current: Option<(String, HashMap<String, String>)> = None;
    let b = value.as_bytes();
    let mut i = 0;
    let finish = |c: Option<(String, HashMap<String, String>)>, out: &mut Vec<Challenge>| {
        if let Some((scheme, mut params)) = c {
            match scheme.to_ascii_lowercase().as_str() {
                "bearer" => {
                    if let Some(realm) = params.remove("realm") {
                        out.push(Challenge::Bearer {
                            realm,
                            service: params.remove("service"),
                            scope: params.remove("scope"),
                            error: params.remove("error"),
                        });
                    }
                }
                "basic" => out.push(Challenge::Basic {
                    realm: params.remove("realm"),
                }),
                _ => {}
            }
        }
    };
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',' || b[i] == b'\t') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b',' | b'=') {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let token = &value[start..i];
        let mut j = i;
        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' && current.is_some() {
            // key=value
            j += 1;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            let mut val = String::new();
            if j < b.len() && b[j] == b'"' {
                j += 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' && j + 1 < b.len() {
                        j += 1;
                    }
                    let ch = value[j..].chars().next().unwrap_or(' ');
                    val.push(ch);
                    j += ch.len_utf8();
                }
                j += 1;
            } else {
                let vs = j;
                while j < b.len() && b[j] != b',' && b[j] != b' ' {
                    j += 1;
                }
                val.push_str(&value[vs..j]);
            }
            if let Some((_, params)) = current.as_mut() {
                params.insert(token.to_ascii_lowercase(), val);
            }
            i = j;
        } else {
            // A new scheme (token68 parameters are not used by registries).
            finish(current.take(), &mut out);
            current = Some((token.to_string(), HashMap::new()));
        }
    }
    finish(current.take(), &mut out);
    out
}

/// Picks the challenge to answer: Bearer before Basic.
pub(crate) fn preferred(challenges: Vec<Challenge>) -> Option<Challenge> {
    let mut basic = None;
    for c in challenges {
        match c {
            Challenge::Bearer { .. } => return Some(c),
            Challenge::Basic { .. } => basic = basic.or(Some(c)),
        }
    }
    basic
}

/// A Bearer token and when it stops being usable.
#[derive(Clone)]
pub(crate) struct Token {
    pub value: String,
    pub expires: Instant,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &"<redacted>")
            .field("expires", &self.expires)
            .finish()
    }
}

impl Token {
    pub(crate) fn is_fresh(&self) -> bool {
        Instant::now() < self.expires
    }
}

/// One slot per (registry, repository); a fetch holds the slot's lock so
/// concurrent requests for the same repository wait for the same token.
#[derive(Default)]
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<(String, String), Slot>>,
}

/// A token, or the reason the fetch failed (not retried within a run), or
/// nothing yet.
pub(crate) type Slot = Arc<tokio::sync::Mutex<Option<Result<Token, RegistryError>>>>;

impl TokenCache {
    pub(crate) fn slot(&self, registry: &str, repository: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry((registry.to_string(), repository.to_string()))
            .or_default()
            .clone()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    /// Any JSON: a number out of range, negative or not a number at all
    /// must not make the token unusable (nor panic).
    expires_in: Option<serde_json::Value>,
}

/// How long a token lives, from its `expires_in` (seconds): absent, zero,
/// negative or not a number → [`DEFAULT_TOKEN_LIFETIME`]; capped at
/// [`MAX_TOKEN_LIFETIME`].
pub(crate) fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let secs = expires_in.and_then(|v| match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .map(|s| s as f64)
            .or_else(|| n.as_f64())
            .filter(|s| s.is_finite() && *s >= 1.0),
        _ => None,
    });
    match secs {
        None => DEFAULT_TOKEN_LIFETIME,
        Some(s) if s >= MAX_TOKEN_LIFETIME.as_secs_f64() => MAX_TOKEN_LIFETIME,
        Some(s) => Duration::from_secs(s as u64),
    }
}

/// The `Authorization` value for Basic credentials.
pub(crate) fn basic_header(username: &str, password: &str) -> String {
    let raw = format!("{username}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Fetches a pull token for `repository` from the challenge's realm.
/// `registry` is only used in messages; `creds` authenticate to the realm.
pub(crate) async fn fetch_token(
    http: &Http,
    trust: &Trust,
    registry: &str,
    realm: &str,
    service: Option<&str>,
    repository: &str,
    creds: Option<&Found>,
) -> Result<Token, RegistryError> {
    let mut url = reqwest::Url::parse(realm).map_err(|e| {
        RegistryError::invalid_answer(format!(
            "{registry} sent an invalid token realm {realm:?}: {e}"
        ))
    })?;
    match url.scheme() {
        "https" => {}
        "http" if trust.insecure || url.host_str().is_some_and(is_loopback) => {}
        _ => {
            return Err(RegistryError::invalid_answer(format!(
                "{registry} asks for a token from {realm}, which is not HTTPS; refusing to use it \
                 (set `insecure = true` for this registry to allow it)"
            )));
        }
    }
    let scope = format!("repository:{repository}:pull");
    let who = match creds {
        Some(f) => format!("with credentials from {}", f.source),
        None => "anonymously".to_string(),
    };
    let result = match creds.map(|f| &f.secret) {
        Some(Secret::IdentityToken { token, .. }) => {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("client_id", "imagepin"),
                ("scope", scope.as_str()),
                ("refresh_token", token.as_str()),
            ];
            if let Some(s) = service {
                form.push(("service", s));
            }
            let url = url.clone();
            http.send(trust, |c| c.post(url.clone()).form(&form)).await
        }
        other => {
            {
                let mut q = url.query_pairs_mut();
                if let Some(s) = service {
                    q.append_pair("service", s);
                }
                q.append_pair("scope", &scope);
            }
            let basic = match other {
                Some(Secret::Basic { username, password }) => {
                    Some(basic_header(username, password))
                }
                _ => None,
            };
            http.send(trust, |c| {
                let r = c.get(url.clone());
                match &basic {
                    Some(h) => r.header(reqwest::header::AUTHORIZATION, h),
                    None => r,
                }
            })
            .await
        }
    };
    let realm_host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => realm.to_string(),
    };
    let resp = result.map_err(|e| {
        RegistryError::from(e).map_message(|m| format!("token request to {realm_host} failed: {m}"))
    })?;
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let kind = if creds.is_some() {
            ErrorKind::Auth
        } else {
            ErrorKind::NoCredentials
        };
        return Err(RegistryError::new(
            kind,
            format!(
                "token server {realm_host} for {registry} refused a pull token for {repository} {who} \
             (HTTP {}); check the credentials (`{}`)",
                status.as_u16(),
                login_command(registry)
            ),
        ));
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let remaining = header(&resp, "ratelimit-remaining")
            .map(|r| format!(" (RateLimit-Remaining: {r})"))
            .unwrap_or_default();
        return Err(RegistryError::new(
            ErrorKind::RateLimited {
                retry_after: retry_after(&resp),
            },
            format!(
                "token server {realm_host} rate limited the request (HTTP 429){remaining}; try again later"
            ),
        ));
    }
    if !status.is_success() {
        let kind = if status.is_server_error() {
            ErrorKind::ServerError
        } else {
            ErrorKind::Other
        };
        return Err(RegistryError::new(
            kind,
            format!(
                "token server {realm_host} for {registry} answered HTTP {} {who}",
                status.as_u16()
            ),
        ));
    }
    let what = format!("the token answer for {registry}");
    let body = read_capped(resp, MAX_TOKEN_ANSWER_BYTES, &what, &realm_host).await?;
    let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
        RegistryError::invalid_answer(format!("token server {realm_host} for {registry} sent an answer that is not a token (JSON with `token`)"))
    })?;
    let value = parsed
        .token
        .filter(|t| !t.is_empty())
        .or(parsed.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| {
            RegistryError::invalid_answer(format!(
                "token server {realm_host} for {registry} sent no `token` or `access_token`"
            ))
        })?;
    let lifetime = token_lifetime(parsed.expires_in.as_ref());
    // Renew a little early so a token does not expire in flight.
    let margin = (lifetime / 10).min(Duration::from_secs(10));
    let now = Instant::now();
    Ok(Token {
        value,
        expires: now.checked_add(lifetime - margin).unwrap_or(now),
    })
}

/// The `docker login` command for a registry.
pub(crate) fn login_command(registry: &str) -> String {
    if registry == crate::reference::DOCKER_HUB {
        "docker login".to_string()
    } else {
        format!("docker login {registry}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_challenge() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(
            c,
            vec![Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull".into()),
                error: None,
            }]
        );
    }

    #[test]
    fn comma_inside_quotes_and_error() {
        let c = parse_challenges(
            r#"Bearer realm="http://127.0.0.1:9/token",service="S",scope="repository:a/b:pull,push",error="insufficient_scope""#,
        );
        match &c[..] {
            [Challenge::Bearer { scope, error, .. }] => {
                assert_eq!(scope.as_deref(), Some("repository:a/b:pull,push"));
                assert_eq!(error.as_deref(), Some("insufficient_scope"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn basic_and_multiple_challenges() {
        assert_eq!(
            parse_challenges(r#"Basic realm="test""#),
            vec![Challenge::Basic {
                realm: Some("test".into())
            }]
        );
        let c = parse_challenges(r#"Basic realm="x", Bearer realm="https://t/tok", service=reg"#);
        assert_eq!(c.len(), 2);
        assert!(matches!(preferred(c), Some(Challenge::Bearer { .. })));
        // Case-insensitive scheme, unquoted values, escapes.
        let c = parse_challenges(r#"bearer realm=https://t/tok,service="a\"b""#);
        assert_eq!(
            c,
            vec![Challenge::Bearer {
                realm: "https://t/tok".into(),
                service: Some("a\"b".into()),
                scope: None,
                error: None
            }]
        );
    }

    #[test]
    fn junk_yields_nothing() {
        assert!(parse_challenges("").is_empty());
        assert!(parse_challenges("Negotiate abc==").is_empty());
        assert!(parse_challenges("Bearer service=x").is_empty());
        assert!(parse_challenges("=,,=\"").is_empty());
    }

    #[test]
    fn token_debug_is_redacted() {
        let t = Token {
            value: "s3cr3t".into(),
            expires: Instant::now(),
        };
        assert!(!format!("{t:?}").contains("s3cr3t"));
    }

    #[test]
    fn absurd_expires_in_saturates_instead_of_panicking() {
        use serde_json::json;
        let life = |v: serde_json::Value| token_lifetime(Some(&v));
        assert_eq!(life(json!(300)), Duration::from_secs(300));
        assert_eq!(life(json!(u64::MAX)), MAX_TOKEN_LIFETIME);
        assert_eq!(life(json!(1e300)), MAX_TOKEN_LIFETIME);
        assert_eq!(life(json!(299.9)), Duration::from_secs(299));
        for default in [
            json!(0),
            json!(-1),
            json!(i64::MIN),
            json!("60"),
            json!(null),
            json!(0.5),
        ] {
            assert_eq!(life(default.clone()), DEFAULT_TOKEN_LIFETIME, "{default}");
        }
        assert_eq!(token_lifetime(None), DEFAULT_TOKEN_LIFETIME);
    }

    #[test]
    fn basic_header_encodes() {
        assert_eq!(basic_header("user", "pass"), "Basic dXNlcjpwYXNz");
    }
}
