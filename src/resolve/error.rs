//! The resolve layer's error value: what kind of failure it is, to branch on
//! (the "one root cause" summary, retries, hints), and the message for
//! people. Each error gets its kind where the fact is known (an HTTP status,
//! an I/O error kind, a refused body), never from its wording later.

use std::fmt;
use std::time::Duration;

/// The kind of a resolve failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A registry (or endpoint) host name does not resolve.
    Dns,
    /// The configured HTTP(S) proxy cannot be reached.
    Proxy,
    /// Connection refused, reset or timed out, or another transport failure.
    Unreachable,
    /// The TLS handshake failed (unknown CA, bad certificate, not TLS).
    Tls,
    /// 401/403 or a token refused although credentials were sent.
    Auth,
    /// 401/403 or a token refused, and no credentials were found to send.
    NoCredentials,
    /// The local credential store failed: an auth file that cannot be read
    /// or parsed, a credential helper that is missing, fails, hangs or
    /// answers nonsense.
    Credentials,
    /// HTTP 404.
    NotFound,
    /// HTTP 429 (from the registry or its token server), after the bounded
    /// waits; `retry_after` is the wait the server asked for, when it said.
    RateLimited { retry_after: Option<Duration> },
    /// The registry's answer was refused: too large, a malformed or wrong
    /// digest, not JSON, not a token, a redirect to plain HTTP, ...
    InvalidAnswer,
    /// HTTP 5xx after the retries.
    ServerError,
    /// `--offline` and not in the cache.
    NotCached,
    /// The configuration (an endpoint, a `ca-file`) is wrong.
    Config,
    /// Anything else (an unexpected status, an internal failure).
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

    /// A registry or token server refused access (with or without
    /// credentials).
    pub fn is_auth(self) -> bool {
        matches!(self, ErrorKind::Auth | ErrorKind::NoCredentials)
    }
}

/// A failure inside the resolve layer: its kind and its message. Displays
/// as the message alone (the image is added by [`super::ResolveError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RegistryError {
    pub kind: ErrorKind,
    pub message: String,
}

impl RegistryError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> RegistryError {
        RegistryError {
            kind,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> RegistryError {
        RegistryError::new(ErrorKind::Config, message)
    }

    pub fn credentials(message: impl Into<String>) -> RegistryError {
        RegistryError::new(ErrorKind::Credentials, message)
    }

    pub fn invalid_answer(message: impl Into<String>) -> RegistryError {
        RegistryError::new(ErrorKind::InvalidAnswer, message)
    }

    pub fn other(message: impl Into<String>) -> RegistryError {
        RegistryError::new(ErrorKind::Other, message)
    }

    /// The same kind, the message behind `prefix: `.
    pub fn context(self, prefix: impl fmt::Display) -> RegistryError {
        RegistryError {
            kind: self.kind,
            message: format!("{prefix}: {}", self.message),
        }
    }

    /// The same kind, the message rewritten by `f`.
    pub fn map_message(self, f: impl FnOnce(String) -> String) -> RegistryError {
        RegistryError {
            kind: self.kind,
            message: f(self.message),
        }
    }
}
