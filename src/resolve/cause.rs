//! The "one root cause" summary: when every lookup of a run failed for the
//! same network-wide reason (by the [`ErrorKind`] each error carries), say
//! it once with the count and what to do, instead of one line per reference.

use super::client::PROXY_HINT;
use super::{ErrorKind, ResolveError};

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
            let detail = first.strip_suffix(PROXY_HINT).unwrap_or(first);
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

    fn err(image: &str, kind: ErrorKind, message: &str) -> ResolveError {
        ResolveError {
            image: image.into(),
            kind,
            message: message.into(),
        }
    }

    #[test]
    fn one_network_cause_is_summarised_once() {
        let dns = |i: usize| {
            err(
                &format!("ghcr.io/a:{i}"),
                ErrorKind::Dns,
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
            ErrorKind::Unreachable,
            "timed out talking to quay.io (no answer within the time limit)",
        ));
        assert_eq!(root_cause(&mixed).unwrap().kind, ErrorKind::Unreachable);
        // The proxy named once.
        let proxy = "cannot reach the proxy http://127.0.0.1:9 (from HTTPS_PROXY) to talk to ghcr.io: connection refused; check the proxy setting";
        let c = root_cause(&[
            err("a", ErrorKind::Proxy, proxy),
            err("b", ErrorKind::Proxy, proxy),
        ])
        .unwrap();
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
            ErrorKind::NotFound,
            "not found (HTTP 404): ghcr.io has no tag `1` in repository `a`, or no such repository",
        );
        let dns = err(
            "ghcr.io/a:2",
            ErrorKind::Dns,
            "cannot resolve host name ghcr.io (DNS): check",
        );
        assert_eq!(root_cause(&[nf.clone(), dns.clone()]), None);
        assert_eq!(root_cause(&[nf.clone(), nf]), None);
        assert_eq!(root_cause(&[dns]), None, "one error speaks for itself");
        assert_eq!(root_cause(&[]), None);
    }

    #[test]
    fn the_cause_is_picked_by_kind_not_by_wording() {
        // Wording that reads like a DNS failure does not make one: the kind does.
        let worded =
            "cannot resolve host name ghcr.io (DNS): check the registry name and your network";
        let auth = [
            err("a", ErrorKind::Auth, worded),
            err("b", ErrorKind::Auth, worded),
        ];
        assert_eq!(root_cause(&auth), None);
        // And any wording of a network kind counts as that kind.
        let dns = [err("a", ErrorKind::Dns, "x"), err("b", ErrorKind::Dns, "y")];
        assert_eq!(root_cause(&dns).map(|c| c.kind), Some(ErrorKind::Dns));
        // Every network kind is one cause; a rate limit or a 5xx is not.
        for kind in [ErrorKind::Dns, ErrorKind::Proxy, ErrorKind::Unreachable] {
            let two = [err("a", kind, "x"), err("b", kind, "x")];
            assert_eq!(root_cause(&two).map(|c| c.kind), Some(kind), "{kind:?}");
        }
        for kind in [
            ErrorKind::Tls,
            ErrorKind::NoCredentials,
            ErrorKind::Credentials,
            ErrorKind::RateLimited { retry_after: None },
            ErrorKind::InvalidAnswer,
            ErrorKind::ServerError,
            ErrorKind::NotCached,
            ErrorKind::Config,
            ErrorKind::Other,
        ] {
            let two = [err("a", kind, "x"), err("b", kind, "x")];
            assert_eq!(root_cause(&two), None, "{kind:?}");
        }
    }
}
