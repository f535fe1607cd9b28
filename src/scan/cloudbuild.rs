//! Scanner for Google Cloud Build configurations (`cloudbuild.yaml` and
//! variants: `cloudbuild-pr.yaml`, `cloudbuild.prod.yml`,
//! `release.cloudbuild.yaml`, `deploy-cloudbuild.yml`).
//!
//! In Cloud Build the image a step runs is its **`name`**: `steps[].name` is
//! the only image. `images:` and `artifacts` list what the build pushes
//! (outputs, never pinned), and `args`, `entrypoint`, `substitutions`,
//! `options` and `availableSecrets` are never images. Substitutions
//! (`$PROJECT_ID`, `${_IMAGE}`) are left to [`super::classify`], which reports
//! them as dynamic. JSON configurations (`cloudbuild.json`) are not read.

use super::kind::{Kind, Syntax, is_yaml_name, lower_name};
use super::yaml;
use super::yaml_image::image_scalar;
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// Google Cloud Build: see [`is_cloudbuild_name`].
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("cloudbuild"),
    names: |path| lower_name(path).is_some_and(|n| is_cloudbuild_name(&n)),
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "steps:\n- name:",
        "steps:\n  - id: build\n    name:",
        "steps:\n- name: x\n  args: ['build', '-t',",
        "images:\n- ",
        "artifacts:\n  objects:\n    location:",
        "substitutions:\n  _IMAGE:",
    ],
    relate: None,
};

/// A (lower-cased) YAML file name whose stem is `cloudbuild`, starts with
/// `cloudbuild` followed by `-`, `_` or `.`, or ends with `.cloudbuild`,
/// `-cloudbuild` or `_cloudbuild`.
fn is_cloudbuild_name(lower: &str) -> bool {
    if !is_yaml_name(lower) {
        return false;
    }
    let stem = lower
        .strip_suffix(".yaml")
        .or_else(|| lower.strip_suffix(".yml"))
        .unwrap_or(lower);
    let sep = |c: Option<char>| matches!(c, Some('-' | '_' | '.'));
    match (stem.strip_prefix("cloudbuild"), stem.strip_suffix("cloudbuild")) {
        (Some(""), _) => true,
        (Some(rest), _) if sep(rest.chars().next()) => true,
        (_, Some(head)) => sep(head.chars().last()),
        _ => false,
    }
}

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut found = Vec::new();
    for doc in yaml::parse(text)? {
        let Some(steps) = doc.get("steps") else {
            continue;
        };
        for (i, step) in steps.items().enumerate() {
            if let Some(name) = step.get("name") {
                found.extend(image_scalar(name, Hint::Image, format!("steps[{i}].name")));
            }
        }
    }
    Ok(found)
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
        test_helpers::fixture(KIND.id, "cloudbuild.yaml", text)
    }

    #[test]
    fn names() {
        let k = |p: &str| (KIND.names)(std::path::Path::new(p));
        for yes in [
            "cloudbuild.yaml",
            "cloudbuild.yml",
            "ci/cloudbuild-pr.yaml",
            "cloudbuild_test.yml",
            "cloudbuild.prod.yaml",
            "release.cloudbuild.yaml",
            "deploy-cloudbuild.yml",
            "CloudBuild.YAML",
        ] {
            assert!(k(yes), "{yes}");
        }
        for no in [
            "cloudbuild.json",
            "cloudbuilder.yaml",
            "mycloudbuild.yaml",
            "cloudbuild",
            "build.yaml",
        ] {
            assert!(!k(no), "{no}");
        }
    }

    #[test]
    fn step_names_are_the_images() {
        let t = "\
steps:
- name: gcr.io/cloud-builders/docker
  args: ['build', '-t', 'gcr.io/$PROJECT_ID/app:$SHORT_SHA', '.']
- id: test
  name: 'python:3.12'
  entrypoint: bash
- name: gcr.io/$PROJECT_ID/builder:${_TAG}
";
        assert_eq!(
            found(t),
            [
                ("gcr.io/cloud-builders/docker", "steps[0].name".into()),
                ("python:3.12", "steps[1].name".into()),
                ("gcr.io/$PROJECT_ID/builder:${_TAG}", "steps[2].name".into()),
            ]
        );
    }

    #[test]
    fn outputs_and_settings_are_never_images() {
        let t = "\
substitutions:
  _IMAGE: gcr.io/project/app:1
images:
- gcr.io/$PROJECT_ID/app:$SHORT_SHA
- 'gcr.io/project/app:latest'
artifacts:
  objects:
    location: gs://bucket/
    paths: ['app.tar']
  mavenArtifacts:
  - repository: https://example.com
    artifactId: app
options:
  machineType: E2_HIGHCPU_8
  pool: {name: projects/p/locations/l/workerPools/w}
availableSecrets:
  secretManager:
  - versionName: projects/p/secrets/s/versions/latest
    env: TOKEN
serviceAccount: projects/p/serviceAccounts/sa
steps:
- id: no-name
  args: [echo]
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("steps:\n- name: [\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn main_fixture() {
        let t = include_str!("../../tests/fixtures/cloudbuild/cloudbuild.yaml");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            fixture(t),
            [
                row(
                    6,
                    9,
                    "gcr.io/cloud-builders/docker",
                    Status::Unpinned,
                    "steps[0].name"
                ),
                row(10, 10, "node:22", Status::Unpinned, "steps[1].name"),
                row(
                    15,
                    10,
                    &format!("gcr.io/google.com/cloudsdktool/cloud-sdk:489.0.0-slim@{d}"),
                    Status::Pinned,
                    "steps[2].name"
                ),
                row(
                    21,
                    9,
                    "${_REGION}-docker.pkg.dev/$PROJECT_ID/tools/deployer:${_TAG}",
                    Status::Dynamic,
                    "steps[3].name"
                ),
            ]
        );
    }

    #[test]
    fn crlf_variant_fixture() {
        let t = include_str!("../../tests/fixtures/cloudbuild/ci/release.cloudbuild.yml");
        assert!(t.contains("\r\n"));
        assert_eq!(
            fixture(t),
            [row(
                3,
                11,
                "gcr.io/k8s-skaffold/skaffold:v2.16.1",
                Status::Unpinned,
                "steps[0].name"
            )]
        );
    }
}
