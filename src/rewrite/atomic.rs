//! Atomic file replacement: the new text goes to a temporary file in the same
//! directory, gets the original's owner, group, mode bits (setuid, setgid
//! and sticky included) and extended attributes, is flushed to disk and is
//! renamed over the original, so a file is either old or new, never half
//! written. A symlink is followed: its target is edited and the link stays.
//! A file the user may not write (an access check by the kernel, not a look
//! at the mode bits), a read-only file, or one whose owner, group, mode or attributes the
//! replacement could not keep is refused and left as it was. The temporary
//! file is removed on every error path, and on SIGINT, SIGTERM or SIGHUP
//! (see [`in_flight`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::scan::batch::MAX_FILE_SIZE;

/// A file that could not be replaced; it is left as it was.
#[derive(Debug, Error)]
#[error("{}: {message}", path.display())]
pub(crate) struct WriteError {
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
/// files and files the user may not write are refused. Returns the path that
/// was written.
pub(crate) fn replace_file(path: &Path, expected: &str, new: &str) -> Result<PathBuf, WriteError> {
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
    check_writable(&target).map_err(|m| err(path, m))?;
    let current =
        crate::fsio::read_regular_file(&target, MAX_FILE_SIZE).map_err(|m| err(path, m))?;
    if current != expected.as_bytes() {
        return Err(err(
            path,
            "the file changed while imagepin was working; not written",
        ));
    }
    write_replacing(&target, new.as_bytes(), &meta).map_err(|m| err(path, m))?;
    Ok(target)
}

/// Whether this process may write the file, asked of the kernel
/// (`faccessat(W_OK, AT_EACCESS)`): it answers for ownership, ACLs,
/// `chattr +i` and read-only mounts alike, where the mode bits alone would
/// let a user replace a file they may not write (say a root-owned 0644 file
/// in a directory the user can write: the rename would succeed).
#[cfg(unix)]
fn check_writable(target: &Path) -> Result<(), String> {
    use rustix::fs::{Access, AtFlags, CWD, accessat};
    accessat(CWD, target, Access::WRITE_OK, AtFlags::EACCESS).map_err(|e| {
        let e = std::io::Error::from(e);
        format!("you may not write this file ({e}); not written")
    })
}

#[cfg(not(unix))]
fn check_writable(_: &Path) -> Result<(), String> {
    Ok(())
}

/// Temporary file next to `target`, write, the original's owner and group
/// (root only; for anyone else it must already be theirs), extended
/// attributes and mode, fsync, a check that all of these took, rename. On
/// any error the temporary file is removed.
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
    let mut tmp = in_flight::Temp::create(dir, &name)?;
    let file = tmp.file();
    file.write_all(bytes)
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    // Owner first: a change of owner clears setuid/setgid and file
    // capabilities, so the mode and the attributes come after it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root may give a file away; for anyone else this is a no-op
        // (the owner is already the caller) or refused, which the check
        // below turns into an error if it matters.
        let _ = std::os::unix::fs::fchown(&*file, Some(original.uid()), Some(original.gid()));
    }
    copy_xattrs(target, file)?;
    file.set_permissions(original.permissions())
        .map_err(|e| format!("cannot set permissions: {e}"))?;
    file.sync_all()
        .map_err(|e| format!("cannot flush to disk: {e}"))?;
    let written = file
        .metadata()
        .map_err(|e| format!("cannot stat the temporary file: {e}"))?;
    same_owner_and_mode(original, &written)?;
    tmp.persist(target)?;
    sync_dir(dir);
    Ok(())
}

