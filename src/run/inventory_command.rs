//! `imagepin inventory [PATHS] [--format markdown|json]`: scan, ask the
//! registry (or, with `--offline`, only the cache) what each pinned digest
//! is, and print the inventory. A digest it can't describe is listed with
//! an unknown date; files that can't be read are errors (exit 2).

use std::io::Write;

use super::{Env, Exit, digest_source, load_config, resolve_options, say_verbose, scan_selection};
use crate::cli::{InventoryArgs, TableFormat};
use crate::files;
use crate::inventory;
use crate::report::{self, RenderOptions};
use crate::resolve::DigestSource;

pub(super) fn run(
    args: &InventoryArgs,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let Some(config) = load_config(&args.common, env, err) else {
        return Exit::Error;
    };
    let selection = files::collect(&config, &args.paths, &env.cwd);
    let scanned = scan_selection(&config, selection, false, env);

    let opts = resolve_options(&args.common, env, false, false);
    let source = match digest_source(&config, opts) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: inventory: {e}");
            return Exit::Error;
        }
    };
    let root = report::RepoRoot::discover(
        &env.cwd,
        None,
        std::env::var_os("GIT_CEILING_DIRECTORIES").as_deref(),
    )
    .unwrap_or_default();
    let today = day_number(env.today);
    let findings = scanned.findings();
    let inv = inventory::build(&findings, Some(&source as &dyn DigestSource), &root, today);
    say_verbose(&args.common, &config, Some(&source), err);
    let text = match args.format {
        TableFormat::Markdown => inventory::markdown(&inv),
        TableFormat::Json => inventory::json(&inv),
    };
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = writeln!(err, "imagepin: error: cannot write the inventory: {e}");
        }
        return Exit::Error;
    }
    let _ = report::human::render_errors(&scanned.errors, &RenderOptions::default(), err);
    Exit::of(&scanned.errors, false)
}

/// Days since 1970-01-01 of a date.
fn day_number(date: crate::config::Date) -> i64 {
    date.to_unix().div_euclid(86_400)
}
