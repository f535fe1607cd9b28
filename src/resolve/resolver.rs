//! [`Resolver`]: the blocking [`DigestSource`] the rest of imagepin uses.
//! Deduplicates tags, answers from the on-disk cache where allowed, and
//! resolves the rest in parallel on a private tokio runtime with one shared
//! HTTP client (built only when the network is actually needed, so warm runs
//! stay fast).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use super::cache::{DigestCache, cache_dir};
use super::client::{CaFiles, Http, REQUEST_TIMEOUT, TIMEOUT_ENV, load_ca_files};
use super::credentials::Env;
use super::endpoint::endpoint_for;
use super::error::{ErrorKind, RegistryError};
use super::facts_cache::FactsCache;
use super::registry::Registry;
use super::{DigestRef, DigestSource, ImageFacts, ResolveError, ResolveOptions, TagRef};
use crate::config::Config;

/// The registry client behind [`DigestSource`]. Create one per run; it keeps
/// tokens, credentials and connections for its lifetime. Its methods block
/// (do not call them from inside a tokio runtime).
pub struct Resolver {
    config: Config,
    opts: ResolveOptions,
    env: Env,
    cas: CaFiles,
    timeout: Duration,
    /// The cache directory (`None` with `--no-cache` or no home), and the
    /// caches, each read from it on first use: a run with nothing to
    /// resolve or describe never reads a file.
    cache_dir: Option<std::path::PathBuf>,
    cache: OnceLock<Option<Mutex<DigestCache>>>,
    /// Digest → facts, kept for good (see [`FactsCache`]).
    facts: OnceLock<Option<Mutex<FactsCache>>>,
    net: OnceLock<Result<Net, RegistryError>>,
    /// What happened, for `-v` (see [`Resolver::notes`]).
    notes: Mutex<Vec<String>>,
    /// Cache answers used and tags asked of registries.
    hits: std::sync::atomic::AtomicUsize,
    misses: std::sync::atomic::AtomicUsize,
    /// Facts answered from the cache and digests described by registries.
    facts_hits: std::sync::atomic::AtomicUsize,
    facts_misses: std::sync::atomic::AtomicUsize,
}

struct Net {
    runtime: tokio::runtime::Runtime,
    registry: Arc<Registry>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("opts", &self.opts)
            .field("cache", &self.cache_dir.is_some())
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// Reads the process environment (DOCKER_CONFIG, HOME, REGISTRY_AUTH_FILE,
    /// DOCKER_AUTH_CONFIG, XDG_RUNTIME_DIR, XDG_CACHE_HOME, PATH,
    /// IMAGEPIN_TRUST_MIRROR_CREDENTIALS; proxies are read by the HTTP
    /// client) and checks the registry configuration.
    pub fn new(config: &Config, opts: ResolveOptions) -> Result<Resolver, ResolveError> {
        Resolver::with_env(config, opts, Env::from_process())
    }

    /// Like [`Resolver::new`] with an explicit environment.
    pub fn with_env(
        config: &Config,
        opts: ResolveOptions,
        env: Env,
    ) -> Result<Resolver, ResolveError> {
        let config_error = |e: RegistryError| {
            ResolveError::new(
                config
                    .source
                    .as_ref()
                    .map_or_else(|| "configuration".to_string(), |p| p.display().to_string()),
                e,
            )
        };
        for host in config.registries.keys() {
            endpoint_for(host, config).map_err(config_error)?;
        }
        let cas = load_ca_files(config).map_err(config_error)?;
        let timeout = std::env::var(TIMEOUT_ENV)
            .ok()
            .and_then(|v| crate::config::parse_duration(&v))
            .filter(|d| !d.is_zero())
            .unwrap_or(REQUEST_TIMEOUT);
        let cache_dir = if opts.no_cache { None } else { cache_dir(&env) };
        Ok(Resolver {
            config: config.clone(),
            opts,
            env,
            cas,
            timeout,
            cache_dir,
            cache: OnceLock::new(),
            facts: OnceLock::new(),
            net: OnceLock::new(),
            notes: Mutex::new(Vec::new()),
            hits: Default::default(),
            misses: Default::default(),
            facts_hits: Default::default(),
            facts_misses: Default::default(),
        })
    }

