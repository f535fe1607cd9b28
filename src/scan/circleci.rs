//! Scanner for CircleCI configuration (`.circleci/config.yml` and the other
//! YAML files under `.circleci/`: continuation configs, `circleci config
//! pack` sources).
//!
//! Images are the `image` of each item of a Docker executor's `docker:` list,
//! wherever an executor is written: under `jobs.<job>`, `executors.<name>`,
//! the same two inside inline orbs (`orbs.<name>.jobs`/`executors`), and at
//! the top level of a packed source file (`src/executors/default.yml`). The
//! first item is the primary container, the others are service containers:
//! all are pulled. `machine: image:` names a VM image and `macos: xcode:` an
//! Xcode version, never container images; orb references
//! (`node: circleci/node@5.2`) and `executor: {name: …, tag: …}` parameters
//! are not read. Pipeline and job parameters (`cimg/python:<<
//! parameters.version >>`) are dynamic, as are environment variables.

use super::kind::{Kind, Syntax, is_yaml_name, lower_name, parents};
use super::yaml::{self, Node};
use super::yaml_image::image_scalar;
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// CircleCI: every YAML file under a `.circleci/` directory.
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("circleci"),
    names: |path| {
        lower_name(path).is_some_and(|n| is_yaml_name(&n)) && parents(path).any(|d| d == ".circleci")
    },
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "version: 2.1\njobs:\n  build:\n    docker:\n      - image:",
        "jobs:\n  build:\n    docker:\n      - image: a\n      - image:",
        "executors:\n  default:\n    docker:\n    - image:",
        "executors:\n  vm:\n    machine:\n      image:",
        "jobs:\n  mac:\n    macos:\n      xcode:",
        "orbs:\n  inline:\n    executors:\n      e:\n        docker:\n          - image:",
        "orbs:\n  node: circleci/node@5.2",
        "docker:\n  - image:",
        "parameters:\n  tag:\n    default:",
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
        // A packed source file holding one executor or job.
        docker_images(root, "", &mut found);
        jobs_and_executors(root, "", &mut found);
        if let Some(orbs) = root.get("orbs") {
            for (name, orb) in orbs.merged_entries() {
                let Some(name) = name.as_str() else { continue };
                if orb.is_mapping() {
                    jobs_and_executors(orb, &format!("orbs.{name}."), &mut found);
                }
            }
        }
    }
    Ok(found)
}

/// The Docker images of every job and executor of a config or inline orb.
fn jobs_and_executors(owner: &Node, prefix: &str, found: &mut Vec<Occurrence>) {
    for key in ["executors", "jobs"] {
        let Some(map) = owner.get(key) else { continue };
        for (name, body) in map.merged_entries() {
            let Some(name) = name.as_str() else { continue };
            docker_images(body, &format!("{prefix}{key}.{name}."), found);
        }
    }
}

