//! imagepin's integration tests, compiled as one binary (as ripgrep's
//! `tests/tests.rs` and zizmor's `tests/integration/`): one module per
//! area, the shared harness ([`support`]: real registries on loopback, token
//! servers, fault proxies, TLS, a sandbox for the binary) compiled once.
//!
//! Run one area with `cargo test --test integration registry::`, one test
//! by name as usual. Snapshots (insta) live in `snapshots/` next to the
//! module that asserts them; `INSTA_UPDATE=always cargo test` rewrites them
//! after a deliberate change (review with `git diff`), and with `CI` set a
//! mismatch fails instead of writing `.snap.new` files.

// A test binary has no public API: `unreachable_pub` (Cargo.toml) is for
// the library.
#![allow(unreachable_pub)]

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod fix;
mod fix_registry;
mod harness;
mod help;
mod kinds;
mod no_panic;
mod packaging;
mod policy_registry;
mod policy_workflow;
mod precommit;
mod registry;
mod registry_faults;
mod report;
mod resolve_error_kinds;
mod resolver_api;
mod split_pins;
