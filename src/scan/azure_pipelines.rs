//! Scanner for Azure Pipelines (`azure-pipelines.yml`, and the YAML files of
//! an `azure-pipelines/`, `.azure-pipelines/`, `.pipelines/` or `.ado/`
//! directory: pipelines and their templates).
//!
//! Images: `resources.containers[].image`, and the `container` of the
//! pipeline (a one-job pipeline), of each job and deployment job under
//! `jobs` or `stages[].jobs`, and each value of their `services` map. A
//! `container` or service is a mapping (`{image: …, endpoint: …}`: its
//! `image`), or a string that is either the alias of a container resource
//! (`container: build`, never an image) or an image (`container: node:20`).
//! Aliases are the `resources.containers[].container` names of the same
//! file; in a template or in a pipeline that `extends` one, the aliases are
//! written elsewhere, so there a bare name (`container: build`, no tag,
//! registry or digest) is taken for an alias and not reported.
//!
//! Never images: aliases, a step's `target` (an alias or `host`),
//! `pool.vmImage` (a VM image), `strategy.matrix` values and `variables`,
//! `template:` references, and script text. Template expressions
//! (`${{ parameters.image }}`), macros (`$(image)`) and runtime expressions
//! (`$[ variables.image ]`) are left to [`super::classify`], which reports
//! them as dynamic, except a whole `${{ parameters.name }}` whose string
//! parameter has a plain reference as its `default` (and no `values` list):
//! that default is the image, reported (and pinned) where it is written.
//! Jobs and keys inserted by `${{ if … }}:` and
//! `${{ each … }}:` are read like the others.

use std::collections::{HashMap, HashSet};

use super::kind::{Kind, Syntax, is_yaml_name, lower_name, parents};
use super::yaml::{self, Node};
use super::yaml_image::image_scalar;
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;
use crate::reference::Reference;

/// Directories whose YAML files are Azure Pipelines pipelines or templates:
/// the documented `azure-pipelines/`, its hidden form, Microsoft's OneBranch
/// `.pipelines/` and `.ado/` (Azure DevOps).
const DIRS: &[&str] = &["azure-pipelines", ".azure-pipelines", ".pipelines", ".ado"];

/// Top-level keys only a pipeline (never a template) has: when one is
/// present, the file declares every container resource it uses.
const PIPELINE_ONLY: &[&str] = &[
    "resources",
    "trigger",
    "pr",
    "schedules",
    "pool",
    "name",
    "lockBehavior",
    "appendCommitMessageToRunName",
];

/// Azure Pipelines: `azure-pipelines*.y(a)ml` and the YAML files under the
/// [`DIRS`]; other YAML files when they show [`looks_like_azure`].
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("azure-pipelines"),
    names: is_azure_name,
    sniff: Some(looks_like_azure),
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "resources:\n  containers:\n  - container: a\n    image:",
        "container:",
        "container:\n  image:",
        "services:\n  db:",
        "jobs:\n- job: a\n  container:",
        "jobs:\n- deployment: a\n  container:\n    image:",
        "jobs:\n- job: a\n  services:\n    db:",
        "stages:\n- stage: a\n  jobs:\n  - job: b\n    container:",
        "jobs:\n- ${{ if true }}:\n  - job: a\n    container:",
        "jobs:\n- job: a\n  ${{ if true }}:\n    container:",
        "steps:\n- script: x\n  target:",
        "pool:\n  vmImage:",
        "extends:\n  template: x.yml",
    ],
    relate: None,
};

/// `azure-pipelines.yml`, `azure-pipelines-pr.yaml`, `azure-pipelines.ci.yml`
/// anywhere, and any YAML file under one of the [`DIRS`].
fn is_azure_name(path: &std::path::Path) -> bool {
    let Some(name) = lower_name(path) else {
        return false;
    };
    if !is_yaml_name(&name) {
        return false;
    }
    let named = name
        .strip_prefix("azure-pipelines")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| matches!(c, '.' | '-' | '_'));
    named
        || parents(path).any(|d| {
            let d = d.to_ascii_lowercase();
            DIRS.contains(&d.as_str())
        })
}

