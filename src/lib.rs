//! imagepin: find every container image reference in a repository and pin it
//! to a sha256 digest.
//!
//! The program is a pipeline, one module per stage:
//! [`files`] (which files, of which kind) → [`scan`] (one scanner per kind,
//! findings with byte spans) → [`reference`] (the grammar) → [`resolve`]
//! (registry client, auth, cache) → [`rewrite`] (byte-exact edits) →
//! [`report`] (human, JSON, SARIF, GitHub). [`run`] wires them together for
//! the CLI defined in [`cli`]. [`fsio`] is the one bounded, regular-files-only
//! reader of the files a repository or its configuration names. [`policy`]
//! checks pinned digests against `--max-age` and `--require-platforms`;
//! [`audit`] records what `--fix`/`set` changed (`--audit-log`) and renders
//! the log; [`inventory`] lists every image a repository uses; [`init`]
//! writes a starting configuration; [`palette`] holds the colours of all
//! terminal output and decides when to use them.

pub mod audit;
pub mod cli;
pub mod config;
pub mod escape;
pub mod files;
pub mod finding;
pub mod fix;
pub mod fsio;
pub mod init;
pub mod inventory;
pub mod palette;
pub mod policy;
pub mod reference;
pub mod report;
pub mod resolve;
pub mod rewrite;
pub mod run;
pub mod scan;
