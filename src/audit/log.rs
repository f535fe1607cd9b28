//! `imagepin audit-log FILE`: reads an audit log back (bad lines reported
//! by number and skipped), selects a range of it (`--since`, `--last`) and
//! renders it as a Markdown table for a pull-request body, or as JSON.

use std::fmt::Write as _;

use super::Record;

/// The largest log read (a log grows by a few hundred bytes per change).
pub(crate) const MAX_LOG_SIZE: u64 = 64 * 1024 * 1024;

/// A log's lines, each with its 1-based line number: the records, and the
/// lines that are not records with why.
pub(crate) type Parsed = (Vec<(usize, Record)>, Vec<(usize, String)>);

/// The records of a log's text, with the 1-based line of each; lines that
/// are not a record are returned as `(line, message)`. Blank lines are
/// skipped silently.
pub(crate) fn parse(text: &str) -> Parsed {
    let mut records = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) if time_key(&r.time).is_some() => records.push((i + 1, r)),
            Ok(r) => bad.push((
                i + 1,
                format!(
                    "`time` {:?} is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)",
                    r.time
                ),
            )),
            Err(e) => bad.push((i + 1, format!("not an audit record: {e}"))),
        }
    }
    (records, bad)
}

/// The comparable part of a record's time, `YYYY-MM-DDTHH:MM:SS`, when the
/// time is RFC 3339 in UTC (`Z`, optional fraction).
fn time_key(time: &str) -> Option<&str> {
    let key = time.get(..19)?;
    let rest = &time[19..];
    let fraction_ok = match rest.strip_prefix('.') {
        Some(f) => f
            .strip_suffix('Z')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
        None => rest == "Z",
    };
    let shape = key.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    (fraction_ok && shape && crate::config::Date::parse(&key[..10]).is_some()).then_some(key)
}

/// Which records `--since`/`--last` keep.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Range {
    /// Every record.
    #[default]
    All,
    /// Records at or after this time (`YYYY-MM-DD` or RFC 3339 UTC).
    Since(String),
    /// The records of the last N runs (a run's records share its `time`).
    LastRuns(usize),
}

impl Range {
    /// `--since DATE`: `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) fn since(text: &str) -> Result<Range, String> {
        if crate::config::Date::parse(text).is_some() {
            return Ok(Range::Since(format!("{text}T00:00:00")));
        }
        match time_key(text) {
            Some(k) => Ok(Range::Since(k.to_string())),
            None => Err(format!(
                "--since {text:?}: expected a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM:SSZ"
            )),
        }
    }

    /// The records in range, in log order.
    pub(crate) fn select<'a>(&self, records: &'a [(usize, Record)]) -> Vec<&'a Record> {
        match self {
            Range::All => records.iter().map(|(_, r)| r).collect(),
            Range::Since(key) => records
                .iter()
                .map(|(_, r)| r)
                .filter(|r| time_key(&r.time).is_some_and(|t| t >= key.as_str()))
                .collect(),
            Range::LastRuns(n) => {
                // Runs are the groups of consecutive records with one time.
                let mut start = records.len();
                let mut runs = 0;
                while start > 0 && runs < *n {
                    let time = &records[start - 1].1.time;
                    while start > 0 && &records[start - 1].1.time == time {
                        start -= 1;
                    }
                    runs += 1;
                }
                records[start..].iter().map(|(_, r)| r).collect()
            }
        }
    }
}

/// The records as a Markdown table: image, tag, old → new (full digests),
/// published, files, and a reason column when any record has a reason.
pub(crate) fn markdown(records: &[&Record]) -> String {
    if records.is_empty() {
        return "_No image changes recorded._\n".to_string();
    }
    let reasons = records.iter().any(|r| r.reason.is_some());
    let mut out = String::from("| Image | Tag | Old → New | Published | Files |");
    if reasons {
        out.push_str(" Reason |");
    }
    out.push_str("\n| --- | --- | --- | --- | --- |");
    if reasons {
        out.push_str(" --- |");
    }
    out.push('\n');
    for r in records {
        let old = r
            .old_digest
            .as_deref()
            .map_or_else(|| "_none_".to_string(), code);
        let files: Vec<String> = r
            .files
            .iter()
            .map(|p| code(&format!("{}:{}", p.path, p.line)))
            .collect();
        let _ = write!(
            out,
            "| {} | {} | {old} → {} | {} | {} |",
            code(&r.image),
            r.tag.as_deref().map_or_else(|| "_none_".to_string(), code),
            code(&r.new_digest),
            r.published.as_deref().map_or_else(
                || "_unknown_".to_string(),
                |p| match time_key(p) {
                    Some(_) => p.to_string(),
                    None => crate::escape::markdown(p),
                }
            ),
            files.join("<br>"),
        );
        if reasons {
            let reason = r.reason.as_deref().map(crate::escape::markdown);
            let _ = write!(out, " {} |", reason.unwrap_or_default());
        }
        out.push('\n');
    }
    out
}

