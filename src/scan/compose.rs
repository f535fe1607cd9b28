//! Scanner for Compose files (`compose.yaml`, `docker-compose*.yml`):
//! `services.<name>.image`.
//!
//! Rules:
//! - Anchors, aliases and `<<` merge keys are followed; an image written once
//!   under an anchor (also one defined in an `x-` extension field) is one
//!   finding, at the anchor's scalar, however many services use it.
//! - A whole value `${VAR:-default}` or `${VAR-default}` whose default is a
//!   plain reference: the finding is the default's text (that is what Compose
//!   pulls when the variable is unset, and where a digest belongs).
//! - A value whose every variable is `${VAR:-default}` / `${VAR-default}`
//!   (`redis:${TAG:-7}`) is the image those defaults make up, reported at
//!   the whole value; its digest goes after the default that ends it when
//!   that variable is used nowhere else in the file (see [`partial_default`]).
//! - `${VAR}`, `$VAR`, `${VAR:?err}`, `${VAR?err}` and other partial
//!   interpolation (`${REG}/app:${TAG}`) are the whole value, dynamic. `$$` is
//!   an escaped dollar, never the start of a variable.
//! - A service with both `build:` and `image:` names the image it builds:
//!   local-build (unless another service pulls the same anchored text).
//! - Never `build.tags`, `build.cache_from`, `build.args`, `x-` extension keys
//!   themselves, `extends`, or anything in comments.
//! - An inline Dockerfile (`build.dockerfile_inline`, a literal `|` block or a
//!   one-line string) is scanned by the Dockerfile scanner; its findings keep
//!   their exact spans in the Compose file.
//! - A Compose v1 file (services at the top level, no `services:` and no
//!   `version:` key) is read the same way.
//! - A file with template lines or expressions (`{% if … %}`, `{{ … }}`,
//!   rendered by Ansible or Jinja before Compose reads it) is read with the
//!   tags masked ([`super::template`]): images written around them keep
//!   their spans, values built with them are dynamic.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Range;

use super::kind::{Kind, Syntax, is_yaml_name, lower_name};
use super::yaml::{self, Node};
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// Top-level keys of the Compose specification that are not services, used
/// only to recognise a v1 file (services at the top level).
const TOP_LEVEL: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "configs", "secrets", "models",
];

/// Compose files: `compose*.y(a)ml`, `docker-compose*.y(a)ml`; and a YAML
/// file of no other kind whose text is one (see [`looks_like_compose`]).
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("compose"),
    names: |path| {
        lower_name(path).is_some_and(|n| {
            is_yaml_name(&n) && (n.starts_with("compose") || n.starts_with("docker-compose"))
        })
    },
    sniff: Some(looks_like_compose),
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "services:\n  web:\n    image:",
        "services:\n  web:\n    build: .\n    image:",
        "x-base: &base\n  image:",
        "x-base: &base\n  image: python\nservices:\n  a:\n    <<: *base\n    image:",
        "services:\n  a: {image:",
        "services:\r\n  a:\r\n    image:",
    ],
    relate: None,
};

/// Whether a YAML text is a Compose file by its shape: a top-level
/// `services:` block in which a service (a key one level in) has an
/// `image:` or `build:` key of its own (one level deeper). A cheap line
/// test: Compose files under other names (`full-example.yml`, `stack.yml`,
/// test data) are read, other YAML with a `services:` key is not.
pub(crate) fn looks_like_compose(text: &str) -> bool {
    // Only a line that starts with `services:` opens the block.
    if !super::kind::has_line_starting(text, "\nservices:") {
        return false;
    }
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let mut in_services = false;
    let mut service_indent = None;
    for line in text.lines() {
        // Outside `services:` only top-level lines matter (an indented
        // line is blank, a comment or skipped below): no trimming them.
        if !in_services && line.starts_with(' ') {
            continue;
        }
        let line = line.trim_end_matches('\r');
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let at = indent(line);
        if at == 0 {
            in_services = body.strip_prefix("services:").is_some_and(|rest| {
                let rest = rest.trim_start();
                rest.is_empty() || rest.starts_with('#')
            });
            service_indent = None;
            continue;
        }
        if !in_services {
            continue;
        }
        match service_indent {
            // Services are keys of a mapping, never items of a list.
            None | Some(_) if body.starts_with('-') && service_indent.is_none_or(|s| at <= s) => {
                in_services = false;
            }
            None => service_indent = Some(at),
            Some(s) if at == s => {}
            Some(s) if at > s => {
                if ["image:", "build:"].iter().any(|k| body.starts_with(k)) {
                    return true;
                }
            }
            Some(_) => service_indent = Some(at),
        }
    }
    false
}

