//! Scanner for Helm chart values files: `values.yaml`, `values-*.yaml` and
//! `values.*.yaml` (or `.yml`) beside a `Chart.yaml`, or in a chart under a
//! `charts/` directory.
//!
//! What counts as an image, at any depth, under a key named `image` or
//! ending in `Image`/`image` (`initImage`, `sidecar_image`):
//! - a string: `image: "nginx:1.27"` (for a `*Image` key only when it has a
//!   `:`, `/` or `@`, so `useImage: true` is not one), pinned in place;
//! - a map with `repository` (optional `registry`, `tag`, `digest`): the
//!   reference `[registry/]repository[:tag][@digest]`, reported at the
//!   `repository` value. Its digest goes into the map's `digest:` value when
//!   it has that key (Bitnami's convention: an empty `digest: ""` is filled,
//!   `--update` replaces it), else after the tag as `tag: "1.2@sha256:…"`
//!   (Renovate's convention). Without a tag the chart's templates pick one,
//!   usually from `Chart.yaml`'s `appVersion` (maybe as `v{{ .Chart.AppVersion }}`):
//!   reported unpinned with that explanation, and not pinned.
//! - Maps with neither `repository`, `tag` nor `digest` (`image: {pullPolicy: …}`)
//!   are not images; `repository`/`tag` maps under other keys are not read.
//!
//! Values files of one chart are read together ([`relate`]), the way
//! `helm install -f values-prod.yaml` merges them over `values.yaml`: a map
//! in an override file that sets only `tag` (or `digest`) is composed with
//! the base file's `registry`/`repository` at the same key path and pinned
//! in the override file; an override that changes the tag or repository of
//! a base map that has a `digest:` key, without a `digest:` of its own, is
//! `invalid`: Helm would pair the base's digest with the new tag.

use std::collections::HashMap;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::digest_slot::{self, DigestKey};
use super::kind::{Kind, Syntax, lower_name, parents};
use super::yaml::{self, Node, Style};
use super::{Hint, Occurrence, ScanError, classify, is_templated};
use crate::finding::{DigestSlot, FileError, FileKind, Split, Status};
use crate::reference::Reference;
use crate::scan::batch::ScannedFile;

pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("helm-values"),
    names: is_values_name,
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "image:\n  repository: a\n  tag:",
        "image:\n  registry: r.io\n  repository: a\n  tag: \"1\"\n  digest:",
        "controller:\n  image:\n    repository: a\n    tag:",
        "initImage:",
        "image: {repository: a, tag:",
        "image:\n  tag:",
        "image:",
    ],
    relate: Some(relate),
};

/// The repository name a tag-only override map stands in for until
/// [`relate`] composes it with its base file (a valid name, so the re-scan
/// check of `--fix` can read the override file alone).
const PLACEHOLDER: &str = "helm-values-base-repository";

/// Largest `values.yaml`/`Chart.yaml` read from disk by [`relate`].
const MAX_READ: u64 = 4 << 20;

fn is_values_name(path: &Path) -> bool {
    let Some(lower) = lower_name(path) else {
        return false;
    };
    let Some(stem) = lower
        .strip_suffix(".yaml")
        .or_else(|| lower.strip_suffix(".yml"))
    else {
        return false;
    };
    let values = stem == "values" || stem.starts_with("values-") || stem.starts_with("values.");
    values
        && (parents(path).nth(1) == Some("charts")
            || path
                .parent()
                .is_some_and(|d| d.join("Chart.yaml").is_file()))
}

/// One image map or string, as written (values before merging).
#[derive(Debug, Clone, Default)]
struct Parts {
    /// Key path (`image`, `server.sidecar.image`).
    path: String,
    registry: Option<String>,
    repository: Option<String>,
    tag: Option<String>,
    /// `Some("")` for an empty `digest:` key.
    digest: Option<String>,
    /// A string (`image: "a:1"`), not a map.
    string: bool,
}

/// Finds the images in one values file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    Ok(walk(text)?.into_iter().map(|(o, _)| o).collect())
}

