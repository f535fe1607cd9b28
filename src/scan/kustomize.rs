//! Scanner for Kustomize files (`kustomization.yaml`, `kustomization.yml`,
//! `Kustomization`): the entries of the top-level `images:` list, which
//! rewrite the images of the resources they build on.
//!
//! An entry `{name, newName, newTag, digest}` is the reference
//! `newName-or-name[:newTag][@digest]`, reported at `newName` (else `name`).
//! It is pinned when `digest` is set, unpinned otherwise; `--fix` writes the
//! digest into an empty `digest:` value or adds a `digest:` entry after the
//! entry's last key (a new line with the entry's indentation and line ending;
//! `, digest: …` in a flow mapping). kustomize renders `name:newTag@digest`.
//!
//! An entry with `newName` and neither `newTag` nor `digest` keeps the tag
//! and digest of the resource it rewrites under another repository's name: a
//! digest pinned there belongs to the old repository. Such an entry is
//! `invalid` (set by [`relate`]) with a note saying so, and `--fix` leaves
//! it alone. An entry with only `name` changes nothing and is not reported.

use super::digest_slot::{self, DigestKey};
use super::kind::{Kind, Syntax, lower_name};
use super::yaml::{self, Node};
use super::{Hint, Occurrence, ScanError};
use crate::finding::{DigestSlot, FileError, FileKind, Split, Status};
use crate::scan::batch::ScannedFile;

pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("kustomize"),
    names: is_kustomization_name,
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "images:\n- name: a\n  newTag:",
        "images:\n- name: a\n  newName:",
        "images:\n  - name: a\n    newTag: \"1\"\n    digest:",
        "images:\n- {name: a, newTag:",
        "images:\r\n- name:",
    ],
    relate: Some(relate),
};

/// What the note of an entry that renames a repository and keeps its pin says.
const RENAMED_ONLY: &str = "this entry sets only newName: the tag and digest of the image it \
rewrites are kept under another repository's name, so a digest pinned there belongs to a \
different repository; set newTag (and digest) here";

fn is_kustomization_name(path: &std::path::Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name == "Kustomization"
        || lower_name(path).is_some_and(|l| l == "kustomization.yaml" || l == "kustomization.yml")
}

/// Finds the `images:` entries in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let docs = yaml::parse(text)?;
    let mut found = Vec::new();
    for doc in &docs {
        for (i, entry) in doc.root().get("images").into_iter().flat_map(Node::items).enumerate() {
            if let Some(o) = entry_occurrence(text, entry, i) {
                found.push(o);
            }
        }
    }
    Ok(found)
}

/// A string value of `key` in `map`, with its node (key and value).
fn field<'n>(map: &'n Node<'n>, key: &str) -> Option<(&'n Node<'n>, &'n Node<'n>)> {
    map.entries()
        .filter(|(k, _)| k.as_str() == Some(key))
        .last()
        .filter(|(_, v)| v.as_scalar().is_some())
}

fn text_of<'n>(f: Option<(&'n Node, &'n Node)>) -> Option<&'n str> {
    f.map(|(_, v)| v)
        .filter(|v| !v.is_null())
        .and_then(Node::as_str)
        .filter(|s| !s.is_empty())
}

fn entry_occurrence(text: &str, entry: &Node, index: usize) -> Option<Occurrence> {
    entry.as_mapping()?;
    let name = field(entry, "name");
    let new_name = field(entry, "newName");
    let new_tag = field(entry, "newTag");
    let digest = field(entry, "digest");
    let (tag, set_name) = (text_of(new_tag), text_of(new_name));
    // Report at newName when it is set, else at name.
    let (at_key, (_, at)) = match (set_name, new_name, name) {
        (Some(_), Some(n), _) => ("newName", n),
        (_, _, Some(n)) if text_of(Some(n)).is_some() => ("name", n),
        _ => return None,
    };
    let repository = set_name.or(text_of(name))?;
    let context = format!("images[{index}].{at_key}");
    let span = at.value_span(text).unwrap_or_else(|| {
        let s = at.source();
        s.start..s.start
    });
    let hint = if at.value_span(text).is_some() {
        Hint::Image
    } else {
        Hint::Unreadable
    };
    let (written, slot) = match digest {
        Some((k, v)) => match digest_slot::existing(text, k, v) {
            DigestKey::Set(d, slot) => (Some(d), slot),
            DigestKey::Empty(slot) => (None, slot),
        },
        // `newTag: "1.2@sha256:…"` (Renovate's way) holds the pin itself.
        None if tag.is_some_and(|t| t.contains('@')) => {
            (None, new_tag.map_or(DigestSlot::Nowhere(String::new()), |(_, v)| digest_slot::in_tag(v)))
        }
        None => (None, digest_slot::new_entry(text, entry, "digest")),
    };
    if tag.is_none() && written.is_none() {
        // Only `name`: the entry changes nothing.
        set_name?;
        let split = Split {
            image: repository.to_string(),
            digest: DigestSlot::Nowhere(RENAMED_ONLY.into()),
            note: Some(RENAMED_ONLY.into()),
        };
        return Some(Occurrence::split(span, hint, context, split));
    }
    let mut image = repository.to_string();
    if let Some(t) = tag {
        image.push(':');
        image.push_str(t);
    }
    if let Some(d) = &written {
        image.push('@');
        image.push_str(d);
    }
    let split = Split {
        image,
        digest: slot,
        note: None,
    };
    Some(Occurrence::split(span, hint, context, split))
}

