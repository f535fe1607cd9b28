//! The GitHub Actions format: one `::error file=…,line=…,col=…::…` workflow
//! command per failing finding and per file error, so they show as
//! annotations on the pull request, then the one-line summary. Paths are
//! relative to the repository root ([`super::root`]), which is what the
//! runner matches annotations against. Values are escaped as the runner
//! expects, after every control character from a file or a file name is made
//! [visible]: a newline in a file name cannot start another command.
//!
//! GitHub shows at most 10 error annotations per step, so when
//! `$GITHUB_STEP_SUMMARY` is set the whole list is also appended there as
//! Markdown ([`append_step_summary`]), which the run's summary page shows.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use super::escape::{markdown, visible};
use super::{RepoRoot, Report, failing, plural, problem, summary};

/// Rows in the step summary's table at most; GitHub takes 1 MiB per step.
pub(crate) const STEP_SUMMARY_ROWS: usize = 1000;
/// Error annotations GitHub shows per step; the rest are dropped.
pub(crate) const ANNOTATIONS_PER_STEP: usize = 10;

/// The commands and the summary line. With more than
/// [`ANNOTATIONS_PER_STEP`] commands, a last line says where to see them
/// all: the step summary when `step_summary` (it is being written), else
/// the log.
pub(crate) fn render(
    report: &Report<'_>,
    root: &RepoRoot,
    step_summary: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    for f in failing(report) {
        let end = f.column + f.reference.chars().count().max(1);
        writeln!(
            out,
            "::error file={},line={},col={},endColumn={end},title={}::{}",
            property(root.locate(&f.path).as_str()),
            f.line,
            f.column,
            property(&format!("imagepin: {} image", f.status)),
            data(&format!("{}: {}", f.kind, problem(f))),
        )?;
    }
    for e in report.errors {
        // An error of the whole run (no path) is annotated on no file.
        let file = if e.path.as_os_str().is_empty() {
            String::new()
        } else {
            let line = e.line.map(|l| format!(",line={l}")).unwrap_or_default();
            format!("file={}{line},", property(root.locate(&e.path).as_str()))
        };
        writeln!(
            out,
            "::error {file}title={}::{}",
            property("imagepin: error"),
            data(&e.message),
        )?;
    }
    writeln!(out, "imagepin: {}", summary(report))?;
    let commands = failing(report).len() + report.errors.len();
    if commands > ANNOTATIONS_PER_STEP {
        let all = if step_summary {
            "the job summary lists them all"
        } else {
            "the lines above list them all"
        };
        writeln!(
            out,
            "imagepin: GitHub shows only the first {ANNOTATIONS_PER_STEP} of these {commands} \
             annotations; {all}"
        )?;
    }
    Ok(())
}

/// Escapes a command's message: control characters made [visible], then
/// `%`, CR and LF percent-encoded as the runner decodes them.
pub(crate) fn data(s: &str) -> String {
    visible(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property: as [`data`], plus `:` and `,`.
pub(crate) fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Appends the Markdown summary to the file `path` names
/// (`$GITHUB_STEP_SUMMARY`), creating it if needed. An error names the file.
pub(crate) fn append_step_summary(
    report: &Report<'_>,
    root: &RepoRoot,
    path: &Path,
) -> io::Result<()> {
    let text = step_summary(report, root);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("$GITHUB_STEP_SUMMARY ({}): {e}", path.display()),
            )
        })
}

