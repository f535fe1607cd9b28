//! Which files to scan and of which kind: name rules per kind, `[[files]]`
//! declarations from configuration, `exclude`, directory walking (respecting
//! `.gitignore`, including hidden directories, never `.git/`) and `--staged`.

use std::path::Path;

use crate::config::Config;
use crate::finding::FileKind;

/// The kind a file's path reveals, by name alone. Kubernetes manifests have
/// no telling name: they are scanned when configuration declares them, or
/// (for YAML files met while walking) when their content shows
/// `apiVersion` and `kind` — see [`looks_like_kubernetes`].
pub fn kind_by_name(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let is_yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    if lower.starts_with("dockerfile")
        || lower.starts_with("containerfile")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
    {
        // Not `Dockerfile.md`-style documentation or patches.
        if !(lower.ends_with(".md") || lower.ends_with(".txt") || lower.ends_with(".patch")) {
            return Some(FileKind::Dockerfile);
        }
    }
    if is_yaml && (lower.starts_with("compose") || lower.starts_with("docker-compose")) {
        return Some(FileKind::Compose);
    }
    if is_yaml
        && (lower == ".gitlab-ci.yml"
            || lower == ".gitlab-ci.yaml"
            || lower.ends_with(".gitlab-ci.yml")
            || lower.ends_with(".gitlab-ci.yaml"))
    {
        return Some(FileKind::GitlabCi);
    }
    if lower == "action.yml" || lower == "action.yaml" {
        return Some(FileKind::GithubActions);
    }
    let mut parents = path.parent().into_iter().flat_map(Path::components).rev();
    let parent = parents.next().and_then(|c| c.as_os_str().to_str());
    let grandparent = parents.next().and_then(|c| c.as_os_str().to_str());
    if is_yaml && parent == Some("workflows") && grandparent == Some(".github") {
        return Some(FileKind::GithubActions);
    }
    if lower == ".devcontainer.json" {
        return Some(FileKind::Devcontainer);
    }
    if lower == "devcontainer.json" {
        let mut comps: Vec<_> = path
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .filter_map(|c| c.as_os_str().to_str())
            .collect();
        comps.reverse();
        if comps.first() == Some(&".devcontainer") || comps.get(1) == Some(&".devcontainer") {
            return Some(FileKind::Devcontainer);
        }
    }
    None
}

/// The kind for a path: configuration's `[[files]]` first, then the name rules.
pub fn kind_for(config: &Config, path: &Path) -> Option<FileKind> {
    config.declared_kind(path).or_else(|| kind_by_name(path))
}

/// Whether a YAML text has a document with top-level `apiVersion:` and `kind:`
/// (a cheap line test; the Kubernetes scanner does the real parse).
pub fn looks_like_kubernetes(text: &str) -> bool {
    let mut api = false;
    let mut kind = false;
    for line in text.lines() {
        if line.starts_with("---") {
            if api && kind {
                return true;
            }
            api = false;
            kind = false;
        }
        api |= line.starts_with("apiVersion:");
        kind |= line.starts_with("kind:");
    }
    api && kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let k = |p: &str| kind_by_name(Path::new(p));
        assert_eq!(k("Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("a/Dockerfile.prod"), Some(FileKind::Dockerfile));
        assert_eq!(k("Dockerfile-windows"), Some(FileKind::Dockerfile));
        assert_eq!(k("build/app.Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("x.containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("compose.yaml"), Some(FileKind::Compose));
        assert_eq!(k("docker-compose.prod.yml"), Some(FileKind::Compose));
        assert_eq!(k("docker-compose-tls.yml"), Some(FileKind::Compose));
        assert_eq!(k("compose.json"), None);
        assert_eq!(k(".github/workflows/ci.yml"), Some(FileKind::GithubActions));
        assert_eq!(
            k("x/.github/workflows/ci.yaml"),
            Some(FileKind::GithubActions)
        );
        assert_eq!(k("workflows/ci.yaml"), None);
        assert_eq!(k("sub/action.yml"), Some(FileKind::GithubActions));
        assert_eq!(k(".gitlab-ci.yml"), Some(FileKind::GitlabCi));
        assert_eq!(k("ci/build.gitlab-ci.yml"), Some(FileKind::GitlabCi));
        assert_eq!(k(".devcontainer.json"), Some(FileKind::Devcontainer));
        assert_eq!(
            k(".devcontainer/devcontainer.json"),
            Some(FileKind::Devcontainer)
        );
        assert_eq!(
            k(".devcontainer/py/devcontainer.json"),
            Some(FileKind::Devcontainer)
        );
        assert_eq!(k("devcontainer.json"), None);
        assert_eq!(k("deploy.yaml"), None);
    }

    #[test]
    fn kubernetes_sniffing() {
        assert!(looks_like_kubernetes("apiVersion: v1\nkind: Pod\n"));
        assert!(looks_like_kubernetes(
            "a: 1\n---\napiVersion: v1\nkind: Pod\n"
        ));
        assert!(!looks_like_kubernetes("services:\n  kind: x\n"));
    }
}
