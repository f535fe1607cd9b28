//! The on-disk digest → [`ImageFacts`] cache, next to the tag cache
//! (`facts-v1.tsv` in the same directory). A digest's facts never change,
//! so entries are answers for good: no TTL, and `--verify`/`--update` use
//! them too. Entries not learnt again for [`KEEP_FOR`] are dropped when the
//! file is written, so it does not grow forever. Like the tag cache, a
//! corrupt, unreadable or oversized file is discarded, never fatal; writes
//! merge with what is on disk and replace the file atomically.
//!
//! The format is a header line, then `SECONDS<TAB>KEY<TAB>JSON` per entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::cache::{now_secs, write_whole};
use super::{Created, ImageFacts, Platform};
use crate::reference::validate_digest;

const FILE_NAME: &str = "facts-v1.tsv";
const HEADER: &str = "imagepin image facts cache v1";
/// Cache files larger than this are discarded (read no further).
const MAX_FILE_BYTES: u64 = 64 << 20;
/// Entries nobody learnt again for this long are dropped on the next write.
pub(super) const KEEP_FOR: Duration = Duration::from_secs(400 * 86400);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredFacts {
    index: bool,
    platforms: Vec<StoredPlatform>,
    created: Option<(i64, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredPlatform {
    os: String,
    architecture: String,
    variant: Option<String>,
    digest: String,
}

impl From<&ImageFacts> for StoredFacts {
    fn from(f: &ImageFacts) -> StoredFacts {
        StoredFacts {
            index: f.index,
            platforms: f
                .platforms
                .iter()
                .map(|p| StoredPlatform {
                    os: p.os.clone(),
                    architecture: p.architecture.clone(),
                    variant: p.variant.clone(),
                    digest: p.digest.clone(),
                })
                .collect(),
            created: f.created.as_ref().map(|c| (c.unix, c.source.clone())),
        }
    }
}

impl StoredFacts {
    /// Back to facts; `None` when an entry was tampered with (a bad digest).
    fn facts(&self) -> Option<ImageFacts> {
        let platforms = self
            .platforms
            .iter()
            .map(|p| {
                validate_digest(&p.digest).ok()?;
                Some(Platform {
                    os: p.os.clone(),
                    architecture: p.architecture.clone(),
                    variant: p.variant.clone(),
                    digest: p.digest.clone(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(ImageFacts {
            index: self.index,
            platforms,
            created: self.created.as_ref().map(|(unix, source)| Created {
                unix: *unix,
                source: source.clone(),
            }),
        })
    }
}

#[derive(Debug, Clone)]
struct Entry {
    t: u64,
    json: String,
}

/// The loaded facts plus those learnt in this run.
#[derive(Debug)]
pub(super) struct FactsCache {
    path: PathBuf,
    entries: HashMap<String, Entry>,
    new: HashMap<String, Entry>,
}

fn read(path: &Path) -> HashMap<String, Entry> {
    let Ok(bytes) = crate::fsio::read_regular_file(path, MAX_FILE_BYTES) else {
        return HashMap::new();
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return HashMap::new();
    };
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return HashMap::new();
    }
    let mut entries = HashMap::new();
    for line in lines {
        let mut parts = line.splitn(3, '\t');
        let (Some(t), Some(key), Some(json)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(t) = t.parse::<u64>() else { continue };
        if key.is_empty() {
            continue;
        }
        entries.insert(
            key.to_string(),
            Entry {
                t,
                json: json.to_string(),
            },
        );
    }
    entries
}

impl FactsCache {
    /// Loads the cache in `dir` (missing or corrupt files give an empty cache).
    pub(super) fn load(dir: &Path) -> FactsCache {
        let path = dir.join(FILE_NAME);
        FactsCache {
            entries: read(&path),
            path,
            new: HashMap::new(),
        }
    }

    /// The facts stored for `key`, if any (and readable).
    pub(super) fn get(&self, key: &str) -> Option<ImageFacts> {
        let e = self.new.get(key).or_else(|| self.entries.get(key))?;
        serde_json::from_str::<StoredFacts>(&e.json).ok()?.facts()
    }

    pub(super) fn put(&mut self, key: &str, facts: &ImageFacts, now: SystemTime) {
        if key.is_empty() || key.contains(['\t', '\n', '\r']) {
            return;
        }
        // serde_json escapes control characters: the JSON is one line.
        if let Ok(json) = serde_json::to_string(&StoredFacts::from(facts)) {
            self.new.insert(
                key.to_string(),
                Entry {
                    t: now_secs(now),
                    json,
                },
            );
        }
    }

    /// Writes the new entries, merged with the file's current content.
    /// Does nothing when nothing was learnt.
    pub(super) fn save(&mut self, now: SystemTime) -> std::io::Result<()> {
        if self.new.is_empty() {
            return Ok(());
        }
        let mut entries = read(&self.path);
        entries.extend(self.new.drain());
        let cutoff = now_secs(now).saturating_sub(KEEP_FOR.as_secs());
        entries.retain(|_, e| e.t >= cutoff);
        let mut keys: Vec<&String> = entries.keys().collect();
        keys.sort();
        let mut out = String::from(HEADER);
        out.push('\n');
        for k in keys {
            let e = &entries[k];
            out.push_str(&format!("{}\t{k}\t{}\n", e.t, e.json));
        }
        write_whole(&self.path, &out)?;
        self.entries = entries;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn facts() -> ImageFacts {
        ImageFacts {
            index: true,
            platforms: vec![Platform {
                os: "linux".into(),
                architecture: "arm64".into(),
                variant: Some("v8".into()),
                digest: D.into(),
            }],
            created: Some(Created {
                unix: 1_790_812_800,
                source: "annotation\ton the index".into(),
            }),
        }
    }

    #[test]
    fn round_trip_merge_and_corruption() {
        let d = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let mut a = FactsCache::load(d.path());
        let mut b = FactsCache::load(d.path());
        a.put("r/a@x", &facts(), now);
        a.save(now).unwrap();
        b.put("r/b@x", &ImageFacts::default(), now);
        b.save(now).unwrap();
        let c = FactsCache::load(d.path());
        assert_eq!(c.get("r/a@x"), Some(facts()));
        assert_eq!(c.get("r/b@x"), Some(ImageFacts::default()));
        // Broken entries are dropped one by one; a bad header drops all.
        let path = d.path().join(FILE_NAME);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            format!("{text}x\tk\t{{}}\n5\tj\t{{\"index\":1}}\n5\tbad\t{}\n", {
                serde_json::to_string(&StoredFacts::from(&facts()))
                    .unwrap()
                    .replace(D, "sha256:zz")
            }),
        )
        .unwrap();
        let c = FactsCache::load(d.path());
        assert_eq!(c.get("r/a@x"), Some(facts()));
        assert_eq!(c.get("j"), None);
        assert_eq!(c.get("bad"), None);
        std::fs::write(&path, b"\xff\x00").unwrap();
        assert_eq!(FactsCache::load(d.path()).get("r/a@x"), None);
    }

    #[test]
    fn old_entries_are_pruned_on_write() {
        let d = tempfile::tempdir().unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let mut c = FactsCache::load(d.path());
        c.put("old", &facts(), t0);
        c.save(t0).unwrap();
        let later = t0 + KEEP_FOR + Duration::from_secs(10);
        let mut c = FactsCache::load(d.path());
        assert!(c.get("old").is_some());
        c.put("new", &facts(), later);
        c.save(later).unwrap();
        assert!(FactsCache::load(d.path()).get("old").is_none());
    }
}
