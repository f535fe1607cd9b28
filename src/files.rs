//! Which files to scan and of which kind: name rules per kind, `[[files]]`
//! declarations from configuration, `exclude`, directory walking (respecting
//! `.gitignore`, including hidden directories, never `.git/`) and `--staged`.

mod global_excludes;

use std::cell::OnceCell;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::Config;
use crate::finding::{FileError, FileKind};

/// A file chosen for scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// As given on the command line, or relative to the cwd when walking.
    pub path: PathBuf,
    /// The kind by configuration or name; `None` for a YAML file of no known
    /// kind, whose content decides ([`known_or_sniffed_kind`]).
    pub kind: Option<FileKind>,
}

/// The files to scan, in a stable order, and the paths that could not be
/// listed (missing arguments, unreadable directories).
#[derive(Debug, Default)]
pub(crate) struct Selection {
    pub files: Vec<Candidate>,
    pub errors: Vec<FileError>,
}

/// Whether the name ends in `.yml` or `.yaml` (any case).
pub(crate) fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// What to do with one file: `None` when it is excluded or of no kind
/// imagepin reads (skipped silently).
pub(crate) fn candidate(config: &Config, path: &Path) -> Option<Candidate> {
    if config.is_excluded(path) {
        return None;
    }
    match declared_or_path_kind(config, path) {
        Some(kind) => Some(Candidate {
            path: path.to_path_buf(),
            kind: Some(kind),
        }),
        None if is_yaml(path) => Some(Candidate {
            path: path.to_path_buf(),
            kind: None,
        }),
        None => None,
    }
}

/// The files for the given command-line paths: files as given (subject to
/// `exclude`), directories walked; no paths means the current directory.
/// Duplicates are dropped, keeping the first.
pub(crate) fn collect(config: &Config, paths: &[PathBuf], cwd: &Path) -> Selection {
    let mut sel = Selection::default();
    // Looked up at the first directory walked: named files never need it.
    let global = OnceCell::new();
    let global = || global.get_or_init(global_excludes::path).as_deref();
    if paths.is_empty() {
        walk(config, Path::new("."), cwd, global(), &mut sel);
    }
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => sel.errors.push(FileError {
                path: path.clone(),
                line: None,
                message: format!("cannot read: {e}"),
            }),
            Ok(m) if m.is_dir() => walk(config, path, cwd, global(), &mut sel),
            Ok(_) => sel.files.extend(candidate(config, path)),
        }
    }
    let mut seen = std::collections::HashSet::new();
    sel.files.retain(|c| seen.insert(c.path.clone()));
    sel
}

/// Explicitly named files (e.g. from `--staged`): as given, subject to `exclude`.
pub(crate) fn collect_files(config: &Config, paths: &[PathBuf]) -> Selection {
    Selection {
        files: paths.iter().filter_map(|p| candidate(config, p)).collect(),
        errors: Vec::new(),
    }
}

/// Walks a directory respecting `.gitignore` (also outside a git repository),
/// `.ignore`, `.git/info/exclude`, the user's global excludes file
/// (`global`, see [`global_excludes`]) and `exclude`, visiting hidden files
/// and directories but never `.git`. Symbolic links are not followed. Files
/// come out sorted by path.
fn walk(config: &Config, root: &Path, cwd: &Path, global: Option<&Path>, sel: &mut Selection) {
    let prune = Arc::new(config.clone());
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        // The global excludes file is found here (`ignore` would compile a
        // regex to find it) and added where `ignore` puts its own: after
        // every other ignore file (so a `.gitignore` `!pattern` re-includes
        // what it hides), its patterns relative to the cwd. With
        // `require_git(false)` both apply in and out of git repositories.
        .git_global(false)
        .current_dir(cwd)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            e.depth() == 0 || !is_dir || !prune.is_excluded(e.path())
        });
    if let Some(file) = global.filter(|p| p.is_file()) {
        // Like `ignore` with its own global file, a partial error (a bad
        // glob: the others still apply) is not reported.
        let _ = builder.add_ignore(file);
    }
    let found = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let visit = |entry: Result<ignore::DirEntry, ignore::Error>| match entry {
        Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
            let path = cwd_relative(e.path(), cwd);
            if let Some(c) = candidate(config, &path) {
                lock(&found).push(c);
            }
        }
        Ok(_) => {}
        Err(e) => lock(&errors).push(walk_error(root, cwd, e)),
    };
    // Walked on all cores (directory reads and `.gitignore` matching are a
    // good part of a large tree's time); the order is restored by sorting.
    // A directory with no subdirectory (but `.git`, never entered) is one
    // unit of work: walked on this thread (a walker thread costs more than
    // an empty run's whole walk).
    let flat = std::fs::read_dir(root).is_ok_and(|mut entries| {
        !entries.any(|e| {
            e.is_ok_and(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != ".git")
        })
    });
    if flat {
        builder.build().for_each(visit);
    } else {
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                visit(entry);
                ignore::WalkState::Continue
            })
        });
    }
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    sel.errors.append(&mut errors);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    sel.files.extend(found);
}