    /// Records a note for [`Resolver::notes`]; with `show`, also prints it
    /// on stderr now (for what every user should see, e.g. the age of
    /// `--offline` answers).
    fn note(&self, message: String, show: bool) {
        if show {
            show_note(&message);
        }
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
    }

    /// What the resolver did, one line each, for `-v/--verbose`: the
    /// configuration file, each registry's endpoint and credential source
    /// (never a secret), cache hits and misses, and notes such as the age
    /// of `--offline` answers. Call after resolving.
    pub fn notes(&self) -> Vec<String> {
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = vec![match &self.config.source {
            Some(p) => format!("configuration: {}", p.display()),
            None => "configuration: none found (defaults)".to_string(),
        }];
        out.push(match &self.cache_dir {
            Some(dir) => format!(
                "cache: {} hit{}, {} miss{} ({})",
                self.hits.load(Relaxed),
                if self.hits.load(Relaxed) == 1 {
                    ""
                } else {
                    "s"
                },
                self.misses.load(Relaxed),
                if self.misses.load(Relaxed) == 1 {
                    ""
                } else {
                    "es"
                },
                dir.display()
            ),
            _ => "cache: not used".to_string(),
        });
        let (fh, fm) = (
            self.facts_hits.load(Relaxed),
            self.facts_misses.load(Relaxed),
        );
        if fh + fm > 0 {
            out.push(format!(
                "image facts: {fh} from the cache, {fm} asked of registries"
            ));
        }
        if let Some(Ok(net)) = self.net.get() {
            out.extend(net.registry.notes());
        }
        out.extend(
            self.notes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned(),
        );
        out
    }

    fn net(&self) -> Result<&Net, RegistryError> {
        self.net
            .get_or_init(|| {
                let any_insecure = self.config.registries.values().any(|r| r.insecure);
                let http = Http::new(&self.cas, any_insecure, self.timeout)?;
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        RegistryError::other(format!("cannot start the network runtime: {e}"))
                    })?;
                Ok(Net {
                    runtime,
                    registry: Arc::new(Registry::new(http, self.config.clone(), self.env.clone())),
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The cache key: the tag, plus the endpoint when one is configured (a
    /// mirror's answers are kept apart from the registry's).
    fn cache_key(&self, t: &TagRef) -> String {
        match self
            .config
            .registry(&t.registry)
            .and_then(|r| r.endpoint.as_deref())
        {
            Some(ep) => format!("{t} via {ep}"),
            None => t.to_string(),
        }
    }

    fn with_cache<R>(&self, f: impl FnOnce(&mut DigestCache) -> R) -> Option<R> {
        let c = self
            .cache
            .get_or_init(|| {
                let dir = self.cache_dir.as_ref()?;
                Some(Mutex::new(DigestCache::load(dir, self.config.cache_ttl)))
            })
            .as_ref()?;
        let mut guard = c.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut guard))
    }

    /// The facts cache, read on first use (like [`Resolver::with_cache`]).
    fn with_facts<R>(&self, f: impl FnOnce(&mut FactsCache) -> R) -> Option<R> {
        let c = self
            .facts
            .get_or_init(|| Some(Mutex::new(FactsCache::load(self.cache_dir.as_ref()?))))
            .as_ref()?;
        let mut guard = c.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut guard))
    }

    /// Runs `work` for every item on the runtime, `concurrently` bounded by
    /// the per-host semaphores inside [`Registry`], with progress.
    fn run_all<T, R, F, Fut>(&self, items: Vec<T>, work: F) -> Vec<Result<R, RegistryError>>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(Arc<Registry>, T) -> Fut,
        Fut: std::future::Future<Output = Result<R, RegistryError>> + Send + 'static,
    {
        let n = items.len();
        let net = match self.net() {
            Ok(n) => n,
            Err(e) => return (0..n).map(|_| Err(e.clone())).collect(),
        };
        // More than a handful: a progress line for fewer is only flicker.
        let progress = self.opts.progress && n > 5;
        net.runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, item) in items.into_iter().enumerate() {
                let fut = work(net.registry.clone(), item);
                set.spawn(async move { (i, fut.await) });
            }
            let mut out: Vec<Option<Result<R, RegistryError>>> = (0..n).map(|_| None).collect();
            let mut done = 0;
            while let Some(joined) = set.join_next().await {
                if let Ok((i, r)) = joined {
                    out[i] = Some(r);
                }
                done += 1;
                if progress {
                    show_progress(done, n);
                }
            }
            out.into_iter()
                .map(|r| {
                    r.unwrap_or_else(|| Err(RegistryError::other("internal error: task failed")))
                })
                .collect()
        })
    }
}

