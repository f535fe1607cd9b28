//! The scan stage over many files: read each candidate (regular files only,
//! bounded), check it is UTF-8, decide its kind (name, configuration or
//! content), scan it, and collect the results in the candidates' order, on all
//! cores. A file that can't be read or scanned becomes a [`FileError`] naming
//! it, and the other files go on; a scanner that panics on one file costs only
//! that file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::Config;
use crate::files::{self, Candidate};
use crate::finding::{FileError, FileKind, Finding};

/// The largest file imagepin reads (a generated manifest bundle can be tens of
/// megabytes; nothing a person writes comes near this).
pub(crate) const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// One file that was read and scanned.
#[derive(Debug, Clone)]
pub struct ScannedFile {
    /// As given on the command line, or relative to the cwd when walking.
    pub path: PathBuf,
    pub kind: FileKind,
    /// The file's full text (BOM included), exactly as read. Empty when the
    /// run never needs it (`--check`), to keep memory flat on large trees.
    pub text: String,
    pub findings: Vec<Finding>,
}

/// What the scan stage produced.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    pub files: Vec<ScannedFile>,
    pub errors: Vec<FileError>,
}

impl ScannedFile {
    fn empty() -> ScannedFile {
        ScannedFile {
            path: PathBuf::new(),
            kind: crate::scan::dockerfile::KIND.id,
            text: String::new(),
            findings: Vec::new(),
        }
    }
}

impl Scanned {
    pub(crate) fn findings(&self) -> Vec<Finding> {
        self.files
            .iter()
            .flat_map(|f| f.findings.iter().cloned())
            .collect()
    }

    /// Every finding, moved out of the files (which keep their paths, kinds
    /// and texts): for a run that only reports them.
    pub(crate) fn take_findings(&mut self) -> Vec<Finding> {
        let n = self.files.iter().map(|f| f.findings.len()).sum();
        let mut all = Vec::with_capacity(n);
        for f in &mut self.files {
            all.append(&mut f.findings);
        }
        all
    }
}

/// Reads and scans `candidates` in parallel; the result keeps their order.
/// `keep_text` keeps each file's text (needed by `--fix`/`--diff`).
pub(crate) fn scan_files(config: &Config, candidates: &[Candidate], keep_text: bool) -> Scanned {
    let mut scanned = scan_each(config, candidates, keep_text);
    relate(&mut scanned, keep_text);
    scanned
}

/// Runs each kind's [`crate::scan::Kind::relate`] pass over its files, then
/// drops the texts kept only for it.
fn relate(scanned: &mut Scanned, keep_text: bool) {
    for kind in crate::scan::KINDS {
        let Some(relate) = kind.relate else { continue };
        let at: Vec<usize> = (0..scanned.files.len())
            .filter(|&i| scanned.files[i].kind == kind.id)
            .collect();
        if at.is_empty() {
            continue;
        }
        let mut files: Vec<ScannedFile> = at
            .iter()
            .map(|&i| std::mem::replace(&mut scanned.files[i], ScannedFile::empty()))
            .collect();
        relate(&mut files, &mut scanned.errors);
        for (i, mut f) in at.into_iter().zip(files) {
            if !keep_text {
                f.text = String::new();
            }
            scanned.files[i] = f;
        }
    }
}

/// The fewest files worth a worker thread of their own.
const FILES_PER_WORKER: usize = 4;

fn scan_each(config: &Config, candidates: &[Candidate], keep_text: bool) -> Scanned {
    // A few files (the pre-commit case: pre-commit already splits the
    // staged files over one process per core) are scanned on this thread: a
    // worker thread costs about as much as scanning a file, and counting
    // the cores reads the cgroup's CPU quota files.
    let workers = match candidates.len() / FILES_PER_WORKER {
        0 | 1 => 1,
        n => std::thread::available_parallelism().map_or(1, |c| c.get().min(n)),
    };
    let outcomes: Vec<Outcome> = if workers <= 1 {
        candidates
            .iter()
            .map(|c| scan_isolated(config, c, keep_text))
            .collect()
    } else {
        let next = AtomicUsize::new(0);
        let mut indexed: Vec<(usize, Outcome)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(c) = candidates.get(i) else { break };
                            done.push((i, scan_isolated(config, c, keep_text)));
                        }
                        done
                    })
                })
                .collect();
            // Workers never unwind (each file is isolated), so a join error
            // can't hide files; were it to happen, it would show as missing
            // files below rather than pass silently.
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        indexed.sort_by_key(|(i, _)| *i);
        let mut outcomes = Vec::with_capacity(candidates.len());
        let mut it = indexed.into_iter().peekable();
        for (i, c) in candidates.iter().enumerate() {
            match it.next_if(|(j, _)| *j == i) {
                Some((_, o)) => outcomes.push(o),
                None => outcomes.push(Outcome::Failed(internal_error(&c.path))),
            }
        }
        outcomes
    };
    let mut scanned = Scanned::default();
    for o in outcomes {
        match o {
            Outcome::Scanned(f) => scanned.files.push(f),
            Outcome::Failed(e) => scanned.errors.push(e),
            Outcome::Skipped => {}
        }
    }
    scanned
}

enum Outcome {
    Scanned(ScannedFile),
    Failed(FileError),
    Skipped,
}

fn internal_error(path: &Path) -> FileError {
    FileError {
        path: path.to_path_buf(),
        line: None,
        message:
            "internal error: the scanner failed on this file; please report this as an imagepin bug"
                .into(),
    }
}

