//! Snapshot settings for what users read (reports, help, error wording):
//! insta filters that replace what varies between runs — temporary
//! directories, this checkout's path, loopback ports, the version and,
//! for registry tests, the digests of generated images — with placeholders,
//! so a snapshot changes only when the wording or the content does.
//!
//! Use `let _redacted = support::snapshot::redacted();` before
//! `insta::assert_snapshot!`. Snapshots are `.snap` files in
//! `tests/integration/snapshots/`; a mismatch fails the test (under `CI` insta
//! writes nothing; elsewhere it leaves a `.snap.new` next to the old one).
//! `INSTA_UPDATE=always cargo test --test integration` accepts new output.

/// Filters for paths, ports and the version, bound until the guard drops.
pub fn redacted() -> insta::internals::SettingsBindDropGuard {
    settings(false).bind_to_scope()
}

/// [`redacted`], and every `sha256:` digest too (images made per test).
pub fn redacted_digests() -> insta::internals::SettingsBindDropGuard {
    settings(true).bind_to_scope()
}

fn settings(digests: bool) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    let repo = regex_escape(env!("CARGO_MANIFEST_DIR"));
    s.add_filter(&format!("file://{repo}/"), "file://[REPO]/");
    s.add_filter(&repo, "[REPO]");
    // Temporary directories (tempfile's and fast_tempdir's names), under
    // $TMPDIR too when it is elsewhere.
    let tmp = std::env::temp_dir();
    let tmp = regex_escape(tmp.to_str().unwrap_or("/tmp").trim_end_matches('/'));
    s.add_filter(&format!(r"{tmp}/[^\s/'\x22:]+"), "[TMP]");
    s.add_filter(r"(/dev/shm|/tmp|/var/tmp)/[^\s/'\x22:]+", "[TMP]");
    s.add_filter(r"(127\.0\.0\.1|localhost|\[::1\]):\d{2,5}", "$1:[PORT]");
    s.add_filter(
        &format!(r"\b{}\b", regex_escape(env!("CARGO_PKG_VERSION"))),
        "[VERSION]",
    );
    if digests {
        s.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]");
    }
    s
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
