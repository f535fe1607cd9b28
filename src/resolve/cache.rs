//! The on-disk tag → digest cache: one small text file under
//! `$XDG_CACHE_HOME/imagepin` (or `~/.cache/imagepin`). Online, entries are
//! answers for the configured TTL; `--offline` uses any entry however old
//! (entries are kept [`KEEP_FOR_OFFLINE`] at least). A corrupt, unreadable or
//! oversized file is discarded, never fatal; writes merge with what is on
//! disk and replace the file atomically.
//!
//! The format is a header line, then `SECONDS<TAB>DIGEST<TAB>KEY` per entry:
//! trivial to parse, so a warm run with hundreds of entries loads in well
//! under a millisecond.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::credentials::Env;
use crate::reference::validate_digest;

const FILE_NAME: &str = "digests-v1.tsv";
/// How long entries stay in the file after their TTL, for `--offline`.
pub(crate) const KEEP_FOR_OFFLINE: Duration = Duration::from_secs(30 * 86400);
/// Cache files larger than this are discarded (read no further).
const MAX_FILE_BYTES: u64 = 64 << 20;
const HEADER: &str = "imagepin digest cache v1";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// The digest.
    d: String,
    /// When it was learnt, in seconds since the Unix epoch.
    t: u64,
}

/// The cache directory: `$XDG_CACHE_HOME/imagepin`, else `~/.cache/imagepin`.
pub(crate) fn cache_dir(env: &Env) -> Option<PathBuf> {
    env.xdg_cache_home
        .as_ref()
        .filter(|p| p.is_absolute())
        .cloned()
        .or_else(|| env.home.as_ref().map(|h| h.join(".cache")))
        .map(|d| d.join("imagepin"))
}

/// The loaded cache plus the answers learnt in this run.
#[derive(Debug)]
pub(crate) struct DigestCache {
    path: PathBuf,
    ttl: Duration,
    entries: HashMap<String, Entry>,
    new: HashMap<String, Entry>,
}