/// Text as a Markdown code span inside a table cell: control characters
/// shown as escapes, `|` escaped for the table, and a fence longer than any
/// run of backticks inside.
pub(crate) fn code(text: &str) -> String {
    let text = crate::escape::visible(text).replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{text}{fence}")
    } else {
        format!("{fence} {text} {fence}")
    }
}

/// The records as a JSON array (the log's own objects), pretty-printed.
pub(crate) fn json(records: &[&Record]) -> String {
    let mut s = serde_json::to_string_pretty(records).unwrap_or_else(|_| "[]".to_string());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn line(time: &str, image: &str, old: Option<&str>, reason: Option<&str>) -> String {
        serde_json::json!({
            "time": time, "action": if old.is_some() { "update" } else { "pin" },
            "image": image, "tag": "1", "old_digest": old, "new_digest": B,
            "files": [{"path": "Dockerfile", "line": 1}, {"path": "a|b.yaml", "line": 2}],
            "published": null, "platforms": [], "commit": null, "who": null, "reason": reason,
        })
        .to_string()
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_the_rest_render() {
        let text = format!(
            "{}\nnot json\n\n{}\n{{\"time\":\"yesterday\",\"action\":\"pin\",\"image\":\"x\",\"new_digest\":\"{B}\"}}\n{}\r\n",
            line("2026-11-01T10:00:00Z", "docker.io/library/a", None, None),
            line("2026-11-08T10:00:00Z", "docker.io/library/b", Some(A), None),
            line(
                "2026-11-08T10:00:00Z",
                "docker.io/library/c",
                Some(A),
                Some("CVE-1 | urgent")
            ),
        );
        let (records, bad) = parse(&text);
        assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 4, 6]);
        assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), [2, 5]);
        assert!(bad[0].1.starts_with("not an audit record: "), "{bad:?}");
        assert!(bad[1].1.contains("\"yesterday\""), "{bad:?}");

        let all = Range::All.select(&records);
        assert_eq!(
            markdown(&all),
            format!(
                "| Image | Tag | Old → New | Published | Files | Reason |\n\
                 | --- | --- | --- | --- | --- | --- |\n\
                 | `docker.io/library/a` | `1` | _none_ → `{B}` | _unknown_ | `Dockerfile:1`<br>`a\\|b.yaml:2` |  |\n\
                 | `docker.io/library/b` | `1` | `{A}` → `{B}` | _unknown_ | `Dockerfile:1`<br>`a\\|b.yaml:2` |  |\n\
                 | `docker.io/library/c` | `1` | `{A}` → `{B}` | _unknown_ | `Dockerfile:1`<br>`a\\|b.yaml:2` | CVE\\-1 \\| urgent |\n"
            )
        );
        // No reason anywhere: no reason column.
        assert!(markdown(&all[..2]).starts_with(
            "| Image | Tag | Old → New | Published | Files |\n| --- | --- | --- | --- | --- |\n"
        ));
        assert_eq!(markdown(&[]), "_No image changes recorded._\n");
    }

    #[test]
    fn ranges_select_by_time_or_by_run() {
        let text = [
            line("2026-11-01T10:00:00Z", "a", None, None),
            line("2026-11-08T10:00:00Z", "b", None, None),
            line("2026-11-08T10:00:00Z", "c", None, None),
            line("2026-11-15T10:00:00.5Z", "d", None, None),
        ]
        .join("\n");
        let (records, bad) = parse(&text);
        assert!(bad.is_empty(), "{bad:?}");
        let images = |r: &Range| -> Vec<String> {
            r.select(&records).iter().map(|r| r.image.clone()).collect()
        };
        assert_eq!(images(&Range::LastRuns(1)), ["d"]);
        assert_eq!(images(&Range::LastRuns(2)), ["b", "c", "d"]);
        assert_eq!(images(&Range::LastRuns(9)), ["a", "b", "c", "d"]);
        assert_eq!(
            images(&Range::since("2026-11-08").unwrap()),
            ["b", "c", "d"]
        );
        assert_eq!(
            images(&Range::since("2026-11-08T10:00:01Z").unwrap()),
            ["d"]
        );
        assert!(Range::since("last week").is_err());
        assert!(Range::since("2026-02-30").is_err());
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x\ny"), "`x\\ny`");
    }
}