/// For a YAML file no name rule claims: a top-level `jobs:` list with a
/// `- job:` or `- deployment:` item, a top-level `stages:` list with a
/// `- stage:` item, or a `resources:` block with a `- container:` item
/// under `containers:`. No other kind writes these (GitHub Actions' `jobs`
/// is a map, GitLab's `stages` a list of names).
pub(crate) fn looks_like_azure(text: &str) -> bool {
    let mut top = "";
    let mut containers = false;
    for line in text.lines() {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if indent == 0 && !body.starts_with('-') {
            top = body.split(':').next().unwrap_or("").trim_end();
            containers = false;
            continue;
        }
        let item = |k: &str| {
            body.strip_prefix('-')
                .map(str::trim_start)
                .is_some_and(|rest| rest.starts_with(k))
        };
        match top {
            "jobs" if item("job:") || item("deployment:") => return true,
            "stages" if item("stage:") => return true,
            "resources" => {
                if body.starts_with("containers:") {
                    containers = true;
                } else if containers && item("container:") {
                    return true;
                } else if indent <= 2 && !body.starts_with('-') {
                    containers = false;
                }
            }
            _ => {}
        }
    }
    false
}

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut found = Vec::new();
    for doc in yaml::parse(text)? {
        let root = doc.root();
        if !root.is_mapping() {
            continue;
        }
        let mut walker = Walker {
            aliases: HashSet::new(),
            aliases_known: PIPELINE_ONLY.iter().any(|k| root.get(k).is_some())
                && root.get("extends").is_none(),
            defaults: parameter_defaults(root),
            visited: HashSet::new(),
            found: Vec::new(),
        };
        if let Some(containers) = root.get("resources").and_then(|r| r.get("containers")) {
            for (context, resource) in walker.items(containers, "resources.containers") {
                if let Some(alias) = resource.get("container").and_then(Node::as_str) {
                    walker.aliases.insert(alias.to_string());
                }
                if let Some(image) = resource.get("image") {
                    let context = format!("{context}.image");
                    walker
                        .found
                        .extend(image_scalar(image, Hint::Image, context));
                }
            }
        }
        // A one-job pipeline writes the job's keys at the top.
        walker.job(root, "");
        if let Some(jobs) = root.get("jobs") {
            walker.jobs(jobs, "jobs");
        }
        if let Some(stages) = root.get("stages") {
            for (context, stage) in walker.items(stages, "stages") {
                for (_, jobs) in expanded(stage, "jobs") {
                    walker.jobs(jobs, &format!("{context}.jobs"));
                }
            }
        }
        found.append(&mut walker.found);
    }
    Ok(found)
}

struct Walker {
    /// The `resources.containers[].container` names of this document.
    aliases: HashSet<String>,
    /// Whether this document is a pipeline that declares its own resources
    /// (not a template, nor a pipeline that `extends` one).
    aliases_known: bool,
    /// The usable defaults of this document's string parameters, by name:
    /// the default's text and its occurrence (see [`parameter_defaults`]).
    defaults: HashMap<String, (String, Occurrence)>,
    /// Lists already walked (aliases share nodes: each is walked once).
    visited: HashSet<usize>,
    found: Vec<Occurrence>,
}

