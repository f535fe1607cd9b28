//! Scanner for GitLab CI files (`.gitlab-ci.yml`, included `*.gitlab-ci.yml`
//! and files declared as `gitlab-ci` in configuration).
//!
//! `image` (a string or `{name: …}`) and `services` (a list of strings or
//! `{name: …}`) are images at the top level, under `default:` and in every job.
//! A job is any top-level key that is not a global keyword (`variables`,
//! `stages`, `include`, `workflow`, …) and whose value is a mapping; hidden jobs
//! (`.template`) count, since `extends:` and YAML anchors take their image
//! from there (one finding, where the text is written). `variables:`,
//! `parallel: matrix:`, `tags:`, `needs:` and `script:` text are never images.
//! `$VAR`, `${VAR}` and `$[[ inputs.x ]]` are left to [`super::classify`], which
//! reports them as dynamic.
//!
//! GitLab's dependency proxy prefixes (`${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}`,
//! `$CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX`, with or without braces)
//! stand for Docker Hub: in `${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/node:20`
//! the occurrence is `node:20`, the Docker Hub reference after the prefix, so
//! it is looked up on Docker Hub and pinned in place
//! (`…/node:20@sha256:…`, which the proxy serves) while the prefix stays.
//!
//! GitLab's hosted macOS runners take a VM image name (`macos-14-xcode-15`),
//! not a container image: the `image` of a job whose tags select a
//! `saas-macos-…` runner, and any image named `macos-<n>-xcode-<n>`, is not
//! reported.

use super::kind::{Kind, Syntax, is_yaml_name, lower_name};
use super::yaml::{self, Node};
use super::yaml_image::image_scalar;
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// Top-level keys that are global keywords, not jobs.
const GLOBAL_KEYWORDS: &[&str] = &[
    "after_script",
    "before_script",
    "cache",
    "default",
    "image",
    "include",
    "services",
    "spec",
    "stages",
    "types",
    "variables",
    "workflow",
];

/// The predefined variables whose value is a dependency proxy's path for
/// Docker Hub images.
const DEPENDENCY_PROXY_PREFIXES: &[&str] = &[
    "CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX",
    "CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX",
];

/// How many `extends:` hops are followed when looking for a job's tags.
const EXTENDS_LIMIT: usize = 16;

/// GitLab CI: `.gitlab-ci.y(a)ml`, included `*.gitlab-ci.y(a)ml`, and
/// custom CI file names that start with it (`gitlab-ci.yml`,
/// `.gitlab-ci.prod.yml`, `gitlab-ci.6.yaml`).
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("gitlab-ci"),
    names: |path| {
        lower_name(path).is_some_and(|n| {
            is_yaml_name(&n)
                && (n.ends_with(".gitlab-ci.yml")
                    || n.ends_with(".gitlab-ci.yaml")
                    || n.starts_with("gitlab-ci.")
                    || n.starts_with(".gitlab-ci."))
        })
    },
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "image:",
        "image:\n  name:",
        "default:\n  image:",
        "default:\n  services:\n    -",
        "job:\n  services:\n    - name:",
        "job:\n  image:",
        "variables:\n  IMAGE:",
        "job:\n  image: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/",
        "job:\n  services:\n    - $CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX/",
        ".tpl: &tpl\n  image:",
    ],
    relate: None,
};

/// Finds the image references in one file's text (BOM already stripped);
/// a file with template lines is read with them masked
/// ([`super::template`]).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    super::template::scan_masked(text, scan_yaml)
}

fn scan_yaml(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut found = Vec::new();
    for doc in yaml::parse(text)? {
        let root = doc.root();
        if !root.is_mapping() {
            continue;
        }
        let default = root.get("default");
        let default_macos = default.is_some_and(|d| tags_select_macos(d.get("tags")));
        image_and_services(root, "", default_macos, &mut found);
        if let Some(default) = default.filter(|d| d.is_mapping()) {
            image_and_services(default, "default.", default_macos, &mut found);
        }
        for (key, job) in root.merged_entries() {
            let Some(name) = key.as_str() else { continue };
            if GLOBAL_KEYWORDS.contains(&name) || !job.is_mapping() {
                continue;
            }
            let macos = job_selects_macos(root, job, default_macos);
            image_and_services(job, &format!("{name}."), macos, &mut found);
        }
    }
    Ok(found
        .into_iter()
        .map(|o| behind_dependency_proxy(text, o))
        .collect())
}