/// A poisoned lock only means another walker thread panicked; its data is fine.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn walk_error(root: &Path, cwd: &Path, err: ignore::Error) -> FileError {
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Partial(errs) => errs.first().and_then(path_of),
            _ => None,
        }
    }
    let path = path_of(&err).map_or_else(|| root.to_path_buf(), |p| cwd_relative(p, cwd));
    FileError {
        path,
        line: None,
        message: format!("cannot walk: {err}"),
    }
}

/// A walked path as findings carry it: without a leading `./`, and
/// relative to the cwd when it is an absolute path under it (lexically: no
/// `..` is added, a path outside the cwd stays as it is; compare
/// [`relative_with_dotdot`]).
pub(crate) fn cwd_relative(path: &Path, cwd: &Path) -> PathBuf {
    let path = path.strip_prefix(".").unwrap_or(path);
    if path.is_absolute() {
        if let Ok(rel) = path.strip_prefix(cwd) {
            if !rel.as_os_str().is_empty() {
                return rel.to_path_buf();
            }
        }
    }
    path.to_path_buf()
}

/// `path` relative to `base` (both absolute), climbing out of `base` with
/// `..` where needed (`--staged`: git's top level → the cwd).
pub(crate) fn relative_with_dotdot(path: &Path, base: &Path) -> PathBuf {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

/// The files staged in git (added, copied, modified, renamed), relative to
/// `cwd`. The message of an error says what git answered.
pub(crate) fn staged(cwd: &Path) -> Result<Vec<PathBuf>, String> {
    let top = git(cwd, &["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim_end_matches(['\n', '\r']));
    let list = git(
        cwd,
        &[
            "diff",
            "--cached",
            "--name-only",
            "--diff-filter=ACMR",
            "-z",
        ],
    )?;
    let base = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    Ok(list
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| relative_with_dotdot(&top.join(bytes_to_path(name)), &base))
        .collect())
}

fn git(cwd: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .output()
        .map_err(|e| format!("--staged: cannot run git: {e}"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(format!("--staged: git {}: {}", args[0], msg.trim()));
    }
    Ok(out.stdout)
}

/// A path from git's bytes (`--staged` names, git configuration values).
#[cfg(unix)]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The kind for a path, before reading it: configuration's `[[files]]`
/// first, then the name rules of the registered kinds ([`crate::scan::kind_for_path`]).
pub(crate) fn declared_or_path_kind(config: &Config, path: &Path) -> Option<FileKind> {
    config
        .declared_kind(path)
        .or_else(|| crate::scan::kind_for_path(path))
}

/// The kind to scan a candidate's text as: the kind it already has
/// ([`declared_or_path_kind`]), else (for a YAML file) the first kind whose
/// content sniff accepts the text ([`crate::scan::kind_sniffed`]), else
/// none (skipped).
pub(crate) fn known_or_sniffed_kind(candidate: &Candidate, text: &str) -> Option<FileKind> {
    candidate.kind.or_else(|| crate::scan::kind_sniffed(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scan::{kind_for_path, kind_from_id, kind_sniffed};

    fn named(name: &str) -> Option<FileKind> {
        kind_from_id(name)
    }

    #[test]
    fn names() {
        let k = |p: &str| kind_for_path(Path::new(p)).map(FileKind::as_str);
        assert_eq!(k("Dockerfile"), Some("dockerfile"));
        assert_eq!(k("a/Dockerfile.prod"), Some("dockerfile"));
        assert_eq!(k("Dockerfile-windows"), Some("dockerfile"));
        assert_eq!(k("build/app.Dockerfile"), Some("dockerfile"));
        assert_eq!(k("containerfile"), Some("dockerfile"));
        assert_eq!(k("x.containerfile"), Some("dockerfile"));
        assert_eq!(k("compose.yaml"), Some("compose"));
        assert_eq!(k("docker-compose.prod.yml"), Some("compose"));
        assert_eq!(k("docker-compose-tls.yml"), Some("compose"));
        assert_eq!(k("compose.json"), None);
        assert_eq!(k(".github/workflows/ci.yml"), Some("github-actions"));
        assert_eq!(k("x/.github/workflows/ci.yaml"), Some("github-actions"));
        assert_eq!(k("workflows/ci.yaml"), None);
        assert_eq!(k("sub/action.yml"), Some("github-actions"));
        assert_eq!(k(".gitlab-ci.yml"), Some("gitlab-ci"));
        assert_eq!(k("ci/build.gitlab-ci.yml"), Some("gitlab-ci"));
        assert_eq!(k("ci/gitlab-ci.yml"), Some("gitlab-ci"));
        assert_eq!(k("fixtures/gitlab-ci.6.yaml"), Some("gitlab-ci"));
        assert_eq!(k(".gitlab-ci.prod.yml"), Some("gitlab-ci"));
        assert_eq!(k("gitlab-ci-notes.md"), None);
        assert_eq!(k(".devcontainer.json"), Some("devcontainer"));
        assert_eq!(k(".devcontainer/devcontainer.json"), Some("devcontainer"));
        assert_eq!(
            k(".devcontainer/py/devcontainer.json"),
            Some("devcontainer")
        );
        assert_eq!(k("devcontainer.json"), None);
        assert_eq!(k("deploy.yaml"), None);
    }

    #[test]
    fn kubernetes_sniffing() {
        let k8s = named("kubernetes");
        assert_eq!(kind_sniffed("apiVersion: v1\nkind: Pod\n"), k8s);
        assert_eq!(kind_sniffed("a: 1\n---\napiVersion: v1\nkind: Pod\n"), k8s);
        assert_eq!(kind_sniffed("services:\n  kind: x\n"), None);
        let compose = named("compose");
        assert_eq!(
            kind_sniffed("version: '3'\nservices:\n  db:\n    image: postgres:16\n"),
            compose
        );
        assert_eq!(
            kind_sniffed("services:\r\n  # the app\r\n  app:\r\n    build: .\r\n"),
            compose
        );
        // A `services:` list, or keys at the wrong depth, are not Compose.
        assert_eq!(kind_sniffed("services:\n  - name: a\n    image: b\n"), None);
        assert_eq!(kind_sniffed("services:\n  image: b\n"), None);
        assert_eq!(
            kind_sniffed("x:\n  services:\n    a:\n      image: b\n"),
            None
        );
        assert_eq!(kind_sniffed("\u{feff}apiVersion: v1\nkind: Pod\n"), k8s);
    }

    #[test]
    fn cwd_relative_paths() {
        let cwd = Path::new("/repo");
        assert_eq!(cwd_relative(Path::new("./a/b"), cwd), Path::new("a/b"));
        assert_eq!(cwd_relative(Path::new("/repo/a"), cwd), Path::new("a"));
        assert_eq!(
            cwd_relative(Path::new("/other/a"), cwd),
            Path::new("/other/a")
        );
        assert_eq!(cwd_relative(Path::new("x/y"), cwd), Path::new("x/y"));
    }

    #[test]
    fn relative_paths() {
        let r = |p: &str, b: &str| relative_with_dotdot(Path::new(p), Path::new(b));
        assert_eq!(r("/r/a/b", "/r"), Path::new("a/b"));
        assert_eq!(r("/r/a/b", "/r/a"), Path::new("b"));
        assert_eq!(r("/r/x/b", "/r/a"), Path::new("../x/b"));
    }
}
