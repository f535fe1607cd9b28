//! Scanner for GitHub Actions files. One scanner serves both shapes, told
//! apart by the document's top-level keys:
//!
//! - workflows (`.github/workflows/*.yml`, top-level `jobs`):
//!   `jobs.<id>.container` and `jobs.<id>.services.<id>`, each as a string
//!   or `{image: …}`, and `jobs.<id>.steps[*].uses: docker://…`;
//! - action metadata (`action.yml`, top-level `runs`): `runs.image:
//!   docker://…` (an image) or a path such as `Dockerfile` (a local build), and
//!   `runs.steps[*].uses: docker://…` of composite actions.
//!
//! Workflows kept elsewhere (workflow templates, collections of reusable
//! workflows, test data) are recognised by content ([`looks_like_workflow`]).
//!
//! `runs-on` labels, `run:` scripts, `env:`, `with:` inputs and matrix values
//! are never images. `${{ … }}` expressions are left to [`super::classify`],
//! which reports them as dynamic.

use std::path::Path;

use super::kind::{Kind, Syntax, is_yaml_name, is_yaml_named, lower_name, parents};
use super::yaml::{self, Node};
use super::yaml_image::{docker_url, has_docker_scheme, image_scalar};
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// GitHub Actions: workflows (`.github/workflows/*.y(a)ml`, and any YAML file
/// that reads as a workflow) and actions (`action.y(a)ml`).
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("github-actions"),
    names: is_actions_name,
    sniff: Some(looks_like_workflow),
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "jobs:\n  j:\n    container:",
        "jobs:\n  j:\n    container:\n      image:",
        "jobs:\n  j:\n    services:\n      s:\n        image:",
        "jobs:\n  j:\n    services:\n      s:",
        "jobs:\n  j:\n    steps:\n      - uses:",
        "jobs:\n  j:\n    steps:\n    - name: x\n      uses:",
        "runs:\n  using: docker\n  image:",
    ],
    relate: None,
};

fn is_actions_name(path: &Path) -> bool {
    let Some(lower) = lower_name(path) else {
        return false;
    };
    if is_yaml_named(&lower, "action") {
        return true;
    }
    let mut dirs = parents(path);
    is_yaml_name(&lower) && dirs.next() == Some("workflows") && dirs.next() == Some(".github")
}

/// Whether a YAML text is a GitHub Actions workflow, by a cheap line test (the
/// scanner does the real parse): a top-level `jobs:` block mapping job ids to
/// jobs, one of which has `runs-on:` or `uses:` (keys only workflows have), or
/// has `steps:` when the file also has a top-level `on:` (CircleCI and other
/// CI files have `jobs.<id>.steps` but no `on`). A `jobs:` list (Azure
/// Pipelines), a GitLab CI job that happens to be named `jobs`, and flow-style
/// `jobs: {…}` are not workflows here.
pub(crate) fn looks_like_workflow(text: &str) -> bool {
    // Only a line that starts with `jobs:` opens the block.
    if !super::kind::has_line_starting(text, "\njobs:") {
        return false;
    }
    let (mut on, mut steps) = (false, false);
    // Inside the `jobs:` block: the indentation of job ids, and that of the
    // current job's keys.
    let mut jobs: Option<(Option<usize>, Option<usize>)> = None;
    for line in text.lines() {
        // Outside `jobs:` only top-level lines matter (an indented line is
        // blank, a comment or skipped below): no trimming them.
        if jobs.is_none() && line.starts_with(' ') {
            continue;
        }
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if indent == 0 {
            let key = |k: &str| {
                body.strip_prefix(k)
                    .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
            };
            on |= ["on:", "\"on\":", "'on':"].iter().any(|k| body.starts_with(k));
            jobs = key("jobs:").then_some((None, None));
            continue;
        }
        let Some((job_indent, key_indent)) = &mut jobs else {
            continue;
        };
        match *job_indent {
            None if body.starts_with('-') => jobs = None,
            None => *job_indent = Some(indent),
            Some(j) if indent == j => *key_indent = None,
            Some(j) if indent < j => jobs = None,
            Some(_) => {
                let k = *key_indent.get_or_insert(indent);
                if indent == k {
                    if body.starts_with("runs-on:") || body.starts_with("uses:") {
                        return true;
                    }
                    steps |= body.starts_with("steps:");
                }
            }
        }
    }
    steps && on
}

