//! The image-reference grammar (distribution's `reference` package).
//!
//! `[domain[:port]/]path[:tag][@algorithm:hex]`. A first component is a domain
//! when it contains `.` or `:` or is `localhost` (and has no uppercase letters).
//! [`Reference::normalized`] is the form used for lookups
//! (`python` → `docker.io/library/python:latest`); it is never written back to
//! a user's file.

use std::fmt;

use thiserror::Error;

/// Docker Hub's canonical domain.
pub(crate) const DOCKER_HUB: &str = "docker.io";
const NAME_TOTAL_MAX: usize = 255;
const TAG_MAX: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReferenceError {
    #[error("empty image reference")]
    Empty,
    #[error("invalid reference format: repository name must be lowercase")]
    Uppercase,
    #[error("invalid reference format: {0}")]
    Format(String),
    #[error("repository name is longer than {NAME_TOTAL_MAX} characters")]
    NameTooLong,
    #[error("invalid tag {0:?}")]
    Tag(String),
    #[error("invalid digest {0:?}: {1}")]
    Digest(String, &'static str),
}

/// A parsed image reference. Fields keep the text as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The domain as written (`ghcr.io`, `localhost:5000`), if any.
    pub domain: Option<String>,
    /// The repository path as written (`python`, `library/python`, `org/app`).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Byte length of `name[:tag]`, i.e. where `@digest` starts or would go.
    name_tag_len: usize,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (name_tag, digest) = match text.split_once('@') {
            Some((nt, d)) => {
                validate_digest(d)?;
                (nt, Some(d.to_string()))
            }
            None => (text, None),
        };
        if name_tag.is_empty() {
            return Err(ReferenceError::Format("missing repository name".into()));
        }
        // A tag is after the last ':' that comes after the last '/'.
        let last_slash = name_tag.rfind('/');
        let (name, tag) = match name_tag.rfind(':') {
            Some(c) if last_slash.is_none_or(|s| c > s) => {
                (&name_tag[..c], Some(&name_tag[c + 1..]))
            }
            _ => (name_tag, None),
        };
        if let Some(t) = tag {
            validate_tag(t)?;
        }
        if name.len() > NAME_TOTAL_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let (domain, path) = split_domain(name);
        if let Some(d) = domain {
            validate_domain(d)?;
        }
        validate_path(path)?;
        Ok(Reference {
            domain: domain.map(str::to_string),
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest,
            name_tag_len: name_tag.len(),
        })
    }

    /// The registry host for lookups: Docker Hub's aliases become `docker.io`.
    pub fn registry(&self) -> &str {
        match self.domain.as_deref() {
            None | Some("index.docker.io") | Some("registry-1.docker.io") => DOCKER_HUB,
            Some(d) => d,
        }
    }

    /// The repository for lookups: one-component Docker Hub names get `library/`.
    pub fn repository(&self) -> String {
        if self.registry() == DOCKER_HUB && !self.path.contains('/') {
            format!("library/{}", self.path)
        } else {
            self.path.clone()
        }
    }

    /// The tag, or `latest` when none is written.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// `docker.io/library/python:3.12` (plus `@digest` when present).
    pub fn normalized(&self) -> String {
        let mut s = format!("{}/{}", self.registry(), self.repository());
        if self.tag.is_some() || self.digest.is_none() {
            s.push(':');
            s.push_str(self.tag_or_latest());
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// Byte length of `name[:tag]` in the written text: the digest goes here.
    pub fn name_tag_len(&self) -> usize {
        self.name_tag_len
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.domain {
            write!(f, "{d}/")?;
        }
        f.write_str(&self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if (first.contains(['.', ':']) || first == "localhost")
                && !first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        // distribution treats an uppercase first component as a (bad) path.
        _ => (None, name),
    }
}

fn validate_domain(domain: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::Format(format!("invalid registry domain {domain:?}"));
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(bad)?;
        if v6.is_empty()
            || !v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(bad());
        }
        match after {
            "" => (None, None),
            p => (None, Some(p.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        let ok = !host.is_empty()
            && host.split('.').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !c.starts_with('-')
                    && !c.ends_with('-')
            });
        if !ok {
            return Err(bad());
        }
    }
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
    }
    Ok(())
}

