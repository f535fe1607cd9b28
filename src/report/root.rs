//! The repository root that CI paths are relative to. SARIF, `--format
//! github` and `--format gitlab` name files relative to the git top level,
//! because that is what code scanning, pull-request annotations and merge
//! request widgets match against, wherever in the tree imagepin ran
//! (`working-directory:`, `cd examples`). The root is found by walking up
//! from the current directory to the first directory holding `.git` (a
//! directory, or a file in worktrees and submodules), stopping at
//! `GIT_CEILING_DIRECTORIES` as git does; no subprocess. `--root DIR`
//! overrides it. Outside any repository it is the current directory.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

/// Where finding paths (as given, or relative to the current directory)
/// are rebased for CI output. The default rebases nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RepoRoot {
    /// Absolute current directory and absolute root; `None`: paths as given.
    base: Option<(PathBuf, PathBuf)>,
}

/// A path as CI output names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootPath {
    /// Relative to the root, with forward slashes and no `./`.
    Inside(String),
    /// Outside the root (or absolute and no root known): an absolute path.
    Outside(String),
}

impl RootPath {
    /// The path text either way.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            RootPath::Inside(s) | RootPath::Outside(s) => s,
        }
    }
}

impl RepoRoot {
    /// The root for a run in `cwd` (absolute): `explicit` (`--root`,
    /// relative to `cwd`) when given, else the nearest enclosing git
    /// repository below the `ceilings` (`GIT_CEILING_DIRECTORIES`, a
    /// `:`-separated list of absolute paths), else `cwd`.
    pub(crate) fn discover(
        cwd: &Path,
        explicit: Option<&Path>,
        ceilings: Option<&OsStr>,
    ) -> Result<RepoRoot, String> {
        let root = match explicit {
            Some(dir) => {
                let dir = cwd.join(dir);
                let canonical = std::fs::canonicalize(&dir)
                    .map_err(|e| format!("--root {}: {e}", dir.display()))?;
                if !canonical.is_dir() {
                    return Err(format!("--root {}: not a directory", dir.display()));
                }
                canonical
            }
            None => git_top_level(cwd, ceilings).unwrap_or_else(|| cwd.to_path_buf()),
        };
        Ok(RepoRoot {
            base: Some((cwd.to_path_buf(), root)),
        })
    }

    /// The absolute root, unless this rebases nothing.
    pub(crate) fn dir(&self) -> Option<&Path> {
        self.base.as_ref().map(|(_, root)| root.as_path())
    }

    /// `path` (as given, or relative to the current directory) relative
    /// to the root.
    pub(crate) fn locate(&self, path: &Path) -> RootPath {
        let Some((cwd, root)) = &self.base else {
            let s = super::slash_path(path);
            return if path.is_absolute() {
                RootPath::Outside(s)
            } else {
                RootPath::Inside(s)
            };
        };
        let abs = normalize_lexically(&cwd.join(path));
        match abs.strip_prefix(root) {
            Ok(rel) => RootPath::Inside(super::slash_path(rel)),
            Err(_) => RootPath::Outside(super::slash_path(&abs)),
        }
    }
}

/// The nearest of `start` and its ancestors that holds `.git`, not going
/// up into a ceiling directory.
fn git_top_level(start: &Path, ceilings: Option<&OsStr>) -> Option<PathBuf> {
    let ceilings: Vec<PathBuf> = ceilings
        .map(|c| {
            std::env::split_paths(c)
                .filter(|p| p.is_absolute())
                .map(|p| normalize_lexically(&p))
                .collect()
        })
        .unwrap_or_default();
    let mut dir = start;
    loop {
        if std::fs::symlink_metadata(dir.join(".git")).is_ok() {
            return Some(dir.to_path_buf());
        }
        let parent = dir.parent()?;
        if ceilings.iter().any(|c| c == parent) {
            return None;
        }
        dir = parent;
    }
}

/// `.` and `..` removed without touching the disk.
fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(s: &str) -> RootPath {
        RootPath::Inside(s.into())
    }

    #[test]
    fn finds_the_enclosing_repository() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join("repo/.git")).unwrap();
        std::fs::create_dir_all(top.join("repo/app/sub")).unwrap();
        let cwd = top.join("repo/app");
        let r = RepoRoot::discover(&cwd, None, None).unwrap();
        assert_eq!(r.dir(), Some(top.join("repo").as_path()));
        assert_eq!(r.locate(Path::new("Dockerfile")), inside("app/Dockerfile"));
        assert_eq!(r.locate(Path::new("./sub/../x.yml")), inside("app/x.yml"));
        assert_eq!(r.locate(Path::new("../ci.yml")), inside("ci.yml"));
        assert_eq!(
            r.locate(&top.join("repo/app/sub/compose.yaml")),
            inside("app/sub/compose.yaml")
        );
        let outside = top.join("elsewhere/Dockerfile");
        assert_eq!(
            r.locate(&outside),
            RootPath::Outside(outside.to_string_lossy().into_owned())
        );
    }

    #[test]
    fn a_git_file_marks_a_worktree_and_ceilings_stop_the_walk() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join("wt/a")).unwrap();
        std::fs::write(top.join("wt/.git"), "gitdir: /elsewhere\n").unwrap();
        let cwd = top.join("wt/a");
        let r = RepoRoot::discover(&cwd, None, None).unwrap();
        assert_eq!(r.dir(), Some(top.join("wt").as_path()));
        // The ceiling is wt: the walk may not go up into it.
        let ceiling = top.join("wt").into_os_string();
        let r = RepoRoot::discover(&cwd, None, Some(&ceiling)).unwrap();
        assert_eq!(r.dir(), Some(cwd.as_path()), "no repository: the cwd");
    }

    #[test]
    fn root_flag_overrides_and_must_exist() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join(".git")).unwrap();
        std::fs::create_dir_all(top.join("a/b")).unwrap();
        let cwd = top.join("a/b");
        let r = RepoRoot::discover(&cwd, Some(Path::new("..")), None).unwrap();
        assert_eq!(r.locate(Path::new("Dockerfile")), inside("b/Dockerfile"));
        let e = RepoRoot::discover(&cwd, Some(Path::new("nope")), None).unwrap_err();
        assert!(e.starts_with("--root ") && e.contains("nope"), "{e}");
    }

    #[test]
    fn the_default_keeps_paths_as_given() {
        let r = RepoRoot::default();
        assert_eq!(
            r.locate(Path::new("./a/Dockerfile")),
            inside("a/Dockerfile")
        );
        assert_eq!(
            r.locate(Path::new("/abs/x")),
            RootPath::Outside("/abs/x".into())
        );
    }
}
