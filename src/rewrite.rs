//! Byte-exact edits to one file's text: where a digest goes ([`pin_edit`],
//! [`update_edit`]), applying the edits ([`apply`]), and the safety check that
//! re-scans the result and proves nothing but the digests changed
//! ([`check`]). Pure: writing the result to disk is [`atomic`]'s job.

pub(crate) mod atomic;

use std::ops::Range;

use thiserror::Error;

use crate::finding::{DigestSlot, FileKind, Finding, Status};
use crate::reference::{Reference, validate_digest};
use crate::scan::{self, Occurrence, ScanError};

/// One replacement in a file's text. Offsets are bytes of the original text;
/// an insertion has an empty `range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Byte range of the original text that is replaced.
    pub range: Range<usize>,
    /// The bytes written there (`@sha256:…` for a pin, `sha256:…` for an update).
    pub text: String,
    /// Index (in the file's findings) of the reference this edit belongs to.
    pub finding: usize,
    /// The digest the reference carries afterwards.
    pub digest: String,
}

impl Edit {
    /// How much longer the text gets.
    fn delta(&self) -> isize {
        self.text.len() as isize - self.range.len() as isize
    }
}

/// Why an edit could not be planned or did not pass the safety check.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RewriteError {
    /// The registry's answer is not a valid digest; nothing is written with it.
    #[error("{reference}: the registry answered an invalid digest {digest:?}")]
    BadDigest { reference: String, digest: String },
    /// The finding does not match the text (the file changed since the scan,
    /// or a scanner bug).
    #[error("{0}")]
    Mismatch(String),
    /// The edited text did not re-scan to the same references plus digests.
    #[error("internal error: the edited text did not pass the safety check ({0}); nothing written")]
    Unsafe(String),
}

/// The finding to edit, checked against the text, with its parsed reference;
/// `digest` must be a valid sha256 digest.
fn target<'f>(
    text: &str,
    findings: &'f [Finding],
    index: usize,
    digest: &str,
) -> Result<(&'f Finding, Reference), RewriteError> {
    let f = finding_in(text, findings, index)?;
    check_digest(f.image(), digest)?;
    let r = Reference::parse(f.image())
        .map_err(|e| RewriteError::Mismatch(format!("{}: {e}", f.image())))?;
    Ok((f, r))
}

/// The insertion that pins an unpinned finding: `@<digest>` right after the
/// reference text, which keeps its tag; for a split reference, what its
/// [`DigestSlot::Insert`] says.
pub fn pin_edit(
    text: &str,
    findings: &[Finding],
    index: usize,
    digest: &str,
) -> Result<Edit, RewriteError> {
    let (f, r) = target(text, findings, index, digest)?;
    if let Some(split) = &f.split {
        if r.digest.is_some() {
            return Err(RewriteError::Mismatch(format!(
                "{} already has a digest",
                split.image
            )));
        }
        return match &split.digest {
            DigestSlot::Insert { at, before, after } if text.is_char_boundary(*at) => Ok(Edit {
                range: *at..*at,
                text: format!("{before}{digest}{after}"),
                finding: index,
                digest: digest.to_string(),
            }),
            DigestSlot::Nowhere(why) => Err(RewriteError::Mismatch(format!(
                "{} can't be pinned in place: {why}",
                split.image
            ))),
            _ => Err(RewriteError::Mismatch(format!(
                "{}: no place for the digest",
                split.image
            ))),
        };
    }
    if r.digest.is_some() || r.name_tag_len() != f.span.len() {
        return Err(RewriteError::Mismatch(format!(
            "{} already has a digest",
            f.reference
        )));
    }
    // `name[:tag]` is the whole reference: the digest goes at its end.
    let at = f.span.start + r.name_tag_len();
    Ok(Edit {
        range: at..at,
        text: format!("@{digest}"),
        finding: index,
        digest: digest.to_string(),
    })
}