fn validate_path(path: &str) -> Result<(), ReferenceError> {
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ReferenceError::Uppercase);
    }
    for component in path.split('/') {
        if !valid_path_component(component) {
            return Err(ReferenceError::Format(format!(
                "invalid repository path component {component:?} in {path:?}"
            )));
        }
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= TAG_MAX
        && word(b[0])
        && b.iter().all(|&x| word(x) || x == b'.' || x == b'-');
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Tag(tag.to_string()))
    }
}

/// Validates `algorithm:hex`; sha256 needs 64 and sha512 128 lowercase hex digits.
pub(crate) fn validate_digest(digest: &str) -> Result<(), ReferenceError> {
    let err = |why| Err(ReferenceError::Digest(digest.to_string(), why));
    let Some((alg, hex)) = digest.split_once(':') else {
        return err("expected algorithm:hex");
    };
    let want = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return err("unsupported algorithm (expected sha256)"),
    };
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return err("hex digits must be 0-9 or a-f (lowercase)");
    }
    if hex.len() != want {
        return err(if alg == "sha256" {
            "a sha256 digest has 64 hex digits"
        } else {
            "a sha512 digest has 128 hex digits"
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn normalizes_docker_hub_names() {
        let r = Reference::parse("python").unwrap();
        assert_eq!(r.normalized(), "docker.io/library/python:latest");
        let r = Reference::parse("index.docker.io/library/python:3.12").unwrap();
        assert_eq!(r.normalized(), "docker.io/library/python:3.12");
        let r = Reference::parse("bitnami/redis:7").unwrap();
        assert_eq!(
            (r.registry(), r.repository()),
            ("docker.io", "bitnami/redis".to_string())
        );
    }

    #[test]
    fn domains_need_dot_colon_or_localhost() {
        let r = Reference::parse("localhost/app").unwrap();
        assert_eq!(r.registry(), "localhost");
        let r = Reference::parse("localhost:5000/a/b:1.0").unwrap();
        assert_eq!(r.domain.as_deref(), Some("localhost:5000"));
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        let r = Reference::parse("myorg/app").unwrap();
        assert_eq!(r.domain, None);
        let r = Reference::parse("[::1]:5000/app:1").unwrap();
        assert_eq!(r.registry(), "[::1]:5000");
    }

    #[test]
    fn port_is_not_a_tag() {
        let r = Reference::parse("registry.example.com:5000/team/app").unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.path, "team/app");
    }

    #[test]
    fn digest_is_validated() {
        let r = Reference::parse(&format!("python:3.12@{D}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(D));
        assert_eq!(r.name_tag_len(), "python:3.12".len());
        assert!(Reference::parse("myimage@sha256:0ecb2ad60").is_err());
        assert!(
            Reference::parse(&format!("a@{}", D.to_uppercase().replace("SHA", "sha"))).is_err()
        );
        assert!(Reference::parse("a@md5:00").is_err());
    }

    #[test]
    fn case_rules() {
        assert_eq!(Reference::parse("Python:3"), Err(ReferenceError::Uppercase));
        assert!(Reference::parse("python:3.12-SLIM").is_ok());
        assert!(Reference::parse("python:-x").is_err());
        assert!(Reference::parse("a__b/c-d--e/f.g:1").is_ok());
        assert!(Reference::parse("a___b").is_err());
        assert!(Reference::parse("").is_err());
        assert!(Reference::parse("a b").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["python", "ghcr.io/o/a:1", &format!("x/y@{D}"), "h:1/p:t"] {
            assert_eq!(Reference::parse(s).unwrap().to_string(), s);
        }
    }
}
