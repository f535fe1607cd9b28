//! One colour palette for everything imagepin paints — the human report
//! and the `--fix`/`--diff` diffs — as [`anstyle`] styles, and the one rule
//! that decides whether stdout is painted at all ([`enabled`]).

use std::ffi::OsString;

use anstyle::{AnsiColor, Style};

/// `--color`: when to paint (the CLI takes it from here, as it takes
/// `--format` from the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// A place in a file: `path:line:column:` in the report, the `---`/`+++`
/// file headers of a diff.
pub const LOCATION: Style = Style::new().bold();
/// `error:`, and the summary of a run that failed the check.
pub const FAILURE: Style = AnsiColor::Red.on_default().bold();
/// The summary of a run that passed.
pub const SUCCESS: Style = AnsiColor::Green.on_default();
/// The image reference a finding is about.
pub const IMAGE: Style = AnsiColor::Yellow.on_default();
/// A diff's `@@ … @@` hunk header.
pub(crate) const HUNK: Style = AnsiColor::Cyan.on_default();
/// A removed diff line.
pub(crate) const REMOVED: Style = AnsiColor::Red.on_default();
/// An added diff line.
pub(crate) const ADDED: Style = AnsiColor::Green.on_default();
/// Unpainted (a diff's context lines).
pub(crate) const PLAIN: Style = Style::new();

/// `text` in `style` when `on`, else as it is. A plain style adds nothing,
/// not even a reset.
pub(crate) fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// Whether to paint stdout. `--color always`/`never` win over everything;
/// under `auto`, as clap's own help (`anstream`) decides, and in this order:
/// a non-empty `NO_COLOR` means no colour; a `CLICOLOR_FORCE` or
/// `FORCE_COLOR` that is set, non-empty and not `0` means colour, terminal
/// or not; `CLICOLOR=0` means no colour; else colour on a terminal whose
/// `TERM` is not `dumb`. `var` reads the environment (a parameter so the
/// rule can be tested).
pub(crate) fn enabled(
    choice: ColorChoice,
    stdout_is_terminal: bool,
    var: impl Fn(&str) -> Option<OsString>,
) -> bool {
    let non_empty = |name: &str| var(name).is_some_and(|v| !v.is_empty());
    let forced = |name: &str| non_empty(name) && var(name).is_some_and(|v| v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if non_empty("NO_COLOR") => false,
        ColorChoice::Auto if forced("CLICOLOR_FORCE") || forced("FORCE_COLOR") => true,
        ColorChoice::Auto if var("CLICOLOR").is_some_and(|v| v == "0") => false,
        ColorChoice::Auto => stdout_is_terminal && var("TERM").is_none_or(|t| t != "dumb"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_flag_wins_then_no_color_then_forcing_then_the_terminal() {
        use ColorChoice::{Always, Auto, Never};
        assert!(enabled(Always, false, with(&[("NO_COLOR", "1")])));
        assert!(!enabled(Never, true, with(&[("FORCE_COLOR", "1")])));
        assert!(enabled(Auto, true, with(&[])));
        assert!(!enabled(Auto, false, with(&[])));
        assert!(!enabled(Auto, true, with(&[("NO_COLOR", "1")])));
        assert!(enabled(Auto, true, with(&[("NO_COLOR", "")])));
        assert!(enabled(Auto, false, with(&[("FORCE_COLOR", "1")])));
        assert!(enabled(Auto, false, with(&[("CLICOLOR_FORCE", "1")])));
        assert!(!enabled(Auto, false, with(&[("FORCE_COLOR", "0")])));
        assert!(!enabled(Auto, false, with(&[("CLICOLOR_FORCE", "")])));
        assert!(!enabled(
            Auto,
            false,
            with(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")])
        ));
        assert!(!enabled(Auto, true, with(&[("CLICOLOR", "0")])));
        assert!(enabled(
            Auto,
            false,
            with(&[("CLICOLOR", "0"), ("CLICOLOR_FORCE", "1")])
        ));
        assert!(!enabled(Auto, true, with(&[("TERM", "dumb")])));
        assert!(enabled(Auto, true, with(&[("TERM", "xterm-256color")])));
    }

    #[test]
    fn styles_render_as_ansi_and_plain_adds_nothing() {
        assert_eq!(paint(true, REMOVED, "-a"), "\x1b[31m-a\x1b[0m");
        assert_eq!(paint(true, LOCATION, "x:1:2:"), "\x1b[1mx:1:2:\x1b[0m");
        assert_eq!(paint(true, PLAIN, " a"), " a");
        assert_eq!(paint(false, FAILURE, "error:"), "error:");
    }
}
