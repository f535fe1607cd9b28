//! Scanner for Bitbucket Pipelines (`bitbucket-pipelines.yml`).
//!
//! Images, each a string or a `{name: …, username: …}` mapping: the top-level
//! `image`, each step's `image`, and `definitions.services.<name>.image`.
//! Steps are found where Bitbucket runs them: the lists under
//! `pipelines.default` and under each entry of `pipelines.branches`, `tags`,
//! `bookmarks`, `pull-requests` and `custom`, inside `parallel` (a list, or a
//! mapping with `steps`) and `stage.steps`, and in `definitions.steps` (the
//! usual home of `&anchors`: an anchored step gives one finding, where its
//! text is written).
//!
//! A `pipe: docker://image:tag` entry of a step's `script` or `after-script`
//! runs that container image: the text after the scheme is reported. Other
//! pipes (`atlassian/aws-s3-deploy:1.1.0`) are Bitbucket pipes, versioned like
//! actions, never images; so are a step's `services` list (names of
//! `definitions.services`), `caches`, `variables` and `script` text. `$VAR` and `{{ … }}` placeholders are
//! left to [`super::classify`], which reports them as dynamic.

use std::collections::HashSet;

use super::kind::{Kind, Syntax, is_yaml_named, lower_name};
use super::yaml::{self, Node};
use super::yaml_image::{docker_url, image_or_name};
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// The entries of `pipelines:` that map a name (branch glob, tag, …) to a
/// list of steps; `default` is a list itself.
const NAMED_PIPELINES: &[&str] = &["branches", "tags", "bookmarks", "pull-requests", "custom"];

/// Bitbucket Pipelines: `bitbucket-pipelines.y(a)ml`.
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("bitbucket-pipelines"),
    names: |path| lower_name(path).is_some_and(|n| is_yaml_named(&n, "bitbucket-pipelines")),
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "image:",
        "image:\n  name:",
        "pipelines:\n  default:\n    - step:\n        image:",
        "pipelines:\n  default:\n    - parallel:\n        - step:\n            image:",
        "pipelines:\n  default:\n    - parallel:\n        steps:\n          - step:\n              image:\n                name:",
        "pipelines:\n  branches:\n    main:\n      - stage:\n          steps:\n            - step:\n                image:",
        "pipelines:\n  custom:\n    x:\n      - variables: []\n      - step:\n          script:\n            - pipe:",
        "pipelines:\n  default:\n    - step:\n        after-script:\n          - pipe: docker://",
        "definitions:\n  services:\n    db:\n      image:",
        "definitions:\n  steps:\n    - step: &s\n        image:",
    ],
    relate: None,
};

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut walker = Walker {
        found: Vec::new(),
        visited: HashSet::new(),
    };
    for doc in yaml::parse(text)? {
        let root = doc.root();
        if !root.is_mapping() {
            continue;
        }
        if let Some(image) = root.get("image") {
            walker.image(image, "image");
        }
        // Definitions first: an anchored step is reported with this context.
        if let Some(definitions) = root.get("definitions") {
            if let Some(services) = definitions.get("services") {
                for (name, service) in services.merged_entries() {
                    let (Some(name), Some(image)) = (name.as_str(), service.get("image")) else {
                        continue;
                    };
                    walker.image(image, &format!("definitions.services.{name}.image"));
                }
            }
            if let Some(steps) = definitions.get("steps") {
                walker.items(steps, "definitions.steps");
            }
        }
        if let Some(pipelines) = root.get("pipelines") {
            if let Some(default) = pipelines.get("default") {
                walker.items(default, "pipelines.default");
            }
            for group in NAMED_PIPELINES {
                let Some(named) = pipelines.get(group) else {
                    continue;
                };
                for (name, steps) in named.merged_entries() {
                    let Some(name) = name.as_str() else { continue };
                    walker.items(steps, &format!("pipelines.{group}.{name}"));
                }
            }
        }
    }
    Ok(walker.found)
}

struct Walker {
    found: Vec<Occurrence>,
    /// Lists already walked (aliases share nodes: each is walked once).
    visited: HashSet<usize>,
}

impl Walker {
    fn image(&mut self, image: &Node, context: &str) {
        self.found.extend(image_or_name(image, Hint::Image, context));
    }

    /// One step: its `image`, and the `pipe: docker://…` entries of its
    /// scripts.
    fn step(&mut self, step: &Node, context: &str) {
        if let Some(image) = step.get("image") {
            self.image(image, &format!("{context}.image"));
        }
        for key in ["script", "after-script"] {
            let Some(script) = step.get(key) else { continue };
            for (i, command) in script.items().enumerate() {
                if let Some(pipe) = command.get("pipe") {
                    let context = format!("{context}.{key}[{i}].pipe");
                    self.found.extend(docker_url(pipe, &context));
                }
            }
        }
    }

