//! Scanner for Drone CI pipelines (`.drone.yml`, `.drone.yaml`).
//!
//! A `.drone.yml` is a stream of documents. Only `kind: pipeline` documents
//! run containers: `steps[].image` and `services[].image` are images in
//! pipelines of `type: docker` (the default when `type` is missing),
//! `kubernetes` and `vm`, whatever their `platform` (Windows too). Pipelines
//! that run on a host (`type: exec`, `ssh`, `digitalocean`, `macstadium`)
//! have no images, and `kind: secret`, `signature` and `template` documents
//! are not pipelines. Drone 0.8 files (no `kind`, steps under a `pipeline:`
//! map, `services:` as a map) are read too.
//!
//! `commands`, `settings` (a plugin's `repo:` is where it pushes, not an
//! image), `environment` and `image_pull_secrets` are never images.
//! `${DRONE_…}` and other variables are left to [`super::classify`], which
//! reports them as dynamic.

use super::kind::{Kind, Syntax, is_yaml_named, lower_name};
use super::yaml::{self, Node};
use super::yaml_image::{image_scalar, list_or_map};
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// Pipeline types whose steps run on a host, not in containers.
const HOST_TYPES: &[&str] = &["exec", "ssh", "digitalocean", "macstadium"];

/// Drone: `.drone.yml` / `.drone.yaml`.
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("drone"),
    names: |path| lower_name(path).is_some_and(|n| is_yaml_named(&n, ".drone")),
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "kind: pipeline\nsteps:\n- name: a\n  image:",
        "kind: pipeline\ntype: docker\nservices:\n- name: db\n  image:",
        "kind: pipeline\ntype: kubernetes\nsteps:\n  - image:",
        "kind: pipeline\ntype: exec\nsteps:\n- image:",
        "---\nkind: secret\nname: x\nget:\n  image:",
        "pipeline:\n  build:\n    image:",
        "services:\n  db:\n    image:",
    ],
    relate: None,
};

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut found = Vec::new();
    for doc in yaml::parse(text)? {
        let root = doc.root();
        if !root.is_mapping() {
            continue;
        }
        match root.get("kind").map(|k| k.as_str()) {
            Some(Some("pipeline")) => {
                let host = root
                    .get("type")
                    .and_then(Node::as_str)
                    .is_some_and(|t| HOST_TYPES.contains(&t));
                if host {
                    continue;
                }
                let prefix = match root.get("name").and_then(Node::as_str) {
                    Some(name) if !name.is_empty() => format!("{name}."),
                    _ => String::new(),
                };
                step_images(root, &["steps", "services"], &prefix, &mut found);
            }
            // Drone 0.8: no `kind`, steps under `pipeline:`.
            None if root.get("pipeline").is_some_and(Node::is_mapping) => {
                step_images(root, &["pipeline", "services"], "", &mut found);
            }
            _ => {}
        }
    }
    Ok(found)
}

/// The `image` of each step under each of `keys` of a pipeline.
fn step_images(pipeline: &Node, keys: &[&str], prefix: &str, found: &mut Vec<Occurrence>) {
    for key in keys {
        let Some(steps) = pipeline.get(key) else {
            continue;
        };
        for (suffix, step) in list_or_map(steps) {
            if let Some(image) = step.get("image") {
                let context = format!("{prefix}{key}{suffix}.image");
                found.extend(image_scalar(image, Hint::Image, context));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::finding::Status;
    use crate::scan::test_helpers::{self, row};

    fn found(text: &str) -> Vec<(&str, String)> {
        test_helpers::images(KIND.id, text)
    }

    fn fixture(text: &str) -> Vec<test_helpers::Row> {
        test_helpers::fixture(KIND.id, ".drone.yml", text)
    }

    #[test]
    fn names() {
        let k = |p: &str| (KIND.names)(std::path::Path::new(p));
        assert!(k(".drone.yml"));
        assert!(k("sub/.drone.yaml"));
        assert!(!k("drone.yml"));
        assert!(!k(".drone.star"));
    }

    #[test]
    fn only_container_pipelines() {
        let t = "\
kind: pipeline
name: default
steps:
- name: build
  image: golang:1.23
---
kind: pipeline
type: kubernetes
name: k8s
services:
- name: db
  image: mysql:8
---
kind: pipeline
type: exec
name: host
steps:
- name: x
  image: not-used:1
---
kind: secret
name: docker_username
get:
  path: secret/docker
  name: username
image: not-a-pipeline:1
---
kind: signature
hmac: 0123456789abcdef
---
kind: template
load: plugin.star
data:
  image: not/this:1
";
        assert_eq!(
            found(t),
            [
                ("golang:1.23", "default.steps[0].image".into()),
                ("mysql:8", "k8s.services[0].image".into()),
            ]
        );
    }

    #[test]
    fn never_images() {
        let t = "\
kind: pipeline
steps:
- name: publish
  image: ''
  settings:
    repo: plugins/docker
    image: not/this:1
  environment:
    IMAGE: alpine:3
  commands:
  - docker run --rm alpine:3 true
image_pull_secrets:
- dockerconfig
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn drone_08_pipeline_map() {
        let t = "\
pipeline:
  build:
    image: golang:1.10
    commands: [go build]
services:
  database:
    image: mysql:5.7
";
        assert_eq!(
            found(t),
            [
                ("golang:1.10", "pipeline.build.image".into()),
                ("mysql:5.7", "services.database.image".into()),
            ]
        );
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("kind: pipeline\nsteps: [\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn main_fixture() {
        let t = include_str!("../../tests/fixtures/drone/.drone.yml");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            fixture(t),
            [
                row(8, 10, "golang:1.23", Status::Unpinned, "linux.steps[0].image"),
                row(
                    12,
                    11,
                    "golang:${GO_VERSION}",
                    Status::Dynamic,
                    "linux.steps[1].image"
                ),
                row(
                    16,
                    10,
                    &format!("plugins/docker@{d}"),
                    Status::Pinned,
                    "linux.steps[2].image"
                ),
                row(25, 10, "postgres:16", Status::Unpinned, "linux.services[0].image"),
                row(
                    38,
                    12,
                    "mcr.microsoft.com/windows/servercore:ltsc2022",
                    Status::Unpinned,
                    "windows.steps[0].image"
                ),
                row(47, 10, "plugins/manifest", Status::Unpinned, "manifest.steps[0].image"),
                row(
                    55,
                    11,
                    "alpine/k8s:1.31.2",
                    Status::Unpinned,
                    "steps[0].image"
                ),
            ]
        );
    }

    #[test]
    fn crlf_fixture() {
        let t = include_str!("../../tests/fixtures/drone/crlf/.drone.yaml");
        assert!(t.contains("\r\n"));
        assert_eq!(
            fixture(t),
            [
                row(5, 10, "node:22-alpine", Status::Unpinned, "ci.steps[0].image"),
                row(8, 10, "redis:7", Status::Unpinned, "ci.services[0].image"),
            ]
        );
    }
}