/// Finds the image references in one file's text (BOM already stripped);
/// a file with template lines (a cookiecutter or Jinja workflow template) is
/// read with them masked ([`super::template`]).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    super::template::scan_masked(text, scan_yaml)
}

fn scan_yaml(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut found = Vec::new();
    for doc in yaml::parse(text)? {
        let root = doc.root();
        if let Some(jobs) = root.get("jobs") {
            workflow_jobs(jobs, &mut found);
        }
        if let Some(runs) = root.get("runs") {
            action_runs(runs, &mut found);
        }
    }
    Ok(found)
}

fn workflow_jobs(jobs: &Node, found: &mut Vec<Occurrence>) {
    for (id, job) in jobs.merged_entries() {
        let Some(id) = id.as_str() else { continue };
        if !job.is_mapping() {
            continue;
        }
        match job.get("container") {
            Some(c) if c.is_mapping() => {
                if let Some(image) = c.get("image") {
                    found.extend(image_scalar(
                        image,
                        Hint::Image,
                        format!("jobs.{id}.container.image"),
                    ));
                }
            }
            Some(c) => found.extend(image_scalar(c, Hint::Image, format!("jobs.{id}.container"))),
            None => {}
        }
        if let Some(services) = job.get("services") {
            for (name, service) in services.merged_entries() {
                let Some(name) = name.as_str() else { continue };
                // `postgres: "postgres:16"`: the schema allows a service to be
                // its image, like `container:`.
                let (image, context) = match service.get("image") {
                    Some(image) => (image, format!("jobs.{id}.services.{name}.image")),
                    None if service.as_scalar().is_some() => {
                        (service, format!("jobs.{id}.services.{name}"))
                    }
                    None => continue,
                };
                found.extend(image_scalar(image, Hint::Image, context));
            }
        }
        if let Some(steps) = job.get("steps") {
            docker_steps(steps, &format!("jobs.{id}.steps"), found);
        }
    }
}

fn action_runs(runs: &Node, found: &mut Vec<Occurrence>) {
    if let Some(image) = runs.get("image") {
        if image.as_str().is_some_and(has_docker_scheme) {
            found.extend(docker_url(image, "runs.image"));
        } else {
            // `Dockerfile`, `./docker/Dockerfile`: built from the action's own
            // Dockerfile, whose FROM lines the Dockerfile scanner reports.
            found.extend(image_scalar(image, Hint::LocalBuild, "runs.image"));
        }
    }
    if let Some(steps) = runs.get("steps") {
        docker_steps(steps, "runs.steps", found);
    }
}