/// An occurrence whose text is a dependency proxy prefix, `/` and a Docker
/// Hub reference without variables: narrowed to that reference. Others are
/// returned as they are (a prefix before another registry's name, or before
/// a templated name, stays one dynamic value).
fn behind_dependency_proxy(text: &str, o: Occurrence) -> Occurrence {
    let Some(value) = text.get(o.span.clone()).filter(|_| o.hint == Hint::Image) else {
        return o;
    };
    let Some(rest) = DEPENDENCY_PROXY_PREFIXES.iter().find_map(|name| {
        let after = value
            .strip_prefix("${")
            .and_then(|v| v.strip_prefix(name))
            .and_then(|v| v.strip_prefix('}'))
            .or_else(|| value.strip_prefix('$').and_then(|v| v.strip_prefix(name)))?;
        after.strip_prefix('/')
    }) else {
        return o;
    };
    // A first component with a dot, a port or `localhost` names a registry
    // that is not Docker Hub.
    let first = rest.split('/').next().unwrap_or("");
    let other_registry =
        rest.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    if rest.is_empty() || other_registry || super::is_templated(rest) {
        return o;
    }
    let start = o.span.end - rest.len();
    Occurrence::new(start..o.span.end, o.hint, o.context)
}

/// The `image` and `services` of one mapping (the top level, `default:` or a
/// job); `prefix` starts their context.
fn image_and_services(owner: &Node, prefix: &str, macos: bool, found: &mut Vec<Occurrence>) {
    if let Some(image) = owner.get("image") {
        let (node, context) = match image.get("name") {
            Some(name) => (name, format!("{prefix}image.name")),
            None => (image, format!("{prefix}image")),
        };
        let vm_image = node.as_str().is_some_and(is_macos_vm_image);
        if !(macos || vm_image) {
            found.extend(image_scalar(node, Hint::Image, context));
        }
    }
    // `!reference [.job, services]` names another job's list, reported there.
    if let Some(services) = owner
        .get("services")
        .filter(|s| s.tag() != Some("!reference"))
    {
        for (i, item) in services.items().enumerate() {
            found.extend(match item.get("name") {
                Some(name) => {
                    image_scalar(name, Hint::Image, format!("{prefix}services[{i}].name"))
                }
                None => image_scalar(item, Hint::Image, format!("{prefix}services[{i}]")),
            });
        }
    }
}

/// Whether a job runs on a hosted macOS runner: its own `tags`, else those of
/// the jobs it `extends` (in this file), else `default:`'s.
fn job_selects_macos(root: &Node, job: &Node, default_macos: bool) -> bool {
    let mut current = job;
    for _ in 0..EXTENDS_LIMIT {
        if let Some(tags) = current.get("tags") {
            return tags_select_macos(Some(tags));
        }
        // With several parents the last one's keys win, as in GitLab.
        let parent = match current.get("extends") {
            Some(Node::Scalar(s)) => Some(&*s.value),
            Some(list) => list.items().filter_map(Node::as_str).last(),
            None => None,
        };
        match parent.and_then(|p| root.get(p)) {
            Some(next) if next.is_mapping() => current = next,
            _ => break,
        }
    }
    default_macos
}

fn tags_select_macos(tags: Option<&Node>) -> bool {
    tags.is_some_and(|t| {
        t.items()
            .filter_map(Node::as_str)
            .any(|tag| tag.starts_with("saas-macos"))
    })
}