fn walk(text: &str) -> Result<Vec<(Occurrence, Parts)>, ScanError> {
    let docs = yaml::parse(text)?;
    let mut w = Walker {
        text,
        found: Vec::new(),
        visited: HashSet::new(),
        path: Vec::new(),
    };
    for doc in &docs {
        w.node(doc.root());
    }
    Ok(w.found)
}

struct Walker<'t> {
    text: &'t str,
    found: Vec<(Occurrence, Parts)>,
    visited: HashSet<usize>,
    path: Vec<String>,
}

fn is_image_key(key: &str) -> bool {
    key == "image" || key.ends_with("Image") || key.ends_with("image")
}

/// The non-empty string value of `key` in `map`, with its key and value nodes.
fn field<'n>(map: &'n Node<'n>, key: &str) -> Option<(&'n Node<'n>, &'n Node<'n>)> {
    map.entries()
        .filter(|(k, _)| k.as_str() == Some(key))
        .last()
        .filter(|(_, v)| v.as_scalar().is_some())
}

fn value_of(f: Option<(&Node, &Node)>) -> Option<String> {
    let (_, v) = f?;
    if v.is_null() {
        return None;
    }
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

impl Walker<'_> {
    fn key_path(&self, key: &str) -> String {
        let mut p = String::new();
        for part in &self.path {
            if !p.is_empty() && !part.starts_with('[') {
                p.push('.');
            }
            p.push_str(part);
        }
        if !p.is_empty() {
            p.push('.');
        }
        p.push_str(key);
        p
    }

    fn node(&mut self, n: &Node) {
        match n {
            Node::Mapping(_) => {
                if !self.visited.insert(n.id()) || self.path.len() > 64 {
                    return;
                }
                for (k, v) in n.entries() {
                    let Some(key) = k.as_str() else { continue };
                    if is_image_key(key) && self.image(key, v) {
                        continue;
                    }
                    self.path.push(key.to_string());
                    self.node(v);
                    self.path.pop();
                }
            }
            Node::Sequence(_) => {
                if !self.visited.insert(n.id()) || self.path.len() > 64 {
                    return;
                }
                for (i, item) in n.items().enumerate() {
                    self.path.push(format!("[{i}]"));
                    self.node(item);
                    self.path.pop();
                }
            }
            Node::Scalar(_) => {}
        }
    }

    /// An image under an image-ish key; whether it was one.
    fn image(&mut self, key: &str, v: &Node) -> bool {
        let path = self.key_path(key);
        if let Some(s) = v.as_scalar() {
            let value = &*s.value;
            let plausible = is_templated(value)
                || (Reference::parse(value).is_ok()
                    && (value.contains([':', '/', '@'])
                        || (key == "image" && !is_plain_literal(s.style, value))));
            if v.is_null() || value.is_empty() || !plausible {
                return false;
            }
            let (span, hint) = match v.value_span(self.text) {
                Some(span) => (span, Hint::Image),
                None => (s.source.start..s.source.start, Hint::Unreadable),
            };
            let parts = Parts {
                path: path.clone(),
                string: true,
                ..Parts::default()
            };
            self.found
                .push((Occurrence::new(span, hint, path), parts));
            return true;
        }
        if !v.is_mapping() {
            return false;
        }
        let (repo_f, tag_f, digest_f) = (field(v, "repository"), field(v, "tag"), field(v, "digest"));
        if repo_f.is_none() && tag_f.is_none() && digest_f.is_none() {
            return false;
        }
        let parts = Parts {
            path: path.clone(),
            registry: value_of(field(v, "registry")),
            repository: value_of(repo_f),
            tag: value_of(tag_f),
            digest: digest_f.map(|f| value_of(Some(f)).unwrap_or_default()),
            string: false,
        };
        // Reported at the repository, else (an override) at the tag or digest.
        let Some((_, at)) = repo_f.or(tag_f).or(digest_f) else {
            return true;
        };
        if repo_f.is_some() && parts.repository.is_none() {
            return true; // `repository: ""`: a placeholder the user fills in
        }
        let (span, hint) = match at.value_span(self.text) {
            // Reported at a tag (an override): the tag without its digest,
            // so the reported text stays the same when it is pinned.
            Some(span) => match self.text.get(span.clone()).and_then(|t| t.find('@')) {
                Some(at) if repo_f.is_none() => (span.start..span.start + at, Hint::Image),
                _ => (span, Hint::Image),
            },
            None => {
                let s = at.source();
                (s.start..s.start, Hint::Unreadable)
            }
        };
        let (written, slot) = match digest_f {
            Some((k, d)) => match digest_slot::existing(self.text, k, d) {
                DigestKey::Set(d, slot) => (Some(d), slot),
                DigestKey::Empty(slot) => (None, slot),
            },
            None => (None, DigestSlot::Nowhere(String::new())),
        };
        let tag_node = tag_f.map(|(_, t)| t);
        let tag_pin = parts.tag.as_deref().is_some_and(|t| t.contains('@'));
        let (slot, note) = match tag_node {
            _ if written.is_some() => (slot, None),
            Some(t) if tag_pin || (parts.tag.is_some() && digest_f.is_none()) => {
                (digest_slot::in_tag(t), None)
            }
            _ if parts.tag.is_some() => (slot, None),
            _ => (DigestSlot::Nowhere(NO_TAG.into()), Some(no_tag_note(None))),
        };
        let image = compose(
            parts.registry.as_deref(),
            parts.repository.as_deref().unwrap_or(PLACEHOLDER),
            parts.tag.as_deref(),
            written.as_deref(),
        );
        let split = Split {
            image,
            digest: slot,
            note,
        };
        self.found
            .push((Occurrence::split(span, hint, path, split), parts));
        true
    }
}

