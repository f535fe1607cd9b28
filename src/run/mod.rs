//! Orchestration of one invocation: configuration → files → scan → (resolve,
//! rewrite) → report → exit code. Owned by the CLI layer; the stages it calls
//! live in their own modules.

pub(crate) mod allow;
mod audit_command;
mod init_command;
mod inventory_command;
mod resolve_command;
mod set_command;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{Cli, Command, CommonArgs, Format, MaxAgeUnknown, ResolveArgs, ScanArgs};
use crate::config::Config;
use crate::files;
use crate::finding::{FileError, Finding, Status};
use crate::fix::{self, FixOptions};
use crate::policy::{self, Policy};
use crate::report::{self, RenderOptions, Report};
use crate::resolve::{ResolveOptions, Resolver};
use crate::scan::batch::{Scanned, scan_files};

/// How a run ends. Decided here, from what the stages produced, and nowhere
/// else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Nothing unpinned (or, with `--fix`, nothing changed).
    Clean = 0,
    /// Unpinned references found (or `--fix` changed files).
    Found = 1,
    /// Usage error, configuration error, unreadable file, registry failure.
    Error = 2,
}

impl Exit {
    /// 2 when anything could not be read, parsed or resolved; 1 when a
    /// finding fails the check (or, for `--fix`, when something changed or
    /// is left for the user); 0 otherwise.
    pub fn of(errors: &[FileError], found: bool) -> Exit {
        if !errors.is_empty() {
            Exit::Error
        } else if found {
            Exit::Found
        } else {
            Exit::Clean
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Runs one invocation on the process's stdout/stderr and returns the exit code.
pub fn main(cli: Cli) -> Exit {
    let color = crate::palette::enabled(cli.scan.color, io::stdout().is_terminal(), |name| {
        std::env::var_os(name)
    });
    let progress = progress_enabled(io::stderr().is_terminal(), std::env::var_os("PRE_COMMIT"));
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "imagepin: cannot read the current directory: {e}");
            return Exit::Error;
        }
    };
    let today = match allow::today(std::env::var_os(allow::TODAY_VAR)) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: {}", report::escape::visible(&e));
            return Exit::Error;
        }
    };
    let now = if std::env::var_os(allow::TODAY_VAR).is_some() {
        today.to_unix()
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    };
    let env = Env {
        cwd,
        color,
        progress,
        today,
        now,
    };
    run(cli, &env, &mut out, &mut err)
}

/// What a run takes from its surroundings (so tests can set it).
#[derive(Debug, Clone)]
pub(crate) struct Env {
    pub cwd: PathBuf,
    /// Colour for stdout, already decided by [`crate::palette::enabled`].
    pub color: bool,
    /// A progress indicator on stderr is welcome.
    pub progress: bool,
    /// The date `[[allow]] expires` is compared with.
    pub today: crate::config::Date,
    /// Now, in seconds since the epoch, for image ages (`--max-age`): the
    /// start of `IMAGEPIN_TODAY` when that is set, else the clock.
    pub now: i64,
}

/// A progress line on stderr: only on a terminal, and never under pre-commit
/// (it sets `PRE_COMMIT`), whose output is a log, not a screen.
pub(crate) fn progress_enabled(
    stderr_is_terminal: bool,
    pre_commit: Option<std::ffi::OsString>,
) -> bool {
    stderr_is_terminal && pre_commit.is_none()
}

/// Runs one invocation with explicit writers and returns the exit code.
pub(crate) fn run(cli: Cli, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    match cli.command {
        Some(Command::Resolve(args)) => resolve_command(&args, env, out, err),
        Some(Command::Set(args)) => set_command::run(&args, env, out, err),
        Some(Command::AuditLog(args)) => audit_command::run(&args, env, out, err),
        Some(Command::Inventory(args)) => inventory_command::run(&args, env, out, err),
        Some(Command::Init(args)) => init_command::run(&args, env, out, err),
        None => scan_command(&cli.scan, env, out, err),
    }
}

fn load_config(common: &CommonArgs, env: &Env, err: &mut dyn Write) -> Option<Config> {
    match Config::discover(common.config.as_deref(), &env.cwd) {
        Ok(c) => Some(c),
        Err(e) => {
            // The message may quote the (committed, so untrusted) file.
            let e = crate::report::escape::visible(&e.to_string()).into_owned();
            let _ = writeln!(err, "imagepin: error: {e}");
            None
        }
    }
}

