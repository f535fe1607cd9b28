//! Resolver benchmark: 500 unique tags across 100 repositories on a real
//! registry with token auth, behind a proxy that adds 20 ms per round trip
//! (and per new connection). Runs the release `imagepin resolve` cold
//! (fresh cache) and warm, and reports wall time and the number of manifest
//! and token requests the proxy saw.
//!
//! `cargo bench --bench resolve` (needs /usr/bin/docker-registry).
//! Environment: `BENCH_RUNS` (cold runs, default 3), `BENCH_LATENCY_MS` (20),
//! `BENCH_CONCURRENCY` (the registry's `concurrency`; default: imagepin's),
//! `BENCH_TAGS_PER_REPO` (5: 500 tags; 50: the 5,000-tag case).
//! After the figures it prints the requests in flight at the proxy over the
//! first cold run (25 ms steps): a flat bar at the `concurrency` limit
//! means the client keeps the limit busy and latency × requests / limit is
//! the floor.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]
#![allow(unreachable_pub)] // a bench binary has no public API

// The integration tests' harness; the benchmark uses a part of it.
#[allow(dead_code, unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use support::{Format, Image, Proxy, ProxyOpts, Registry, RegistryOpts, TokenOpts, TokenServer};

const REPOS: usize = 100;

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let cold_runs = env_num("BENCH_RUNS", 3).max(1) as usize;
    let latency = Duration::from_millis(env_num("BENCH_LATENCY_MS", 20));
    let tags_per_repo = env_num("BENCH_TAGS_PER_REPO", 5).max(1) as usize;

    // 500 tags: repository bench/repoNNN, tags v0..v4, each a multi-arch index.
    let mut images = Vec::new();
    for r in 0..REPOS {
        for t in 0..tags_per_repo {
            let repo = format!("bench/repo{r:03}");
            let tag = format!("v{t}");
            let img = Image::multi_arch(&format!("{repo}:{tag}"), Format::Oci);
            images.push((repo, tag, img));
        }
    }
    let seeded = images.clone();

    // The harness itself: how long an empty registry takes to answer /v2/.
    let starts: Vec<Duration> = (0..5)
        .map(|_| {
            let t = std::time::Instant::now();
            let r = Registry::anonymous();
            let d = t.elapsed();
            drop(r);
            d
        })
        .collect();
    let registry_start = median(starts);

    let tokens = TokenServer::start(TokenOpts::default());
    let port = support::free_port();
    let proxy = Proxy::start(ProxyOpts {
        token_upstream: Some(tokens.addr()),
        latency,
        ..ProxyOpts::to(([127, 0, 0, 1], port).into())
    });
    let t = std::time::Instant::now();
    let _registry = Registry::start(RegistryOpts {
        auth: tokens.auth_with_realm(&format!("{}/token", proxy.url())),
        port: Some(port),
        seed: Some(Box::new(move |root| {
            for (repo, tag, img) in &seeded {
                support::seed::seed_image(root, repo, tag, img);
            }
        })),
        ..Default::default()
    });
    eprintln!(
        "seeded {} tags in {REPOS} repositories and started the registry in {:?}",
        images.len(),
        t.elapsed()
    );

    let refs: Vec<String> = images
        .iter()
        .map(|(repo, tag, _)| format!("ghcr.io/{repo}:{tag}"))
        .collect();
    let mut args = vec!["resolve"];
    args.extend(refs.iter().map(String::as_str));
    let mut config = format!("[registries.\"ghcr.io\"]\nendpoint = \"{}\"\n", proxy.url());
    let concurrency = env_num("BENCH_CONCURRENCY", 0);
    if concurrency > 0 {
        config.push_str(&format!("concurrency = {concurrency}\n"));
    }

    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut counts = Vec::new();
    let mut warm_requests = 0;
    let mut timeline = Vec::new();
    for i in 0..cold_runs {
        let ws = support::Workspace::new();
        ws.config(&config);
        proxy.reset_counts();
        tokens.reset_counts();
        let run = ws.imagepin(&args);
        assert_eq!(run.code, Some(0), "cold run failed:\n{run}");
        for ((_, _, img), r) in images.iter().zip(&refs) {
            assert_eq!(run.digest_of(r), Some(img.digest()), "{r}");
        }
        if i == 0 {
            timeline = proxy.timeline();
        }
        cold.push(run.elapsed);
        counts.push((
            proxy.manifest_requests(),
            proxy.token_requests(),
            proxy.requests(),
            proxy.connections(),
            proxy.max_concurrent_manifest_requests(),
        ));
        eprintln!(
            "cold run {}: {:?}, {} manifest requests, {} token requests, {} requests, {} connections, \
             at most {} manifest requests in flight",
            i + 1,
            run.elapsed,
            counts[i].0,
            counts[i].1,
            counts[i].2,
            counts[i].3,
            counts[i].4
        );
        for _ in 0..5 {
            proxy.reset_counts();
            let run = ws.imagepin(&args);
            assert_eq!(run.code, Some(0), "warm run failed:\n{run}");
            warm.push(run.elapsed);
            warm_requests += proxy.requests();
        }
    }
    let (m, tk, all, conns, inflight) = counts[0];
    println!(
        "harness: an empty registry answers /v2/ {registry_start:?} after start (median of 5)"
    );
    println!(
        "resolve: {} unique tags / {REPOS} repositories, token auth, +{}ms per round trip, concurrency {}",
        refs.len(),
        latency.as_millis(),
        if concurrency > 0 {
            concurrency.to_string()
        } else {
            "default".into()
        }
    );
    println!(
        "  cold: median {:?} over {} runs (min {:?}, max {:?})",
        median(cold.clone()),
        cold.len(),
        cold.iter().min().unwrap(),
        cold.iter().max().unwrap()
    );
    println!(
        "        {m} manifest requests, {tk} token requests, {all} requests in all, {conns} connections, \
         at most {inflight} manifest requests in flight"
    );
    println!(
        "  warm: median {:?} over {} runs, {} requests in all",
        median(warm.clone()),
        warm.len(),
        warm_requests
    );
    print_service_time(&timeline, all, m, inflight);
    print_timeline(&timeline);
}