/// Copies the original's extended attributes (`user.*`, ACLs, SELinux
/// labels, capabilities, whatever this process can read) to the new file. A
/// filesystem without them has nothing to copy; an attribute that can't be
/// set is an error, so the file is not replaced by one without it.
#[cfg(unix)]
fn copy_xattrs(target: &Path, file: &fs::File) -> Result<(), String> {
    use xattr::FileExt;
    if !xattr::SUPPORTED_PLATFORM {
        return Ok(());
    }
    let names = match xattr::list(target) {
        Ok(names) => names,
        Err(e) if e.raw_os_error() == Some(95) => return Ok(()), // EOPNOTSUPP
        Err(e) => return Err(format!("cannot list extended attributes: {e}")),
    };
    for name in names {
        let shown = name.to_string_lossy();
        let value = match xattr::get(target, &name) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => return Err(format!("cannot read extended attribute {shown}: {e}")),
        };
        file.set_xattr(&name, &value)
            .map_err(|e| format!("cannot keep extended attribute {shown} ({e}); not written"))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn copy_xattrs(_: &Path, _: &fs::File) -> Result<(), String> {
    Ok(())
}

/// The new file must have the original's owner, group and mode bits, or the
/// replacement would change who may read, write or run it.
#[cfg(unix)]
fn same_owner_and_mode(original: &fs::Metadata, written: &fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if written.uid() != original.uid() {
        return Err(format!(
            "the file belongs to another user (uid {}): replacing it would make it yours; not written",
            original.uid()
        ));
    }
    if written.gid() != original.gid() {
        return Err(format!(
            "cannot keep the file's group (gid {}); not written",
            original.gid()
        ));
    }
    if written.mode() & 0o7777 != original.mode() & 0o7777 {
        return Err(format!(
            "cannot keep the file's mode {:04o} (would be {:04o}); not written",
            original.mode() & 0o7777,
            written.mode() & 0o7777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn same_owner_and_mode(_: &fs::Metadata, _: &fs::Metadata) -> Result<(), String> {
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

/// The temporary files being written, and the handler that removes them when
/// SIGINT, SIGTERM or SIGHUP ends the process mid-write.
///
/// A temporary file is created and recorded, and later renamed (or removed)
/// and forgotten, under one lock. The handler, a thread installed before the
/// first temporary file, takes that lock on a signal, removes every recorded
/// file and ends the process the way the signal would have (still holding
/// the lock, so no other thread creates or renames a file after it looked).
/// Each file is then either the old or the new text, and no temporary file is
/// left behind.
mod in_flight {
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, MutexGuard, Once};

    static FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    static HANDLER: Once = Once::new();

    fn files() -> MutexGuard<'static, Vec<PathBuf>> {
        // A panic elsewhere while holding the lock leaves the list intact.
        FILES.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn forget(list: &mut Vec<PathBuf>, path: &Path) {
        if let Some(i) = list.iter().position(|p| p == path) {
            list.swap_remove(i);
        }
    }

    /// Installs the handler once per process (best effort: where signals
    /// can't be caught, a signal ends the process as before).
    #[cfg(unix)]
    fn install() {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        HANDLER.call_once(|| {
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return;
            };
            let _ = std::thread::Builder::new()
                .name("imagepin-signals".into())
                .spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        let list = files();
                        for path in list.iter() {
                            let _ = fs::remove_file(path);
                        }
                        // Ends the process as the signal would (a shell sees
                        // 130 for Ctrl-C, 143 for SIGTERM); exit is the fallback.
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                        std::process::exit(128 + signal);
                    }
                });
        });
    }

    #[cfg(not(unix))]
    fn install() {
        HANDLER.call_once(|| {});
    }

    /// A temporary file known to the handler; dropped, it is removed and
    /// forgotten.
    pub(super) struct Temp {
        file: tempfile::NamedTempFile,
        recorded: Recorded,
    }

    /// A recorded path: dropped, the file is removed first and forgotten
    /// second (a signal in between finds it already gone, which is harmless).
    struct Recorded {
        path: PathBuf,
        armed: bool,
    }

    impl Drop for Recorded {
        fn drop(&mut self) {
            if self.armed {
                let _ = fs::remove_file(&self.path);
                forget(&mut files(), &self.path);
            }
        }
    }

    impl Temp {
        /// `.NAME.XXXXXX.imagepin-tmp` in `dir`.
        pub(super) fn create(dir: &Path, name: &str) -> Result<Temp, String> {
            install();
            let mut list = files();
            let file = tempfile::Builder::new()
                .prefix(&format!(".{name}."))
                .suffix(".imagepin-tmp")
                .tempfile_in(dir)
                .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
            let path = file.path().to_path_buf();
            list.push(path.clone());
            Ok(Temp {
                file,
                recorded: Recorded { path, armed: true },
            })
        }

        pub(super) fn file(&mut self) -> &mut fs::File {
            self.file.as_file_mut()
        }

        /// Renames the file over `target` and forgets it.
        pub(super) fn persist(self, target: &Path) -> Result<(), String> {
            let Temp { file, mut recorded } = self;
            let mut list = files();
            let result = file.persist(target);
            if result.is_ok() {
                forget(&mut list, &recorded.path);
                recorded.armed = false;
            }
            drop(list);
            // On failure the error holds the file: dropping it removes it,
            // then `recorded` forgets it.
            result
                .map(drop)
                .map_err(|e| format!("cannot replace the file: {}", e.error))
        }
    }

    /// The temporary files now recorded (for tests).
    #[cfg(test)]
    pub(super) fn recorded() -> Vec<PathBuf> {
        files().clone()
    }
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
    fn keeps_setuid_setgid_and_sticky_bits() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        for mode in [0o4751, 0o2755, 0o6711, 0o1644, 0o7777, 0o600] {
            let p = d.path().join("run.Dockerfile");
            fs::write(&p, "FROM a\n").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            replace_file(&p, "FROM a\n", "FROM b\n").unwrap();
            let got = fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
            assert_eq!(got, mode, "{got:o} != {mode:o}");
            fs::remove_file(&p).unwrap();
        }
        assert!(entries(d.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn keeps_extended_attributes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("Dockerfile");
        fs::write(&p, "FROM a\n").unwrap();
        if xattr::set(&p, "user.imagepin.test", b"kept").is_err() {
            return; // the filesystem has no user attributes
        }
        xattr::set(&p, "user.other", b"").unwrap();
        replace_file(&p, "FROM a\n", "FROM b\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "FROM b\n");
        assert_eq!(
            xattr::get(&p, "user.imagepin.test").unwrap().as_deref(),
            Some(&b"kept"[..])
        );
        assert_eq!(
            xattr::get(&p, "user.other").unwrap().as_deref(),
            Some(&b""[..])
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_immutable_file_is_refused_by_the_access_check() {
        // `chattr +i`: the mode says writable (and root may write anything
        // by mode), but the kernel refuses; so must imagepin, leaving no
        // temporary file.
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("Dockerfile");
        fs::write(&p, "FROM a\n").unwrap();
        let chattr = |flag: &str| {
            std::process::Command::new("chattr")
                .arg(flag)
                .arg(&p)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !chattr("+i") {
            return; // not root, or no chattr, or a filesystem without it
        }
        let result = replace_file(&p, "FROM a\n", "FROM b\n");
        chattr("-i");
        let e = result.unwrap_err().to_string();
        assert!(e.contains("may not write this file"), "{e}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "FROM a\n");
        assert_eq!(entries(d.path()), ["Dockerfile"]);
    }

    #[test]
    fn temporary_files_are_forgotten_once_renamed_or_removed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("Dockerfile");
        fs::write(&p, "FROM a\n").unwrap();
        replace_file(&p, "FROM a\n", "FROM b\n").unwrap();
        let target = d.path().join("dir");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), "x").unwrap();
        let meta = fs::metadata(&p).unwrap();
        assert!(write_replacing(&target, b"x", &meta).is_err());
        let mine: Vec<_> = in_flight::recorded()
            .into_iter()
            .filter(|r| r.starts_with(d.path()))
            .collect();
        assert!(mine.is_empty(), "{mine:?}");
        assert_eq!(entries(d.path()), ["Dockerfile", "dir"]);
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
