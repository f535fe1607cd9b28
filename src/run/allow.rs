//! Declared exceptions: turns unpinned findings that an `[[allow]]` rule of
//! the configuration covers into `allowed`, or, once the rule has expired,
//! leaves them failing with a note naming the rule. Runs right after the
//! scan, before `--verify`, `--fix` and the report.

use crate::config::{Config, Date};
use crate::finding::Status;
use crate::scan::batch::ScannedFile;

/// The environment variable that sets "today" for `expires` (for tests and
/// reproducible runs; `YYYY-MM-DD`). Unset: the UTC date of the clock.
pub(crate) const TODAY_VAR: &str = "IMAGEPIN_TODAY";

/// Today's date: `IMAGEPIN_TODAY` when set, else the system clock (UTC).
pub(crate) fn today(var: Option<std::ffi::OsString>) -> Result<Date, String> {
    match var {
        Some(v) => v
            .to_str()
            .and_then(Date::parse)
            .ok_or_else(|| format!("{TODAY_VAR}: {v:?} is not a date YYYY-MM-DD")),
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Ok(Date::from_unix(secs))
        }
    }
}

/// Applies the `[[allow]]` rules to every unpinned finding: the first rule
/// that still holds makes it `allowed`; when only expired rules match, it
/// stays `unpinned` and its note says which rule expired.
pub(crate) fn apply(files: &mut [ScannedFile], config: &Config, today: Date) {
    for file in files {
        for f in &mut file.findings {
            if f.status != Status::Unpinned {
                continue;
            }
            let rules = config.allow_rules(&f.path, &[f.reference.as_str(), f.image()]);
            if let Some(rule) = rules.iter().find(|r| r.active(today)) {
                f.status = Status::Allowed;
                let until = rule
                    .expires
                    .map(|e| format!(" until {e}"))
                    .unwrap_or_default();
                let why = format!(
                    "allowed{until} by [[allow]] #{} ({:?})",
                    rule.number, rule.reason
                );
                f.note = Some(join(&why, f.note.as_deref()));
            } else if let Some(rule) = rules.first() {
                let expires = rule.expires.map(|e| e.to_string()).unwrap_or_default();
                let why = format!(
                    "allowed until {expires} by [[allow]] #{} ({:?}); that exception has expired",
                    rule.number, rule.reason
                );
                f.note = Some(join(&why, f.note.as_deref()));
            }
        }
    }
}

fn join(first: &str, rest: Option<&str>) -> String {
    match rest {
        Some(r) if !r.is_empty() => format!("{first}; {r}"),
        _ => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn scanned(text: &str) -> Vec<ScannedFile> {
        let kind = crate::scan::kind_from_id("dockerfile").unwrap();
        let path = Path::new("/repo/Dockerfile");
        let findings = crate::scan::scan_file(path, kind, text, &|_| false).unwrap();
        vec![ScannedFile {
            path: path.to_path_buf(),
            kind,
            text: String::new(),
            findings,
        }]
    }

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/repo/.imagepin.toml"), Path::new("/repo")).unwrap()
    }

    const RULES: &str = r#"
[[allow]]
paths = ["Dockerfile"]
images = ["node"]
reason = "no rule expires here"
expires = "2020-01-01"
[[allow]]
paths = ["Dockerfile"]
images = ["python"]
reason = "CVE-2026-1 fix pending"
expires = "2026-10-01"
"#;

    fn statuses(today: &str) -> Vec<(Status, Option<String>)> {
        let text = "FROM python:3.12\nFROM node:20\nFROM alpine:3\nFROM python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
        let mut files = scanned(text);
        apply(&mut files, &config(RULES), Date::parse(today).unwrap());
        files[0]
            .findings
            .iter()
            .map(|f| (f.status, f.note.clone()))
            .collect()
    }

    #[test]
    fn active_rules_allow_expired_rules_say_so() {
        let s = statuses("2026-10-01");
        assert_eq!(
            s[0],
            (
                Status::Allowed,
                Some(
                    "allowed until 2026-10-01 by [[allow]] #2 (\"CVE-2026-1 fix pending\")".into()
                )
            )
        );
        assert_eq!(
            s[1],
            (
                Status::Unpinned,
                Some("allowed until 2020-01-01 by [[allow]] #1 (\"no rule expires here\"); that exception has expired".into())
            )
        );
        assert_eq!(s[2], (Status::Unpinned, None));
        // A pinned reference stays pinned: an exception is for the unpinned.
        assert_eq!(s[3], (Status::Pinned, None));
        let s = statuses("2026-10-02");
        assert_eq!(s[0].0, Status::Unpinned);
        assert_eq!(
            s[0].1.as_deref(),
            Some(
                "allowed until 2026-10-01 by [[allow]] #2 (\"CVE-2026-1 fix pending\"); that exception has expired"
            )
        );
    }

    #[test]
    fn today_comes_from_the_variable_or_the_clock() {
        assert_eq!(
            today(Some("2026-10-01".into())).unwrap().to_string(),
            "2026-10-01"
        );
        assert_eq!(
            today(Some("tomorrow".into())).unwrap_err(),
            "IMAGEPIN_TODAY: \"tomorrow\" is not a date YYYY-MM-DD"
        );
        assert!(today(None).unwrap() >= Date::parse("2025-01-01").unwrap());
    }
}