/// What the server side allows: the time requests spent at the proxy (the
/// added latency plus the registry's own answer), from the timeline's
/// integral, and the least time `manifests` requests need at `limit` in
/// flight. A cold run close to that floor means the client keeps the limit
/// busy and the rest is the registry's.
fn print_service_time(
    timeline: &[(Duration, usize)],
    requests: usize,
    manifests: usize,
    limit: usize,
) {
    let mut busy = Duration::ZERO;
    for pair in timeline.windows(2) {
        busy += (pair[1].0 - pair[0].0) * u32::try_from(pair[0].1).unwrap();
    }
    if requests == 0 || limit == 0 {
        return;
    }
    let mean = busy / u32::try_from(requests).unwrap();
    let floor = mean * u32::try_from(manifests).unwrap() / u32::try_from(limit).unwrap();
    println!(
        "  server side: {mean:.1?} per request at the proxy (latency + registry); \
         {manifests} manifests at {limit} in flight need at least {floor:.0?}"
    );
}

/// The requests in flight at the proxy over the first cold run, in steps
/// of 25 ms (longer for long runs: at most 40 lines) from its first
/// request: the most at once in each step, as a bar.
fn print_timeline(timeline: &[(Duration, usize)]) {
    let Some(&(end, _)) = timeline.last() else {
        return;
    };
    let step_ms = (end.as_millis() / 40 + 1).max(25);
    let step = Duration::from_millis(step_ms as u64);
    println!(
        "  timeline of the first cold run (requests in flight at the proxy, per {step_ms} ms):"
    );
    let steps = end.as_millis() / step_ms + 1;
    let mut at = 0;
    let mut current = 0;
    for i in 0..steps {
        let until = step * u32::try_from(i + 1).unwrap();
        let mut most = current;
        while at < timeline.len() && timeline[at].0 < until {
            current = timeline[at].1;
            most = most.max(current);
            at += 1;
        }
        println!("    {:>5} ms {:>3} {}", i * step_ms, most, "#".repeat(most));
    }
}