/// Marks the entries that rename a repository and keep its pin as invalid.
fn relate(files: &mut [ScannedFile], _errors: &mut Vec<FileError>) {
    for file in files {
        for f in &mut file.findings {
            let renamed = f
                .split
                .as_ref()
                .is_some_and(|s| s.note.as_deref() == Some(RENAMED_ONLY));
            if renamed && f.status != Status::Ignored {
                f.status = Status::Invalid;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const D: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn images(text: &str) -> Vec<(String, String, DigestSlot)> {
        scan(text)
            .unwrap()
            .into_iter()
            .map(|o| {
                let s = o.split.unwrap();
                (text[o.span].to_string(), s.image, s.digest)
            })
            .collect()
    }

    #[test]
    fn entries_compose_name_tag_and_digest() {
        let t = format!(
            "images:\n- name: nginx\n  newTag: \"1.27\"\n- name: redis\n  newName: ghcr.io/x/redis\n  newTag: '7'\n  digest: {D}\n- name: only\n"
        );
        let found = images(&t);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "nginx");
        assert_eq!(found[0].1, "nginx:1.27");
        let at = t.find("- name: redis").unwrap();
        assert_eq!(
            found[0].2,
            DigestSlot::Insert {
                at,
                before: "  digest: \"".into(),
                after: "\"\n".into()
            }
        );
        assert_eq!(found[1].0, "ghcr.io/x/redis");
        assert_eq!(found[1].1, format!("ghcr.io/x/redis:7@{D}"));
        let d = t.find(D).unwrap();
        assert_eq!(found[1].2, DigestSlot::At(d..d + D.len()));
    }

    #[test]
    fn flow_entries_and_empty_digests() {
        let t = "images: [{name: a, newTag: v1}]\r\nx:\r\n  images: []\r\n";
        let found = images(t);
        let at = t.find("v1").unwrap() + 2;
        assert_eq!(
            found[0].2,
            DigestSlot::Insert {
                at,
                before: ", digest: ".into(),
                after: String::new()
            }
        );
        let t = "images:\n  - name: a\n    newTag: v1\n    digest: \"\"\n  - name: b\n    newTag: v2\n    digest:\n";
        let found = images(t);
        let q = t.find("\"\"").unwrap() + 1;
        assert_eq!(
            found[0].2,
            DigestSlot::Insert {
                at: q,
                before: String::new(),
                after: String::new()
            }
        );
        let c = t.rfind("digest:").unwrap() + "digest:".len();
        assert_eq!(
            found[1].2,
            DigestSlot::Insert {
                at: c,
                before: " ".into(),
                after: String::new()
            }
        );
    }

    #[test]
    fn a_rename_alone_keeps_a_pin_of_another_repository() {
        let t = "images:\n- name: nginx\n  newName: mirror.example/nginx\n";
        let found = images(t);
        assert_eq!(found[0].1, "mirror.example/nginx");
        assert!(matches!(found[0].2, DigestSlot::Nowhere(_)));
    }

    #[test]
    fn last_line_without_newline_gets_one() {
        let t = "images:\r\n- name: a\r\n  newTag: v1";
        let found = images(t);
        assert_eq!(
            found[0].2,
            DigestSlot::Insert {
                at: t.len(),
                before: "\r\n  digest: ".into(),
                after: String::new()
            }
        );
    }
}