/// `docker: [- image: …]` of one job or executor.
fn docker_images(owner: &Node, prefix: &str, found: &mut Vec<Occurrence>) {
    let Some(docker) = owner.get("docker") else {
        return;
    };
    for (i, item) in docker.items().enumerate() {
        let Some(image) = item.get("image") else {
            continue;
        };
        // `<< parameters.tag >>`: filled in by CircleCI before the run.
        let hint = if image.as_str().is_some_and(|v| v.contains("<<")) {
            Hint::Dynamic
        } else {
            Hint::Image
        };
        found.extend(image_scalar(
            image,
            hint,
            format!("{prefix}docker[{i}].image"),
        ));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::finding::Status;
    use crate::scan::test_helpers::{self, row};

    fn found(text: &str) -> Vec<(&str, Hint, String)> {
        test_helpers::found(KIND.id, text)
    }

    fn fixture(text: &str) -> Vec<test_helpers::Row> {
        test_helpers::fixture(KIND.id, ".circleci/config.yml", text)
    }

    #[test]
    fn names() {
        let k = |p: &str| (KIND.names)(std::path::Path::new(p));
        assert!(k(".circleci/config.yml"));
        assert!(k("sub/.circleci/continue_config.yaml"));
        assert!(k(".circleci/src/executors/default.yml"));
        assert!(!k("circleci/config.yml"));
        assert!(!k(".circleci/README.md"));
    }

    #[test]
    fn jobs_executors_and_inline_orbs() {
        let t = "\
version: 2.1
orbs:
  node: circleci/node@5.2.0
  tools:
    executors:
      base:
        docker:
          - image: cimg/base:2024.06
    jobs:
      lint:
        docker: [{image: 'hadolint/hadolint:v2.12.0'}]
executors:
  py:
    docker:
      - image: cimg/python:3.12
        auth: {username: me, password: $DOCKERHUB_PASSWORD}
      - image: cimg/postgres:16.3
jobs:
  test:
    executor: py
    steps: [checkout]
  build:
    docker:
      - image: cimg/go:1.23
";
        let got: Vec<_> = found(t).into_iter().map(|(r, _, c)| (r, c)).collect();
        assert_eq!(
            got,
            [
                ("cimg/base:2024.06", "orbs.tools.executors.base.docker[0].image".into()),
                (
                    "hadolint/hadolint:v2.12.0",
                    "orbs.tools.jobs.lint.docker[0].image".into()
                ),
                ("cimg/python:3.12", "executors.py.docker[0].image".into()),
                ("cimg/postgres:16.3", "executors.py.docker[1].image".into()),
                ("cimg/go:1.23", "jobs.build.docker[0].image".into()),
            ]
        );
    }

    #[test]
    fn vm_images_xcode_and_orb_references_are_never_images() {
        let t = "\
version: 2.1
orbs:
  node: circleci/node@5.2.0
executors:
  vm:
    machine:
      image: ubuntu-2204:2024.05.1
  mac:
    macos:
      xcode: 15.4.0
jobs:
  arm:
    machine:
      image: ubuntu-2204:2024.05.1
    resource_class: arm.medium
  node:
    executor: {name: node/default, tag: '20.14'}
    environment:
      IMAGE: cimg/base:current
    steps:
      - run: docker run --rm alpine:3.20 true
      - setup_remote_docker: {version: docker24}
  empty:
    docker:
      - image: ''
      - auth: {username: me}
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn parameters_are_dynamic() {
        let t = "\
jobs:
  test:
    parameters:
      version: {type: string, default: '3.12'}
    docker:
      - image: cimg/python:<< parameters.version >>
      - image: $PRIVATE_REGISTRY/db:1
";
        let got: Vec<_> = found(t)
            .into_iter()
            .map(|(r, h, _)| (r, crate::scan::classify(h, r).0))
            .collect();
        assert_eq!(
            got,
            [
                ("cimg/python:<< parameters.version >>", Status::Dynamic),
                ("$PRIVATE_REGISTRY/db:1", Status::Dynamic),
            ]
        );
    }

    #[test]
    fn packed_executor_source() {
        let t = "docker:\n  - image: cimg/node:<<parameters.tag>>\n  - image: redis:7\nparameters:\n  tag: {type: string}\n";
        let got: Vec<_> = found(t).into_iter().map(|(r, _, c)| (r, c)).collect();
        assert_eq!(
            got,
            [
                ("cimg/node:<<parameters.tag>>", "docker[0].image".into()),
                ("redis:7", "docker[1].image".into()),
            ]
        );
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("jobs:\n  a:\n    docker: [\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn main_fixture() {
        let t = include_str!("../../tests/fixtures/circleci/.circleci/config.yml");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            fixture(t),
            [
                row(
                    12,
                    16,
                    "cimg/python:3.12",
                    Status::Unpinned,
                    "executors.python.docker[0].image"
                ),
                row(
                    16,
                    17,
                    &format!("cimg/postgres:16.3@{d}"),
                    Status::Pinned,
                    "executors.python.docker[1].image"
                ),
                row(
                    31,
                    16,
                    "cimg/node:<< parameters.node-version >>",
                    Status::Dynamic,
                    "jobs.frontend.docker[0].image"
                ),
                row(
                    32,
                    16,
                    "redis:7.2",
                    Status::Unpinned,
                    "jobs.frontend.docker[1].image"
                ),
                row(
                    38,
                    15,
                    "ghcr.io/example/ci-tools:2",
                    Status::Unpinned,
                    "jobs.release.docker[0].image"
                ),
            ]
        );
    }
}
