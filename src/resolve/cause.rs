//! What kind of failure a [`ResolveError`] is (auth, not found, rate limited,
//! DNS, proxy, TLS, invalid answer, ...), read from the resolver's own fixed
//! wording, and the "one root cause" summary: when every lookup of a run
//! failed for the same network-wide reason, say it once with the count and
//! what to do, instead of one line per reference.

use super::ResolveError;

/// The kind of a resolve failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A registry (or endpoint) host name does not resolve.
    Dns,
    /// The configured HTTP(S) proxy cannot be reached.
    Proxy,
    /// Connection refused, reset or timed out, or another transport failure.
    Unreachable,
    Tls,
    /// 401/403, or a token server refusing a token.
    Auth,
    NotFound,
    RateLimited,
    /// The registry's answer was refused: too large, malformed digest, not
    /// a token, a redirect to plain HTTP, ...
    InvalidAnswer,
    /// `--offline` and not in the cache.
    NotCached,
    /// The configuration (an endpoint, a `ca-file`) is wrong.
    Config,
    Other,
}

impl ErrorKind {
    /// Failures that hit every registry alike when the network is down.
    pub fn is_network(self) -> bool {
        matches!(
            self,
            ErrorKind::Dns | ErrorKind::Proxy | ErrorKind::Unreachable
        )
    }
}

impl ResolveError {
    /// The kind of this failure (from the resolver's own wording).
    pub fn kind(&self) -> ErrorKind {
        kind_of(&self.message)
    }
}

/// The kind of a resolver message. The phrases are the ones `client`,
/// `auth`, `registry` and `resolver` write; the tests below pin them.
pub fn kind_of(message: &str) -> ErrorKind {
    let m = message;
    // The first matching rule wins: the more specific phrases come first.
    const RULES: &[(&str, ErrorKind)] = &[
        ("cannot reach the proxy", ErrorKind::Proxy),
        ("cannot resolve host name", ErrorKind::Dns),
        ("not in the local digest cache", ErrorKind::NotCached),
        ("with --offline", ErrorKind::NotCached),
        ("TLS failure", ErrorKind::Tls),
        ("refusing to follow a redirect", ErrorKind::InvalidAnswer),
        ("redirected more than", ErrorKind::InvalidAnswer),
        ("is larger than", ErrorKind::InvalidAnswer),
        ("malformed", ErrorKind::InvalidAnswer),
        ("not a token", ErrorKind::InvalidAnswer),
        ("sent no `token`", ErrorKind::InvalidAnswer),
        ("invalid token realm", ErrorKind::InvalidAnswer),
        ("does not answer like a registry", ErrorKind::InvalidAnswer),
        ("rate limited", ErrorKind::RateLimited),
        ("authentication required", ErrorKind::Auth),
        ("denied by", ErrorKind::Auth),
        ("refused a pull token", ErrorKind::Auth),
        ("credential helper", ErrorKind::Auth),
        ("not found (HTTP 404)", ErrorKind::NotFound),
        ("connection refused by", ErrorKind::Unreachable),
        ("timed out talking to", ErrorKind::Unreachable),
        ("was reset or closed", ErrorKind::Unreachable),
        ("cannot reach", ErrorKind::Unreachable),
        ("token request to", ErrorKind::Unreachable),
        ("endpoint", ErrorKind::Config),
        ("ca-file", ErrorKind::Config),
    ];
    RULES
        .iter()
        .find(|(phrase, _)| m.contains(phrase))
        .map_or(ErrorKind::Other, |(_, k)| *k)
}

/// One cause behind every failure of a run, said once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCause {
    pub kind: ErrorKind,
    /// How many lookups failed.
    pub count: usize,
    /// One line: what happened ("all 12 lookups failed: ...").
    pub summary: String,
    /// One line: what to do about it.
    pub advice: String,
}

