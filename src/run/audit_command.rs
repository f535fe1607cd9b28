//! `imagepin audit-log FILE [--since DATE | --last N] [--format]`: the audit
//! log as a Markdown table (for a pull-request body) or JSON on stdout.
//! Lines that are not records are reported on stderr with their line number
//! and skipped; the rest still render (exit 2 then, so CI notices).

use std::io::Write;

use super::{Env, Exit};
use crate::audit::log::{self, MAX_LOG_SIZE, Range};
use crate::cli::{AuditLogArgs, TableFormat};
use crate::escape;

pub(super) fn run(
    args: &AuditLogArgs,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let shown = escape::path(&args.file);
    let range = match (&args.since, args.last) {
        (Some(s), _) => match Range::since(s) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "imagepin: error: {}", escape::visible(&e));
                return Exit::Error;
            }
        },
        (None, Some(n)) => Range::LastRuns(n as usize),
        (None, None) => Range::All,
    };
    let text = match crate::fsio::read_regular_text(&env.cwd.join(&args.file), MAX_LOG_SIZE) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "imagepin: error: {shown}: {e}");
            return Exit::Error;
        }
    };
    let (records, bad) = log::parse(&text);
    for (line, message) in &bad {
        let _ = writeln!(
            err,
            "imagepin: error: {shown}:{line}: {}; skipped",
            escape::visible(message)
        );
    }
    let selected = range.select(&records);
    let rendered = match args.format {
        TableFormat::Markdown => log::markdown(&selected),
        TableFormat::Json => log::json(&selected),
    };
    if let Err(e) = out
        .write_all(rendered.as_bytes())
        .and_then(|()| out.flush())
    {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = writeln!(err, "imagepin: error: cannot write the table: {e}");
        }
        return Exit::Error;
    }
    if bad.is_empty() {
        Exit::Clean
    } else {
        Exit::Error
    }
}