/// The replacement that moves a pinned finding's digest to `digest` (the
/// part after `@`; name, tag and every other byte stay).
pub(crate) fn update_edit(
    text: &str,
    findings: &[Finding],
    index: usize,
    digest: &str,
) -> Result<Edit, RewriteError> {
    let (f, r) = target(text, findings, index, digest)?;
    let Some(old) = r.digest.as_deref() else {
        return Err(RewriteError::Mismatch(format!(
            "{} has no digest to update",
            f.image()
        )));
    };
    let range = match f.split.as_ref().map(|s| &s.digest) {
        Some(DigestSlot::At(range)) => range.clone(),
        Some(_) => {
            return Err(RewriteError::Mismatch(format!(
                "{}: digest not where expected",
                f.image()
            )));
        }
        None => f.span.start + r.name_tag_len() + 1..f.span.end,
    };
    let start = range.start;
    if text.get(range.clone()) != Some(old) {
        return Err(RewriteError::Mismatch(format!(
            "{}: digest not where expected",
            f.reference
        )));
    }
    Ok(Edit {
        range: start..range.end,
        text: digest.to_string(),
        finding: index,
        digest: digest.to_string(),
    })
}

fn finding_in<'f>(
    text: &str,
    findings: &'f [Finding],
    index: usize,
) -> Result<&'f Finding, RewriteError> {
    let f = findings
        .get(index)
        .ok_or_else(|| RewriteError::Mismatch(format!("no finding #{index}")))?;
    if text.get(f.span.clone()) != Some(f.reference.as_str()) {
        return Err(RewriteError::Mismatch(format!(
            "{}: the text at line {} is no longer this reference",
            f.reference, f.line
        )));
    }
    Ok(f)
}

fn check_digest(reference: &str, digest: &str) -> Result<(), RewriteError> {
    // Only sha256 is written: it is what `docker` and the grammar accept.
    if digest.starts_with("sha256:") && validate_digest(digest).is_ok() {
        Ok(())
    } else {
        Err(RewriteError::BadDigest {
            reference: reference.to_string(),
            digest: digest.to_string(),
        })
    }
}

/// Sorts `edits` by position and rejects overlapping ones.
fn sorted(edits: &[Edit], len: usize) -> Result<Vec<&Edit>, RewriteError> {
    let mut v: Vec<&Edit> = edits.iter().collect();
    v.sort_by_key(|e| (e.range.start, e.range.end));
    for w in v.windows(2) {
        if w[1].range.start < w[0].range.end
            || (w[1].range.start == w[0].range.start && w[0].range.is_empty())
        {
            return Err(RewriteError::Mismatch("overlapping edits".into()));
        }
    }
    if v.last().is_some_and(|e| e.range.end > len) {
        return Err(RewriteError::Mismatch(
            "edit past the end of the text".into(),
        ));
    }
    Ok(v)
}

/// Applies `edits` (offsets of the original `text`), from the end backwards
/// so no offset moves before it is used.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, RewriteError> {
    let order = sorted(edits, text.len())?;
    let mut out = text.to_string();
    for e in order.into_iter().rev() {
        if !out.is_char_boundary(e.range.start) || !out.is_char_boundary(e.range.end) {
            return Err(RewriteError::Mismatch(
                "edit not on a character boundary".into(),
            ));
        }
        out.replace_range(e.range.clone(), &e.text);
    }
    Ok(out)
}

/// The safety check, with the file kind's own scanner: see [`check_with`].
pub fn check(
    kind: FileKind,
    old: &str,
    new: &str,
    findings: &[Finding],
    edits: &[Edit],
) -> Result<(), RewriteError> {
    check_with(|t| scan::scan_text(kind, t), old, new, findings, edits)
}