impl Walker {
    /// The items of a list, with those that `${{ if }}:` / `${{ each }}:`
    /// insert (a one-key mapping holding a list or an item). Each list is
    /// walked once.
    fn items<'n>(&mut self, list: &'n Node<'n>, context: &str) -> Vec<(String, &'n Node<'n>)> {
        let mut out = Vec::new();
        if !list.is_sequence() || !self.visited.insert(list.id()) {
            return out;
        }
        for (i, item) in list.items().enumerate() {
            let context = format!("{context}[{i}]");
            // `- ${{ if … }}:` items: one-key mappings whose keys are all
            // expressions (a job with an inserted key is still a job).
            let all_expressions = item.is_mapping()
                && item.entries().next().is_some()
                && item
                    .entries()
                    .all(|(k, _)| k.as_str().is_some_and(is_expression));
            if !all_expressions {
                out.push((context, item));
                continue;
            }
            for (_, value) in item.entries() {
                if value.is_sequence() {
                    out.extend(self.items(value, &context));
                } else if value.is_mapping() {
                    out.push((context.clone(), value));
                }
            }
        }
        out
    }

    /// The jobs of a `jobs:` list.
    fn jobs(&mut self, jobs: &Node, context: &str) {
        for (context, job) in self.items(jobs, context) {
            self.job(job, &format!("{context}."));
        }
    }

    /// One job (or the pipeline, for a one-job pipeline): its `container`
    /// and `services`. `prefix` ends with a dot unless empty.
    fn job(&mut self, job: &Node, prefix: &str) {
        if job.get("template").is_some() {
            return;
        }
        for (inserted, container) in expanded(job, "container") {
            self.container(container, format!("{prefix}{inserted}container"));
        }
        for (inserted, services) in expanded(job, "services") {
            for (name, service) in services.merged_entries() {
                let Some(name) = name.as_str() else { continue };
                if is_expression(name) {
                    continue;
                }
                self.container(service, format!("{prefix}{inserted}services.{name}"));
            }
        }
    }

    /// A `container` or service value: `{image: …}`, an alias, or an image.
    fn container(&mut self, node: &Node, context: String) {
        if node.is_mapping() {
            if let Some(image) = node.get("image") {
                self.image(image, format!("{context}.image"), false);
            }
            return;
        }
        self.image(node, context, true);
    }

    /// An image, or (`may_be_alias`) a container resource's alias. A whole
    /// `${{ parameters.name }}` with a usable default is that default,
    /// reported where the default is written.
    fn image(&mut self, node: &Node, context: String, may_be_alias: bool) {
        let Some(value) = node.as_str() else { return };
        let is_alias = |value: &str| {
            may_be_alias
                && (self.aliases.contains(value) || (!self.aliases_known && maybe_alias(value)))
        };
        if is_alias(value) {
            return;
        }
        if let Some((default, occurrence)) = parameter(value).and_then(|p| self.defaults.get(p)) {
            if !is_alias(default) {
                self.found.push(occurrence.clone());
            }
            return;
        }
        self.found.extend(image_scalar(node, Hint::Image, context));
    }
}

/// The parameters (`parameters:` a list of `{name, type, default}`, or the
/// older map of names to defaults) whose default can stand for an image
/// wherever `${{ parameters.name }}` is a whole `container` or `image`: a
/// `string` parameter (or one without a type) whose default is a plain
/// reference. A parameter with `values:` is left out: the default is one of
/// the allowed values, so pinning it alone would make it invalid.
fn parameter_defaults(root: &Node) -> HashMap<String, (String, Occurrence)> {
    let mut out = HashMap::new();
    let Some(parameters) = root.get("parameters") else {
        return out;
    };
    let mut add = |name: &str, default: &Node| {
        let Some(value) = default.as_str() else { return };
        if value.contains(['$', '{', '}']) || Reference::parse(value).is_err() {
            return;
        }
        let context = format!("parameters.{name}.default");
        if let Some(occurrence) = image_scalar(default, Hint::Image, context) {
            out.insert(name.to_string(), (value.to_string(), occurrence));
        }
    };
    if parameters.is_sequence() {
        for parameter in parameters.items() {
            let (Some(name), Some(default)) = (
                parameter.get("name").and_then(Node::as_str),
                parameter.get("default"),
            ) else {
                continue;
            };
            let string = parameter
                .get("type")
                .and_then(Node::as_str)
                .is_none_or(|t| t.eq_ignore_ascii_case("string"));
            if string && parameter.get("values").is_none() {
                add(name, default);
            }
        }
    } else {
        for (name, default) in parameters.merged_entries() {
            if let Some(name) = name.as_str() {
                add(name, default);
            }
        }
    }
    out
}