fn resolve_options(common: &CommonArgs, env: &Env, refresh: bool, quiet: bool) -> ResolveOptions {
    ResolveOptions {
        no_cache: common.no_cache,
        offline: common.offline,
        refresh,
        progress: env.progress && !quiet,
    }
}

/// `imagepin resolve REF...`.
fn resolve_command(
    args: &ResolveArgs,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let Some(config) = load_config(&args.common, env, err) else {
        return Exit::Error;
    };
    let opts = resolve_options(&args.common, env, false, false);
    resolve_command::run(&args.refs, &config, opts, args.common.verbose, out, err)
}

/// The registry client behind `--verify`, `--fix` and `--diff`.
fn digest_source(config: &Config, opts: ResolveOptions) -> Result<Resolver, String> {
    Resolver::new(config, opts).map_err(|e| e.to_string())
}

/// `-v`: what the run used (the configuration file; with a resolver, each
/// registry's endpoint and credential source and the cache's hits), one
/// `imagepin: ` line each on stderr.
fn say_verbose(
    common: &CommonArgs,
    config: &Config,
    resolver: Option<&Resolver>,
    err: &mut dyn Write,
) {
    if !common.verbose {
        return;
    }
    let notes = match resolver {
        Some(r) => r.notes(),
        None => vec![match &config.source {
            Some(p) => format!("configuration: {}", p.display()),
            None => "configuration: none found (defaults)".to_string(),
        }],
    };
    for n in notes {
        let _ = writeln!(err, "imagepin: {}", report::escape::visible(&n));
    }
}

fn scan_command(args: &ScanArgs, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let Some(config) = load_config(&args.common, env, err) else {
        return Exit::Error;
    };
    let selection = if args.staged {
        match files::staged(&env.cwd) {
            Ok(paths) => files::collect_files(&config, &paths),
            Err(e) => {
                let _ = writeln!(err, "imagepin: error: {e}");
                return Exit::Error;
            }
        }
    } else {
        files::collect(&config, &args.paths, &env.cwd)
    };
    if args.list_files {
        return list_files(&selection, out, err);
    }
    let fixing = args.fix || args.diff;
    let mut scanned = scan_selection(&config, selection, fixing, env);

    if fixing {
        return fix_mode(args, &config, env, scanned, out, err);
    }
    let policy = policy_of(args, &config);
    if !args.verify && !policy.active() {
        say_verbose(&args.common, &config, None, err);
    } else {
        let opts = resolve_options(&args.common, env, args.verify, args.quiet);
        match digest_source(&config, opts) {
            Ok(source) => {
                if args.verify {
                    let mut lookup_errors = fix::verify(&mut scanned.files, &source, env.now);
                    scanned.errors.append(&mut lookup_errors);
                }
                let mut checked = policy::apply(&mut scanned.files, &source, &policy, env.now);
                scanned.errors.append(&mut checked.errors);
                for w in &checked.warnings {
                    let _ = writeln!(err, "imagepin: warning: {}", report::escape::visible(w));
                }
                say_verbose(&args.common, &config, Some(&source), err);
            }
            Err(e) => {
                let flag = if args.verify {
                    "--verify"
                } else {
                    "max-age/require-platforms"
                };
                let _ = writeln!(err, "imagepin: error: {flag}: {e}");
                return Exit::Error;
            }
        }
    }
    report_mode(args, env, scanned, out, err)
}

/// The one scan step of `--check`/`--fix`, `set` and `inventory`: scans the
/// selected files (`keep_text` when they may be rewritten) and applies the
/// `[[allow]]` exceptions. The selection's errors come first.
fn scan_selection(
    config: &Config,
    selection: files::Selection,
    keep_text: bool,
    env: &Env,
) -> Scanned {
    let mut scanned = scan_files(config, &selection.files, keep_text);
    let mut errors = selection.errors;
    errors.append(&mut scanned.errors);
    scanned.errors = errors;
    allow::apply(&mut scanned.files, config, env.today);
    scanned
}

/// The digest policies of a `--check` run: flags win over the configuration.
fn policy_of(args: &ScanArgs, config: &Config) -> Policy {
    Policy {
        max_age: args.max_age.or(config.max_age),
        max_age_unknown_fails: match args.max_age_unknown {
            Some(w) => w == MaxAgeUnknown::Fail,
            None => config.max_age_unknown_fails,
        },
        require_platforms: if args.require_platforms.is_empty() {
            config.require_platforms.clone()
        } else {
            args.require_platforms.clone()
        },
    }
}