/// A plain `true`, `false` or number: not an image name.
fn is_plain_literal(style: Style, value: &str) -> bool {
    style == Style::Plain
        && (matches!(value, "true" | "false" | "True" | "False" | "yes" | "no")
            || value.parse::<f64>().is_ok())
}

const NO_TAG: &str = "the chart's templates choose the tag (usually Chart.yaml's appVersion), so \
imagepin can't pin it here: set tag: (and digest:) in this file";

fn no_tag_note(app_version: Option<&str>) -> String {
    match app_version {
        Some(v) => format!(
            "the tag is not set: the chart's templates usually use Chart.yaml's appVersion \
({v}), as written or changed (e.g. v{{{{ .Chart.AppVersion }}}}), which imagepin can't know; \
set tag: here to pin it"
        ),
        None => "the tag is not set: the chart's templates choose it (usually from Chart.yaml's \
appVersion), which imagepin can't know; set tag: here to pin it"
            .into(),
    }
}

fn compose(registry: Option<&str>, repository: &str, tag: Option<&str>, digest: Option<&str>) -> String {
    let mut image = String::new();
    if let Some(r) = registry {
        image.push_str(r.trim_end_matches('/'));
        image.push('/');
    }
    image.push_str(repository);
    if let Some(t) = tag {
        image.push(':');
        image.push_str(t);
    }
    if let Some(d) = digest {
        image.push('@');
        image.push_str(d);
    }
    image
}

/// Whether a values file is a chart's base file (`values.yaml`/`.yml`).
fn is_base(path: &Path) -> bool {
    lower_name(path).is_some_and(|l| l == "values.yaml" || l == "values.yml")
}

/// Reads a small file from disk, if it is there and not too large.
fn read_small(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_READ).read_to_string(&mut text).ok()?;
    Some(text)
}

fn strip_bom(text: &str) -> (usize, &str) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => (3, rest),
        None => (0, text),
    }
}

/// The chart's `appVersion`, read from the `Chart.yaml` beside the values.
fn app_version(dir: &Path) -> Option<String> {
    let text = read_small(&dir.join("Chart.yaml"))?;
    let docs = yaml::parse(strip_bom(&text).1).ok()?;
    let v = docs.first()?.get("appVersion")?.as_str()?;
    (!v.is_empty()).then(|| v.to_string())
}

