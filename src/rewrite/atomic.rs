//! Atomic file replacement: the new text goes to a temporary file in the same
//! directory, is flushed to disk, gets the original's permissions and is
//! renamed over the original, so a file is either old or new, never half
//! written. A symlink is followed: its target is edited and the link stays.
//! The temporary file is removed on every error path.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A file that could not be replaced; it is left as it was.
#[derive(Debug, Error)]
#[error("{}: {message}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub message: String,
}

fn err(path: &Path, message: impl Into<String>) -> WriteError {
    WriteError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Replaces the contents of `path` (or of its target, when it is a symlink)
/// with `new`, provided it still holds exactly `expected` (the text that was
/// scanned: a file changed in the meantime is not overwritten). Read-only
/// files are refused. Returns the path that was written.
pub fn replace_file(path: &Path, expected: &str, new: &str) -> Result<PathBuf, WriteError> {
    let link = fs::symlink_metadata(path).map_err(|e| err(path, format!("cannot stat: {e}")))?;
    let target = if link.file_type().is_symlink() {
        fs::canonicalize(path).map_err(|e| {
            err(
                path,
                format!("symlink whose target cannot be resolved: {e}"),
            )
        })?
    } else {
        path.to_path_buf()
    };
    let meta = fs::metadata(&target).map_err(|e| err(path, format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(err(path, "not a regular file; not written"));
    }
    if meta.permissions().readonly() {
        return Err(err(path, "the file is read-only; not written"));
    }
    let current = fs::read(&target).map_err(|e| err(path, format!("cannot read: {e}")))?;
    if current != expected.as_bytes() {
        return Err(err(
            path,
            "the file changed while imagepin was working; not written",
        ));
    }
    write_replacing(&target, new.as_bytes(), &meta).map_err(|m| err(path, m))?;
    Ok(target)
}

/// Temporary file next to `target`, write, the original's permissions (and,
/// best effort, owner and group), fsync, rename. On any error the temporary
/// file is dropped, which deletes it.
pub(crate) fn write_replacing(
    target: &Path,
    bytes: &[u8],
    original: &fs::Metadata,
) -> Result<(), String> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".imagepin-tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    tmp.write_all(bytes)
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    tmp.as_file()
        .set_permissions(original.permissions())
        .map_err(|e| format!("cannot set permissions: {e}"))?;
    #[cfg(unix)]
    {
        // Only root may give a file away; for anyone else this is a no-op
        // (the owner is already the caller) or harmlessly refused.
        use std::os::unix::fs::MetadataExt;
        let _ =
            std::os::unix::fs::fchown(tmp.as_file(), Some(original.uid()), Some(original.gid()));
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| format!("cannot flush to disk: {e}"))?;
    tmp.persist(target)
        .map_err(|e| format!("cannot replace the file: {}", e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Makes the rename durable (best effort: not every platform can open a
/// directory).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_and_leaves_nothing_behind() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("Dockerfile");
        fs::write(&p, "FROM a\n").unwrap();
        replace_file(&p, "FROM a\n", "FROM b\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "FROM b\n");
        assert_eq!(entries(d.path()), ["Dockerfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("run.Dockerfile");
        fs::write(&p, "FROM a\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o751)).unwrap();
        replace_file(&p, "FROM a\n", "FROM b\n").unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o751);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_owner_and_group_when_root() {
        use std::os::unix::fs::MetadataExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("Dockerfile");
        fs::write(&p, "FROM a\n").unwrap();
        // Only meaningful as root (CI runs as root); elsewhere chown fails.
        if std::os::unix::fs::chown(&p, Some(4242), Some(4343)).is_err() {
            return;
        }
        replace_file(&p, "FROM a\n", "FROM b\n").unwrap();
        let m = fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (4242, 4343));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_is_edited_at_its_target() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("real")).unwrap();
        let target = d.path().join("real/Dockerfile");
        fs::write(&target, "FROM a\n").unwrap();
        let link = d.path().join("Dockerfile");
        std::os::unix::fs::symlink("real/Dockerfile", &link).unwrap();
        let written = replace_file(&link, "FROM a\n", "FROM b\n").unwrap();
        assert_eq!(written, fs::canonicalize(&target).unwrap());
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "FROM b\n");
        assert_eq!(entries(&d.path().join("real")), ["Dockerfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn dangling_symlink_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("Dockerfile");
        std::os::unix::fs::symlink("nowhere", &link).unwrap();
        let e = replace_file(&link, "", "x").unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
    }

    #[test]
    fn changed_or_read_only_files_are_not_written() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("Dockerfile");
        fs::write(&p, "FROM c\n").unwrap();
        let e = replace_file(&p, "FROM a\n", "FROM b\n").unwrap_err();
        assert!(e.to_string().contains("changed"), "{e}");
        let mut perm = fs::metadata(&p).unwrap().permissions();
        perm.set_readonly(true);
        fs::set_permissions(&p, perm).unwrap();
        let e = replace_file(&p, "FROM c\n", "FROM b\n").unwrap_err();
        assert!(e.to_string().contains("read-only"), "{e}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "FROM c\n");
        assert_eq!(entries(d.path()), ["Dockerfile"]);
    }

    #[test]
    fn failed_rename_removes_the_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be replaced by a file.
        let target = d.path().join("Dockerfile");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), "x").unwrap();
        let meta = fs::metadata(d.path()).unwrap();
        assert!(write_replacing(&target, b"FROM b\n", &meta).is_err());
        assert_eq!(entries(d.path()), ["Dockerfile"]);
    }
}