/// A GitLab hosted macOS VM image name: `macos-14-xcode-15`, `macos-15-xcode-16`.
fn is_macos_vm_image(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("macos-") else {
        return false;
    };
    let Some((os, xcode)) = rest.split_once("-xcode-") else {
        return false;
    };
    let version = |v: &str| {
        !v.is_empty()
            && v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    version(os) && version(xcode)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::finding::Status;
    use crate::scan::classify;

    /// (reference text, context) for each occurrence after dedup, in file order.
    fn found(text: &str) -> Vec<(&str, String)> {
        crate::scan::test_helpers::images(KIND.id, text)
    }

    fn refs(text: &str) -> Vec<&str> {
        found(text).into_iter().map(|(r, _)| r).collect()
    }

    #[test]
    fn top_level_default_and_job_images() {
        let t = "\
image: ruby:3.3
default:
  image: node:22
job:
  image: python:3.12
";
        assert_eq!(
            found(t),
            [
                ("ruby:3.3", "image".to_string()),
                ("node:22", "default.image".to_string()),
                ("python:3.12", "job.image".to_string()),
            ]
        );
    }

    #[test]
    fn image_name_mapping_forms() {
        let t = "\
image:
  # comment
  name: renovate/renovate:19.70.8-slim
a:
  image: {name: 'python:3.12-slim', entrypoint: [\"\"]}
b:
  image:
    entrypoint:
    - \"\"
    # comment
    name: \"registry.example.com/x:1\"
    docker: {platform: arm64}
";
        assert_eq!(
            found(t),
            [
                ("renovate/renovate:19.70.8-slim", "image.name".to_string()),
                ("python:3.12-slim", "a.image.name".to_string()),
                ("registry.example.com/x:1", "b.image.name".to_string()),
            ]
        );
    }

    #[test]
    fn services_strings_and_names() {
        let t = "\
services:
  - name: other/image1:1.0.0
    alias: one
  - alias: two
    name: other/image2:1.0.0
job:
  services:
    - \"mariadb:10.4.11\"
    - postgres:11.7
    - name: mooseagency/postgresql:12.3-1
      command:
        - something:thatIsNotAnImage
flow:
  services: [mysql:8.4, {name: 'redis:7', alias: cache}]
";
        assert_eq!(
            found(t),
            [
                ("other/image1:1.0.0", "services[0].name".to_string()),
                ("other/image2:1.0.0", "services[1].name".to_string()),
                ("mariadb:10.4.11", "job.services[0]".to_string()),
                ("postgres:11.7", "job.services[1]".to_string()),
                (
                    "mooseagency/postgresql:12.3-1",
                    "job.services[2].name".to_string()
                ),
                ("mysql:8.4", "flow.services[0]".to_string()),
                ("redis:7", "flow.services[1].name".to_string()),
            ]
        );
    }

    #[test]
    fn variables_are_dynamic() {
        let t = "\
a:
  image: $BUILD_IMAGE
b:
  image: \"${CI_REGISTRY}/group/app:${TAG}\"
c:
  services:
    - docker:${DOCKER_VERSION}-dind
d:
  image: $[[ inputs.image ]]
";
        let f = refs(t);
        assert_eq!(f.len(), 4);
        for r in f {
            assert_eq!(classify(Hint::Image, r).0, Status::Dynamic, "{r}");
        }
    }

    #[test]
    fn never_images() {
        let t = "\
include:
  - component: gitlab.com/components/sast/sast@1.0.0
  - project: group/templates
    file: image.yml
stages: [docker, build]
variables:
  IMAGE: alpine:3.20
  image: alpine:3.20
workflow:
  rules: [{if: $CI_COMMIT_BRANCH}]
cache: {key: image, paths: [x]}
.templates_sha: &sha ef5e4669b7500834a17ffe9277e15fbb6d977fff
job:
  tags: [docker]
  needs: [fedora/bootstrap]
  variables: {image: 'ubuntu:24.04'}
  parallel:
    matrix:
      - image: [ubuntu:22.04, ubuntu:24.04]
  script:
    - docker run --rm alpine:3.20 true
  artifacts: {name: 'image:1'}
ref:
  image: !reference [.base, image]
  services: !reference [.base, services]
reset:
  image: !reset null
empty:
  image: ''
  services:
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn hidden_jobs_extends_and_anchors_give_one_finding() {
        let t = "\
.docker: &docker
  image: docker:27.1-cli
  services:
    - docker:27.1-dind
build:
  <<: *docker
  script: make
lint:
  extends: .docker
.vars:
  img: &img alpine:3.20
test:
  image: *img
";
        assert_eq!(
            found(t),
            [
                ("docker:27.1-cli", ".docker.image".to_string()),
                ("docker:27.1-dind", ".docker.services[0]".to_string()),
                ("alpine:3.20", "test.image".to_string()),
            ]
        );
    }

    #[test]
    fn duplicate_merge_keys_and_colon_job_names() {
        let t = "\
.a: &a
  tags: [docker]
.b: &b
  before_script: [login]
sast:container:
  <<: *a
  image: docker:latest
  services:
    - docker:dind
  <<: *b
";
        assert_eq!(refs(t), ["docker:latest", "docker:dind"]);
    }

    #[test]
    fn macos_vm_images_are_not_container_images() {
        let t = "\
osx:
  image: macos-14-xcode-15
  tags: [saas-macos-medium-m1]
osx-mapping:
  image: {name: macos-15-xcode-16}
.mac:
  tags: [saas-macos-large-m2pro]
inherited:
  extends: [.mac]
  image: some-custom-vm
linux:
  image: macos-tools:1
  tags: [saas-linux-small-amd64]
";
        assert_eq!(refs(t), ["macos-tools:1"]);
        let default_tags =
            "default:\n  tags: [saas-macos-medium-m1]\n  image: custom\njob:\n  script: x\n";
        assert!(refs(default_tags).is_empty());
        assert!(is_macos_vm_image("macos-13-xcode-14.3"));
        assert!(!is_macos_vm_image("macos-14"));
        assert!(!is_macos_vm_image("macos-x-xcode-15"));
    }

    #[test]
    fn multi_document_files_with_a_spec_header() {
        let t = "\
spec:
  inputs:
    image: {default: 'alpine:3.20'}
---
job:
  image: $[[ inputs.image ]]
other:
  image: busybox:1.36
";
        assert_eq!(refs(t), ["$[[ inputs.image ]]", "busybox:1.36"]);
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("job:\n  image: [\n").unwrap_err();
        assert!(e.line.is_some());
    }

    fn fixture(text: &str) -> Vec<crate::scan::test_helpers::Row> {
        crate::scan::test_helpers::fixture(crate::scan::gitlab_ci::KIND.id, ".gitlab-ci.yml", text)
    }

    use crate::scan::test_helpers::row;

    #[test]
    fn main_fixture() {
        let t = include_str!("../../tests/fixtures/gitlab-ci/.gitlab-ci.yml");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            fixture(t),
            [
                row(5, 8, "ruby:3.3", Status::Unpinned, "image"),
                row(8, 5, "postgres:16", Status::Unpinned, "services[0]"),
                row(9, 11, "redis:7", Status::Unpinned, "services[1].name"),
                row(
                    25,
                    12,
                    "registry.gitlab.com/group/ci-base:1.4",
                    Status::Unpinned,
                    "default.image.name"
                ),
                row(30, 10, "docker:27.1-cli", Status::Unpinned, ".docker.image"),
                row(
                    32,
                    7,
                    "docker:${DOCKER_VERSION}-dind",
                    Status::Dynamic,
                    ".docker.services[0]"
                ),
                row(44, 10, "$BUILD_IMAGE", Status::Dynamic, "lint.image"),
                row(
                    48,
                    18,
                    "python:3.12-slim",
                    Status::Unpinned,
                    "test:unit.image.name"
                ),
                row(
                    49,
                    14,
                    "mysql:8.4",
                    Status::Unpinned,
                    "test:unit.services[0]"
                ),
                row(
                    49,
                    33,
                    "mariadb:11",
                    Status::Unpinned,
                    "test:unit.services[1].name"
                ),
                row(
                    56,
                    10,
                    &format!("alpine:3.20@{d}"),
                    Status::Pinned,
                    "pinned.image"
                ),
            ]
        );
    }

    #[test]
    fn included_templates_fixture() {
        let t = include_str!("../../tests/fixtures/gitlab-ci/ci/templates.gitlab-ci.yml");
        assert_eq!(
            fixture(t),
            [
                row(
                    2,
                    10,
                    "node:22-alpine",
                    Status::Unpinned,
                    ".node-template.image"
                ),
                row(
                    14,
                    13,
                    "${CI_REGISTRY}/group/mock:1",
                    Status::Dynamic,
                    "node:test.services[0].name"
                ),
            ]
        );
    }

    #[test]
    fn dependency_proxy_prefixes_stand_for_docker_hub() {
        let t = include_str!("../../tests/fixtures/gitlab-ci/proxy/.gitlab-ci.yml");
        let pinned = "library/golang:1.23@sha256:5a0b1f8e7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f";
        assert_eq!(
            fixture(t),
            [
                row(1, 50, "node:20-alpine", Status::Unpinned, "image"),
                row(3, 58, "postgres:16", Status::Unpinned, "services[0].name"),
                row(5, 55, "bitnami/redis:7.2", Status::Unpinned, "services[1]"),
                row(8, 51, pinned, Status::Pinned, "build.image.name"),
                row(
                    11,
                    10,
                    "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/python:${PYTHON_VERSION}",
                    Status::Dynamic,
                    "test.image"
                ),
                row(
                    13,
                    10,
                    "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/ghcr.io/owner/tool:1",
                    Status::Dynamic,
                    "lint.image"
                ),
                row(
                    15,
                    10,
                    "${CI_DEPENDENCY_PROXY_SERVER}/group/dependency_proxy/containers/alpine:3",
                    Status::Dynamic,
                    "other.image"
                ),
            ]
        );
        // The reference resolves on Docker Hub.
        let r = crate::reference::Reference::parse("node:20-alpine").unwrap();
        assert_eq!(r.normalized(), "docker.io/library/node:20-alpine");
    }

    #[test]
    fn template_lines_are_masked() {
        let t = "{% if lint %}\nlint:\n  image: golangci/golangci-lint:v1.61\n{% endif %}\ntest:\n  image: {{ go_image }}\n";
        assert!(crate::scan::yaml::parse(t).is_err());
        assert_eq!(
            fixture(t),
            [
                row(3, 10, "golangci/golangci-lint:v1.61", Status::Unpinned, "lint.image"),
                row(6, 10, "{{ go_image }}", Status::Dynamic, "test.image"),
            ]
        );
    }

    #[test]
    fn crlf_fixture() {
        let t = include_str!("../../tests/fixtures/gitlab-ci/crlf/.gitlab-ci.yml");
        assert!(t.contains("\r\n"));
        assert_eq!(
            fixture(t),
            [
                row(1, 9, "debian:bookworm-slim", Status::Unpinned, "image"),
                row(
                    5,
                    13,
                    "postgres:15",
                    Status::Unpinned,
                    "test.services[0].name"
                ),
            ]
        );
    }
}