/// Reads a chart's values files together: composes override maps with the
/// base file's, flags a base digest an override would pair with another
/// tag, and names `appVersion` where a tag is missing.
fn relate(files: &mut [ScannedFile], _errors: &mut Vec<FileError>) {
    let mut charts: HashMap<PathBuf, Vec<usize>> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        charts.entry(dir).or_default().push(i);
    }
    for (dir, members) in charts {
        let base_text = match members.iter().find(|&&i| is_base(&files[i].path)) {
            Some(&i) => Some(files[i].text.clone()),
            None => read_small(&dir.join("values.yaml")).or_else(|| read_small(&dir.join("values.yml"))),
        };
        let base: HashMap<String, Parts> = base_text
            .and_then(|t| walk(strip_bom(&t).1).ok())
            .map(|found| found.into_iter().map(|(_, p)| (p.path.clone(), p)).collect())
            .unwrap_or_default();
        let app = app_version(&dir);
        for i in members {
            let file = &mut files[i];
            let is_base_file = is_base(&file.path);
            let (offset, body) = strip_bom(&file.text);
            let Ok(found) = walk(body) else { continue };
            for (o, parts) in found {
                if o.hint != Hint::Image {
                    continue;
                }
                let span = o.span.start + offset..o.span.end + offset;
                let Some(f) = file.findings.iter_mut().find(|f| f.span == span) else {
                    continue;
                };
                let Some(split) = f.split.as_mut() else { continue };
                let under = (!is_base_file).then(|| base.get(&parts.path)).flatten();
                let merged = merge(under, &parts);
                if merged.repository.is_none() {
                    f.status = Status::Dynamic;
                    f.note = Some(
                        "only the tag or digest is set here; the repository comes from a values \
file imagepin did not find beside this one"
                            .into(),
                    );
                    continue;
                }
                split.image = compose(
                    merged.registry.as_deref(),
                    merged.repository.as_deref().unwrap_or(PLACEHOLDER),
                    merged.tag.as_deref(),
                    merged.digest.as_deref().filter(|d| !d.is_empty()),
                );
                let mut status = classify(Hint::Image, &split.image).0;
                let mut note = f.note.take().filter(|_| status == Status::Invalid);
                if merged.tag.is_none() && merged.digest.as_deref().is_none_or(str::is_empty) {
                    note = Some(no_tag_note(app.as_deref()));
                    split.digest = DigestSlot::Nowhere(NO_TAG.into());
                } else if let Some(b) = under {
                    let changes = parts.tag.is_some()
                        || parts.repository.is_some()
                        || parts.registry.is_some();
                    if let (Some(base_digest), true, None) = (&b.digest, changes, &parts.digest) {
                        status = Status::Invalid;
                        note = Some(if base_digest.is_empty() {
                            format!(
                                "values.yaml has a digest: key for {}, which this file does not \
set: add `digest: \"\"` here so imagepin can pin this tag",
                                parts.path
                            )
                        } else {
                            format!(
                                "Helm would pair values.yaml's digest {base_digest} with the tag \
set here; set `digest: \"\"` here so imagepin pins this tag"
                            )
                        });
                    } else if parts.repository.is_none() {
                        note = Some(format!(
                            "the repository comes from values.yaml ({})",
                            parts.path
                        ));
                    }
                }
                if f.status != Status::Ignored {
                    f.status = status;
                }
                f.note = note;
            }
        }
    }
}