fn render_options(args: &ScanArgs, env: &Env) -> Result<RenderOptions, String> {
    // Only the CI formats name files relative to the repository root; the
    // others skip the walk up to `.git` (a given `--root` is still checked).
    let ci_format = matches!(args.format, Format::Sarif | Format::Github | Format::Gitlab);
    let root = if ci_format || args.root.is_some() {
        report::RepoRoot::discover(
            &env.cwd,
            args.root.as_deref(),
            std::env::var_os("GIT_CEILING_DIRECTORIES").as_deref(),
        )?
    } else {
        report::RepoRoot::default()
    };
    let step_summary = match args.format {
        Format::Github => std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        _ => None,
    };
    Ok(RenderOptions {
        color: env.color,
        quiet: args.quiet,
        root,
        step_summary,
    })
}

/// `--check` (the default) and `--check --verify`: report and exit.
fn report_mode(
    args: &ScanArgs,
    env: &Env,
    mut scanned: Scanned,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let opts = match render_options(args, env) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: {e}");
            return Exit::Error;
        }
    };
    // Moved, not copied: on a large tree the findings are most of the
    // memory a run holds.
    let findings = scanned.take_findings();
    let report = Report {
        findings: &findings,
        errors: &scanned.errors,
        files: scanned.files.len(),
    };
    // Machine formats keep stdout parseable; say the errors on stderr too.
    if matches!(args.format, Format::Json | Format::Sarif | Format::Gitlab) {
        for e in &scanned.errors {
            let _ = writeln!(err, "imagepin: error: {e}");
        }
    }
    if let Err(e) = report::render(args.format, &report, &opts, out).and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            let _ = writeln!(err, "imagepin: error: cannot write the report: {e}");
            return Exit::Error;
        }
    }
    Exit::of(
        &scanned.errors,
        findings.iter().any(|f| f.status.fails_check()),
    )
}

/// `--list-files`: each file that would be scanned, with its kind (YAML
/// files of no declared kind are read to see whether they are Kubernetes).
fn list_files(selection: &files::Selection, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let mut errors = selection.errors.clone();
    for c in &selection.files {
        let kind = match c.kind {
            Some(k) => Some(k),
            None => {
                match crate::fsio::read_regular_file(&c.path, crate::scan::batch::MAX_FILE_SIZE) {
                    Ok(bytes) => files::known_or_sniffed_kind(c, &String::from_utf8_lossy(&bytes)),
                    Err(message) => {
                        errors.push(FileError {
                            path: c.path.clone(),
                            line: None,
                            message,
                        });
                        None
                    }
                }
            }
        };
        if let Some(kind) = kind {
            if writeln!(out, "{}\t{kind}", crate::escape::path(&c.path)).is_err() {
                break;
            }
        }
    }
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    for e in &errors {
        let _ = writeln!(err, "imagepin: error: {e}");
    }
    Exit::of(&errors, false)
}

/// `--fix` and `--diff`: the diff on stdout, errors and a summary on stderr.
fn fix_mode(
    args: &ScanArgs,
    config: &Config,
    env: &Env,
    scanned: Scanned,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let only = if args.only.is_empty() {
        None
    } else {
        match crate::config::ImagePatterns::new(&args.only) {
            Ok(p) => Some(p),
            Err(e) => {
                let _ = writeln!(err, "imagepin: error: --only: {e}");
                return Exit::Error;
            }
        }
    };
    let Ok(log) = open_audit_log(args.audit_log.as_deref().filter(|_| args.fix), env, "", err)
    else {
        return Exit::Error;
    };
    let opts = resolve_options(&args.common, env, args.update, args.quiet);
    let source = match digest_source(config, opts) {
        Ok(s) => s,
        Err(e) => {
            let flag = if args.fix { "--fix" } else { "--diff" };
            let _ = writeln!(err, "imagepin: error: {flag}: {e}");
            return Exit::Error;
        }
    };
    // With --format json, stdout gets the list of changes instead of the diff.
    let json = args.format == Format::Json;
    let fix_opts = FixOptions {
        write: args.fix,
        update: args.update,
        color: env.color,
        quiet: args.quiet || json,
        only,
        set: None,
    };
    let outcome = fix::fix(&scanned.files, &source, &fix_opts, out);
    say_verbose(&args.common, config, Some(&source), err);
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Exit::Error,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: {e}");
            return Exit::Error;
        }
    };
    let render = RenderOptions::default();
    // References fix cannot pin (invalid ones, unpinned ones whose digest
    // has no safe place) still need the user; their notes say why.
    // With --only, the run is about those images: nothing else is left.
    let left: Vec<Finding> = scanned
        .findings()
        .into_iter()
        .filter(|f| {
            f.status == Status::Invalid || (f.status == Status::Unpinned && fix::unpinnable(f))
        })
        .filter(|f| fix_opts.only.as_ref().is_none_or(|o| o.matches(f.image())))
        .collect();
    let mut all_errors: Vec<FileError> = scanned
        .errors
        .iter()
        .chain(&outcome.errors)
        .cloned()
        .collect();
    if let Some(log) = log {
        let ctx = crate::audit::Context::of_run(&env.cwd, args.reason.clone());
        all_errors.extend(write_audit(
            log,
            &outcome.changes,
            false,
            &source,
            &ctx,
            err,
        ));
    }
    if json {
        let files = scanned.files.len();
        let written = report::json::render_fix(&outcome.changes, &all_errors, args.fix, files, out);
        if let Err(e) = written.and_then(|()| out.flush()) {
            if e.kind() != io::ErrorKind::BrokenPipe {
                let _ = writeln!(err, "imagepin: error: cannot write the report: {e}");
            }
            return Exit::Error;
        }
    }
    let _ = out.flush();
    let _ = report::human::render_findings(&left, &render, err);
    let _ = report::human::render_errors(&all_errors, &render, err);
    let _ = writeln!(
        err,
        "{}",
        report::human::fix_summary(&outcome, args.fix, scanned.files.len(), all_errors.len())
    );
    Exit::of(&all_errors, !outcome.changed.is_empty() || !left.is_empty())
}

