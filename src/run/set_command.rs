//! `imagepin set IMAGE[:TAG]@DIGEST [PATHS]`: the rollback. Checks with the
//! registry that the digest exists in that repository, then gives every
//! reference to the image (and tag) that digest, with the same byte-exact
//! edits, safety check and atomic writes as `--fix`. A digest that does not
//! exist, or can't be checked, is an error and nothing is written. With
//! `--audit-log FILE`, each changed image is recorded as a `set` line.

use std::io::{self, Write};

use super::{
    Env, Exit, digest_source, load_config, resolve_options, say_verbose, scan_selection,
    write_audit,
};
use crate::cli::SetArgs;
use crate::files;
use crate::finding::{FileError, Status};
use crate::fix::{self, FixOptions, SetTarget};
use crate::reference::Reference;
use crate::report::{self, RenderOptions};
use crate::resolve::DigestSource;

/// Runs `imagepin set`: 0 when every reference to the image has the digest
/// (set now or already), 1 when no reference to the image was found, 2 on
/// any error.
pub(super) fn run(args: &SetArgs, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let target = match SetTarget::parse(&args.target) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: set: {}", report::escape::visible(&e));
            return Exit::Error;
        }
    };
    let Some(config) = load_config(&args.common, env, err) else {
        return Exit::Error;
    };
    let selection = files::collect(&config, &args.paths, &env.cwd);
    let mut scanned = scan_selection(&config, selection, true, env);

    // The registry must know the digest in that repository before any
    // file is touched.
    let opts = resolve_options(&args.common, env, true, args.quiet);
    let source = match digest_source(&config, opts) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: set: {e}");
            return Exit::Error;
        }
    };
    let dref = target.digest_ref();
    let exists = source.digests_exist(std::slice::from_ref(&dref)).pop();
    let refused = match exists {
        Some(Ok(true)) => None,
        Some(Ok(false)) => Some(format!(
            "{} does not exist in {}/{}; nothing written",
            dref.digest, dref.registry, dref.repository
        )),
        Some(Err(e)) => Some(format!(
            "could not check that {dref} exists: {}; nothing written",
            e.message
        )),
        None => Some(format!(
            "could not check that {dref} exists: no answer; nothing written"
        )),
    };
    if let Some(message) = refused {
        say_verbose(&args.common, &config, Some(&source), err);
        let _ = writeln!(
            err,
            "imagepin: error: set: {}",
            report::escape::visible(&message)
        );
        return Exit::Error;
    }

    let audit_log = args.audit.audit_log.as_deref().filter(|_| !args.diff);
    let Ok(log) = super::open_audit_log(audit_log, env, "set: ", err) else {
        return Exit::Error;
    };
    let fix_opts = FixOptions {
        write: !args.diff,
        update: false,
        color: env.color,
        quiet: args.quiet,
        only: None,
        set: Some(target.clone()),
    };
    let outcome = fix::fix(&scanned.files, &source, &fix_opts, out);
    say_verbose(&args.common, &config, Some(&source), err);
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Exit::Error,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: {e}");
            return Exit::Error;
        }
    };
    let _ = out.flush();
    let mut all_errors: Vec<FileError> = std::mem::take(&mut scanned.errors);
    all_errors.extend(outcome.errors);
    if let Some(log) = log {
        let ctx = crate::audit::Context::of_run(&env.cwd, args.audit.reason.clone());
        all_errors.extend(write_audit(log, &outcome.changes, true, &source, &ctx, err));
    }
    let _ = report::human::render_errors(&all_errors, &RenderOptions::default(), err);
    // References to the image that `set` may change, and those of them
    // that already had the digest.
    let (mut found, mut already) = (0, 0);
    for f in scanned.findings() {
        let settable = matches!(
            f.status,
            Status::Unpinned | Status::Pinned | Status::Stale | Status::Missing
        );
        if let Ok(r) = Reference::parse(f.image()) {
            if settable && target.matches(&r) {
                found += 1;
                already += usize::from(r.digest.as_deref() == Some(target.digest.as_str()));
            }
        }
    }
    let verb = if args.diff { "would set" } else { "set" };
    let _ = writeln!(
        err,
        "{verb} {} to {target} in {} ({already} already had it; {} scanned)",
        report::plural(outcome.changes.len(), "reference"),
        report::plural(outcome.changed.len(), "file"),
        report::plural(scanned.files.len(), "file"),
    );
    if found == 0 && all_errors.is_empty() {
        let _ = writeln!(
            err,
            "imagepin: no reference to {} was found",
            report::escape::visible(&args.target)
        );
    }
    Exit::of(&all_errors, found == 0)
}