/// [`scan_one`], with a panic turned into an error for this one file.
fn scan_isolated(config: &Config, candidate: &Candidate, keep_text: bool) -> Outcome {
    catch_unwind(AssertUnwindSafe(|| scan_one(config, candidate, keep_text)))
        .unwrap_or_else(|_| Outcome::Failed(internal_error(&candidate.path)))
}

fn scan_one(config: &Config, candidate: &Candidate, keep_text: bool) -> Outcome {
    let path = &candidate.path;
    #[cfg(test)]
    if path.file_name().is_some_and(|n| n == "PANIC.Dockerfile") {
        panic!("a scanner bug, simulated");
    }
    let fail = |line, message| {
        Outcome::Failed(FileError {
            path: path.clone(),
            line,
            message,
        })
    };
    let bytes = match crate::fsio::read_regular_file(path, MAX_FILE_SIZE) {
        Ok(b) => b,
        Err(message) => return fail(None, message),
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            // A YAML file of unknown kind is ours only when its content says so.
            if candidate.kind.is_none()
                && files::known_or_sniffed_kind(candidate, &String::from_utf8_lossy(e.as_bytes()))
                    .is_none()
            {
                return Outcome::Skipped;
            }
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            return fail(
                Some(line),
                format!("not valid UTF-8 (invalid byte at offset {at})"),
            );
        }
    };
    let Some(kind) = files::known_or_sniffed_kind(candidate, &text) else {
        return Outcome::Skipped;
    };
    let keep_text =
        keep_text || crate::scan::registry_entry(kind).is_some_and(|k| k.relate.is_some());
    match crate::scan::scan_file(path, kind, &text, &|r| config.is_ignored_image(r)) {
        Ok(findings) => Outcome::Scanned(ScannedFile {
            path: path.clone(),
            kind,
            text: if keep_text { text } else { String::new() },
            findings,
        }),
        Err(e) => {
            let message = match e.column {
                Some(c) if e.line.is_some() => format!("{kind}: column {c}: {}", e.message),
                _ => format!("{kind}: {}", e.message),
            };
            fail(e.line, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::kind_from_id;

    fn dockerfile() -> Option<FileKind> {
        kind_from_id("dockerfile")
    }

    #[test]
    fn scanning_keeps_the_candidates_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut candidates = Vec::new();
        for i in 0..40 {
            let p = dir.path().join(format!("{i:02}.Dockerfile"));
            std::fs::write(&p, format!("FROM img{i}:1\n")).unwrap();
            candidates.push(Candidate {
                path: p,
                kind: dockerfile(),
            });
        }
        let scanned = scan_files(&Config::default(), &candidates, false);
        let refs: Vec<_> = scanned
            .files
            .iter()
            .map(|f| f.findings[0].reference.clone())
            .collect();
        let expected: Vec<_> = (0..40).map(|i| format!("img{i}:1")).collect();
        assert_eq!(refs, expected);
        assert!(scanned.files.iter().all(|f| f.text.is_empty()));
        let kept = scan_files(&Config::default(), &candidates[..1], true);
        assert_eq!(kept.files[0].text, "FROM img0:1\n");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("Dockerfile");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let fifo = dir.path().join("fifo.Dockerfile");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        let mut candidates = vec![Candidate {
            path: link.clone(),
            kind: dockerfile(),
        }];
        if made {
            candidates.push(Candidate {
                path: fifo,
                kind: dockerfile(),
            });
        }
        let scanned = scan_files(&Config::default(), &candidates, false);
        assert_eq!(scanned.errors.len(), candidates.len());
        assert_eq!(
            scanned.errors[0].to_string(),
            format!(
                "{}: cannot read: not a regular file (a device)",
                link.display()
            )
        );
    }

    #[test]
    fn a_scanner_panic_costs_only_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut candidates = Vec::new();
        for name in ["a.Dockerfile", "PANIC.Dockerfile", "b.Dockerfile"] {
            let p = dir.path().join(name);
            std::fs::write(&p, "FROM img:1\n").unwrap();
            candidates.push(Candidate {
                path: p,
                kind: dockerfile(),
            });
        }
        let scanned = scan_files(&Config::default(), &candidates, false);
        assert_eq!(scanned.files.len(), 2);
        assert_eq!(scanned.errors.len(), 1);
        assert!(scanned.errors[0].path.ends_with("PANIC.Dockerfile"));
        assert!(scanned.errors[0].message.starts_with("internal error"));
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Dockerfile");
        std::fs::write(&p, "FROM a\n".repeat(100)).unwrap();
        let e = crate::fsio::read_regular_file(&p, 10).unwrap_err();
        assert!(e.starts_with("cannot read: larger than"), "{e}");
        assert_eq!(crate::fsio::read_regular_file(&p, 700).unwrap().len(), 700);
    }

    #[test]
    fn unknown_yaml_with_a_bad_byte_is_reported_when_it_is_kubernetes() {
        let dir = tempfile::tempdir().unwrap();
        let k8s = dir.path().join("deploy.yaml");
        let mut bytes =
            b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: a\n# \xff\n".to_vec();
        std::fs::write(&k8s, &bytes).unwrap();
        let other = dir.path().join("other.yaml");
        bytes = b"just: data \xff\n".to_vec();
        std::fs::write(&other, &bytes).unwrap();
        let candidates = [
            Candidate {
                path: k8s.clone(),
                kind: None,
            },
            Candidate {
                path: other,
                kind: None,
            },
        ];
        let scanned = scan_files(&Config::default(), &candidates, false);
        assert_eq!(scanned.errors.len(), 1);
        assert_eq!(scanned.errors[0].path, k8s);
        assert_eq!(scanned.errors[0].line, Some(6));
    }
}
