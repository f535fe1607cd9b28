//! Orchestration of one invocation: configuration → files → scan → (resolve,
//! rewrite) → report → exit code. Owned by the CLI layer; the stages it calls
//! live in their own modules.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::cli::{Cli, ColorChoice, Command, CommonArgs, Format, ResolveArgs, ScanArgs};
use crate::config::Config;
use crate::files::{self, Candidate};
use crate::finding::{FileKind, Finding, Status};
use crate::fix::{self, FixOptions};
use crate::report::{self, RenderOptions, Report};
use crate::resolve::{DigestSource, ResolveOptions};

/// One file that was read and scanned.
#[derive(Debug, Clone)]
pub struct ScannedFile {
    /// As given on the command line, or relative to the cwd when walking.
    pub path: PathBuf,
    pub kind: FileKind,
    /// The file's full text (BOM included), exactly as read. Empty when the
    /// run never needs it (`--check`), to keep memory flat on large trees.
    pub text: String,
    pub findings: Vec<Finding>,
}

/// A file that could not be read or parsed; the run goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FileError {
    /// `path[:line]: message`, control characters made visible (it is for people).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::report::escape::visible;
        write!(f, "{}", visible(&self.path.display().to_string()))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", visible(&self.message))
    }
}

/// Exit code: nothing unpinned (or, with `--fix`, nothing changed).
pub const EXIT_OK: u8 = 0;
/// Unpinned references found (or `--fix` changed files).
pub const EXIT_FOUND: u8 = 1;
/// Usage error, configuration error, unreadable file, registry failure.
pub const EXIT_ERROR: u8 = 2;

/// Runs one invocation on the process's stdout/stderr and returns the exit code.
pub fn main(cli: Cli) -> u8 {
    let color = color_enabled(cli.scan.color, io::stdout().is_terminal());
    let progress = progress_enabled(io::stderr().is_terminal(), std::env::var_os("PRE_COMMIT"));
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "imagepin: cannot read the current directory: {e}");
            return EXIT_ERROR;
        }
    };
    let env = Env {
        cwd,
        color,
        progress,
    };
    run(cli, &env, &mut out, &mut err)
}

/// What a run takes from its surroundings (so tests can set it).
#[derive(Debug, Clone)]
pub struct Env {
    pub cwd: PathBuf,
    /// Colour for stdout, already decided from `--color`, `NO_COLOR` and the terminal.
    pub color: bool,
    /// A progress indicator on stderr is welcome.
    pub progress: bool,
}

/// A progress line on stderr: only on a terminal, and never under pre-commit
/// (it sets `PRE_COMMIT`), whose output is a log, not a screen.
pub fn progress_enabled(stderr_is_terminal: bool, pre_commit: Option<std::ffi::OsString>) -> bool {
    stderr_is_terminal && pre_commit.is_none()
}

/// `--color`: `always`/`never` win; `auto` means a terminal and no `NO_COLOR`.
pub fn color_enabled(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Runs one invocation with explicit writers and returns the exit code.
pub fn run(cli: Cli, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match cli.command {
        Some(Command::Resolve(args)) => resolve_command(&args, env, out, err),
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
fn resolve_command(args: &ResolveArgs, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let Some(config) = load_config(&args.common, env, err) else {
        return EXIT_ERROR;
    };
    let opts = resolve_options(&args.common, env, false, false);
    crate::resolve::command::run(&args.refs, &config, opts, out, err)
}

/// The registry client behind `--verify`, `--fix` and `--diff`.
fn digest_source(config: &Config, opts: ResolveOptions) -> Result<Box<dyn DigestSource>, String> {
    match crate::resolve::Resolver::new(config, opts) {
        Ok(r) => Ok(Box::new(r)),
        Err(e) => Err(e.to_string()),
    }
}

/// What the scan stage produced.
#[derive(Debug, Default)]
pub struct Scanned {
    pub files: Vec<ScannedFile>,
    pub errors: Vec<FileError>,
}

impl Scanned {
    pub fn findings(&self) -> Vec<Finding> {
        self.files
            .iter()
            .flat_map(|f| f.findings.iter().cloned())
            .collect()
    }
}

fn scan_command(args: &ScanArgs, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let Some(config) = load_config(&args.common, env, err) else {
        return EXIT_ERROR;
    };
    let selection = if args.staged {
        match files::staged(&env.cwd) {
            Ok(paths) => files::collect_files(&config, &paths),
            Err(e) => {
                let _ = writeln!(err, "imagepin: error: {e}");
                return EXIT_ERROR;
            }
        }
    } else {
        files::collect(&config, &args.paths, &env.cwd)
    };
    if args.list_files {
        return list_files(&selection, out, err);
    }
    let fixing = args.fix || args.diff;
    let mut scanned = scan_files(&config, &selection.files, fixing);
    let mut errors = selection.errors;
    errors.append(&mut scanned.errors);
    scanned.errors = errors;

    if fixing {
        return fix_mode(args, &config, env, scanned, out, err);
    }
    if args.verify {
        let opts = resolve_options(&args.common, env, true, args.quiet);
        match digest_source(&config, opts) {
            Ok(source) => {
                let mut lookup_errors = fix::verify(&mut scanned.files, source.as_ref());
                scanned.errors.append(&mut lookup_errors);
            }
            Err(e) => {
                let _ = writeln!(err, "imagepin: error: --verify: {e}");
                return EXIT_ERROR;
            }
        }
    }
    report_mode(args, env, &scanned, out, err)
}

fn render_options(args: &ScanArgs, env: &Env) -> Result<RenderOptions, String> {
    let root = report::RepoRoot::discover(
        &env.cwd,
        args.root.as_deref(),
        std::env::var_os("GIT_CEILING_DIRECTORIES").as_deref(),
    )?;
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
    scanned: &Scanned,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let opts = match render_options(args, env) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: {e}");
            return EXIT_ERROR;
        }
    };
    let findings = scanned.findings();
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
            return EXIT_ERROR;
        }
    }
    exit_code(&findings, &scanned.errors)
}

