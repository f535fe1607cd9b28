//! The human format: one line per finding that fails the check
//! (`path:line:column: <kind>: <reference> is not pinned to a digest`), one
//! line per file error (`path[:line]: error: …`), then a one-line summary.
//! Colour (from [`crate::palette`]) only when asked for (the runner decides
//! with [`crate::palette::enabled`]). Paths, references and messages go through
//! [`visible`], colour or not: no control character from a file or a file
//! name reaches the terminal.

use std::io::{self, Write};

use super::escape::visible;
use super::{RenderOptions, Report, plural, problem, summary};
use crate::finding::FileError;
use crate::finding::Finding;
use crate::fix::FixOutcome;
use crate::palette::{FAILURE, IMAGE, LOCATION, SUCCESS, paint};

/// The whole human report: findings (unless quiet), errors, summary.
pub(crate) fn render(
    report: &Report<'_>,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if !opts.quiet {
        render_findings(report.findings, opts, out)?;
    }
    render_errors(report.errors, opts, out)?;
    let failing = report.findings.iter().any(|f| f.status.fails_check());
    let style = if !report.errors.is_empty() || failing {
        FAILURE
    } else {
        SUCCESS
    };
    writeln!(out, "{}", paint(opts.color, style, &summary(report)))
}

/// One line per finding that fails the check; the others are not shown.
pub(crate) fn render_findings(
    findings: &[Finding],
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for f in findings.iter().filter(|f| f.status.fails_check()) {
        let location = format!("{}:{}:{}:", crate::escape::path(&f.path), f.line, f.column);
        let text = problem(f);
        // A split reference is shown as the image it makes up (the
        // reference as written is at line:column).
        let rest = text.strip_prefix(f.image()).unwrap_or(&text);
        writeln!(
            out,
            "{} {}: {}{}",
            paint(opts.color, LOCATION, &location),
            f.kind,
            paint(opts.color, IMAGE, &visible(f.image())),
            visible(rest),
        )?;
    }
    Ok(())
}

/// One line per error: `path[:line]: error: message`.
pub(crate) fn render_errors(
    errors: &[FileError],
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for e in errors {
        // An error of the whole run has no path: it is imagepin's own.
        let mut location = if e.path.as_os_str().is_empty() {
            "imagepin".to_string()
        } else {
            crate::escape::path(&e.path)
        };
        if let Some(line) = e.line {
            location.push_str(&format!(":{line}"));
        }
        writeln!(
            out,
            "{}: {} {}",
            paint(opts.color, LOCATION, &location),
            paint(opts.color, FAILURE, "error:"),
            visible(&e.message)
        )?;
    }
    Ok(())
}

/// The line after `--fix`/`--diff`: what was (or would be) pinned.
pub(crate) fn fix_summary(
    outcome: &FixOutcome,
    write: bool,
    files: usize,
    errors: usize,
) -> String {
    let errors = match errors {
        0 => String::new(),
        n => format!("; {}", plural(n, "error")),
    };
    let scanned = plural(files, "file");
    if outcome.changed.is_empty() {
        return format!("nothing pinned in {scanned}{errors}");
    }
    let (pin, update) = if write {
        ("pinned", "updated")
    } else {
        ("would pin", "would update")
    };
    let mut parts = Vec::new();
    if outcome.pinned > 0 || outcome.updated == 0 {
        parts.push(format!("{pin} {}", plural(outcome.pinned, "reference")));
    }
    if outcome.updated > 0 {
        parts.push(format!(
            "{update} {}",
            plural(outcome.updated, "stale digest")
        ));
    }
    format!(
        "{} in {} (of {scanned} scanned){errors}",
        parts.join(" and "),
        plural(outcome.changed.len(), "file")
    )
}

#[cfg(test)]
mod tests {
    use super::super::testdata::sample;
    use super::*;

    fn text(report: &Report<'_>, opts: RenderOptions) -> String {
        let mut out = Vec::new();
        render(report, &opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_errors_and_summary() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        assert_eq!(
            text(&r, RenderOptions::default()),
            "app/Dockerfile:3:6: dockerfile: python:3.12-slim is not pinned to a digest\n\
             bad/compose.yaml:4: error: compose: column 3: invalid YAML: mapping values are not allowed\n\
             3 image references (1 unpinned, 1 pinned, 1 stage) in 2 files; 1 error\n"
        );
    }

    #[test]
    fn quiet_keeps_errors_and_summary() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        let t = text(
            &r,
            RenderOptions {
                quiet: true,
                ..RenderOptions::default()
            },
        );
        assert!(!t.contains("python"), "{t}");
        assert_eq!(t.lines().count(), 2, "{t}");
    }

    #[test]
    fn fix_summaries() {
        let mut o = FixOutcome::default();
        assert_eq!(fix_summary(&o, true, 3, 0), "nothing pinned in 3 files");
        assert_eq!(
            fix_summary(&o, true, 3, 2),
            "nothing pinned in 3 files; 2 errors"
        );
        o.changed = vec!["Dockerfile".into()];
        o.pinned = 2;
        assert_eq!(
            fix_summary(&o, false, 3, 0),
            "would pin 2 references in 1 file (of 3 files scanned)"
        );
        o.pinned = 0;
        o.updated = 1;
        assert_eq!(
            fix_summary(&o, true, 1, 0),
            "updated 1 stale digest in 1 file (of 1 file scanned)"
        );
    }

    #[test]
    fn control_characters_are_escaped_with_or_without_colour() {
        let (mut findings, mut errors) = sample();
        findings[0].path = "a\nb\x1b[31m/Dockerfile".into();
        findings[0].reference = "py\u{202e}thon\x07:3".into();
        errors[0].message = "bad\r\x1b]0;title\x07".into();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        assert_eq!(
            text(&r, RenderOptions::default()),
            "a\\nb\\u{1b}[31m/Dockerfile:3:6: dockerfile: py\\u{202e}thon\\u{7}:3 is not pinned to a digest\n\
             bad/compose.yaml:4: error: bad\\r\\u{1b}]0;title\\u{7}\n\
             3 image references (1 unpinned, 1 pinned, 1 stage) in 2 files; 1 error\n"
        );
        let coloured = text(
            &r,
            RenderOptions {
                color: true,
                ..RenderOptions::default()
            },
        );
        assert!(
            coloured.contains("\x1b[33mpy\\u{202e}thon\\u{7}:3\x1b[0m"),
            "{coloured:?}"
        );
        assert!(!coloured.contains('\x07') && !coloured.contains('\u{202e}'));
    }

    #[test]
    fn colour_only_when_asked() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        assert!(!text(&r, RenderOptions::default()).contains('\x1b'));
        let coloured = text(
            &r,
            RenderOptions {
                color: true,
                ..RenderOptions::default()
            },
        );
        assert!(coloured.contains("\x1b[1m"));
    }
}
