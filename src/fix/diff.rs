//! Rendering `--diff`/`--fix` output: a unified diff per changed file that
//! `git apply` and `patch -p1` accept when uncoloured, and that shows only
//! the text (colours from [`crate::palette`]) on a terminal.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use similar::{ChangeTag, TextDiff};

use crate::palette::{ADDED, HUNK, LOCATION, PLAIN, REMOVED, paint};
use crate::report::escape::{git_path, visible_keep_tabs};

/// Writes a unified diff of one file: `--- a/path`, `+++ b/path`, hunks with
/// three lines of context; a missing final newline is marked as `diff` does.
///
/// Uncoloured (a pipe, `--color never`), every line carries its exact bytes,
/// CR and BOM included, so `imagepin --diff > p.patch` applies with `git
/// apply` or `patch -p1` (a terminal shows a CRLF line like any other).
/// Coloured (a terminal), the CR and the BOM are left out and other control
/// characters are shown as escapes, so nothing but the text reaches the
/// screen. A path with a control character, `"` or `\` is quoted in the
/// headers as git quotes it (`"a/x\ny"`), which `git apply` reads.
pub(super) fn write_diff(
    out: &mut dyn Write,
    path: &Path,
    old: &str,
    new: &str,
    color: bool,
) -> std::io::Result<()> {
    let shown = header_path(path);
    let diff = TextDiff::from_lines(old, new);
    let (old_name, new_name) = (git_path("a/", &shown), git_path("b/", &shown));
    writeln!(
        out,
        "{}",
        paint(color, LOCATION, &format!("--- {old_name}"))
    )?;
    writeln!(
        out,
        "{}",
        paint(color, LOCATION, &format!("+++ {new_name}"))
    )?;
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        writeln!(out, "{}", paint(color, HUNK, &hunk.header().to_string()))?;
        for change in hunk.iter_changes() {
            let (sign, style) = match change.tag() {
                ChangeTag::Delete => ('-', REMOVED),
                ChangeTag::Insert => ('+', ADDED),
                ChangeTag::Equal => (' ', PLAIN),
            };
            let line = change.value();
            let mut content = Cow::Borrowed(line.strip_suffix('\n').unwrap_or(line));
            if color {
                let text = content.strip_suffix('\r').unwrap_or(&content);
                let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                content = Cow::Owned(visible_keep_tabs(text).into_owned());
            }
            writeln!(out, "{}", paint(color, style, &format!("{sign}{content}")))?;
            if change.missing_newline() {
                writeln!(out, "\\ No newline at end of file")?;
            }
        }
    }
    Ok(())
}

/// The path after `a/` and `b/` in the headers: the machine-output path
/// ([`crate::report::slash_path`]: forward slashes, no `./`) without any
/// further leading `./` or `/`, since the prefix makes it relative.
fn header_path(path: &Path) -> String {
    let s = crate::report::slash_path(path);
    let s = s.trim_start_matches("./");
    s.trim_start_matches('/').to_string()
}