/// `--list-files`: each file that would be scanned, with its kind (YAML
/// files of no declared kind are read to see whether they are Kubernetes).
fn list_files(selection: &files::Selection, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut errors = selection.errors.clone();
    for c in &selection.files {
        let kind = match c.kind {
            Some(k) => Some(k),
            None => std::fs::read_to_string(&c.path)
                .ok()
                .and_then(|t| files::kind_of(c, &t)),
        };
        if let Some(kind) = kind {
            let path = c.path.display().to_string();
            if writeln!(out, "{}\t{kind}", report::escape::visible(&path)).is_err() {
                break;
            }
        }
    }
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    for e in &errors {
        let _ = writeln!(err, "imagepin: error: {e}");
    }
    if errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    }
}

/// 2 when anything could not be read, parsed or resolved; 1 when a finding
/// fails the check; 0 otherwise.
pub fn exit_code(findings: &[Finding], errors: &[FileError]) -> u8 {
    if !errors.is_empty() {
        EXIT_ERROR
    } else if findings.iter().any(|f| f.status.fails_check()) {
        EXIT_FOUND
    } else {
        EXIT_OK
    }
}

/// `--fix` and `--diff`: the diff on stdout, errors and a summary on stderr.
fn fix_mode(
    args: &ScanArgs,
    config: &Config,
    env: &Env,
    scanned: Scanned,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let opts = resolve_options(&args.common, env, args.update, args.quiet);
    let source = match digest_source(config, opts) {
        Ok(s) => s,
        Err(e) => {
            let flag = if args.fix { "--fix" } else { "--diff" };
            let _ = writeln!(err, "imagepin: error: {flag}: {e}");
            return EXIT_ERROR;
        }
    };
    // With --format json, stdout gets the list of changes instead of the diff.
    let json = args.format == Format::Json;
    let fix_opts = FixOptions {
        write: args.fix,
        update: args.update,
        color: env.color,
        quiet: args.quiet || json,
    };
    let outcome = match fix::fix(&scanned.files, source.as_ref(), &fix_opts, out) {
        Ok(o) => o,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return EXIT_ERROR,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: {e}");
            return EXIT_ERROR;
        }
    };
    let render = RenderOptions::default();
    // References fix cannot pin (invalid ones) still need the user.
    let left: Vec<Finding> = scanned
        .findings()
        .into_iter()
        .filter(|f| f.status == Status::Invalid)
        .collect();
    let all_errors: Vec<FileError> = scanned
        .errors
        .iter()
        .chain(&outcome.errors)
        .cloned()
        .collect();
    if json {
        let files = scanned.files.len();
        let written = report::json::render_fix(&outcome.changes, &all_errors, args.fix, files, out);
        if let Err(e) = written.and_then(|()| out.flush()) {
            if e.kind() != io::ErrorKind::BrokenPipe {
                let _ = writeln!(err, "imagepin: error: cannot write the report: {e}");
            }
            return EXIT_ERROR;
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
    if !all_errors.is_empty() {
        EXIT_ERROR
    } else if !outcome.changed.is_empty() || !left.is_empty() {
        EXIT_FOUND
    } else {
        EXIT_OK
    }
}

/// Reads and scans `candidates` in parallel; the result keeps their order.
/// `keep_text` keeps each file's text (needed by `--fix`/`--diff`).
pub fn scan_files(config: &Config, candidates: &[Candidate], keep_text: bool) -> Scanned {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(candidates.len());
    let outcomes: Vec<Outcome> = if workers <= 1 {
        candidates
            .iter()
            .map(|c| scan_one(config, c, keep_text))
            .collect()
    } else {
        let next = AtomicUsize::new(0);
        let mut indexed: Vec<(usize, Outcome)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(c) = candidates.get(i) else { break };
                            done.push((i, scan_one(config, c, keep_text)));
                        }
                        done
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        indexed.sort_by_key(|(i, _)| *i);
        indexed.into_iter().map(|(_, o)| o).collect()
    };
    let mut scanned = Scanned::default();
    for o in outcomes {
        match o {
            Outcome::Scanned(f) => scanned.files.push(f),
            Outcome::Failed(e) => scanned.errors.push(e),
            Outcome::Skipped => {}
        }
    }
    scanned
}