/// The step summary: a heading, the summary line, a table of the failing
/// references (at most [`STEP_SUMMARY_ROWS`]) and a table of the errors.
/// Every cell is escaped for Markdown.
pub(crate) fn step_summary(report: &Report<'_>, root: &RepoRoot) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### imagepin\n\n{}\n", summary(report));
    let failing = failing(report);
    if !failing.is_empty() {
        s.push_str("| File | Line | Image | Problem |\n|---|---:|---|---|\n");
        for f in failing.iter().take(STEP_SUMMARY_ROWS) {
            let text = problem(f);
            let rest = text.strip_prefix(f.image()).unwrap_or(&text);
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                markdown(root.locate(&f.path).as_str()),
                f.line,
                markdown(f.image()),
                markdown(rest.trim_start()),
            );
        }
        if failing.len() > STEP_SUMMARY_ROWS {
            let _ = writeln!(
                s,
                "\n… and {} more; run `imagepin --check` to see them all.",
                plural(failing.len() - STEP_SUMMARY_ROWS, "reference")
            );
        }
        s.push('\n');
    }
    if !report.errors.is_empty() {
        s.push_str("| File | Line | Error |\n|---|---:|---|\n");
        for e in report.errors.iter().take(STEP_SUMMARY_ROWS) {
            let line = e.line.map(|l| l.to_string()).unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} | {line} | {} |",
                markdown(root.locate(&e.path).as_str()),
                markdown(&e.message),
            );
        }
        if report.errors.len() > STEP_SUMMARY_ROWS {
            let _ = writeln!(
                s,
                "\n… and {} more.",
                plural(report.errors.len() - STEP_SUMMARY_ROWS, "error")
            );
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::testdata::sample;
    use super::*;

    #[test]
    fn commands_then_the_summary() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        let mut out = Vec::new();
        render(&r, &RepoRoot::default(), false, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::error file=app/Dockerfile,line=3,col=6,endColumn=22,title=imagepin%3A unpinned image\
             ::dockerfile: python:3.12-slim is not pinned to a digest\n\
             ::error file=bad/compose.yaml,line=4,title=imagepin%3A error\
             ::compose: column 3: invalid YAML: mapping values are not allowed\n\
             imagepin: 3 image references (1 unpinned, 1 pinned, 1 stage) in 2 files; 1 error\n"
        );
    }

    #[test]
    fn past_the_annotation_cap_the_summary_says_where_to_look() {
        let findings: Vec<_> = (1..=11)
            .map(|i| {
                crate::report::testdata::finding(
                    "Dockerfile",
                    i,
                    6,
                    "a:1",
                    crate::finding::Status::Unpinned,
                )
            })
            .collect();
        let r = Report {
            findings: &findings,
            errors: &[],
            files: 1,
        };
        let last = |step_summary| {
            let mut out = Vec::new();
            render(&r, &RepoRoot::default(), step_summary, &mut out).unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .last()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            last(true),
            "imagepin: GitHub shows only the first 10 of these 11 annotations; \
             the job summary lists them all"
        );
        assert!(last(false).ends_with("; the lines above list them all"));
        let ten = Report {
            findings: &findings[..10],
            errors: &[],
            files: 1,
        };
        let mut out = Vec::new();
        render(&ten, &RepoRoot::default(), true, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("imagepin: 10 image references (10 unpinned) in 1 file\n"));
    }

    #[test]
    fn escaping() {
        assert_eq!(data("50%\r\nx"), "50%25\\r\\nx");
        assert_eq!(property("a,b:c%"), "a%2Cb%3Ac%25");
        assert_eq!(
            property("x\n::error::y\x1b[2J"),
            "x\\n%3A%3Aerror%3A%3Ay\\u{1b}[2J"
        );
    }

    #[test]
    fn markdown_summary() {
        let (mut findings, errors) = sample();
        findings[0].reference = "evil|<b>x</b>".into();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        assert_eq!(
            step_summary(&r, &RepoRoot::default()),
            "### imagepin\n\n\
             3 image references (1 unpinned, 1 pinned, 1 stage) in 2 files; 1 error\n\n\
             | File | Line | Image | Problem |\n|---|---:|---|---|\n\
             | app/Dockerfile | 3 | evil\\|\\<b\\>x\\</b\\> | is not pinned to a digest |\n\n\
             | File | Line | Error |\n|---|---:|---|\n\
             | bad/compose.yaml | 4 | compose\\: column 3\\: invalid YAML\\: mapping values are not allowed |\n\n"
        );
    }
}
