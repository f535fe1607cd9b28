//! The GitHub Actions format: one `::error file=…,line=…,col=…::…` workflow
//! command per failing finding and per file error, so they show as
//! annotations on the pull request. Values are escaped as the runner expects.

use std::io::{self, Write};

use super::{Report, problem, slash_path};

pub fn render(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in report.findings.iter().filter(|f| f.status.fails_check()) {
        let end = f.column + f.reference.chars().count().max(1);
        writeln!(
            out,
            "::error file={},line={},col={},endColumn={end},title={}::{}",
            property(&slash_path(&f.path)),
            f.line,
            f.column,
            property(&format!("imagepin: {} image", f.status)),
            data(&format!("{}: {}", f.kind, problem(f))),
        )?;
    }
    for e in report.errors {
        let line = e.line.map(|l| format!(",line={l}")).unwrap_or_default();
        writeln!(
            out,
            "::error file={}{line},title={}::{}",
            property(&slash_path(&e.path)),
            property("imagepin: error"),
            data(&e.message),
        )?;
    }
    Ok(())
}

/// Escapes a command's message: `%`, CR and LF.
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property: as [`data`], plus `:` and `,`.
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::super::testdata::sample;
    use super::*;

    #[test]
    fn commands() {
        let (findings, errors) = sample();
        let r = Report {
            findings: &findings,
            errors: &errors,
            files: 2,
        };
        let mut out = Vec::new();
        render(&r, &mut out).unwrap();
        let t = String::from_utf8(out).unwrap();
        let lines: Vec<_> = t.lines().collect();
        assert_eq!(
            lines[0],
            "::error file=app/Dockerfile,line=3,col=6,endColumn=22,title=imagepin%3A unpinned image\
             ::dockerfile: python:3.12-slim is not pinned to a digest"
        );
        assert!(lines[1].starts_with("::error file=bad/compose.yaml,line=4,"));
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn escaping() {
        assert_eq!(data("50%\r\nx"), "50%25%0D%0Ax");
        assert_eq!(property("a,b:c%"), "a%2Cb%3Ac%25");
    }
}
