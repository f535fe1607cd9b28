//! Scanner for Woodpecker CI pipelines (`.woodpecker.y(a)ml` and the files of
//! a `.woodpecker/` directory).
//!
//! Each step's `image` is an image: steps under `steps`, `services` and
//! `clone`, each written as a list (`- name: build`) or as a map (`build:`),
//! and under `pipeline`, the key older Woodpecker (and Drone 0.8) versions
//! used for steps. Plugins are steps too (`image: woodpeckerci/plugin-git`).
//! `commands`, `settings`, `environment`, `when` and the top-level `matrix`,
//! `variables` and `labels` are never images; a step that takes its image
//! from a `matrix` value (`golang:${GO_VERSION}`) is dynamic (left to
//! [`super::classify`]). YAML anchors give one finding, where the text is
//! written.

use super::kind::{Kind, Syntax, is_yaml_name, is_yaml_named, lower_name, parents};
use super::yaml::{self, Node};
use super::yaml_image::{image_scalar, list_or_map};
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// The top-level keys that hold steps.
const STEP_KEYS: &[&str] = &["steps", "services", "clone", "pipeline"];

/// Woodpecker: `.woodpecker.y(a)ml` and `.woodpecker/*.y(a)ml`.
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("woodpecker"),
    names: |path| {
        lower_name(path).is_some_and(|n| {
            is_yaml_named(&n, ".woodpecker")
                || (is_yaml_name(&n) && parents(path).next() == Some(".woodpecker"))
        })
    },
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "steps:\n  - name: build\n    image:",
        "steps:\n  build:\n    image:",
        "services:\n  - name: db\n    image:",
        "services:\n  db:\n    image:",
        "clone:\n  git:\n    image:",
        "clone:\n  - name: git\n    image:",
        "pipeline:\n  build:\n    image:",
        "matrix:\n  IMAGE:\n    -",
        "variables:\n  - &img\n    image:",
    ],
    relate: None,
};

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut found = Vec::new();
    for doc in yaml::parse(text)? {
        for key in STEP_KEYS {
            let Some(steps) = doc.get(key) else { continue };
            for (suffix, step) in list_or_map(steps) {
                found.extend(step_image(step, &format!("{key}{suffix}")));
            }
        }
    }
    Ok(found)
}

/// The `image` of one step (a mapping); `context` names the step.
fn step_image(step: &Node, context: &str) -> Option<Occurrence> {
    let image = step.get("image")?;
    image_scalar(image, Hint::Image, format!("{context}.image"))
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
        test_helpers::fixture(KIND.id, ".woodpecker.yml", text)
    }

    #[test]
    fn names() {
        let k = |p: &str| (KIND.names)(std::path::Path::new(p));
        assert!(k(".woodpecker.yml"));
        assert!(k("sub/.woodpecker.yaml"));
        assert!(k(".woodpecker/build.yml"));
        assert!(k("x/.woodpecker/test.YAML"));
        assert!(!k(".woodpecker/scripts/build.sh"));
        assert!(!k(".woodpecker/a/b.yml"));
        assert!(!k("woodpecker.yml"));
    }

    #[test]
    fn steps_services_and_clone_as_lists_and_maps() {
        let t = "\
clone:
  git:
    image: woodpeckerci/plugin-git:2.6
steps:
  - name: build
    image: golang:1.23
  - name: publish
    image: woodpeckerci/plugin-docker-buildx:5
services:
  db:
    image: postgres:16
";
        assert_eq!(
            found(t),
            [
                ("woodpeckerci/plugin-git:2.6", "clone.git.image".into()),
                ("golang:1.23", "steps[0].image".into()),
                (
                    "woodpeckerci/plugin-docker-buildx:5",
                    "steps[1].image".into()
                ),
                ("postgres:16", "services.db.image".into()),
            ]
        );
        let t = "steps:\n  test: {image: 'node:22'}\nservices:\n  - name: r\n    image: redis:7\n";
        assert_eq!(
            found(t),
            [
                ("node:22", "steps.test.image".into()),
                ("redis:7", "services[0].image".into()),
            ]
        );
    }

    #[test]
    fn older_pipeline_key() {
        let t = "pipeline:\n  build:\n    image: golang:1.21\n    commands: [go build]\n";
        assert_eq!(found(t), [("golang:1.21", "pipeline.build.image".into())]);
    }

    #[test]
    fn never_images() {
        let t = "\
labels:
  image: alpine:3
variables:
  - &default_image 'debian:12'
matrix:
  IMAGE:
    - alpine:3.19
    - alpine:3.20
when:
  - event: push
steps:
  - name: build
    image: ''
    commands:
      - docker run --rm busybox:1.36 true
    environment:
      IMAGE: alpine:3.20
    settings:
      repo: example/app
      image: not/this:1
  - name: skip
    when: {event: tag}
workspace:
  base: /go
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn anchors_give_one_finding() {
        let t = "\
variables:
  - &golang golang:1.23
steps:
  a:
    image: *golang
  b:
    image: *golang
";
        assert_eq!(found(t), [("golang:1.23", "steps.a.image".into())]);
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("steps:\n  - image: [\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn list_fixture() {
        let t = include_str!("../../tests/fixtures/woodpecker/.woodpecker.yml");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            fixture(t),
            [
                row(
                    6,
                    12,
                    "woodpeckerci/plugin-git:2.6.0",
                    Status::Unpinned,
                    "clone[0].image"
                ),
                row(11, 12, "golang:1.23", Status::Unpinned, "steps[0].image"),
                row(
                    17,
                    13,
                    "golang:${GO_VERSION}-alpine",
                    Status::Dynamic,
                    "steps[1].image"
                ),
                row(
                    21,
                    13,
                    &format!("woodpeckerci/plugin-docker-buildx:5@{d}"),
                    Status::Pinned,
                    "steps[2].image"
                ),
                row(29, 12, "postgres:16", Status::Unpinned, "services[0].image"),
            ]
        );
    }

    #[test]
    fn map_fixture() {
        let t = include_str!("../../tests/fixtures/woodpecker/.woodpecker/deploy.yaml");
        assert_eq!(
            fixture(t),
            [
                row(
                    3,
                    11,
                    "woodpeckerci/plugin-git",
                    Status::Unpinned,
                    "clone.git.image"
                ),
                row(8, 12, "alpine:3.20", Status::Unpinned, "steps.lint.image"),
                row(
                    12,
                    13,
                    "registry.example.com/deploy/kubectl:1.31",
                    Status::Unpinned,
                    "steps.deploy.image"
                ),
                row(15, 16, "redis:7-alpine", Status::Unpinned, "services.cache.image"),
            ]
        );
    }

    #[test]
    fn crlf_pipeline_fixture() {
        let t = include_str!("../../tests/fixtures/woodpecker/crlf/.woodpecker.yaml");
        assert!(t.contains("\r\n"));
        assert_eq!(
            fixture(t),
            [
                row(3, 12, "node:20", Status::Unpinned, "pipeline.test.image"),
                row(6, 12, "$${BUILDER}", Status::Dynamic, "pipeline.build.image"),
            ]
        );
    }
}