/// An override's fields over its base's (Helm merges maps key by key).
fn merge(base: Option<&Parts>, over: &Parts) -> Parts {
    let Some(b) = base.filter(|b| !b.string && !over.string) else {
        return over.clone();
    };
    Parts {
        path: over.path.clone(),
        registry: over.registry.clone().or_else(|| b.registry.clone()),
        repository: over.repository.clone().or_else(|| b.repository.clone()),
        tag: over.tag.clone().or_else(|| b.tag.clone()),
        digest: over.digest.clone().or_else(|| b.digest.clone()),
        string: false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const D: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn found(text: &str) -> Vec<(String, String, DigestSlot)> {
        scan(text)
            .unwrap()
            .into_iter()
            .map(|o| {
                let image = o.image(text).to_string();
                let slot = o.split.map_or(DigestSlot::Nowhere("inline".into()), |s| s.digest);
                (text[o.span].to_string(), image, slot)
            })
            .collect()
    }

    #[test]
    fn maps_and_strings_at_any_depth() {
        let t = format!(
            "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.27.0\n  digest: \"\"\n\
server:\n  sidecars:\n  - image: {{repository: busybox, tag: '1.36'}}\n  initImage: \"alpine:3.20\"\n\
  pinned:\n    image:\n      repository: redis\n      tag: \"7\"\n      digest: {D}\n\
other:\n  image: {{pullPolicy: IfNotPresent}}\n  useImage: true\n  repository: x\n  tag: y\n"
        );
        let f = found(&t);
        let refs: Vec<(&str, &str)> = f.iter().map(|(r, i, _)| (r.as_str(), i.as_str())).collect();
        assert_eq!(
            refs,
            [
                ("bitnami/nginx", "docker.io/bitnami/nginx:1.27.0"),
                ("busybox", "busybox:1.36"),
                ("alpine:3.20", "alpine:3.20"),
                ("redis", &*format!("redis:7@{D}")),
            ]
        );
        let q = t.find("\"\"").unwrap() + 1;
        assert_eq!(
            f[0].2,
            DigestSlot::Insert {
                at: q,
                before: String::new(),
                after: String::new()
            }
        );
        let tag_end = t.find("'1.36'").unwrap() + 5;
        assert_eq!(
            f[1].2,
            DigestSlot::Insert {
                at: tag_end,
                before: "@".into(),
                after: String::new()
            }
        );
        let d = t.find(D).unwrap();
        assert_eq!(f[3].2, DigestSlot::At(d..d + D.len()));
    }

    #[test]
    fn an_empty_tag_is_not_pinned_in_place() {
        let t = "image:\n  repository: prom/cloudwatch-exporter\n  # appVersion\n  tag:\n  pullPolicy: IfNotPresent\n";
        let f = found(t);
        assert_eq!(f[0].1, "prom/cloudwatch-exporter");
        assert!(matches!(f[0].2, DigestSlot::Nowhere(_)));
    }

    #[test]
    fn templated_values_are_dynamic() {
        let t = "image:\n  repository: \"{{ .Values.global.registry }}/app\"\n  tag: v1\n";
        let o = scan(t).unwrap();
        assert_eq!(classify(o[0].hint, o[0].image(t)).0, Status::Dynamic);
    }

    #[test]
    fn a_tag_with_a_digest_is_pinned_in_the_tag() {
        let t = format!("image:\n  repository: a\n  tag: \"1.0@{D}\"\n");
        let f = found(&t);
        assert_eq!(f[0].1, format!("a:1.0@{D}"));
        let d = t.find(D).unwrap();
        assert_eq!(f[0].2, DigestSlot::At(d..d + D.len()));
    }

    fn file(path: &str, text: &str) -> ScannedFile {
        let findings = crate::scan::scan_file(Path::new(path), KIND.id, text, &|_| false).unwrap();
        ScannedFile {
            path: PathBuf::from(path),
            kind: KIND.id,
            text: text.to_string(),
            findings,
        }
    }

    #[test]
    fn overrides_are_composed_with_their_base() {
        let base = "image:\n  registry: r.io\n  repository: app\n  tag: \"1\"\nweb:\n  image:\n    repository: web\n    tag: \"1\"\n    digest: \"\"\n";
        let prod = "\u{feff}image:\r\n  tag: \"2\"\r\nweb:\r\n  image:\r\n    tag: \"3\"\r\nlone:\r\n  image:\r\n    tag: \"4\"\r\n";
        let mut files = [
            file("no-such-chart/values.yaml", base),
            file("no-such-chart/values-prod.yaml", prod),
        ];
        relate(&mut files, &mut Vec::new());
        let p = &files[1].findings;
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].image(), p[0].status), ("r.io/app:2", Status::Unpinned));
        assert_eq!(p[0].reference, "2");
        // The base has a digest: key that this override leaves paired with tag 3.
        assert_eq!((p[1].image(), p[1].status), ("web:3", Status::Invalid));
        assert!(p[1].note.as_deref().unwrap().contains("add `digest: \"\"` here"));
        // No base map at that path: the repository is unknown.
        assert_eq!(p[2].status, Status::Dynamic);
        // The pin goes after the override's own tag.
        let edit = crate::rewrite::pin_edit(prod, p, 0, D).unwrap();
        assert_eq!(&prod[edit.range.start - 2..edit.range.start], "\"2");
        assert_eq!(edit.text, format!("@{D}"));
    }
}