/// The safety check before anything is written: undoing `edits` on `new`
/// gives back `old` byte for byte, and re-scanning `new` finds the same
/// references as re-scanning `old`, one to one, at the shifted positions,
/// with the same text except for the digests the edits wrote (which now
/// classify as pinned); each edit sits in the reference of the finding
/// (of `findings`) it was made for. Any difference is an internal error:
/// nothing is written.
pub(crate) fn check_with(
    rescan: impl Fn(&str) -> Result<Vec<Occurrence>, ScanError>,
    old: &str,
    new: &str,
    findings: &[Finding],
    edits: &[Edit],
) -> Result<(), RewriteError> {
    fn unsafe_<T>(m: String) -> Result<T, RewriteError> {
        Err(RewriteError::Unsafe(m))
    }
    let order = sorted(edits, old.len()).map_err(|e| RewriteError::Unsafe(e.to_string()))?;

    // 1. Undo: each edit's bytes in `new` are exactly what it wrote; putting
    // the original bytes back gives `old`.
    let mut undone = String::with_capacity(old.len());
    let mut pos_old = 0usize;
    let mut pos_new = 0usize;
    for e in &order {
        let between = e.range.start - pos_old;
        let (Some(same), Some(written)) = (
            new.get(pos_new..pos_new + between),
            new.get(pos_new + between..pos_new + between + e.text.len()),
        ) else {
            return unsafe_("edited text too short".into());
        };
        if written != e.text {
            return unsafe_(format!(
                "expected {:?} at byte {}",
                e.text,
                pos_new + between
            ));
        }
        undone.push_str(same);
        undone.push_str(&old[e.range.clone()]);
        pos_old = e.range.end;
        pos_new += between + e.text.len();
    }
    undone.push_str(new.get(pos_new..).unwrap_or(""));
    if undone != old {
        return unsafe_("removing the digests does not give back the original bytes".into());
    }

    // 2. Re-scan the original and the edited text: the same references, one
    // to one, with the same hints, at the shifted positions; the edited ones
    // now carry exactly the digest written, the others the same text.
    let before = rescan(old)
        .map_err(|e| RewriteError::Unsafe(format!("the original does not re-scan: {e}")))?;
    let after = rescan(new)
        .map_err(|e| RewriteError::Unsafe(format!("the edited text does not parse: {e}")))?;
    if before.len() != after.len() {
        return unsafe_(format!(
            "{} references before, {} after",
            before.len(),
            after.len()
        ));
    }
    let line_of = |at: usize| old[..at].matches('\n').count() + 1;
    // Which re-scanned reference each edit belongs to, and whether it sits
    // where that reference's digest goes: inside an inline reference, or at
    // a split reference's digest slot.
    let mut own: Vec<Vec<&Edit>> = vec![Vec::new(); before.len()];
    for e in &order {
        let Some(f) = findings.get(e.finding) else {
            return unsafe_(format!("edit for unknown finding #{}", e.finding));
        };
        let Some(j) = before.iter().position(|o| o.span == f.span) else {
            return unsafe_(format!(
                "{} (line {}) is not found when re-scanning the original",
                f.reference, f.line
            ));
        };
        let placed = match before[j].split.as_ref().map(|s| &s.digest) {
            None => f.span.start < e.range.start && e.range.end <= f.span.end,
            Some(DigestSlot::At(r)) => e.range == *r,
            Some(DigestSlot::Insert { at, .. }) => e.range == (*at..*at),
            Some(DigestSlot::Nowhere(_)) => false,
        };
        if !placed {
            return unsafe_(format!(
                "an edit at byte {} is not where the digest of {} (line {}) goes",
                e.range.start, f.reference, f.line
            ));
        }
        own[j].push(e);
    }
    for (j, (b, a)) in before.iter().zip(&after).enumerate() {
        let was = &old[b.span.clone()];
        let line = line_of(b.span.start);
        // A reference's own edits inside its span grow it (inline pins, and
        // split references whose digest slot is in the text reported, such
        // as `redis:${TAG:-7}`); every other edit before a span moves it,
        // and none may overlap it. A split reference's own insertion right at
        // the end of its span may or may not become part of the span on
        // re-scan (a Helm tag `v1` reported without its new `@sha256:…`, a
        // `${REG}/nginx:1.27` reported with it): both are accepted.
        let inline = b.split.is_none();
        let (mut shift, mut grow, mut edge) = (0isize, 0isize, 0isize);
        for e in &order {
            let own = own[j].contains(e);
            if own && !inline && e.range.is_empty() && e.range.start == b.span.end {
                edge += e.delta();
            } else if own && (inline || (b.span.start < e.range.start && e.range.end <= b.span.end))
            {
                grow += e.delta();
            } else if e.range.end <= b.span.start {
                shift += e.delta();
            } else if e.range.start < b.span.end {
                return unsafe_(format!(
                    "an edit at byte {} overlaps {was} (line {line})",
                    e.range.start
                ));
            }
        }
        let start = b.span.start as isize + shift;
        let end = b.span.end as isize + shift + grow;
        let end_ok = a.span.end as isize == end || (edge != 0 && a.span.end as isize == end + edge);
        if a.span.start as isize != start || !end_ok || a.hint != b.hint {
            return unsafe_(format!(
                "{was} (line {line}) re-scanned at bytes {}..{} ({:?}), expected {start}..{end} ({:?})",
                a.span.start, a.span.end, a.hint, b.hint
            ));
        }
        let (image_was, image) = (b.image(old), a.image(new));
        match own[j].last() {
            Some(e) => {
                let (status, _) = scan::classify(a.hint, image);
                let digest = Reference::parse(image).ok().and_then(|r| r.digest);
                let same_name = image.split('@').next() == image_was.split('@').next();
                if status != Status::Pinned
                    || digest.as_deref() != Some(e.digest.as_str())
                    || !same_name
                {
                    return unsafe_(format!(
                        "{image_was} (line {line}) re-scanned as {image:?} ({status})"
                    ));
                }
                // A split reference must now show its digest where it was written.
                if let Some(split) = &a.split {
                    let shown = match &split.digest {
                        DigestSlot::At(r) => new.get(r.clone()),
                        _ => None,
                    };
                    if shown != Some(e.digest.as_str()) {
                        return unsafe_(format!(
                            "{image_was} (line {line}): the re-scan does not find the digest where it was written"
                        ));
                    }
                }
            }
            None if new[a.span.clone()] != *was || image != image_was => {
                return unsafe_(format!("{image_was} (line {line}) re-scanned as {image:?}"));
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::scan::Hint;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    /// A tiny stand-in scanner: the word after each `FROM `.
    fn from_words(text: &str) -> Result<Vec<Occurrence>, ScanError> {
        let mut v = Vec::new();
        for (i, _) in text.match_indices("FROM ") {
            let s = i + 5 + usize::from(text[i + 5..].starts_with('"'));
            let len = text[s..]
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(text.len() - s);
            v.push(Occurrence::new(s..s + len, Hint::Image, "FROM"));
        }
        Ok(v)
    }

    fn findings(text: &str) -> Vec<Finding> {
        from_words(text)
            .unwrap()
            .into_iter()
            .map(|o| {
                let reference = text[o.span.clone()].to_string();
                Finding {
                    path: PathBuf::from("Dockerfile"),
                    kind: crate::scan::dockerfile::KIND.id,
                    status: scan::classify(o.hint, &reference).0,
                    line: 1,
                    column: 1,
                    span: o.span,
                    reference,
                    context: o.context,
                    note: None,
                    split: None,
                }
            })
            .collect()
    }

    #[test]
    fn pins_keep_every_other_byte() {
        let old = "\u{feff}FROM python:3.12 AS a\r\nFROM \"node\"\r\nFROM a";
        let fs = findings(old);
        let edits = vec![
            pin_edit(old, &fs, 0, D1).unwrap(),
            pin_edit(old, &fs, 1, D2).unwrap(),
        ];
        let new = apply(old, &edits).unwrap();
        assert_eq!(
            new,
            format!("\u{feff}FROM python:3.12@{D1} AS a\r\nFROM \"node@{D2}\"\r\nFROM a")
        );
        check_with(from_words, old, &new, &fs, &edits).unwrap();
    }

    #[test]
    fn update_replaces_only_the_digest() {
        let old = format!("FROM python:3.12@{D1} AS a\n");
        let fs = findings(&old);
        let edits = vec![update_edit(&old, &fs, 0, D2).unwrap()];
        let new = apply(&old, &edits).unwrap();
        assert_eq!(new, format!("FROM python:3.12@{D2} AS a\n"));
        check_with(from_words, &old, &new, &fs, &edits).unwrap();
    }

    #[test]
    fn bad_digests_are_refused() {
        let old = "FROM python:3\n";
        let fs = findings(old);
        for d in ["sha256:abc", "md5:0", &D1.to_uppercase(), "", "sha256:../x"] {
            assert!(matches!(
                pin_edit(old, &fs, 0, d),
                Err(RewriteError::BadDigest { .. })
            ));
        }
    }

    #[test]
    fn safety_check_refuses_a_misplaced_insertion() {
        let old = "FROM python:3 AS a\nRUN echo\n";
        let fs = findings(old);
        // Crafted bad plan: the digest lands in the middle of the name.
        let bad = vec![Edit {
            range: 9..9,
            text: format!("@{D1}"),
            finding: 0,
            digest: D1.into(),
        }];
        let new = apply(old, &bad).unwrap();
        let err = check_with(from_words, old, &new, &fs, &bad).unwrap_err();
        assert!(matches!(err, RewriteError::Unsafe(_)), "{err}");
        // After the space: the reference no longer carries it.
        let bad = vec![Edit {
            range: 14..14,
            text: format!("@{D1}"),
            finding: 0,
            digest: D1.into(),
        }];
        let new = apply(old, &bad).unwrap();
        assert!(check_with(from_words, old, &new, &fs, &bad).is_err());
    }

    #[test]
    fn safety_check_refuses_other_changes() {
        let old = "FROM python:3\nFROM node\n";
        let fs = findings(old);
        let edits = vec![pin_edit(old, &fs, 0, D1).unwrap()];
        let good = apply(old, &edits).unwrap();
        // A byte changed elsewhere.
        let tampered = good.replace("node", "nodf");
        assert!(check_with(from_words, old, &tampered, &fs, &edits).is_err());
        // A reference appeared.
        let extra = format!("{good}FROM x\n");
        assert!(check_with(from_words, old, &extra, &fs, &edits).is_err());
        // A scanner that fails on the new text.
        let failing = |_: &str| Err(ScanError::new("boom"));
        assert!(check_with(failing, old, &good, &fs, &edits).is_err());
    }

    #[test]
    fn safety_check_with_the_compose_scanner() {
        let old =
            "services:\n  a:\n    image: 'redis:7' # cache\n  b:\n    image: \"${B:-nginx:1}\"\n";
        let fs: Vec<Finding> = crate::scan::scan_file(
            std::path::Path::new("compose.yaml"),
            crate::scan::compose::KIND.id,
            old,
            &|_| false,
        )
        .unwrap();
        assert_eq!(fs.len(), 2, "{fs:?}");
        let good = vec![
            pin_edit(old, &fs, 0, D1).unwrap(),
            pin_edit(old, &fs, 1, D2).unwrap(),
        ];
        let new = apply(old, &good).unwrap();
        check(crate::scan::compose::KIND.id, old, &new, &fs, &good).unwrap();
        // Crafted bad plan: the digest lands after the closing quote, where
        // it is no part of the scalar (and not valid YAML).
        let quote = old.find("' #").unwrap();
        let bad = vec![Edit {
            range: quote + 1..quote + 1,
            ..good[0].clone()
        }];
        let new = apply(old, &bad).unwrap();
        assert!(check(crate::scan::compose::KIND.id, old, &new, &fs, &bad).is_err());
        // Or inside the default's variable name.
        let var = old.find("${B").unwrap() + 3;
        let bad = vec![Edit {
            range: var..var,
            ..good[1].clone()
        }];
        let new = apply(old, &bad).unwrap();
        assert!(check(crate::scan::compose::KIND.id, old, &new, &fs, &bad).is_err());
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let old = "FROM python:3\n";
        let fs = findings(old);
        let e = pin_edit(old, &fs, 0, D1).unwrap();
        assert!(apply(old, &[e.clone(), e]).is_err());
    }

    #[test]
    fn stale_finding_text_is_a_mismatch() {
        let old = "FROM python:3\n";
        let fs = findings(old);
        assert!(matches!(
            pin_edit("FROM node:22\n", &fs, 0, D1),
            Err(RewriteError::Mismatch(_))
        ));
    }

    /// A stand-in scanner for split references: `repo: R` on one line and
    /// `tag: T[@D]` on the next make `R:T[@D]`, reported at `R`; the digest
    /// goes after `T`.
    fn repo_tag(text: &str) -> Result<Vec<Occurrence>, ScanError> {
        let mut v = Vec::new();
        for (i, _) in text.match_indices("repo: ") {
            let r = i + 6..i + 6 + text[i + 6..].find('\n').unwrap_or(0);
            let Some(t) = text[r.end..].find("tag: ").map(|t| r.end + t + 5) else {
                continue;
            };
            let t_end = t + text[t..].find('\n').unwrap_or(text.len() - t);
            let tag = &text[t..t_end];
            let digest = match tag.find('@') {
                Some(at) => DigestSlot::At(t + at + 1..t_end),
                None => DigestSlot::Insert {
                    at: t_end,
                    before: "@".into(),
                    after: String::new(),
                },
            };
            let split = crate::finding::Split {
                image: format!("{}:{tag}", &text[r.clone()]),
                digest,
                note: None,
            };
            v.push(Occurrence::split(r, Hint::Image, "repo", split));
        }
        Ok(v)
    }

    fn split_findings(text: &str) -> Vec<Finding> {
        repo_tag(text)
            .unwrap()
            .into_iter()
            .map(|o| {
                let image = o.image(text).to_string();
                Finding {
                    path: PathBuf::from("values.yaml"),
                    kind: crate::scan::kubernetes::KIND.id,
                    status: scan::classify(o.hint, &image).0,
                    line: 1,
                    column: 1,
                    reference: text[o.span.clone()].to_string(),
                    span: o.span,
                    context: o.context,
                    note: None,
                    split: o.split,
                }
            })
            .collect()
    }

    #[test]
    fn split_references_pin_at_their_slot_and_pass_the_check() {
        let old = "repo: a\ntag: 1\nrepo: b\ntag: 2\n";
        let fs = split_findings(old);
        assert_eq!(fs[0].image(), "a:1");
        let edits = [
            pin_edit(old, &fs, 0, D1).unwrap(),
            pin_edit(old, &fs, 1, D2).unwrap(),
        ];
        let new = apply(old, &edits).unwrap();
        assert_eq!(new, format!("repo: a\ntag: 1@{D1}\nrepo: b\ntag: 2@{D2}\n"));
        check_with(repo_tag, old, &new, &fs, &edits).unwrap();

        // The update replaces exactly the digest, then passes the check too.
        let pinned = split_findings(&new);
        let up = [update_edit(&new, &pinned, 1, D1).unwrap()];
        let newer = apply(&new, &up).unwrap();
        assert_eq!(
            newer,
            format!("repo: a\ntag: 1@{D1}\nrepo: b\ntag: 2@{D1}\n")
        );
        check_with(repo_tag, &new, &newer, &pinned, &up).unwrap();
    }

    #[test]
    fn split_edits_elsewhere_fail_the_check() {
        let old = "repo: a\ntag: 1\n";
        let fs = split_findings(old);
        let mut e = pin_edit(old, &fs, 0, D1).unwrap();
        e.range = 7..7; // after the repository, not the tag
        let new = apply(old, std::slice::from_ref(&e)).unwrap();
        assert!(check_with(repo_tag, old, &new, &fs, &[e]).is_err());
        let nowhere = Finding {
            split: Some(crate::finding::Split {
                image: "a:1".into(),
                digest: DigestSlot::Nowhere("the tag comes from the chart".into()),
                note: None,
            }),
            ..fs[0].clone()
        };
        let err = pin_edit(old, &[nowhere], 0, D1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a:1 can't be pinned in place: the tag comes from the chart"
        );
    }
}