/// The progress line on stderr (`resolving N/M`); the other place the
/// library prints is [`show_note`].
#[allow(clippy::print_stderr)]
fn show_progress(done: usize, total: usize) {
    eprint!("\rresolving {done}/{total}");
    if done == total {
        eprintln!();
    }
}

/// A note every user should see, on stderr.
#[allow(clippy::print_stderr)]
fn show_note(message: &str) {
    eprintln!("imagepin: {message}");
}

/// Indexes of the first occurrence of each distinct item, and for every
/// input the index of its distinct item.
fn dedupe<T: std::hash::Hash + Eq + Clone>(items: &[T]) -> (Vec<T>, Vec<usize>) {
    let mut unique = Vec::new();
    let mut seen: HashMap<&T, usize> = HashMap::new();
    let mut map = Vec::with_capacity(items.len());
    for it in items {
        let idx = *seen.entry(it).or_insert_with(|| {
            unique.push(it.clone());
            unique.len() - 1
        });
        map.push(idx);
    }
    (unique, map)
}

/// The answers for the distinct items, given back in the order of the
/// input (`map` from [`dedupe`]), each error naming its item.
fn spread<T: fmt::Display, R: Clone>(
    unique: &[T],
    map: &[usize],
    answers: Vec<Option<Result<R, RegistryError>>>,
    missing: &str,
) -> Vec<Result<R, ResolveError>> {
    map.iter()
        .map(|&u| match &answers[u] {
            Some(Ok(r)) => Ok(r.clone()),
            Some(Err(e)) => Err(ResolveError::new(unique[u].to_string(), e.clone())),
            None => Err(ResolveError::new(
                unique[u].to_string(),
                RegistryError::other(format!("internal error: {missing}")),
            )),
        })
        .collect()
}

impl DigestSource for Resolver {
    fn resolve_tags(&self, refs: &[TagRef]) -> Vec<Result<String, ResolveError>> {
        if refs.is_empty() {
            return Vec::new();
        }
        let (unique, map) = dedupe(refs);
        let now = SystemTime::now();
        let mut answers: Vec<Option<Result<String, RegistryError>>> = vec![None; unique.len()];
        if self.opts.offline {
            // Offline, any cached answer will do, however old: say how old.
            let mut oldest: Option<Duration> = None;
            let mut n = 0;
            self.with_cache(|c| {
                for (i, t) in unique.iter().enumerate() {
                    if let Some((d, age)) = c.get_any(&self.cache_key(t), now) {
                        answers[i] = Some(Ok(d.to_string()));
                        oldest = Some(oldest.map_or(age, |o| o.max(age)));
                        n += 1;
                    }
                }
            });
            if let Some(age) = oldest {
                let used: usize = map.iter().filter(|&&u| answers[u].is_some()).count();
                self.note(offline_note(used.max(n), age), true);
            }
        } else if !self.opts.refresh {
            self.with_cache(|c| {
                for (i, t) in unique.iter().enumerate() {
                    if let Some(d) = c.get(&self.cache_key(t), now) {
                        answers[i] = Some(Ok(d.to_string()));
                    }
                }
            });
        }
        let misses: Vec<usize> = (0..unique.len())
            .filter(|&i| answers[i].is_none())
            .collect();
        {
            use std::sync::atomic::Ordering::Relaxed;
            self.hits.fetch_add(unique.len() - misses.len(), Relaxed);
            self.misses.fetch_add(misses.len(), Relaxed);
        }
        if self.opts.offline {
            for &i in &misses {
                answers[i] = Some(Err(RegistryError::new(
                    ErrorKind::NotCached,
                    "not in the local digest cache; run without --offline to ask the registry",
                )));
            }
        } else if !misses.is_empty() {
            let todo: Vec<TagRef> = misses.iter().map(|&i| unique[i].clone()).collect();
            let results = self.run_all(todo, |reg, t| async move { reg.resolve_tag(&t).await });
            let learnt = SystemTime::now();
            self.with_cache(|c| {
                for (&i, r) in misses.iter().zip(&results) {
                    if let Ok(d) = r {
                        c.put(&self.cache_key(&unique[i]), d, learnt);
                    }
                }
                // The cache is an optimisation: failing to write it is not an error.
                let _ = c.save(learnt);
            });
            for (&i, r) in misses.iter().zip(results) {
                answers[i] = Some(r);
            }
        }
        spread(&unique, &map, answers, "not resolved")
    }

