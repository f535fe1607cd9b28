//! `--help` of the command and of each subcommand, as snapshots: a flag
//! added, renamed or reworded shows as a diff here (and must be in the
//! README too).

use std::path::Path;

use crate::support::cli::imagepin;

fn help(args: &[&str]) -> String {
    let run = imagepin(Path::new(env!("CARGO_MANIFEST_DIR")), args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    run.stdout
}

#[test]
fn long_help() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn short_help() {
    insta::assert_snapshot!(help(&["-h"]));
}

#[test]
fn resolve_help() {
    insta::assert_snapshot!(help(&["resolve", "--help"]));
}

#[test]
fn set_help() {
    insta::assert_snapshot!(help(&["set", "--help"]));
}

#[test]
fn audit_log_help() {
    insta::assert_snapshot!(help(&["audit-log", "--help"]));
}

#[test]
fn inventory_help() {
    insta::assert_snapshot!(help(&["inventory", "--help"]));
}

#[test]
fn init_help() {
    insta::assert_snapshot!(help(&["init", "--help"]));
}
