//! `imagepin set IMAGE[:TAG]@DIGEST`: which image (and tag) gets which
//! digest, parsed from the command line, and which references it matches.

use crate::reference::Reference;
use crate::resolve::DigestRef;

/// What `imagepin set IMAGE[:TAG]@DIGEST` sets: every reference to the
/// repository (with that tag, when one is given) gets `digest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetTarget {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: String,
}

impl SetTarget {
    /// From `IMAGE[:TAG]@sha256:DIGEST`; the digest is required.
    pub fn parse(text: &str) -> Result<SetTarget, String> {
        let r = Reference::parse(text).map_err(|e| format!("{text}: {e}"))?;
        let digest = r.digest.clone().ok_or_else(|| {
            format!("{text}: give the digest to set, as IMAGE[:TAG]@sha256:DIGEST")
        })?;
        Ok(SetTarget {
            registry: r.registry().to_string(),
            repository: r.repository(),
            tag: r.tag.clone(),
            digest,
        })
    }

    /// The digest in its repository, for the existence check.
    pub fn digest_ref(&self) -> DigestRef {
        DigestRef {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            digest: self.digest.clone(),
        }
    }

    /// Whether a reference is to this image (and tag). A reference written
    /// with only a digest has no tag to compare, so it matches only when no
    /// tag is given.
    pub fn matches(&self, r: &Reference) -> bool {
        if r.registry() != self.registry || r.repository() != self.repository {
            return false;
        }
        let tag = match (&r.tag, &r.digest) {
            (Some(t), _) => Some(t.as_str()),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        };
        self.tag.as_deref().is_none_or(|want| tag == Some(want))
    }
}

impl std::fmt::Display for SetTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        write!(f, "@{}", self.digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn r(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    #[test]
    fn set_targets_match_the_repository_and_the_tag_when_given() {
        let tagged = SetTarget::parse(&format!("python:3.12@{D}")).unwrap();
        assert_eq!(
            tagged.to_string(),
            format!("docker.io/library/python:3.12@{D}")
        );
        assert!(tagged.matches(&r("python:3.12")));
        assert!(tagged.matches(&r(&format!("docker.io/library/python:3.12@{D}"))));
        assert!(!tagged.matches(&r("python:3.11")));
        assert!(!tagged.matches(&r(&format!("python@{D}"))));
        assert!(!tagged.matches(&r("ghcr.io/library/python:3.12")));
        let latest = SetTarget::parse(&format!("python:latest@{D}")).unwrap();
        assert!(latest.matches(&r("python")));
        let any = SetTarget::parse(&format!("index.docker.io/library/python@{D}")).unwrap();
        assert!(any.matches(&r("python:3.11")) && any.matches(&r(&format!("python@{D}"))));
        assert_eq!(
            SetTarget::parse("python:3.12").unwrap_err(),
            "python:3.12: give the digest to set, as IMAGE[:TAG]@sha256:DIGEST"
        );
        assert!(SetTarget::parse("python@sha256:12").is_err());
    }
}
