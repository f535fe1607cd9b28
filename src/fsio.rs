//! Bounded reads of files a repository (or its configuration) names: only
//! regular files (a symbolic link is followed to one), never more than a
//! limit. A FIFO, a device such as `/dev/zero`, a socket or a directory is
//! refused before it is read, so nothing hangs or reads forever. Used for
//! scanned files, `.imagepin.toml`, auth files, `ca-file`s, the cache and
//! the files `--fix` rewrites.

use std::io::Read;
use std::path::Path;

/// Reads a regular file (a symbolic link is followed to one) of at most
/// `limit` bytes. A FIFO, a device (`/dev/zero`), a socket or a directory is
/// refused before it is opened, so nothing blocks or reads forever. The error
/// is a message without the path (`cannot read: not a regular file`), for
/// the caller to put after it.
pub(crate) fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if meta.len() > limit {
        return Err(format!(
            "cannot read: larger than {} ({} bytes)",
            size(limit),
            meta.len()
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    // The name may have been swapped for a FIFO or device since the check
    // above: what counts is what was opened.
    match file.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(m) => return Err(not_regular(&m)),
        Err(e) => return Err(format!("cannot read: {e}")),
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len().min(limit)).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("cannot read: larger than {}", size(limit)));
    }
    Ok(bytes)
}

/// [`read_regular_file`] for a text that must be UTF-8.
pub(crate) fn read_regular_text(path: &Path, limit: u64) -> Result<String, String> {
    String::from_utf8(read_regular_file(path, limit)?).map_err(|e| {
        format!(
            "cannot read: not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

fn not_regular(meta: &std::fs::Metadata) -> String {
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else {
        special_kind(&ft)
    };
    format!("cannot read: not a regular file ({what})")
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// `256 MiB`, `1 MiB`, `700 bytes`.
fn size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Dockerfile");
        std::fs::write(&p, "FROM a\n".repeat(100)).unwrap();
        let e = read_regular_file(&p, 10).unwrap_err();
        assert_eq!(e, "cannot read: larger than 10 bytes (700 bytes)");
        assert_eq!(read_regular_file(&p, 700).unwrap().len(), 700);
        let e = read_regular_file(dir.path(), 700).unwrap_err();
        assert_eq!(e, "cannot read: not a regular file (a directory)");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read_regular_file(&link, u64::MAX).unwrap_err();
        assert_eq!(e, "cannot read: not a regular file (a device)");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if made {
            // Opening a FIFO with no writer would block: it must not be opened.
            let e = read_regular_file(&fifo, 100).unwrap_err();
            assert_eq!(e, "cannot read: not a regular file (a FIFO)");
        }
    }
}
