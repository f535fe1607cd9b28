//! Asking the digest source in batches, shared by `--fix` and `--verify`:
//! one call per kind of question (tags, digests, descriptions) with every
//! key at once, answers paired back with their keys, the one root cause
//! when every lookup failed alike, and what is known about a pin whose tag
//! moved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::finding::FileError;
use crate::resolve::cause::RootCause;
use crate::resolve::{
    DigestRef, DigestSource, ImageFacts, Platform, RegistryError, ResolveError, TagRef,
};

/// A pinned digest in its tag's repository.
pub(super) fn pin_ref(t: &TagRef, digest: &str) -> DigestRef {
    DigestRef {
        registry: t.registry.clone(),
        repository: t.repository.clone(),
        digest: digest.to_string(),
    }
}

/// What is known about a pin whose tag now points elsewhere.
#[derive(Debug, Default)]
pub(super) struct Moved {
    /// The child of the tag's current index that the (platform-specific)
    /// pin corresponds to: see [`crate::policy::platform_successor`].
    pub successor: Option<Platform>,
    /// What the tag's current digest is.
    pub current: Option<ImageFacts>,
}

/// Describes, in one batch, the pinned and the current digest of every
/// `(pin, current digest)` pair. A source that cannot describe leaves the
/// pair unknown (compared as whole digests, as before).
pub(super) fn describe_moves(
    source: &dyn DigestSource,
    moved: &BTreeSet<(DigestRef, String)>,
) -> BTreeMap<(DigestRef, String), Moved> {
    let refs: Vec<DigestRef> = moved
        .iter()
        .flat_map(|(pin, now)| {
            [
                pin.clone(),
                DigestRef {
                    digest: now.clone(),
                    ..pin.clone()
                },
            ]
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let facts = lookup(&refs, ask(&refs, |d| source.describe(d)));
    moved
        .iter()
        .map(|(pin, now)| {
            let current_ref = DigestRef {
                digest: now.clone(),
                ..pin.clone()
            };
            let pinned = facts.get(pin).and_then(|f| f.as_ref().ok());
            let current = facts.get(&current_ref).and_then(|f| f.as_ref().ok());
            let successor = current
                .and_then(|c| crate::policy::platform_successor(&pin.digest, pinned, c))
                .cloned();
            (
                (pin.clone(), now.clone()),
                Moved {
                    successor,
                    current: current.cloned(),
                },
            )
        })
        .collect()
}

/// Asks the source about `keys`, unless there are none (no client work, no
/// progress line for nothing).
pub(super) fn ask<K, V>(keys: &[K], f: impl FnOnce(&[K]) -> Vec<V>) -> Vec<V> {
    if keys.is_empty() { Vec::new() } else { f(keys) }
}

/// Pairs each asked key with its answer; a source that answers fewer than
/// asked leaves the rest as errors rather than guessing.
pub(super) fn lookup<K: Ord + Clone + std::fmt::Display, V>(
    keys: &[K],
    answers: Vec<Result<V, ResolveError>>,
) -> BTreeMap<K, Result<V, ResolveError>> {
    let mut answers = answers.into_iter();
    keys.iter()
        .map(|k| {
            let a = answers.next().unwrap_or_else(|| {
                Err(ResolveError::new(
                    k.to_string(),
                    RegistryError::other("no answer from the resolver"),
                ))
            });
            (k.clone(), a)
        })
        .collect()
}

/// The failed answers of a batch.
pub(super) fn failures<K, V>(answers: &BTreeMap<K, Result<V, ResolveError>>) -> Vec<ResolveError> {
    answers
        .values()
        .filter_map(|a| a.as_ref().err().cloned())
        .collect()
}

/// One error for the whole run (no file, no line): the root cause and what
/// to do about it.
pub(super) fn run_wide(cause: RootCause) -> FileError {
    FileError {
        path: PathBuf::new(),
        line: None,
        message: format!("{}; {}", cause.summary, cause.advice),
    }
}