/// Finds the image references in one file's text (BOM already stripped);
/// a file with template lines is read with them masked
/// ([`super::template`]).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    super::template::scan_masked(text, scan_yaml)
}

fn scan_yaml(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut found: Vec<Occurrence> = Vec::new();
    // Where each span is in `found`: thousands of services stay linear.
    let mut at: HashMap<Range<usize>, usize> = HashMap::new();
    for doc in yaml::parse(text)? {
        let root = doc.root();
        // A v1 file has services at the top level, and neither a `services`
        // nor a `version` key.
        let (services, v1) = match root.get("services") {
            Some(s) => (s, false),
            None if root.get("version").is_none() => (root, true),
            None => continue,
        };
        for (name, service) in services.merged_entries() {
            let Some(name) = name.as_str() else { continue };
            if name.starts_with("x-") || (v1 && TOP_LEVEL.contains(&name)) {
                continue;
            }
            for o in inline_dockerfile(text, name, service) {
                if let Entry::Vacant(e) = at.entry(o.span.clone()) {
                    e.insert(found.len());
                    found.push(o);
                }
            }
            if let Some(o) = service_image(text, name, service) {
                match at.get(&o.span).and_then(|&i| found.get_mut(i)) {
                    // The same anchored text: a pull anywhere makes it a pulled image.
                    Some(f) if o.hint == Hint::Image && f.hint != Hint::Image => *f = o,
                    Some(_) => {}
                    None => {
                        at.insert(o.span.clone(), found.len());
                        found.push(o);
                    }
                }
            }
        }
    }
    Ok(found)
}

/// The image of one service, if it names one.
fn service_image(text: &str, name: &str, service: &Node) -> Option<Occurrence> {
    let image = service.get("image")?;
    let scalar = image.as_scalar()?;
    if image.is_null() {
        return None;
    }
    let builds = service.get("build").is_some_and(|b| !b.is_null());
    let context = format!("services.{name}.image");
    let Some(span) = scalar.value_span(text) else {
        // Escapes or several lines: no text to pin in place.
        let raw = text.get(scalar.source.clone())?.trim_end();
        let start = scalar.source.start;
        return Some(Occurrence::new(
            start..start + raw.len(),
            if super::is_templated(raw) {
                Hint::Dynamic
            } else {
                Hint::Unreadable
            },
            context,
        ));
    };
    let value = scalar.value.trim_end_matches('\n');
    let (span, hint) = match interpolation(value) {
        Interpolation::None => (span, Hint::Image),
        Interpolation::Default(inner) => (
            span.start + inner.start..span.start + inner.end,
            Hint::Image,
        ),
        Interpolation::Dynamic => (span, Hint::Dynamic),
    };
    if span.is_empty() {
        return None;
    }
    let hint = if builds { Hint::LocalBuild } else { hint };
    if hint == Hint::Dynamic {
        if let Some(split) = partial_default(text, value, span.start) {
            return Some(Occurrence::split(span, Hint::Image, context, split));
        }
    }
    Some(Occurrence::new(span, hint, context))
}