/// `uses: docker://…` in a list of steps.
fn docker_steps(steps: &Node, context: &str, found: &mut Vec<Occurrence>) {
    for (i, step) in steps.items().enumerate() {
        if let Some(uses) = step.get("uses") {
            found.extend(docker_url(uses, &format!("{context}[{i}].uses")));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::finding::Status;
    use crate::scan::classify;

    /// (reference text, hint, context) for each occurrence, in file order.
    fn found(text: &str) -> Vec<(&str, Hint, String)> {
        let mut v = scan(text).unwrap();
        v.sort_by_key(|o| o.span.start);
        v.into_iter()
            .map(|o| (&text[o.span], o.hint, o.context))
            .collect()
    }

    #[test]
    fn container_string_and_mapping_forms() {
        let t = "\
jobs:
  a:
    runs-on: ubuntu-latest
    container: node:20-bookworm
  b:
    container:
      # a comment between the key and the image
      image: \"python:3.12\"
      options: --cpus 1
";
        assert_eq!(
            found(t),
            [
                ("node:20-bookworm", Hint::Image, "jobs.a.container".into()),
                ("python:3.12", Hint::Image, "jobs.b.container.image".into()),
            ]
        );
    }

    #[test]
    fn services_images() {
        let t = "\
jobs:
  test:
    services:
      postgres:
        image: postgres:16
        env: {POSTGRES_PASSWORD: x}
      redis: {image: 'redis:7', ports: ['6379:6379']}
      mysql:
        image: ${{ matrix.mysql }}
";
        let f = found(t);
        assert_eq!(
            f.iter().map(|x| x.0).collect::<Vec<_>>(),
            ["postgres:16", "redis:7", "${{ matrix.mysql }}"]
        );
        assert_eq!(f[1].2, "jobs.test.services.redis.image");
        assert_eq!(classify(f[2].1, f[2].0).0, Status::Dynamic);
    }

    #[test]
    fn docker_url_steps_span_after_the_scheme() {
        let t = "\
jobs:
  s:
    steps:
      - uses: actions/checkout@v4
      - uses: docker://alpine:3.20
      - name: quoted
        uses: 'docker://ghcr.io/o/tool:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
      - uses: docker://${{ inputs.image }}
      - uses: docker://
";
        let f = found(t);
        assert_eq!(
            f.iter().map(|x| x.0).collect::<Vec<_>>(),
            [
                "alpine:3.20",
                "ghcr.io/o/tool:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "${{ inputs.image }}"
            ]
        );
        assert_eq!(f[0].2, "jobs.s.steps[1].uses");
        assert_eq!(f[1].2, "jobs.s.steps[2].uses");
        assert_eq!(classify(f[1].1, f[1].0).0, Status::Pinned);
        assert_eq!(classify(f[2].1, f[2].0).0, Status::Dynamic);
    }

    #[test]
    fn expressions_are_dynamic() {
        let t = "jobs:\n  m:\n    container: ${{ matrix.container }}\n";
        let f = found(t);
        assert_eq!(f[0].0, "${{ matrix.container }}");
        assert_eq!(classify(f[0].1, f[0].0).0, Status::Dynamic);
    }

    #[test]
    fn never_images() {
        let t = "\
on:
  workflow_call:
    inputs:
      image: {type: string, default: 'alpine:3'}
env:
  IMAGE: moby/buildkit:latest
services:
  db: {image: 'not-here:1'}
jobs:
  image:
    runs-on: ubuntu-24.04-arm
    strategy:
      matrix:
        image: [ubuntu-24.04-arm, alpine:3]
        container: [fedora:40]
    env:
      CI_JOB_IMAGE: ubuntu:rolling
    steps:
      - run: docker run --rm busybox:1.36 true
      - uses: docker/setup-qemu-action@v3
        with:
          image: tonistiigi/binfmt:latest
  reusable:
    uses: ./.github/workflows/test.yml
    with:
      image: alpine:3
  nulls:
    container:
    services:
      s: {image: ''}
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn anchors_give_one_occurrence_at_the_anchor() {
        let t = "\
jobs:
  a:
    services:
      db: &db
        image: postgres:16
  b:
    services:
      db: *db
  c:
    container: &c ubuntu:24.04
  d:
    container: *c
";
        assert_eq!(scan_text_sorted(t), ["postgres:16", "ubuntu:24.04"]);
    }

    fn scan_text_sorted(text: &str) -> Vec<&str> {
        crate::scan::scan_text(crate::scan::github_actions::KIND.id, text)
            .unwrap()
            .into_iter()
            .map(|o| &text[o.span])
            .collect()
    }

    #[test]
    fn action_metadata() {
        let docker = "runs:\n  using: docker\n  image: 'docker://node:16-buster-slim'\n";
        assert_eq!(
            found(docker),
            [("node:16-buster-slim", Hint::Image, "runs.image".into())]
        );
        let built = "runs:\n  using: docker\n  image: Dockerfile\n";
        assert_eq!(
            found(built),
            [("Dockerfile", Hint::LocalBuild, "runs.image".into())]
        );
        let composite = "\
runs:
  using: composite
  steps:
    - run: echo hi
      shell: bash
    - uses: docker://koalaman/shellcheck:v0.10.0
";
        assert_eq!(
            found(composite),
            [(
                "koalaman/shellcheck:v0.10.0",
                Hint::Image,
                "runs.steps[1].uses".into()
            )]
        );
        assert!(found("runs:\n  using: node20\n  main: index.js\n").is_empty());
        assert!(found("runs:\n  using: docker\n  image: docker://\n").is_empty());
        let upper = "runs:\n  image: DOCKER://alpine:3\n";
        assert_eq!(found(upper)[0].0, "alpine:3");
    }

    #[test]
    fn escaped_values_fail_as_invalid_never_silently() {
        let t = "jobs:\n  a:\n    container: \"alpine\\x3a3\"\n";
        let f = found(t);
        assert_eq!(f[0].0, "alpine\\x3a3");
        assert_eq!(classify(f[0].1, f[0].0).0, Status::Invalid);
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("jobs:\n  a: [\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn workflows_are_recognised_by_content() {
        let yes = [
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n",
            "on:\n  workflow_call:\njobs:\n  call:\n    uses: org/repo/.github/workflows/ci.yml@v1\n",
            "# header\n\"on\": [push]\njobs:\n\n  # comment\n  test:\n    name: Test\n    steps:\n      - run: make\n",
            "jobs:\n  a:\n    name: x\n  b:\n    runs-on: ${{ matrix.os }}\n",
            "jobs:\r\n  a:\r\n    runs-on: ubuntu-latest\r\n",
        ];
        for t in yes {
            assert!(looks_like_workflow(t), "{t:?}");
            assert_eq!(crate::scan::kind_sniffed(t), Some(KIND.id), "{t:?}");
        }
        let no = [
            // CircleCI: jobs with steps but no `on:`.
            "version: 2.1\njobs:\n  build:\n    docker:\n      - image: cimg/go:1.23\n    steps: [checkout]\n",
            // GitLab CI with a job named `jobs`.
            "stages: [test]\njobs:\n  stage: test\n  script: [make]\n  image: alpine:3\n",
            // Azure Pipelines: a list of jobs.
            "on: x\njobs:\n- job: build\n  steps:\n  - script: make\n",
            // The keys, but not directly under a job.
            "on: push\njobs:\n  a:\n    with:\n      runs-on: x\n      steps: y\n",
            "on: push\nother:\n  a:\n    runs-on: ubuntu-latest\n",
            "jobs: {a: {runs-on: x}}\n",
            "jobs:\nruns-on: x\n",
            "services:\n  web:\n    image: nginx:1.27\n",
            "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: []\n",
            "kind: pipeline\nsteps:\n- name: a\n  image: golang:1.23\n",
            "",
        ];
        for t in no {
            assert!(!looks_like_workflow(t), "{t:?}");
        }
        assert_eq!(
            crate::scan::kind_sniffed(no[8]).map(|k| k.as_str()),
            Some("kubernetes")
        );
    }

    #[test]
    fn workflow_template_fixture() {
        let t = include_str!("../../tests/fixtures/github-actions/workflow-templates/ci.yml");
        assert_eq!(crate::scan::kind_sniffed(t), Some(KIND.id));
        assert_eq!(
            fixture(t),
            [
                row(
                    12,
                    16,
                    "node:22-bookworm",
                    Status::Unpinned,
                    "jobs.test.container"
                ),
                row(
                    16,
                    16,
                    "postgres:16",
                    Status::Unpinned,
                    "jobs.test.services.db.image"
                ),
            ]
        );
    }

    fn fixture(text: &str) -> Vec<crate::scan::test_helpers::Row> {
        crate::scan::test_helpers::fixture(crate::scan::github_actions::KIND.id, "f.yml", text)
    }

    use crate::scan::test_helpers::row;

    #[test]
    fn workflow_fixture() {
        let t = include_str!("../../tests/fixtures/github-actions/.github/workflows/ci.yml");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            fixture(t),
            [
                row(
                    17,
                    16,
                    "node:20-bookworm",
                    Status::Unpinned,
                    "jobs.build.container"
                ),
                row(
                    20,
                    24,
                    "alpine:3.20",
                    Status::Unpinned,
                    "jobs.build.steps[1].uses"
                ),
                row(
                    24,
                    25,
                    "ghcr.io/owner/tool:1.2",
                    Status::Unpinned,
                    "jobs.build.steps[2].uses"
                ),
                row(
                    36,
                    15,
                    "python:3.12-slim",
                    Status::Unpinned,
                    "jobs.test.container.image"
                ),
                row(
                    40,
                    16,
                    &format!("postgres:16@{d}"),
                    Status::Pinned,
                    "jobs.test.services.postgres.image"
                ),
                row(
                    43,
                    24,
                    "redis:7",
                    Status::Unpinned,
                    "jobs.test.services.redis.image"
                ),
                row(
                    52,
                    14,
                    "${{ matrix.container }}",
                    Status::Dynamic,
                    "jobs.again.container.image"
                ),
                row(
                    54,
                    24,
                    "${{ inputs.tool }}",
                    Status::Dynamic,
                    "jobs.again.steps[0].uses"
                ),
            ]
        );
    }

    #[test]
    fn services_written_as_strings() {
        let t = include_str!(
            "../../tests/fixtures/github-actions/.github/workflows/services-strings.yml"
        );
        assert_eq!(
            fixture(t),
            [
                row(6, 17, "node:20-bookworm", Status::Unpinned, "jobs.test.container"),
                row(
                    8,
                    18,
                    "postgres:10",
                    Status::Unpinned,
                    "jobs.test.services.postgres"
                ),
                row(
                    9,
                    14,
                    "redis:7-alpine",
                    Status::Unpinned,
                    "jobs.test.services.redis"
                ),
                row(
                    10,
                    14,
                    "${{ matrix.cache }}",
                    Status::Dynamic,
                    "jobs.test.services.cache"
                ),
                row(
                    12,
                    16,
                    "mysql:8.4",
                    Status::Unpinned,
                    "jobs.test.services.mysql.image"
                ),
            ]
        );
    }

    #[test]
    fn template_lines_are_masked() {
        let t = "jobs:\n  test:\n{% if cookiecutter.db == \"y\" %}\n    services:\n      db: postgres:16\n{% endif %}\n    container: {{ cookiecutter.image }}\n";
        assert!(yaml::parse(t).is_err());
        assert_eq!(
            fixture(t),
            [
                row(5, 11, "postgres:16", Status::Unpinned, "jobs.test.services.db"),
                row(
                    7,
                    16,
                    "{{ cookiecutter.image }}",
                    Status::Dynamic,
                    "jobs.test.container"
                ),
            ]
        );
    }

    #[test]
    fn crlf_workflow_fixture() {
        let t = include_str!("../../tests/fixtures/github-actions/.github/workflows/crlf.yaml");
        assert!(t.contains("\r\n"));
        assert_eq!(
            fixture(t),
            [
                row(
                    7,
                    14,
                    "golang:1.23",
                    Status::Unpinned,
                    "jobs.lint.container.image"
                ),
                row(
                    10,
                    17,
                    "memcached:1.6",
                    Status::Unpinned,
                    "jobs.lint.services.cache.image"
                ),
                row(
                    12,
                    24,
                    "hadolint/hadolint:v2.12.0",
                    Status::Unpinned,
                    "jobs.lint.steps[0].uses"
                ),
            ]
        );
    }

    #[test]
    fn action_fixtures() {
        let url = include_str!("../../tests/fixtures/github-actions/docker-url/action.yml");
        assert_eq!(
            fixture(url),
            [row(
                9,
                20,
                "ghcr.io/owner/greeter:2",
                Status::Unpinned,
                "runs.image"
            )]
        );
        let built = include_str!("../../tests/fixtures/github-actions/dockerfile/action.yml");
        assert_eq!(
            fixture(built),
            [row(5, 10, "Dockerfile", Status::LocalBuild, "runs.image")]
        );
        let composite = include_str!("../../tests/fixtures/github-actions/composite/action.yaml");
        assert_eq!(
            fixture(composite),
            [row(
                6,
                22,
                "koalaman/shellcheck:v0.10.0",
                Status::Unpinned,
                "runs.steps[0].uses"
            )]
        );
    }
}