/// The name in a whole `${{ parameters.name }}` (or `parameters['name']`).
fn parameter(value: &str) -> Option<&str> {
    let inner = value
        .trim()
        .strip_prefix("${{")?
        .strip_suffix("}}")?
        .trim()
        .strip_prefix("parameters")?;
    let name = match inner.strip_prefix('.') {
        Some(name) => name,
        None => inner
            .strip_prefix("['")
            .and_then(|n| n.strip_suffix("']"))
            .or_else(|| inner.strip_prefix("[\"").and_then(|n| n.strip_suffix("\"]")))?,
    };
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    plain.then_some(name)
}

/// The values of `key` in a mapping: the entry itself, and the entries of
/// `${{ if … }}:` blocks (at any depth), each with the blocks' keys as a
/// context prefix (`${{ if x }}.`).
fn expanded<'n>(node: &'n Node<'n>, key: &str) -> Vec<(String, &'n Node<'n>)> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, &Node, usize)> = vec![(String::new(), node, 0)];
    let mut seen = HashSet::new();
    while let Some((prefix, node, depth)) = stack.pop() {
        if !seen.insert(node.id()) || depth > 8 {
            continue;
        }
        if let Some(value) = node.get(key) {
            out.push((prefix.clone(), value));
        }
        for (k, v) in node.entries() {
            if let Some(k) = k.as_str().filter(|k| is_expression(k)) {
                if v.is_mapping() {
                    stack.push((format!("{prefix}{k}."), v, depth + 1));
                }
            }
        }
    }
    out
}

/// A template expression used as a key (`${{ if … }}`, `${{ each … }}`).
fn is_expression(key: &str) -> bool {
    key.trim_start().starts_with("${{")
}