/// Appends the audit records of a run's changes to its log. When the log
/// can't be written, the records go to stderr (the files are already
/// changed: the trail must not be lost) and the error is returned.
/// Opens `--audit-log` before anything is written, so a log that can't take
/// the records stops the run while every file is as it was (the error is
/// said on `err`, after `prefix`, such as `set: `).
pub(super) fn open_audit_log(
    path: Option<&std::path::Path>,
    env: &Env,
    prefix: &str,
    err: &mut dyn Write,
) -> Result<Option<crate::audit::LogFile>, ()> {
    let Some(path) = path else {
        return Ok(None);
    };
    crate::audit::LogFile::open(&env.cwd.join(path), path)
        .map(Some)
        .map_err(|e| {
            let _ = writeln!(err, "imagepin: error: {prefix}{e}; nothing written");
        })
}

fn write_audit(
    log: crate::audit::LogFile,
    changes: &[fix::Change],
    set: bool,
    source: &dyn crate::resolve::DigestSource,
    ctx: &crate::audit::Context,
    err: &mut dyn Write,
) -> Option<FileError> {
    let records = crate::audit::records(changes, set, source, ctx);
    let name = log.name().to_string();
    match log.append(&records) {
        Ok(()) => {
            if !records.is_empty() {
                let _ = writeln!(
                    err,
                    "imagepin: audit: appended {} to {name}",
                    report::plural(records.len(), "record")
                );
            }
            None
        }
        Err(message) => {
            let _ = writeln!(
                err,
                "imagepin: the audit records that could not be appended:"
            );
            for r in &records {
                if let Ok(line) = serde_json::to_string(r) {
                    let _ = writeln!(err, "{line}");
                }
            }
            Some(FileError {
                path: PathBuf::new(),
                line: None,
                message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_win_over_failing_findings() {
        let err = FileError {
            path: PathBuf::from("x.yaml"),
            line: Some(3),
            message: "compose: invalid YAML".into(),
        };
        assert_eq!(Exit::of(&[], false), Exit::Clean);
        assert_eq!(Exit::of(&[], true), Exit::Found);
        assert_eq!(Exit::of(std::slice::from_ref(&err), true), Exit::Error);
        assert_eq!(Exit::of(std::slice::from_ref(&err), false), Exit::Error);
        assert_eq!(err.to_string(), "x.yaml:3: compose: invalid YAML");
        for s in [
            Status::Unpinned,
            Status::Invalid,
            Status::Stale,
            Status::Missing,
        ] {
            assert!(s.fails_check(), "{s}");
        }
        assert!(!Status::Pinned.fails_check() && !Status::Dynamic.fails_check());
    }

    #[test]
    fn progress_only_on_a_terminal_outside_pre_commit() {
        assert!(progress_enabled(true, None));
        assert!(!progress_enabled(false, None));
        assert!(!progress_enabled(true, Some("1".into())));
    }
}