    /// Facts come from the cache whenever it has them (they never change,
    /// so even `--verify` and `--update` use them); the rest are asked of
    /// the registries, unless `--offline`, and stored for good.
    fn describe(&self, refs: &[DigestRef]) -> Vec<Result<ImageFacts, ResolveError>> {
        use std::sync::atomic::Ordering::Relaxed;
        let (unique, map) = dedupe(refs);
        let mut answers: Vec<Option<Result<ImageFacts, RegistryError>>> = vec![None; unique.len()];
        if unique.is_empty() {
            return Vec::new();
        }
        self.with_facts(|c| {
            for (i, d) in unique.iter().enumerate() {
                answers[i] = c.get(&facts_key(d)).map(Ok);
            }
        });
        let misses: Vec<usize> = (0..unique.len())
            .filter(|&i| answers[i].is_none())
            .collect();
        self.facts_hits
            .fetch_add(unique.len() - misses.len(), Relaxed);
        if self.opts.offline {
            for &i in &misses {
                answers[i] = Some(Err(RegistryError::new(
                    ErrorKind::NotCached,
                    "what this digest is (date, platforms) is not in the local cache; run \
                     without --offline to ask the registry",
                )));
            }
        } else if !misses.is_empty() {
            self.facts_misses.fetch_add(misses.len(), Relaxed);
            let todo: Vec<DigestRef> = misses.iter().map(|&i| unique[i].clone()).collect();
            let results = self.run_all(todo, |reg, d| async move { reg.describe(&d).await });
            let learnt = SystemTime::now();
            self.with_facts(|c| {
                for (&i, r) in misses.iter().zip(&results) {
                    if let Ok(f) = r {
                        c.put(&facts_key(&unique[i]), f, learnt);
                    }
                }
                // The cache is an optimisation: failing to write it is not an error.
                let _ = c.save(learnt);
            });
            for (&i, r) in misses.iter().zip(results) {
                answers[i] = Some(r);
            }
        }
        spread(&unique, &map, answers, "not described")
    }

    fn digests_exist(&self, refs: &[DigestRef]) -> Vec<Result<bool, ResolveError>> {
        let (unique, map) = dedupe(refs);
        let results: Vec<Result<bool, RegistryError>> = if self.opts.offline {
            unique
                .iter()
                .map(|_| {
                    Err(RegistryError::new(
                        ErrorKind::NotCached,
                        "cannot check whether a digest exists with --offline; run without it",
                    ))
                })
                .collect()
        } else {
            self.run_all(unique.clone(), |reg, d| async move {
                reg.digest_exists(&d).await
            })
        };
        map.iter()
            .map(|&u| {
                results[u]
                    .clone()
                    .map_err(|e| ResolveError::new(unique[u].to_string(), e))
            })
            .collect()
    }
}

/// The facts cache key: the digest in its repository.
fn facts_key(d: &DigestRef) -> String {
    d.to_string()
}

/// "answered 3 references from the cache (oldest 26 h old)".
pub(super) fn offline_note(references: usize, oldest: Duration) -> String {
    format!(
        "answered {references} reference{} from the cache (oldest {} old)",
        if references == 1 { "" } else { "s" },
        age(oldest)
    )
}