/// `redis:${TAG:-7}`: a value whose every variable is `${V:-d}` or
/// `${V-d}` with a plain default, not the whole value. It is what Compose
/// pulls when the variables are unset (the usual case in CI), so it is
/// reported as that image. Its digest goes after the default that ends the
/// value when that variable is used nowhere else in the file (`${TAG:-7@sha256:…}`),
/// or at the end of a value whose variables all come before its last `/`;
/// otherwise nowhere (a digest after `${V:-1}-alpine` would not follow `V`).
/// `at` is the value's offset in `text`.
fn partial_default(text: &str, value: &str, at: usize) -> Option<crate::finding::Split> {
    use crate::finding::{DigestSlot, Split};
    // (range in `value`, the variable's name when it is a default)
    let mut pieces: Vec<(std::ops::Range<usize>, Option<&str>)> = Vec::new();
    let mut image = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        let base = value.len() - rest.len();
        if i > 0 {
            pieces.push((base..base + i, None));
            image.push_str(&rest[..i]);
        }
        let inner = rest[i..].strip_prefix("${")?;
        let close = inner.find('}')?;
        let d = whole_default(&rest[i..i + 3 + close])?;
        let start = base + i + d.start;
        let name = inner[..d.start - 2].trim_end_matches([':', '-']);
        pieces.push((start..base + i + d.end, Some(name)));
        image.push_str(&value[start..base + i + d.end]);
        rest = &rest[i + 3 + close..];
    }
    if !rest.is_empty() {
        let base = value.len() - rest.len();
        pieces.push((base..value.len(), None));
        image.push_str(rest);
    }
    let vars: Vec<&str> = pieces.iter().filter_map(|(_, v)| *v).collect();
    let reference = crate::reference::Reference::parse(&image).ok()?;
    let mut note = match vars.as_slice() {
        [one] => format!("the default of ${{{one}}}"),
        [first @ .., last] => format!(
            "the defaults of {} and ${{{last}}}",
            first
                .iter()
                .map(|v| format!("${{{v}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        [] => return None,
    };
    // Other variables in the tag: a digest after the last default would
    // hide a change to them (`app:${MAJOR:-1}.${MINOR:-2}`).
    let name_tag = image.split('@').next().unwrap_or(&image);
    let slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let tag = name_tag[slash..].find(':').map(|i| slash + i + 1);
    let mut in_tag: Vec<&str> = Vec::new();
    let mut offset = 0;
    for (k, (r, v)) in pieces.iter().enumerate() {
        if let (Some(v), Some(t)) = (v, tag) {
            if k + 1 < pieces.len() && offset + r.len() > t && offset < name_tag.len() {
                in_tag.push(v);
            }
        }
        offset += r.len();
    }
    let (last, var) = pieces.last()?.clone();
    let written = &value[last.clone()];
    let digest = match (reference.digest, var) {
        (Some(d), _) => match written.rfind('@') {
            Some(i) if written[i + 1..] == d => DigestSlot::At(at + last.start + i + 1..at + last.end),
            _ => DigestSlot::Nowhere("its digest is written in pieces".into()),
        },
        (None, Some(v)) if !in_tag.is_empty() => DigestSlot::Nowhere(format!(
            "{} also make{} up its tag, and a digest after ${{{v}}}'s default would hide a change to {}",
            in_tag.iter().map(|n| format!("${{{n}}}")).collect::<Vec<_>>().join(", "),
            if in_tag.len() == 1 { "s" } else { "" },
            if in_tag.len() == 1 { "it" } else { "them" },
        )),
        (None, Some(v)) => match other_use(text, v, at + last.start) {
            Some(line) => DigestSlot::Nowhere(format!(
                "${{{v}}} is also used on line {line}; a digest in its default would reach that use too"
            )),
            None => DigestSlot::Insert {
                at: at + last.end,
                before: "@".into(),
                after: String::new(),
            },
        },
        (None, None) if written.contains('/') => DigestSlot::Insert {
            at: at + last.end,
            before: "@".into(),
            after: String::new(),
        },
        (None, None) => DigestSlot::Nowhere(format!(
            "the reference goes on after ${{{}}}, so a digest at its end would not follow that variable",
            vars.last().unwrap_or(&"")
        )),
    };
    if let DigestSlot::Nowhere(why) = &digest {
        note.push_str(&format!("; imagepin can't write its digest in place: {why}"));
    }
    Some(Split {
        image,
        digest,
        note: Some(note),
    })
}

/// The line of a use of `$name` / `${name…}` in `text` (comments aside)
/// other than the one in the interpolation whose default is at `here`.
fn other_use(text: &str, name: &str, here: usize) -> Option<usize> {
    let mut start = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let end = start + line.len();
        // A comment starts at a `#` after a space or at the line's start.
        let code = match line.find(" #").or_else(|| line.find("\t#")) {
            _ if line.trim_start().starts_with('#') => "",
            Some(i) => &line[..i],
            None => line,
        };
        let b = line.as_bytes();
        for (i, _) in code.match_indices('$') {
            if i > 0 && b[i - 1] == b'$' {
                continue;
            }
            let at = i + 1 + usize::from(b.get(i + 1) == Some(&b'{'));
            let follows = line[at.min(line.len())..]
                .strip_prefix(name)
                .is_some_and(|t| !t.starts_with(|c: char| c == '_' || c.is_ascii_alphanumeric()));
            let ours = start + i < here && here < end && !line[i..here - start].contains('}');
            if follows && !ours {
                return Some(n + 1);
            }
        }
        start = end;
    }
    None
}

/// The image references of a service's `build.dockerfile_inline`.
fn inline_dockerfile(text: &str, name: &str, service: &Node) -> Vec<Occurrence> {
    let Some(inline) = service
        .get("build")
        .and_then(|b| b.get("dockerfile_inline"))
        .and_then(Node::as_scalar)
    else {
        return Vec::new();
    };
    let found = super::dockerfile::scan(&inline.value).unwrap_or_default();
    map_inline(text, name, inline, found)
}

/// Moves occurrences found in an embedded text to their spans in `text`;
/// those whose text cannot be located exactly are dropped.
fn map_inline(
    text: &str,
    name: &str,
    inline: &yaml::Scalar,
    found: Vec<Occurrence>,
) -> Vec<Occurrence> {
    found
        .into_iter()
        .filter_map(|o| {
            let span = inline.source_range(text, o.span)?;
            let context = format!("services.{name}.build.dockerfile_inline {}", o.context);
            Some(Occurrence::new(span, o.hint, context))
        })
        .collect()
}

/// What Compose variable interpolation does to a value.
#[derive(Debug, PartialEq, Eq)]
enum Interpolation {
    /// No variables (`$$` escapes aside).
    None,
    /// The whole value is `${VAR:-default}` / `${VAR-default}` with a literal
    /// default: its byte range within the value.
    Default(std::ops::Range<usize>),
    /// Anything else with a variable in it.
    Dynamic,
}

fn interpolation(value: &str) -> Interpolation {
    if !has_variable(value) {
        return Interpolation::None;
    }
    if let Some(range) = whole_default(value) {
        return Interpolation::Default(range);
    }
    Interpolation::Dynamic
}

/// A `$` that starts a variable (not part of a `$$` escape).
fn has_variable(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            if bytes.get(i + 1) == Some(&b'$') {
                i += 2;
                continue;
            }
            return true;
        }
        i += 1;
    }
    false
}

