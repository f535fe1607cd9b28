//! Resolver: turns (registry, repository, tag) into the digest it points to
//! now, over the OCI distribution API, with auth, a cache and bounded
//! parallelism. The only part of imagepin that talks to the network.
//!
//! The rest of the program sees only [`DigestSource`], so pure-logic tests can
//! use an in-memory source while integration tests use a real registry.
//!
//! [`Resolver`] (in `resolver`) is the blocking facade: dedupe, cache, a
//! private runtime. Below it: [`registry`] (the resolution rule and the auth
//! round trip), [`auth`] (challenges, tokens), [`credentials`] (Docker and
//! podman auth files, credential helpers), [`client`] (transport, retries,
//! error wording), [`tls`] (`ca-file` trust), [`endpoint`] (host → URL),
//! [`cache`] (tag → digest on disk), [`facts`] (manifests and configs
//! read for [`DigestSource::describe`], cached for good by `facts_cache`),
//! [`error`] (the error kinds every failure carries) and [`cause`] (the one
//! root cause of a failed run).
//!
//! `IMAGEPIN_REQUEST_TIMEOUT` (e.g. `5s`) overrides the 30 s per-request
//! timeout, for tests of hung servers.

use std::fmt;

use crate::reference::Reference;

/// A tag to resolve, normalized for lookups (`docker.io`, `library/python`, `3.12`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagRef {
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

impl TagRef {
    pub fn from_reference(r: &Reference) -> TagRef {
        TagRef {
            registry: r.registry().to_string(),
            repository: r.repository(),
            tag: r.tag_or_latest().to_string(),
        }
    }
}

impl fmt::Display for TagRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

/// A digest whose existence in a repository is checked (`--verify`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DigestRef {
    pub registry: String,
    pub repository: String,
    pub digest: String,
}

impl fmt::Display for DigestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}@{}", self.registry, self.repository, self.digest)
    }
}

/// Why one image could not be resolved: the kind of failure, to branch on,
/// and a message naming the cause, which never contains credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{image}: {message}")]
pub struct ResolveError {
    pub image: String,
    pub kind: ErrorKind,
    pub message: String,
}

impl ResolveError {
    /// The failure `e` of the lookup of `image`.
    pub fn new(image: impl Into<String>, e: RegistryError) -> ResolveError {
        ResolveError {
            image: image.into(),
            kind: e.kind,
            message: e.message,
        }
    }

    /// The kind of this failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// Where digests come from: the registry client, or a fake in tests.
pub trait DigestSource {
    /// The current digest of each tag, in the same order as `refs`.
    fn resolve_tags(&self, refs: &[TagRef]) -> Vec<Result<String, ResolveError>>;
    /// Whether each digest still exists in its repository, in order.
    fn digests_exist(&self, refs: &[DigestRef]) -> Vec<Result<bool, ResolveError>>;
    /// What each digest is (an index and its platforms, or one platform's
    /// image) and when it was created, in order. A digest's facts never
    /// change, so a source may cache them for good. Sources that cannot
    /// tell answer with an error for each.
    fn describe(&self, refs: &[DigestRef]) -> Vec<Result<ImageFacts, ResolveError>> {
        refs.iter()
            .map(|d| {
                Err(ResolveError::new(
                    d.to_string(),
                    RegistryError::other("this digest source cannot describe images"),
                ))
            })
            .collect()
    }
}

/// What the registry says about one digest: see [`DigestSource::describe`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageFacts {
    /// The digest is an image index (manifest list) rather than one image.
    pub index: bool,
    /// An index's platform children (attestation entries, `unknown/unknown`,
    /// left out), or the one platform of a single image when known.
    pub platforms: Vec<Platform>,
    /// When the image was created, if any source says (zero and epoch dates
    /// are unknown).
    pub created: Option<Created>,
}

/// One platform of an image: `linux/arm64/v8` and, inside an index, the
/// digest of that platform's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// The platform's own manifest digest (for a single image, the image's).
    pub digest: String,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// When an image was created and which source said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Seconds since the Unix epoch (UTC).
    pub unix: i64,
    /// Where the date came from, for people: `annotation
    /// org.opencontainers.image.created on the index`, `config of
    /// linux/amd64`, ...
    pub source: String,
}

/// How the resolver may use the cache and the network.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Neither read nor write the on-disk cache.
    pub no_cache: bool,
    /// Answer only from the cache; references not in it are errors.
    pub offline: bool,
    /// Ask the registry even when the cache has a fresh answer (for
    /// `--verify`/`--update`); the answer is still written to the cache.
    pub refresh: bool,
    /// Show a progress indicator on stderr while resolving.
    pub progress: bool,
}

pub(crate) mod auth;
pub(crate) mod cache;
pub(crate) mod cause;
pub(crate) mod client;
pub(crate) mod credentials;
pub(crate) mod endpoint;
pub(crate) mod error;
pub(crate) mod facts;
mod facts_cache;
pub(crate) mod registry;
mod resolver;
#[cfg(test)]
mod scripted_server;
pub(crate) mod tls;

pub use cause::{RootCause, root_cause};
pub use error::{ErrorKind, RegistryError};
pub use resolver::Resolver;
pub(crate) use resolver::age;