    /// A list of pipeline items: `- step:`, `- parallel:`, `- stage:`.
    fn items(&mut self, list: &Node, context: &str) {
        if !list.is_sequence() || !self.visited.insert(list.id()) {
            return;
        }
        for (i, item) in list.items().enumerate() {
            let context = format!("{context}[{i}]");
            if let Some(step) = item.get("step") {
                self.step(step, &format!("{context}.step"));
            }
            if let Some(parallel) = item.get("parallel") {
                match parallel.get("steps") {
                    Some(steps) => self.items(steps, &format!("{context}.parallel.steps")),
                    None => self.items(parallel, &format!("{context}.parallel")),
                }
            }
            if let Some(steps) = item.get("stage").and_then(|stage| stage.get("steps")) {
                self.items(steps, &format!("{context}.stage.steps"));
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
        test_helpers::fixture(KIND.id, "bitbucket-pipelines.yml", text)
    }

    #[test]
    fn names() {
        let k = |p: &str| (KIND.names)(std::path::Path::new(p));
        assert!(k("bitbucket-pipelines.yml"));
        assert!(k("sub/bitbucket-pipelines.yaml"));
        assert!(!k("bitbucket-pipelines.json"));
        assert!(!k("pipelines.yml"));
    }

    #[test]
    fn every_place_a_step_can_be() {
        let t = "\
pipelines:
  default:
    - step: {image: a:1}
    - parallel:
        - step: {image: b:1}
    - parallel:
        fail-fast: true
        steps:
          - step: {image: c:1}
    - stage:
        steps:
          - step: {image: d:1}
  branches:
    'release/*':
      - step: {image: e:1}
  tags:
    v*:
      - step: {image: f:1}
  bookmarks:
    main:
      - step: {image: g:1}
  pull-requests:
    '**':
      - step: {image: {name: h:1, username: $USER, password: $PASS}}
  custom:
    deploy:
      - variables:
          - name: ENV
      - step: {image: i:1}
";
        assert_eq!(
            found(t),
            [
                ("a:1", "pipelines.default[0].step.image".into()),
                ("b:1", "pipelines.default[1].parallel[0].step.image".into()),
                (
                    "c:1",
                    "pipelines.default[2].parallel.steps[0].step.image".into()
                ),
                ("d:1", "pipelines.default[3].stage.steps[0].step.image".into()),
                ("e:1", "pipelines.branches.release/*[0].step.image".into()),
                ("f:1", "pipelines.tags.v*[0].step.image".into()),
                ("g:1", "pipelines.bookmarks.main[0].step.image".into()),
                ("h:1", "pipelines.pull-requests.**[0].step.image.name".into()),
                ("i:1", "pipelines.custom.deploy[1].step.image".into()),
            ]
        );
    }

    #[test]
    fn never_images() {
        let t = "\
clone: {depth: 1}
options: {docker: true}
definitions:
  caches:
    image: ~/.cache/image
  services:
    docker:
      memory: 2048
      type: docker
pipelines:
  default:
    - step:
        image: ''
        services: [docker, postgres]
        caches: [node]
        script:
          - docker run --rm alpine:3.20 true
          - pipe: atlassian/aws-ecr-push-image:2.4.2
            variables:
              IMAGE_NAME: my/app
          - pipe: docker://
          - 'pipe: docker://alpine:3 is a command'
        after-script:
          - pipe: atlassian/slack-notify:2.1.0
    - step:
        image: {username: x}
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn docker_pipes_are_images() {
        let t = "\
pipelines:
  default:
    - step:
        script:
          - pipe: docker://acme/pipe:1.2
            variables: {X: y}
          - pipe: atlassian/aws-s3-deploy:1.1.0
        after-script:
          - pipe: 'DOCKER://acme/notify:2'
";
        assert_eq!(
            found(t),
            [
                ("acme/pipe:1.2", "pipelines.default[0].step.script[0].pipe".into()),
                (
                    "acme/notify:2",
                    "pipelines.default[0].step.after-script[0].pipe".into()
                ),
            ]
        );
    }

    #[test]
    fn anchored_steps_give_one_finding_at_the_definition() {
        let t = "\
definitions:
  steps:
    - step: &build
        name: Build
        image: node:20
pipelines:
  default:
    - step: *build
  branches:
    main:
      - step:
          <<: *build
          name: Build main
";
        assert_eq!(
            found(t),
            [("node:20", "definitions.steps[0].step.image".into())]
        );
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("pipelines:\n  default: [\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn main_fixture() {
        let t = include_str!("../../tests/fixtures/bitbucket-pipelines/bitbucket-pipelines.yml");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            fixture(t),
            [
                row(2, 8, "python:3.12-slim", Status::Unpinned, "image"),
                row(
                    8,
                    14,
                    "postgres:16",
                    Status::Unpinned,
                    "definitions.services.postgres.image"
                ),
                row(
                    14,
                    16,
                    "private.example.com/redis:7",
                    Status::Unpinned,
                    "definitions.services.redis.image.name"
                ),
                row(
                    21,
                    16,
                    "node:22-alpine",
                    Status::Unpinned,
                    "definitions.steps[0].step.image"
                ),
                row(
                    34,
                    20,
                    "${LINT_IMAGE}",
                    Status::Dynamic,
                    "pipelines.default[1].parallel[0].step.image"
                ),
                row(
                    39,
                    22,
                    &format!("golang:1.23@{d}"),
                    Status::Pinned,
                    "pipelines.default[1].parallel[1].step.image.name"
                ),
                row(
                    51,
                    24,
                    "amazon/aws-cli:2.17.0",
                    Status::Unpinned,
                    "pipelines.branches.main[0].stage.steps[0].step.image"
                ),
                row(
                    64,
                    18,
                    "alpine:3.20",
                    Status::Unpinned,
                    "pipelines.custom.release[1].step.image"
                ),
                row(
                    67,
                    31,
                    "acme/release-notes:3.1",
                    Status::Unpinned,
                    "pipelines.custom.release[1].step.script[1].pipe"
                ),
            ]
        );
    }
}