/// `${NAME:-default}` or `${NAME-default}` as the whole value, with a default
/// that is plain text (no variable, no escape, no braces): the default's range.
fn whole_default(value: &str) -> Option<std::ops::Range<usize>> {
    let body = value.strip_prefix("${")?.strip_suffix('}')?;
    let name_len = body
        .char_indices()
        .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(body.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let rest = &body[name_len..];
    let op = if rest.starts_with(":-") {
        2
    } else if rest.starts_with('-') {
        1
    } else {
        return None;
    };
    let default = &rest[op..];
    if default.is_empty() || default.contains(['$', '{', '}']) || default.trim() != default {
        return None;
    }
    let start = 2 + name_len + op;
    Some(start..start + default.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::finding::Status;
    use crate::scan::{classify, scan_text};

    fn found(text: &str) -> Vec<(&str, Hint, String)> {
        crate::scan::test_helpers::found(crate::scan::compose::KIND.id, text)
    }

    fn refs(text: &str) -> Vec<&str> {
        crate::scan::test_helpers::refs(crate::scan::compose::KIND.id, text)
    }

    #[test]
    fn plain_quoted_and_flow_values() {
        let t = "services:\n  a:\n    image: nginx:1.25\n  b:\n    image: \"redis:7\"\n  c:\n    image: 'postgres:16'   # db\n  d: {image: busybox, command: [sh]}\n  e:\n    image:  nginx:alpine \n";
        assert_eq!(
            found(t),
            [
                ("nginx:1.25", Hint::Image, "services.a.image".into()),
                ("redis:7", Hint::Image, "services.b.image".into()),
                ("postgres:16", Hint::Image, "services.c.image".into()),
                ("busybox", Hint::Image, "services.d.image".into()),
                ("nginx:alpine", Hint::Image, "services.e.image".into()),
            ]
        );
    }

    #[test]
    fn anchor_in_extension_field_is_one_finding_at_the_anchor() {
        let t = "\
x-base: &base
  image: &img python:3.12
  restart: always
services:
  one:
    <<: *base
  two:
    <<: [*base]
    command: x
  three:
    image: *img
  four:
    <<: *base
    image: own:1
";
        let f = found(t);
        assert_eq!(
            f,
            [
                ("python:3.12", Hint::Image, "services.one.image".into()),
                ("own:1", Hint::Image, "services.four.image".into()),
            ]
        );
        let at = t.find("python").unwrap();
        let o = scan_text(crate::scan::compose::KIND.id, t).unwrap();
        assert_eq!(o[0].span, at..at + "python:3.12".len());
    }

    #[test]
    fn service_anchor_and_merge() {
        let t = "services:\n  web: &web\n    image: docker.io/app:${V-1.0}\n    ports: ['80']\n  worker:\n    <<: *web\n    command: work\n";
        let f = found(t);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "docker.io/app:${V-1.0}");
        // Its default is an image: reported as that (see partial_defaults_…).
        assert_eq!(f[0].1, Hint::Image);
    }

    #[test]
    fn whole_value_defaults_are_the_finding() {
        let t = "services:\n  a:\n    image: ${A_IMAGE:-nginx:1.25}\n  b:\n    image: \"${B-redis:7}\"\n  c:\n    image: ${C:-}\n";
        let f = found(t);
        assert_eq!(f[0], ("nginx:1.25", Hint::Image, "services.a.image".into()));
        assert_eq!(f[1], ("redis:7", Hint::Image, "services.b.image".into()));
        assert_eq!(f[2], ("${C:-}", Hint::Dynamic, "services.c.image".into()));
        assert_eq!(classify(f[0].1, f[0].0).0, Status::Unpinned);
    }

    #[test]
    fn other_interpolation_is_dynamic_whole_value() {
        let t = "services:\n  a:\n    image: ${IMG}\n  b:\n    image: ${ID:?ID must be set}\n  c:\n    image: ${REG}/app:${TAG}\n  d:\n    image: $NAME:$TAG\n  e:\n    image: '${X?unset}:${T-latest}'\n  f:\n    image: ${A:-${B:-x}}\n  g:\n    image: ${R:-reg}/app:1\n";
        let f = found(t);
        let texts: Vec<_> = f.iter().map(|(r, h, _)| (*r, *h)).collect();
        assert_eq!(
            texts,
            [
                ("${IMG}", Hint::Dynamic),
                ("${ID:?ID must be set}", Hint::Dynamic),
                ("${REG}/app:${TAG}", Hint::Dynamic),
                ("$NAME:$TAG", Hint::Dynamic),
                ("${X?unset}:${T-latest}", Hint::Dynamic),
                ("${A:-${B:-x}}", Hint::Dynamic),
                // Every variable has a default: the image it makes up.
                ("${R:-reg}/app:1", Hint::Image),
            ]
        );
    }

    /// (line, column, reference, status, image, note, where a pin writes
    /// its digest: the value after `@D` is inserted, or `nowhere: why`).
    fn rows(text: &str) -> Vec<(usize, usize, String, Status, String, String, String)> {
        use crate::finding::DigestSlot;
        crate::scan::scan_file(
            std::path::Path::new("compose.yaml"),
            KIND.id,
            text,
            &|_| false,
        )
        .unwrap()
        .into_iter()
        .map(|f| {
            let slot = match f.split.as_ref().map(|s| &s.digest) {
                None => String::new(),
                Some(DigestSlot::Insert { at, before, after }) => {
                    let mut t = text.to_string();
                    t.insert_str(*at, &format!("{before}D{after}"));
                    let end = f.span.end + before.len() + 1 + after.len();
                    t[f.span.start..end].to_string()
                }
                Some(DigestSlot::At(r)) => format!("at {}", &text[r.clone()]),
                Some(DigestSlot::Nowhere(why)) => format!("nowhere: {why}"),
            };
            (
                f.line,
                f.column,
                f.reference.clone(),
                f.status,
                f.image().to_string(),
                f.note.unwrap_or_default(),
                slot,
            )
        })
        .collect()
    }

    #[test]
    fn partial_defaults_are_the_image_compose_pulls() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let t = format!(
            "services:
  a:
    image: redis:${{TAG:-7}}
  b:
    image: \"${{REG:-docker.io}}/acme/app:1.2\"
  c:
    image: app:${{V:-1}}-alpine
  d:
    image: x:${{T:-1}}
    environment:
      - T=${{T}}
  e:
    image: ${{REG2-ghcr.io}}/acme/e:${{E_TAG:-2}}  # ${{E_TAG}} in a comment
  f:
    image: redis:${{F:-7@{d}}}
  g:
    image: ${{GREG:-docker.io}}/library/nginx:${{NGINX:-1.27}}
  h:
    image: nginx:${{NGINX}}
  i:
    image: app:${{MAJOR:-1}}.${{MINOR:-2}}
"
        );
        let nowhere = |v: &str, why: &str| {
            (
                format!("the default of ${{{v}}}; imagepin can't write its digest in place: {why}"),
                format!("nowhere: {why}"),
            )
        };
        let goes_on = nowhere(
            "V",
            "the reference goes on after ${V}, so a digest at its end would not follow that variable",
        );
        let reused = nowhere(
            "T",
            "${T} is also used on line 11; a digest in its default would reach that use too",
        );
        let row = |l, c, r: &str, s, i: &str, n: &str, slot: &str| {
            (l, c, r.to_string(), s, i.to_string(), n.to_string(), slot.to_string())
        };
        use Status::{Dynamic, Pinned, Unpinned};
        assert_eq!(
            rows(&t),
            [
                row(3, 12, "redis:${TAG:-7}", Unpinned, "redis:7", "the default of ${TAG}", "redis:${TAG:-7@D}"),
                row(
                    5,
                    13,
                    "${REG:-docker.io}/acme/app:1.2",
                    Unpinned,
                    "docker.io/acme/app:1.2",
                    "the default of ${REG}",
                    "${REG:-docker.io}/acme/app:1.2@D"
                ),
                row(7, 12, "app:${V:-1}-alpine", Unpinned, "app:1-alpine", &goes_on.0, &goes_on.1),
                row(9, 12, "x:${T:-1}", Unpinned, "x:1", &reused.0, &reused.1),
                row(
                    13,
                    12,
                    "${REG2-ghcr.io}/acme/e:${E_TAG:-2}",
                    Unpinned,
                    "ghcr.io/acme/e:2",
                    "the defaults of ${REG2} and ${E_TAG}",
                    "${REG2-ghcr.io}/acme/e:${E_TAG:-2@D}"
                ),
                row(
                    15,
                    12,
                    &format!("redis:${{F:-7@{d}}}"),
                    Pinned,
                    &format!("redis:7@{d}"),
                    "the default of ${F}",
                    &format!("at {d}")
                ),
                row(
                    17,
                    12,
                    "${GREG:-docker.io}/library/nginx:${NGINX:-1.27}",
                    Unpinned,
                    "docker.io/library/nginx:1.27",
                    "the defaults of ${GREG} and ${NGINX}; imagepin can't write its digest in place: ${NGINX} is also used on line 19; a digest in its default would reach that use too",
                    "nowhere: ${NGINX} is also used on line 19; a digest in its default would reach that use too"
                ),
                row(19, 12, "nginx:${NGINX}", Dynamic, "nginx:${NGINX}", "", ""),
                row(
                    21,
                    12,
                    "app:${MAJOR:-1}.${MINOR:-2}",
                    Unpinned,
                    "app:1.2",
                    "the defaults of ${MAJOR} and ${MINOR}; imagepin can't write its digest in place: ${MAJOR} also makes up its tag, and a digest after ${MINOR}'s default would hide a change to it",
                    "nowhere: ${MAJOR} also makes up its tag, and a digest after ${MINOR}'s default would hide a change to it"
                ),
            ]
        );
    }

    #[test]
    fn escaped_dollar_is_not_a_variable() {
        assert_eq!(interpolation("a$$b"), Interpolation::None);
        assert_eq!(interpolation("$${X:-y}"), Interpolation::None);
        assert_eq!(interpolation("$$$X"), Interpolation::Dynamic);
        assert_eq!(interpolation("${X:-a$$b}"), Interpolation::Dynamic);
        assert_eq!(interpolation("${X-y}"), Interpolation::Default(4..5));
    }

    #[test]
    fn build_and_image_is_local_build() {
        let t = "services:\n  app:\n    build: .\n    image: myorg/app:dev\n  db:\n    image: postgres\n  gen:\n    build:\n      context: .\n    image: ${APP:-myorg/gen:1}\n";
        let f = found(t);
        assert_eq!(
            f[0],
            (
                "myorg/app:dev",
                Hint::LocalBuild,
                "services.app.image".into()
            )
        );
        assert_eq!(f[1].1, Hint::Image);
        assert_eq!(
            f[2],
            ("myorg/gen:1", Hint::LocalBuild, "services.gen.image".into())
        );
        assert_eq!(classify(f[0].1, f[0].0).0, Status::LocalBuild);
    }

    #[test]
    fn anchored_image_pulled_anywhere_is_an_image() {
        let t = "x-a: &a\n  image: shared:1\nservices:\n  built:\n    <<: *a\n    build: .\n  pulled:\n    <<: *a\n";
        assert_eq!(
            found(t),
            [("shared:1", Hint::Image, "services.pulled.image".into())]
        );
    }

    #[test]
    fn look_alikes_are_not_images() {
        let t = "\
x-image: &unused
  image: never:1
services:
  app:
    build:
      context: .
      tags: [\"me/app:1\"]
      cache_from:
        - me/app:cache
      args:
        IMAGE: mysql:8.0
    extends: base
    # image: commented:1
    #image: also-commented
    external_links: [db:mysql]
    network_mode: \"container:abc\"
  x-not-a-service:
    image: nope:1
  empty:
    image:
  reset:
    image: !reset null
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn inline_dockerfile_spans_map_into_the_compose_file() {
        let t = "services:\r\n  bar:\r\n    build:\r\n      dockerfile_inline: |\r\n        FROM alpine:3.20 AS base\r\n        RUN echo hi\r\n        FROM base\r\n";
        let doc = yaml::parse(t).unwrap().remove(0);
        let service = doc.get("services").unwrap().get("bar").unwrap();
        let inline = service
            .get("build")
            .unwrap()
            .get("dockerfile_inline")
            .unwrap()
            .as_scalar()
            .unwrap();
        // What the Dockerfile scanner reports, in the inline text's offsets.
        let at = |s: &str, n: usize| {
            let i = inline.value.match_indices(s).nth(n).unwrap().0;
            i..i + s.len()
        };
        let inner = vec![
            Occurrence::new(at("alpine:3.20", 0), Hint::Image, "FROM"),
            Occurrence::new(at("base", 1), Hint::Stage, "FROM"),
        ];
        let mapped = map_inline(t, "bar", inline, inner);
        let got: Vec<_> = mapped
            .iter()
            .map(|o| (&t[o.span.clone()], o.hint, o.context.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "alpine:3.20",
                    Hint::Image,
                    "services.bar.build.dockerfile_inline FROM"
                ),
                (
                    "base",
                    Hint::Stage,
                    "services.bar.build.dockerfile_inline FROM"
                ),
            ]
        );
        assert_eq!(mapped[1].span.start, t.rfind("base").unwrap());
        // Whatever the Dockerfile scanner finds, the scan never panics and
        // every span points at the same text.
        for o in scan(t).unwrap() {
            assert!(t.get(o.span).is_some());
        }
    }

    #[test]
    fn anchors_fixture() {
        let t = include_str!("../../tests/fixtures/compose/docker-compose.anchors.yml");
        let got: Vec<_> = found(t)
            .into_iter()
            .map(|(r, h, c)| (r, classify(h, r).0, c))
            .collect();
        let line = |r: &str| t[..t.find(r).unwrap()].lines().count();
        assert_eq!(
            got,
            [
                (
                    "ghcr.io/acme/shop-worker:2.4.1",
                    Status::Unpinned,
                    "services.worker-emails.image".to_string()
                ),
                (
                    "shop-local",
                    Status::LocalBuild,
                    "services.web.image".into()
                ),
                (
                    "ghcr.io/acme/shop-worker:1.9.0",
                    Status::Unpinned,
                    "services.worker-legacy.image".into()
                ),
                (
                    "rabbitmq:3.13-management-alpine",
                    Status::Unpinned,
                    "services.rabbitmq.image".into()
                ),
                (
                    "redis:7.2-alpine",
                    Status::Unpinned,
                    "services.cache.image".into()
                ),
                (
                    "postgres:16.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    Status::Pinned,
                    "services.db.image".into()
                ),
            ]
        );
        // The anchored image is reported once, on the line where it is written.
        assert_eq!(line("ghcr.io/acme/shop-worker:2.4.1"), 15);
    }

    #[test]
    fn crlf_gives_the_same_texts() {
        let lf = include_str!("../../tests/fixtures/compose/docker-compose.anchors.yml");
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(refs(lf), refs(&crlf));
        let crlf = include_str!("../../tests/fixtures/compose/compose.crlf.yaml");
        assert_eq!(refs(crlf), refs(&crlf.replace("\r\n", "\n")));
    }

    #[test]
    fn crlf_interpolation_fixture() {
        let t = include_str!("../../tests/fixtures/compose/compose.crlf.yaml");
        assert!(t.contains("\r\n"));
        let got: Vec<_> = found(t)
            .into_iter()
            .map(|(r, h, _)| (r, classify(h, r).0))
            .collect();
        assert_eq!(
            got,
            [
                ("traefik:v3.1", Status::Unpinned),
                (
                    "${REGISTRY:-docker.io}/acme/app:${TAG:-latest}",
                    Status::LocalBuild
                ),
                ("${API_IMAGE}", Status::Dynamic),
                (
                    "docker.elastic.co/elasticsearch/elasticsearch:8.14.1",
                    Status::Unpinned
                ),
                ("${NOTIFY_IMAGE:?set NOTIFY_IMAGE}", Status::Dynamic),
                ("acme/cost$$report:1", Status::Dynamic),
                ("adminer", Status::Unpinned),
                ("axllent/mailpit:v1.18", Status::Unpinned),
            ]
        );
    }

    #[test]
    fn compose_v1_top_level_services() {
        let t = "web:\n  image: nginx:1\nnetworks: {}\n";
        assert_eq!(refs(t), ["nginx:1"]);
        let t = "version: '3.8'\nnetworks:\n  image: {}\nweb:\n  image: nginx:1\n";
        assert!(refs(t).is_empty());
    }

    #[test]
    fn one_line_values_are_editable_others_dynamic() {
        let t = "services:\n  a:\n    image: \"ngi\\x6Ex\"\n  b:\n    image: >\n      folded:1\n  c:\n    image: >-\n      ${C:-a/very/long/name:1}\n  d:\n    image: >\n      two\n      lines\n";
        let f = found(t);
        assert_eq!(
            f[0],
            ("\"ngi\\x6Ex\"", Hint::Unreadable, "services.a.image".into())
        );
        assert_eq!(f[1], ("folded:1", Hint::Image, "services.b.image".into()));
        assert_eq!(
            f[2],
            ("a/very/long/name:1", Hint::Image, "services.c.image".into())
        );
        assert_eq!(f[3], ("two", Hint::Unreadable, "services.d.image".into()));
    }

    #[test]
    fn crlf_bom_and_utf8_spans() {
        let t = "\u{feff}# ünïcode\r\nservices:\r\n  wéb:\r\n    image: \"nginx:1.25\"\r\n  db:\r\n    image: postgres:16\r\n";
        let f = found(t);
        assert_eq!(
            f,
            [
                ("nginx:1.25", Hint::Image, "services.wéb.image".into()),
                ("postgres:16", Hint::Image, "services.db.image".into()),
            ]
        );
    }

    #[test]
    fn template_lines_are_masked() {
        let t = include_str!("../../tests/fixtures/compose/templated/docker-compose.yml");
        assert!(yaml::parse(t).is_err(), "the fixture must not be valid YAML");
        let rows = crate::scan::test_helpers::fixture(KIND.id, "docker-compose.yml", t);
        use crate::scan::test_helpers::row;
        assert_eq!(
            rows,
            [
                row(5, 12, "postgres:16.4", Status::Unpinned, "services.db.image"),
                row(
                    8,
                    13,
                    "{{ registry }}/web:{{ web_tag }}",
                    Status::Dynamic,
                    "services.web.image"
                ),
                row(
                    13,
                    12,
                    "{{ worker.image }}",
                    Status::Dynamic,
                    "services.{{ worker.name }}.image"
                ),
                row(16, 12, "redis:7.4", Status::Unpinned, "services.cache.image"),
                row(
                    19,
                    12,
                    "nginx:{{ nginx_version }}",
                    Status::Dynamic,
                    "services.proxy.image"
                ),
            ]
        );
        // A broken file with tags still reports the original error.
        let e = scan("services:\n{% if x %}\n  a: [\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e:?}");
    }

    #[test]
    fn parse_errors_name_the_line() {
        let e = scan("services:\n  a:\n    image: [unclosed\n").unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
    }
}