/// The root cause when every error is the same network-wide failure (at
/// least two of them; one error is its own message). `None` when the
/// failures differ or are per-reference (not found, auth, ...).
pub fn root_cause(errors: &[ResolveError]) -> Option<RootCause> {
    if errors.len() < 2 {
        return None;
    }
    let kinds: Vec<ErrorKind> = errors.iter().map(ResolveError::kind).collect();
    if !kinds.iter().all(|k| k.is_network()) {
        return None;
    }
    let n = errors.len();
    let same = kinds.iter().all(|k| *k == kinds[0]);
    let kind = if same {
        kinds[0]
    } else {
        ErrorKind::Unreachable
    };
    let what = match kind {
        ErrorKind::Dns => {
            "registry host names do not resolve (DNS): is there a network?".to_string()
        }
        ErrorKind::Proxy => {
            // The proxy's own words, once: they name the proxy and the variable.
            let first = &errors[0].message;
            let detail = first
                .split_once("; check the proxy setting")
                .map_or(first.as_str(), |(d, _)| d);
            detail.to_string()
        }
        _ => "no registry could be reached: is there a network?".to_string(),
    };
    let advice = match kind {
        ErrorKind::Proxy => {
            "check HTTPS_PROXY/HTTP_PROXY (or NO_PROXY); without network, see below".to_string()
        }
        _ => String::new(),
    };
    let offline = "without network: the `imagepin-check` hook needs none, `SKIP=imagepin git commit` \
                   skips the pinning hook once, and `--offline` answers from a warm cache";
    Some(RootCause {
        kind,
        count: n,
        summary: format!("all {n} lookups failed for one reason: {what}"),
        advice: if advice.is_empty() {
            offline.to_string()
        } else {
            format!("{advice}; {offline}")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(image: &str, message: &str) -> ResolveError {
        ResolveError {
            image: image.into(),
            message: message.into(),
        }
    }

    #[test]
    fn kinds_of_the_resolver_messages() {
        for (message, kind) in [
            (
                "cannot resolve host name ghcr.io (DNS): check the registry name and your network",
                ErrorKind::Dns,
            ),
            (
                "cannot reach the proxy http://127.0.0.1:9 (from HTTPS_PROXY) to talk to ghcr.io: connection refused; check the proxy setting",
                ErrorKind::Proxy,
            ),
            (
                "connection refused by 127.0.0.1:5000: is the registry running?",
                ErrorKind::Unreachable,
            ),
            (
                "timed out talking to ghcr.io (no answer within the time limit)",
                ErrorKind::Unreachable,
            ),
            (
                "connection to ghcr.io was reset or closed before an answer",
                ErrorKind::Unreachable,
            ),
            (
                "TLS failure talking to r.lan (x); for a private CA set `ca-file` under [registries.\"r.lan\"] in .imagepin.toml",
                ErrorKind::Tls,
            ),
            (
                "authentication required by ghcr.io (HTTP 401): no credentials for ghcr.io were found",
                ErrorKind::Auth,
            ),
            (
                "access to org/app denied by ghcr.io (HTTP 403): the credentials from x do not grant pull access",
                ErrorKind::Auth,
            ),
            (
                "token server t for r refused a pull token for a anonymously (HTTP 401); check the credentials (`docker login r`)",
                ErrorKind::Auth,
            ),
            (
                "not found (HTTP 404): ghcr.io has no tag `1` in repository `a`, or no such repository",
                ErrorKind::NotFound,
            ),
            (
                "rate limited by docker.io (HTTP 429); wait and try again",
                ErrorKind::RateLimited,
            ),
            (
                "token server t for r: the token answer from t is larger than 1 MiB; refusing it",
                ErrorKind::InvalidAnswer,
            ),
            (
                "r sent a malformed Docker-Content-Digest (x); refusing to use it",
                ErrorKind::InvalidAnswer,
            ),
            (
                "127.0.0.1:1 redirected to http://x/v2/, which is not HTTPS; refusing to follow a redirect from HTTPS to plain HTTP",
                ErrorKind::InvalidAnswer,
            ),
            (
                "not in the local digest cache; run without --offline to ask the registry",
                ErrorKind::NotCached,
            ),
            ("something new", ErrorKind::Other),
        ] {
            assert_eq!(kind_of(message), kind, "{message}");
        }
    }

    #[test]
    fn one_network_cause_is_summarised_once() {
        let dns = |i: usize| {
            err(
                &format!("ghcr.io/a:{i}"),
                "cannot resolve host name ghcr.io (DNS): check the registry name and your network",
            )
        };
        let all: Vec<_> = (0..12).map(dns).collect();
        let c = root_cause(&all).unwrap();
        assert_eq!(c.kind, ErrorKind::Dns);
        assert_eq!(c.count, 12);
        assert_eq!(
            c.summary,
            "all 12 lookups failed for one reason: registry host names do not resolve (DNS): is there a network?"
        );
        assert!(
            c.advice.contains("imagepin-check")
                && c.advice.contains("SKIP=imagepin")
                && c.advice.contains("--offline"),
            "{}",
            c.advice
        );
        // Mixed network failures: still one cause, "no network".
        let mut mixed = all.clone();
        mixed.push(err(
            "quay.io/b:1",
            "timed out talking to quay.io (no answer within the time limit)",
        ));
        assert_eq!(root_cause(&mixed).unwrap().kind, ErrorKind::Unreachable);
        // The proxy named once.
        let proxy = "cannot reach the proxy http://127.0.0.1:9 (from HTTPS_PROXY) to talk to ghcr.io: connection refused; check the proxy setting";
        let c = root_cause(&[err("a", proxy), err("b", proxy)]).unwrap();
        assert!(
            c.summary.contains("http://127.0.0.1:9 (from HTTPS_PROXY)"),
            "{}",
            c.summary
        );
        assert!(c.advice.starts_with("check HTTPS_PROXY"), "{}", c.advice);
    }

    #[test]
    fn per_reference_failures_have_no_single_cause() {
        let nf = err(
            "ghcr.io/a:1",
            "not found (HTTP 404): ghcr.io has no tag `1` in repository `a`, or no such repository",
        );
        let dns = err(
            "ghcr.io/a:2",
            "cannot resolve host name ghcr.io (DNS): check",
        );
        assert_eq!(root_cause(&[nf.clone(), dns.clone()]), None);
        assert_eq!(root_cause(&[nf.clone(), nf]), None);
        assert_eq!(root_cause(&[dns]), None, "one error speaks for itself");
        assert_eq!(root_cause(&[]), None);
    }
}
