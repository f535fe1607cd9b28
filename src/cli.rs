//! Command-line arguments (clap structs only). [`crate::run`] turns them into work.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

pub(crate) use crate::palette::ColorChoice;
pub(crate) use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "imagepin",
    version,
    about = "Find every container image reference and pin it to a sha256 digest",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the current digest of each reference: `REF<TAB>DIGEST` per line.
    Resolve(ResolveArgs),
    /// Set every reference to IMAGE (and TAG, when given) to DIGEST, after
    /// checking with the registry that the digest exists (a rollback).
    Set(SetArgs),
    /// Render an audit log (`--audit-log FILE`) as a Markdown table for a
    /// pull-request body, or as JSON.
    AuditLog(AuditLogArgs),
    /// List every image the repository uses, with tag, digest, creation
    /// date, platforms, status and the files that use it.
    Inventory(InventoryArgs),
    /// Write a commented `.imagepin.toml` and print the pre-commit and CI
    /// snippets.
    Init(InitArgs),
}

/// `--audit-log FILE` and `--reason TEXT`, for the commands that change pins.
#[derive(Debug, Args, Clone, Default)]
pub struct AuditArgs {
    /// Append one JSON line per changed image to FILE (created if missing;
    /// nothing is written by --diff or when nothing changed).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Why the change is made, recorded in the audit log.
    #[arg(long, value_name = "TEXT", requires = "audit_log")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditLogArgs {
    /// The audit log (JSON Lines) written by `--audit-log`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Only entries written at or after this date (`YYYY-MM-DD`, midnight
    /// UTC) or UTC time (`YYYY-MM-DDTHH:MM:SSZ`).
    #[arg(long, value_name = "DATE", conflicts_with = "last")]
    pub since: Option<String>,
    /// Only the entries of the last N runs (one run's entries share a time).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub last: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
    pub format: TableFormat,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Files or directories to scan (default: the current directory).
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
    pub format: TableFormat,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing `.imagepin.toml`.
    #[arg(long)]
    pub force: bool,
}

/// The formats of the reports meant for pull requests and compliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TableFormat {
    #[default]
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// `IMAGE[:TAG]@sha256:DIGEST`: the image whose references are set, and
    /// the digest they get.
    #[arg(value_name = "IMAGE[:TAG]@DIGEST")]
    pub target: String,
    /// Files or directories to scan (default: the current directory).
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// Print the diff and write nothing.
    #[arg(long)]
    pub diff: bool,
    /// Leave out the diff; print only the summary and errors.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Image references (`python:3.12`, `ghcr.io/org/app:1`).
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flags shared by scanning and `resolve`.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Use this configuration file instead of discovering `.imagepin.toml`.
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
    /// Do not read or write the on-disk digest cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Answer only from the cache; never contact a registry.
    #[arg(long, global = true, conflicts_with = "no_cache")]
    pub offline: bool,
    /// Say on stderr which configuration file was used and, when registries
    /// are asked, each one's endpoint and credential source (never a
    /// secret) and the cache's hits and misses.
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Args, Default)]
#[command(group(ArgGroup::new("fixing").args(["fix", "diff"]).multiple(false)))]
pub struct ScanArgs {
    /// Files or directories to scan (default: the current directory).
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// Report unpinned references and fail (exit 1) if there are any.
    #[arg(long, conflicts_with_all = ["fix", "diff"])]
    pub check: bool,
    /// Pin unpinned references in place (exit 1 when files changed).
    #[arg(long)]
    pub fix: bool,
    /// Print the diff `--fix` would write, and write nothing.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
    /// With --fix or --diff: also rewrite stale digests to the tag's current digest.
    #[arg(long, requires = "fixing")]
    pub update: bool,
    /// With --fix or --diff: touch only references to these images (repository,
    /// with or without tag; globs; repeatable or comma-separated).
    #[arg(long, value_name = "IMAGE", value_delimiter = ',', requires = "fixing")]
    pub only: Vec<String>,
    /// With --fix: append one JSON line per changed image to FILE (the
    /// audit trail; created if missing). --diff writes nothing.
    #[arg(long, value_name = "FILE", requires = "fixing")]
    pub audit_log: Option<PathBuf>,
    /// Why the change is made, recorded in the audit log.
    #[arg(long, value_name = "TEXT", requires = "audit_log")]
    pub reason: Option<String>,
    /// With --check: ask the registry whether pinned digests are stale or missing.
    #[arg(long, conflicts_with = "fixing")]
    pub verify: bool,
    /// With --check: a pinned image created longer ago than this fails
    /// (`too-old`), e.g. `90d` (also `max-age` in .imagepin.toml).
    #[arg(long, value_name = "DURATION", value_parser = parse_max_age, conflicts_with = "fixing")]
    pub max_age: Option<std::time::Duration>,
    /// With max-age: a pinned image whose creation date is unknown warns
    /// (default) or fails (`age-unknown`).
    #[arg(long, value_enum, value_name = "WHAT", conflicts_with = "fixing")]
    pub max_age_unknown: Option<MaxAgeUnknown>,
    /// With --check: every pinned digest must be an index with these
    /// platforms, e.g. linux/amd64,linux/arm64 (else `platforms-missing`).
    #[arg(
        long,
        value_name = "PLATFORMS",
        value_delimiter = ',',
        value_parser = parse_platform,
        conflicts_with = "fixing"
    )]
    pub require_platforms: Vec<crate::policy::PlatformSpec>,
    /// Scan the files staged in git (added, copied, modified, renamed) instead of PATHS.
    #[arg(long, conflicts_with = "paths")]
    pub staged: bool,
    /// Print the files that would be scanned (`PATH<TAB>KIND`) and scan nothing.
    #[arg(long, conflicts_with_all = ["fixing", "verify", "check"])]
    pub list_files: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The directory that sarif, github and gitlab paths are relative to
    /// (default: the git repository around the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Leave out diffs and per-finding lines; print only the summary and errors.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// What an unknown creation date does under max-age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaxAgeUnknown {
    Warn,
    Fail,
}

fn parse_max_age(s: &str) -> Result<std::time::Duration, String> {
    crate::config::parse_duration(s)
        .ok_or_else(|| format!("invalid duration {s:?} (use a number with s, m, h or d, e.g. 90d)"))
}

fn parse_platform(s: &str) -> Result<crate::policy::PlatformSpec, String> {
    crate::policy::PlatformSpec::parse(s)
}