/// Whether a `container` string could be an alias defined elsewhere: a bare
/// name, with no tag, digest, registry or path, and no expression.
fn maybe_alias(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
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

    fn fixture(path: &str, text: &str) -> Vec<test_helpers::Row> {
        test_helpers::fixture(KIND.id, path, text)
    }

    #[test]
    fn names() {
        let k = |p: &str| (KIND.names)(std::path::Path::new(p));
        assert!(k("azure-pipelines.yml"));
        assert!(k("sub/Azure-Pipelines.yaml"));
        assert!(k("azure-pipelines-pr.yml"));
        assert!(k("build/azure-pipelines.release.yml"));
        assert!(k("azure-pipelines/ci.yml"));
        assert!(k("build/azure-pipelines/templates/jobs/test.yaml"));
        assert!(k(".azure-pipelines/templates/steps.yml"));
        assert!(k(".pipelines/OneBranch.Official.yml"));
        assert!(k(".ado/publish.yml"));
        assert!(!k("azure-pipelines.json"));
        assert!(!k("azure-pipelinesx.yml"));
        assert!(!k("pipelines/ci.yml"));
        assert!(!k("azure-pipelines/README.md"));
        assert!(!k("azure.yml"));
    }

    #[test]
    fn the_example_of_the_issue() {
        let t = "\
resources:
  containers:
  - container: build        # an alias, not an image
    image: ubuntu:22.04
    endpoint: my-acr
container: node:20
jobs:
- job: test
  container: python:3.12
  services:
    db: build
- job: other
  container:
    image: mcr.microsoft.com/dotnet/sdk:8.0
    options: --privileged
- job: t
  steps:
  - script: echo
    target: build
";
        assert_eq!(
            found(t),
            [
                ("ubuntu:22.04", "resources.containers[0].image".into()),
                ("node:20", "container".into()),
                ("python:3.12", "jobs[0].container".into()),
                (
                    "mcr.microsoft.com/dotnet/sdk:8.0",
                    "jobs[1].container.image".into()
                ),
            ]
        );
    }

    #[test]
    fn aliases_are_never_images() {
        // A pipeline: its aliases are all here, so `ubuntu` (no tag) is an
        // image and `build` an alias, wherever they are used.
        let t = "\
trigger: [main]
resources:
  containers:
  - container: build
    image: 'golang:1.23'
  - container: redis_svc
    image: redis
stages:
- stage: s
  jobs:
  - job: a
    container: build
    services:
      cache: redis_svc
      other: ubuntu
  - deployment: d
    container: ubuntu
    environment: prod
";
        assert_eq!(
            found(t),
            [
                ("golang:1.23", "resources.containers[0].image".into()),
                ("redis", "resources.containers[1].image".into()),
                ("ubuntu", "stages[0].jobs[0].services.other".into()),
                ("ubuntu", "stages[0].jobs[1].container".into()),
            ]
        );
    }

    #[test]
    fn templates_take_bare_names_for_aliases() {
        // A job template: its aliases live in the pipeline that includes it.
        let t = "\
parameters:
- name: image
  default: node:20
jobs:
- job: a
  container: build
- job: b
  container: my-container
- job: c
  container: node:22
- job: d
  container: ghcr.io/acme/ci
";
        assert_eq!(
            found(t),
            [
                ("node:22", "jobs[2].container".into()),
                ("ghcr.io/acme/ci", "jobs[3].container".into()),
            ]
        );
        // A pipeline that extends a template may take its resources from it.
        let t = "trigger: none\nextends:\n  template: t.yml\ncontainer: build\n";
        assert!(found(t).is_empty());
    }

    #[test]
    fn expressions_are_dynamic_and_inserted_blocks_are_read() {
        let t = "\
pool: {vmImage: ubuntu-22.04}
jobs:
- job: m
  strategy:
    matrix:
      py312:
        image: python:3.12
      py313:
        containerImage: python:3.13
  container: $[ variables['containerImage'] ]
- job: p
  container: ${{ parameters.image }}
- job: v
  container:
    image: $(buildImage)
- ${{ if eq(parameters.linux, true) }}:
  - job: l
    container: debian:12
- ${{ each v in parameters.versions }}:
  - job: e
    container: node:${{ v }}
- job: i
  ${{ if parameters.useContainer }}:
    container: alpine:3.20
- template: jobs/test.yml
  parameters:
    container: busybox:1.36
";
        let f = test_helpers::found(KIND.id, t);
        let got: Vec<(&str, Hint, &str)> =
            f.iter().map(|(r, h, c)| (*r, *h, c.as_str())).collect();
        assert_eq!(
            got,
            [
                ("$[ variables['containerImage'] ]", Hint::Image, "jobs[0].container"),
                ("${{ parameters.image }}", Hint::Image, "jobs[1].container"),
                ("$(buildImage)", Hint::Image, "jobs[2].container.image"),
                ("debian:12", Hint::Image, "jobs[3][0].container"),
                ("node:${{ v }}", Hint::Image, "jobs[4][0].container"),
                (
                    "alpine:3.20",
                    Hint::Image,
                    "jobs[5].${{ if parameters.useContainer }}.container"
                ),
            ]
        );
        for (r, _, _) in &got[..3] {
            assert_eq!(crate::scan::classify(Hint::Image, r).0, Status::Dynamic);
        }
    }

    #[test]
    fn parameter_defaults_stand_for_the_image() {
        let t = "\
parameters:
- name: image
  type: string
  default: 'node:20'
- name: choice
  default: ubuntu:22.04
  values: [ubuntu:22.04, ubuntu:24.04]
- name: config
  type: object
  default: {image: debian:12}
- name: alias
  default: build
- name: templated
  default: node:$(v)
- name: unused
  default: redis:7
jobs:
- job: a
  container: ${{ parameters.image }}
- job: b
  container:
    image: ${{ parameters['image'] }}
- job: c
  container: ${{ parameters.choice }}
- job: d
  container: ${{ parameters.config.image }}
- job: e
  container: ${{ parameters.alias }}
- job: f
  container: ${{ parameters.templated }}
- job: g
  container: ${{ parameters.missing }}
";
        assert_eq!(
            found(t),
            [
                ("node:20", "parameters.image.default".into()),
                ("${{ parameters.choice }}", "jobs[2].container".into()),
                ("${{ parameters.config.image }}", "jobs[3].container".into()),
                ("${{ parameters.templated }}", "jobs[5].container".into()),
                ("${{ parameters.missing }}", "jobs[6].container".into()),
            ]
        );
        // The older map of names to defaults.
        let t = "parameters:\n  img: golang:1.23\njobs:\n- job: a\n  container: ${{parameters.img}}\n";
        assert_eq!(found(t), [("golang:1.23", "parameters.img.default".into())]);
        assert_eq!(parameter("${{ parameters[\"x-y\"] }}"), Some("x-y"));
        assert_eq!(parameter("${{ parameters.a }}-slim"), None);
        assert_eq!(parameter("${{ variables.a }}"), None);
    }

    #[test]
    fn never_images() {
        let t = "\
trigger: none
variables:
  image: alpine:3
pool:
  vmImage: ubuntu-22.04
resources:
  repositories:
  - repository: templates
    type: git
    name: org/templates
  containers:
  - container: acr
    type: ACR
    azureSubscription: sub
    resourceGroup: rg
    registry: reg
    repository: app
steps:
- script: docker run --rm busybox:1.36 true
  target: host
- task: Docker@2
  inputs:
    repository: acme/app
    command: buildAndPush
- script: echo
  target:
    container: acr
    commands: restricted
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn sniff_markers() {
        let yes = [
            "jobs:\n- job: a\n  steps: []\n",
            "parameters: []\njobs:\n  - deployment: d\n",
            "stages:\n- stage: build\n  jobs: []\n",
            "resources:\n  repositories: []\n  containers:\n  - container: a\n    image: x\n",
        ];
        for t in yes {
            assert!(looks_like_azure(t), "{t:?}");
            assert_eq!(crate::scan::kind_sniffed(t), Some(KIND.id), "{t:?}");
        }
        let no = [
            "jobs:\n  build:\n    runs-on: ubuntu-latest\n",
            "stages:\n  - build\n  - test\n",
            "jobs:\n- name: a\n  plan: []\n",
            "resources:\n- name: repo\n  type: git\n",
            "steps:\n- job: a\n",
            "x:\n  jobs:\n  - job: a\n",
        ];
        for t in no {
            assert!(!looks_like_azure(t), "{t:?}");
        }
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("jobs:\n- job: [\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn pipeline_fixture() {
        let t = include_str!("../../tests/fixtures/azure-pipelines/azure-pipelines.yml");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            fixture("azure-pipelines.yml", t),
            [
                row(9, 12, "ubuntu:22.04", Status::Unpinned, "resources.containers[0].image"),
                row(
                    13,
                    13,
                    &format!("postgres:16@{d}"),
                    Status::Pinned,
                    "resources.containers[1].image"
                ),
                row(16, 12, "node:20", Status::Unpinned, "container"),
                row(22, 16, "python:3.12", Status::Unpinned, "stages[0].jobs[0].container"),
                row(
                    29,
                    15,
                    "mcr.microsoft.com/dotnet/sdk:8.0",
                    Status::Unpinned,
                    "stages[0].jobs[1].container.image"
                ),
                row(
                    39,
                    16,
                    "$(testImage)",
                    Status::Dynamic,
                    "stages[1].jobs[0].container"
                ),
            ]
        );
    }
}
