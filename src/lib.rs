//! imagepin: find every container image reference in a repository and pin it
//! to a sha256 digest.
//!
//! The program is a pipeline, one module per stage:
//! [`files`] (which files, of which kind) → [`scan`] (one scanner per kind,
//! findings with byte spans) → [`reference`](mod@reference) (the grammar) → [`resolve`]
//! (registry client, auth, cache) → [`rewrite`] (byte-exact edits) →
//! [`report`] (human, JSON, SARIF, GitHub). [`run`] wires them together for
//! the CLI defined in [`cli`]. [`fsio`] is the one bounded, regular-files-only
//! reader of the files a repository or its configuration names. [`policy`]
//! checks pinned digests against `--max-age` and `--require-platforms`;
//! [`audit`] records what `--fix`/`set` changed (`--audit-log`) and renders
//! the log; [`inventory`] lists every image a repository uses; [`init`]
//! writes a starting configuration; [`palette`] holds the colours of all
//! terminal output and decides when to use them.
//!
//! These docs are for people working on imagepin, and most modules are
//! private: read them with `cargo doc --document-private-items --open`.

// The map above links private modules on purpose (see the line above).
#![allow(rustdoc::private_intra_doc_links)]

mod audit;
mod cli;
mod config;
mod escape;
mod files;
mod finding;
mod fix;
mod fsio;
mod init;
mod inventory;
mod palette;
mod policy;
mod reference;
mod report;
mod resolve;
mod rewrite;
mod run;
mod scan;

// The public surface: what the binary (`main.rs`), the integration tests and
// the benches use. Everything else is crate-private, and `unreachable_pub`
// (Cargo.toml) keeps it so: a `pub` inside a module is a promise to this
// list, not to the world.

/// Command line and entry point.
pub use cli::Cli;
pub use run::main;

/// Configuration (`.imagepin.toml`) and what `imagepin init` writes.
pub use config::Config;
pub use init::{CONFIG as INIT_CONFIG, CiSeen, snippets as init_snippets};

/// Findings and the reference grammar.
pub use finding::{DigestSlot, FileKind, Finding, Split, Status};
pub use reference::Reference;

/// Scanning: one file or text, the kind registry, the YAML tree.
pub use scan::batch::ScannedFile;
pub use scan::{
    KINDS, Kind, Occurrence, ScanError, Syntax, kind_for_path, kind_from_id, kind_sniffed,
    registry_entry, scan_file, scan_text, yaml,
};

/// Resolving tags and describing digests against registries.
pub use resolve::credentials::Env as ResolveEnv;
pub use resolve::{
    Created, DigestRef, DigestSource, ErrorKind, ImageFacts, Platform, RegistryError, ResolveError,
    ResolveOptions, Resolver, RootCause, TagRef, root_cause,
};

/// Byte-exact edits and `--fix` / `--verify` as a library.
pub use fix::{Change, FixOptions, FixOutcome, fix, verify};
pub use rewrite::{Edit, apply, check, pin_edit};

/// The colours of terminal output (tests check output carries no others).
pub use palette::{FAILURE, IMAGE, LOCATION, SUCCESS};