/// An age for people: seconds, minutes, hours (up to two days), days.
pub(crate) fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..172_800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn tag(repo: &str, t: &str) -> TagRef {
        TagRef {
            registry: "127.0.0.1:1".into(),
            repository: repo.into(),
            tag: t.into(),
        }
    }

    /// A cache directory whose cache answers `a:1` with [`D1`], saved now.
    fn cache_with_a1() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let mut c = DigestCache::load(&d.path().join("imagepin"), Duration::from_secs(3600));
        c.put(&tag("a", "1").to_string(), D1, SystemTime::now());
        c.save(SystemTime::now()).unwrap();
        d
    }

    fn env(cache: &std::path::Path) -> Env {
        Env {
            xdg_cache_home: Some(cache.to_path_buf()),
            ..Env::default()
        }
    }

    #[test]
    fn resolver_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Resolver>();
    }

    #[test]
    fn one_request_per_unique_tag_then_served_from_cache() {
        use super::super::scripted_server::{self, Action, Req};
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let heads = Arc::new(AtomicUsize::new(0));
        let h = heads.clone();
        let port = scripted_server::serve_in_thread(Arc::new(move |q: &Req| {
            if q.method == "HEAD" {
                h.fetch_add(1, SeqCst);
                scripted_server::ok(vec![("Docker-Content-Digest", D1.to_string())], b"")
            } else if q.path == "/v2/" {
                scripted_server::ok(vec![], b"")
            } else {
                Action::Respond(404, vec![], vec![])
            }
        }));
        let config = Config::parse(
            &format!("[registries.\"mock.test\"]\nendpoint = \"http://127.0.0.1:{port}\""),
            std::path::Path::new("/t/.imagepin.toml"),
            std::path::Path::new("/t"),
        )
        .unwrap();
        let d = tempfile::tempdir().unwrap();
        let t = |repo: &str, tag: &str| TagRef {
            registry: "mock.test".into(),
            repository: repo.into(),
            tag: tag.into(),
        };
        let refs = [t("a", "1"), t("a", "1"), t("b", "1"), t("a", "2")];
        let run = |opts: ResolveOptions| {
            let r = Resolver::with_env(&config, opts, env(d.path())).unwrap();
            let out = r.resolve_tags(&refs);
            assert!(out.iter().all(|o| o.as_deref() == Ok(D1)), "{out:?}");
        };
        run(ResolveOptions::default());
        assert_eq!(heads.load(SeqCst), 3);
        run(ResolveOptions::default());
        assert_eq!(heads.load(SeqCst), 3, "a warm cache makes no requests");
        run(ResolveOptions {
            refresh: true,
            ..ResolveOptions::default()
        });
        assert_eq!(heads.load(SeqCst), 6);
        run(ResolveOptions {
            no_cache: true,
            ..ResolveOptions::default()
        });
        assert_eq!(heads.load(SeqCst), 9);
        run(ResolveOptions {
            offline: true,
            ..ResolveOptions::default()
        });
        assert_eq!(heads.load(SeqCst), 9);
    }

    #[test]
    fn offline_answers_any_age_and_says_how_old() {
        let d = tempfile::tempdir().unwrap();
        let mut c = DigestCache::load(&d.path().join("imagepin"), Duration::from_secs(3600));
        let yesterday = SystemTime::now() - Duration::from_secs(26 * 3600);
        c.put(&tag("a", "1").to_string(), D1, yesterday);
        c.put(&tag("b", "1").to_string(), D1, SystemTime::now());
        c.save(SystemTime::now()).unwrap();
        let opts = ResolveOptions {
            offline: true,
            ..ResolveOptions::default()
        };
        let r = Resolver::with_env(&Config::default(), opts, env(d.path())).unwrap();
        let out = r.resolve_tags(&[tag("a", "1"), tag("b", "1"), tag("a", "1")]);
        assert!(out.iter().all(|o| o.as_deref() == Ok(D1)), "{out:?}");
        let notes = r.notes();
        assert!(
            notes
                .iter()
                .any(|n| n == "answered 3 references from the cache (oldest 26 h old)"),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("cache: 2 hits, 0 misses")),
            "{notes:?}"
        );
        // Online, the same entry is past cache-ttl: asked again (and here
        // the registry is unreachable).
        let r = Resolver::with_env(&Config::default(), ResolveOptions::default(), env(d.path()))
            .unwrap();
        assert!(r.resolve_tags(&[tag("a", "1")])[0].is_err());
    }

    #[test]
    fn ages_for_people() {
        assert_eq!(age(Duration::from_secs(59)), "59 s");
        assert_eq!(age(Duration::from_secs(600)), "10 min");
        assert_eq!(age(Duration::from_secs(26 * 3600)), "26 h");
        assert_eq!(age(Duration::from_secs(3 * 86400)), "3 days");
        assert_eq!(
            offline_note(1, Duration::from_secs(120)),
            "answered 1 reference from the cache (oldest 2 min old)"
        );
    }

    #[test]
    fn dedupe_keeps_first_order() {
        let (u, m) = dedupe(&["b", "a", "b", "c", "a"]);
        assert_eq!(u, vec!["b", "a", "c"]);
        assert_eq!(m, vec![0, 1, 0, 2, 1]);
    }

    #[test]
    fn offline_answers_from_cache_and_names_misses() {
        let d = cache_with_a1();
        let opts = ResolveOptions {
            offline: true,
            ..ResolveOptions::default()
        };
        let r = Resolver::with_env(&Config::default(), opts, env(d.path())).unwrap();
        let out = r.resolve_tags(&[tag("a", "1"), tag("b", "2"), tag("a", "1")]);
        assert_eq!(out[0].as_deref(), Ok(D1));
        assert_eq!(out[2].as_deref(), Ok(D1));
        let e = out[1].as_ref().unwrap_err();
        assert_eq!(e.image, "127.0.0.1:1/b:2");
        assert!(e.message.contains("--offline"), "{e}");
        // No network was set up for an all-cache run.
        assert!(r.net.get().is_none());
    }

    #[test]
    fn the_cache_file_is_read_only_when_something_needs_resolving() {
        let d = cache_with_a1();
        let opts = ResolveOptions {
            offline: true,
            ..ResolveOptions::default()
        };
        let r = Resolver::with_env(&Config::default(), opts, env(d.path())).unwrap();
        assert!(r.resolve_tags(&[]).is_empty());
        assert!(
            r.cache.get().is_none(),
            "nothing to resolve: cache not read"
        );
        let _ = r.notes();
        assert!(r.cache.get().is_none(), "-v notes do not read it either");
        assert_eq!(r.resolve_tags(&[tag("a", "1")])[0].as_deref(), Ok(D1));
        assert!(r.cache.get().is_some());
    }

    #[test]
    fn no_cache_ignores_the_cache() {
        let d = cache_with_a1();
        let opts = ResolveOptions {
            no_cache: true,
            offline: true,
            ..ResolveOptions::default()
        };
        let r = Resolver::with_env(&Config::default(), opts, env(d.path())).unwrap();
        assert!(r.resolve_tags(&[tag("a", "1")])[0].is_err());
    }

    #[test]
    fn unreachable_registry_is_an_error_naming_the_image() {
        let d = tempfile::tempdir().unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let r = Resolver::with_env(&Config::default(), ResolveOptions::default(), env(d.path()))
            .unwrap();
        let t = TagRef {
            registry: format!("127.0.0.1:{port}"),
            repository: "app".into(),
            tag: "1".into(),
        };
        let out = r.resolve_tags(&[t]);
        let e = out[0].as_ref().unwrap_err();
        assert_eq!(e.image, format!("127.0.0.1:{port}/app:1"));
        assert!(e.message.contains("refused"), "{e}");
    }

    #[test]
    fn bad_configuration_fails_early() {
        let c = Config::parse(
            "[registries.\"ghcr.io\"]\nendpoint = \"http://mirror.lan\"",
            std::path::Path::new("/r/.imagepin.toml"),
            std::path::Path::new("/r"),
        )
        .unwrap();
        let e = Resolver::with_env(&c, ResolveOptions::default(), Env::default()).unwrap_err();
        assert!(e.to_string().contains("insecure"), "{e}");
        let c = Config::parse(
            "[registries.\"r.lan\"]\nca-file = \"missing-ca.pem\"",
            std::path::Path::new("/r/.imagepin.toml"),
            std::path::Path::new("/r"),
        )
        .unwrap();
        let e = Resolver::with_env(&c, ResolveOptions::default(), Env::default()).unwrap_err();
        assert!(e.to_string().contains("missing-ca.pem"), "{e}");
    }
}