enum Outcome {
    Scanned(ScannedFile),
    Failed(FileError),
    Skipped,
}

fn scan_one(config: &Config, candidate: &Candidate, keep_text: bool) -> Outcome {
    let path = &candidate.path;
    let fail = |line, message| {
        Outcome::Failed(FileError {
            path: path.clone(),
            line,
            message,
        })
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return fail(None, format!("cannot read: {e}")),
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        // A YAML file of unknown kind is not ours to judge.
        Err(_) if candidate.kind.is_none() => return Outcome::Skipped,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            return fail(
                Some(line),
                format!("not valid UTF-8 (invalid byte at offset {at})"),
            );
        }
    };
    let Some(kind) = files::kind_of(candidate, &text) else {
        return Outcome::Skipped;
    };
    match crate::scan::scan_file(path, kind, &text, &|r| config.is_ignored_image(r)) {
        Ok(findings) => Outcome::Scanned(ScannedFile {
            path: path.clone(),
            kind,
            text: if keep_text { text } else { String::new() },
            findings,
        }),
        Err(e) => {
            let message = match e.column {
                Some(c) if e.line.is_some() => format!("{kind}: column {c}: {}", e.message),
                _ => format!("{kind}: {}", e.message),
            };
            fail(e.line, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(status: Status) -> Finding {
        Finding {
            path: PathBuf::from("Dockerfile"),
            kind: FileKind::Dockerfile,
            span: 5..11,
            line: 1,
            column: 6,
            reference: "python".into(),
            status,
            context: "FROM".into(),
            note: None,
        }
    }

    #[test]
    fn errors_win_over_failing_findings() {
        let err = FileError {
            path: PathBuf::from("x.yaml"),
            line: Some(3),
            message: "compose: invalid YAML".into(),
        };
        assert_eq!(exit_code(&[finding(Status::Pinned)], &[]), EXIT_OK);
        assert_eq!(exit_code(&[finding(Status::Dynamic)], &[]), EXIT_OK);
        for s in [
            Status::Unpinned,
            Status::Invalid,
            Status::Stale,
            Status::Missing,
        ] {
            assert_eq!(exit_code(&[finding(s)], &[]), EXIT_FOUND, "{s}");
        }
        assert_eq!(
            exit_code(&[finding(Status::Unpinned)], std::slice::from_ref(&err)),
            EXIT_ERROR
        );
        assert_eq!(err.to_string(), "x.yaml:3: compose: invalid YAML");
    }

    #[test]
    fn progress_only_on_a_terminal_outside_pre_commit() {
        assert!(progress_enabled(true, None));
        assert!(!progress_enabled(false, None));
        assert!(!progress_enabled(true, Some("1".into())));
    }

    #[test]
    fn colour_flags_win() {
        assert!(color_enabled(ColorChoice::Always, false));
        assert!(!color_enabled(ColorChoice::Never, true));
        assert!(!color_enabled(ColorChoice::Auto, false));
    }

    #[test]
    fn scanning_keeps_the_candidates_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut candidates = Vec::new();
        for i in 0..40 {
            let p = dir.path().join(format!("{i:02}.Dockerfile"));
            std::fs::write(&p, format!("FROM img{i}:1\n")).unwrap();
            candidates.push(Candidate {
                path: p,
                kind: Some(FileKind::Dockerfile),
            });
        }
        let scanned = scan_files(&Config::default(), &candidates, false);
        let refs: Vec<_> = scanned
            .files
            .iter()
            .map(|f| f.findings[0].reference.clone())
            .collect();
        let expected: Vec<_> = (0..40).map(|i| format!("img{i}:1")).collect();
        assert_eq!(refs, expected);
        assert!(scanned.files.iter().all(|f| f.text.is_empty()));
        let kept = scan_files(&Config::default(), &candidates[..1], true);
        assert_eq!(kept.files[0].text, "FROM img0:1\n");
    }
}