/// Seconds since the epoch (0 for a clock before it).
pub(super) fn now_secs(now: SystemTime) -> u64 {
    now.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn read(path: &Path) -> HashMap<String, Entry> {
    // A cache file that is not a regular file, or too large, is no cache.
    let Ok(bytes) = crate::fsio::read_regular_file(path, MAX_FILE_BYTES) else {
        return HashMap::new();
    };
    parse(&bytes).unwrap_or_default()
}

/// The entries of a cache file; `None` when it is not one (wrong header,
/// not UTF-8). Lines that do not parse are dropped one by one.
fn parse(bytes: &[u8]) -> Option<HashMap<String, Entry>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let mut entries = HashMap::new();
    for line in lines {
        let mut parts = line.splitn(3, '\t');
        let (Some(t), Some(d), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(t) = t.parse::<u64>() else { continue };
        if key.is_empty() || validate_digest(d).is_err() {
            continue;
        }
        entries.insert(
            key.to_string(),
            Entry {
                d: d.to_string(),
                t,
            },
        );
    }
    Some(entries)
}

fn render(entries: &HashMap<String, Entry>) -> String {
    let mut keys: Vec<&String> = entries.keys().collect();
    keys.sort();
    let mut out = String::with_capacity(32 + entries.len() * 140);
    out.push_str(HEADER);
    out.push('\n');
    for k in keys {
        let e = &entries[k];
        out.push_str(&format!("{}\t{}\t{k}\n", e.t, e.d));
    }
    out
}

impl DigestCache {
    /// Loads the cache in `dir` (missing or corrupt files give an empty cache).
    pub(crate) fn load(dir: &Path, ttl: Duration) -> DigestCache {
        let path = dir.join(FILE_NAME);
        DigestCache {
            entries: read(&path),
            path,
            ttl,
            new: HashMap::new(),
        }
    }

    /// A fresh, valid digest for `key`.
    pub(crate) fn get(&self, key: &str, now: SystemTime) -> Option<&str> {
        let e = self.new.get(key).or_else(|| self.entries.get(key))?;
        let age = now_secs(now).saturating_sub(e.t);
        let fresh = e.t <= now_secs(now) + 60 && age < self.ttl.as_secs().max(1);
        (fresh && validate_digest(&e.d).is_ok()).then_some(e.d.as_str())
    }

    /// Any valid digest for `key`, however old, with its age (for
    /// `--offline`). An entry dated in the future has age zero.
    pub(crate) fn get_any(&self, key: &str, now: SystemTime) -> Option<(&str, Duration)> {
        let e = self.new.get(key).or_else(|| self.entries.get(key))?;
        let age = Duration::from_secs(now_secs(now).saturating_sub(e.t));
        validate_digest(&e.d).is_ok().then_some((e.d.as_str(), age))
    }

    pub(crate) fn put(&mut self, key: &str, digest: &str, now: SystemTime) {
        let key_ok = !key.is_empty() && !key.contains(['\t', '\n', '\r']);
        if key_ok && validate_digest(digest).is_ok() {
            self.new.insert(
                key.to_string(),
                Entry {
                    d: digest.to_string(),
                    t: now_secs(now),
                },
            );
        }
    }

    /// Writes the new answers, merged with the file's current content (other
    /// runs may have written since we loaded it), dropping expired entries.
    /// Does nothing when nothing was learnt.
    pub(crate) fn save(&mut self, now: SystemTime) -> std::io::Result<()> {
        if self.new.is_empty() {
            return Ok(());
        }
        let mut entries = read(&self.path);
        entries.extend(self.new.drain());
        let keep = self.ttl.max(KEEP_FOR_OFFLINE).as_secs();
        let cutoff = now_secs(now).saturating_sub(keep);
        entries.retain(|_, e| e.t >= cutoff);
        write_whole(&self.path, &render(&entries))?;
        self.entries = entries;
        Ok(())
    }
}

/// Replaces a cache file with `text` in one rename (creating its
/// directory), so a concurrent run reads the old file or the new one, never
/// half of one. The tag cache and the facts cache both save this way.
pub(super) fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const HOUR: Duration = Duration::from_secs(3600);

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn round_trip_and_ttl() {
        let d = tempfile::tempdir().unwrap();
        let mut c = DigestCache::load(d.path(), HOUR);
        assert_eq!(c.get("docker.io/library/a:1", at(1000)), None);
        c.put("docker.io/library/a:1", D1, at(1000));
        c.save(at(1000)).unwrap();
        let c = DigestCache::load(d.path(), HOUR);
        assert_eq!(c.get("docker.io/library/a:1", at(1000 + 3599)), Some(D1));
        assert_eq!(c.get("docker.io/library/a:1", at(1000 + 3600)), None);
        let short = DigestCache::load(d.path(), Duration::from_secs(10));
        assert_eq!(short.get("docker.io/library/a:1", at(1011)), None);
    }

    #[test]
    fn offline_reads_any_age_and_saving_keeps_old_entries() {
        let d = tempfile::tempdir().unwrap();
        let mut c = DigestCache::load(d.path(), HOUR);
        c.put("old", D1, at(1000));
        c.save(at(1000)).unwrap();
        // A day later: no longer an online answer, still an offline one.
        let day = 1000 + 86400;
        let mut c = DigestCache::load(d.path(), HOUR);
        assert_eq!(c.get("old", at(day)), None);
        assert_eq!(
            c.get_any("old", at(day)),
            Some((D1, Duration::from_secs(86400)))
        );
        // Saving something else keeps it (for later offline runs) ...
        c.put("new", D2, at(day));
        c.save(at(day)).unwrap();
        let c = DigestCache::load(d.path(), HOUR);
        assert!(c.get_any("old", at(day)).is_some());
        // ... until KEEP_FOR_OFFLINE has passed.
        let mut c = DigestCache::load(d.path(), HOUR);
        let later = 1000 + KEEP_FOR_OFFLINE.as_secs() + 1;
        c.put("new", D2, at(later));
        c.save(at(later)).unwrap();
        assert_eq!(
            DigestCache::load(d.path(), HOUR).get_any("old", at(later)),
            None
        );
        // Future-dated entries have age zero.
        assert_eq!(c.get_any("new", at(5)), Some((D2, Duration::ZERO)));
    }

    #[test]
    fn oversized_or_special_files_are_discarded_without_reading_them_whole() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", d.path().join(FILE_NAME)).unwrap();
        assert_eq!(DigestCache::load(d.path(), HOUR).get_any("k", at(5)), None);
    }

    #[test]
    fn corrupt_file_is_discarded_and_replaced() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(FILE_NAME), b"\x00{not a cache").unwrap();
        let mut c = DigestCache::load(d.path(), HOUR);
        assert_eq!(c.get("k", at(5)), None);
        c.put("k", D1, at(5));
        c.save(at(5)).unwrap();
        assert_eq!(DigestCache::load(d.path(), HOUR).get("k", at(6)), Some(D1));
        // Other versions are discarded; broken lines are dropped one by one.
        std::fs::write(
            d.path().join(FILE_NAME),
            format!("imagepin digest cache v9\n5\t{D1}\tk\n"),
        )
        .unwrap();
        assert_eq!(DigestCache::load(d.path(), HOUR).get("k", at(6)), None);
        std::fs::write(
            d.path().join(FILE_NAME),
            format!("{HEADER}\nx\t{D1}\tj\n5\t{D1}\n\n5\t{D1}\tk\n"),
        )
        .unwrap();
        let c = DigestCache::load(d.path(), HOUR);
        assert_eq!(c.get("k", at(6)), Some(D1));
        assert_eq!(c.entries.len(), 1);
    }

    #[test]
    fn malformed_digests_are_never_served_or_stored() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join(FILE_NAME),
            format!("{HEADER}\n5\tsha256:nothex\tk\n"),
        )
        .unwrap();
        let mut c = DigestCache::load(d.path(), HOUR);
        assert_eq!(c.get("k", at(6)), None);
        c.put("j", "sha256:ABC", at(6));
        assert_eq!(c.get("j", at(6)), None);
        c.put("tab\tkey", D1, at(6));
        assert_eq!(c.get("tab\tkey", at(6)), None);
    }

    #[test]
    fn save_merges_with_other_runs_and_prunes() {
        let d = tempfile::tempdir().unwrap();
        let mut a = DigestCache::load(d.path(), HOUR);
        let mut b = DigestCache::load(d.path(), HOUR);
        a.put("old", D1, at(0));
        a.save(at(0)).unwrap();
        // Entries are pruned once past both the TTL and KEEP_FOR_OFFLINE.
        let t = KEEP_FOR_OFFLINE.as_secs() + 4000;
        a.put("a", D1, at(t));
        a.save(at(t)).unwrap();
        b.put("b", D2, at(t + 1));
        b.save(at(t + 1)).unwrap();
        let c = DigestCache::load(d.path(), HOUR);
        assert_eq!(c.get("a", at(t + 2)), Some(D1));
        assert_eq!(c.get("b", at(t + 2)), Some(D2));
        assert!(!c.entries.contains_key("old"));
        let leftovers: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary files left behind");
    }

    #[test]
    fn directory_from_environment() {
        let env = Env {
            xdg_cache_home: Some("/x/cache".into()),
            home: Some("/home/u".into()),
            ..Env::default()
        };
        assert_eq!(cache_dir(&env), Some(PathBuf::from("/x/cache/imagepin")));
        let env = Env {
            xdg_cache_home: Some("relative".into()),
            home: Some("/home/u".into()),
            ..Env::default()
        };
        assert_eq!(
            cache_dir(&env),
            Some(PathBuf::from("/home/u/.cache/imagepin"))
        );
        assert_eq!(cache_dir(&Env::default()), None);
    }
}
