//! Scanner for Buildkite pipelines (`.buildkite/*.y(a)ml`, `buildkite.y(a)ml`,
//! `buildkite/pipeline.y(a)ml`, and the JSON forms the agent uploads:
//! `buildkite.json`, `.buildkite/pipeline.json`, `buildkite/pipeline.json`,
//! read as YAML, of which JSON is a subset).
//!
//! Images: the pipeline's and each command step's `image` (the container a
//! step runs in on hosted agents and the Agent Stack for Kubernetes), the
//! `image` of the Docker plugin, and the containers of the `kubernetes`
//! plugin (`podSpec` and `podSpecPatch` `containers[]`/`initContainers[]`,
//! and `sidecars[]`). Steps are the items of `steps` (or of a file that is
//! one list of steps) and of each `group`'s `steps`. Plugins are a list of
//! one-key maps or, in the older syntax, one map; the Docker plugin is
//! `docker#v5.11.0`, `docker`, `buildkite-plugins/docker#…`, or a URL
//! ending in `docker-buildkite-plugin(.git)#…`.
//!
//! Never images: the `docker-compose` plugin's settings (the images live in
//! the Compose file; `image-repository` is where it pushes), other plugins
//! (`ecr`, `docker-login`, …), `command` text, `env`, `matrix` values and
//! `agents`. `wait`, `block`, `input` and `trigger` steps run nothing.
//! `$VAR` and `{{matrix}}` interpolation are left to [`super::classify`],
//! which reports them as dynamic. YAML anchors (common for plugin
//! configuration) give one finding, where the text is written.

use std::collections::HashSet;

use super::kind::{Kind, Syntax, is_yaml_name, is_yaml_named, lower_name, parents};
use super::yaml::{self, Node};
use super::yaml_image::image_scalar;
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// Step types that run no command, so no container.
const NOT_COMMANDS: &[&str] = &["wait", "block", "input", "trigger"];

/// Buildkite: `buildkite.y(a)ml`, `.buildkite/*.y(a)ml` and
/// `buildkite/pipeline.y(a)ml` (the files `buildkite-agent pipeline upload`
/// looks for, and the other pipelines kept beside `.buildkite/pipeline.yml`),
/// and the `.json` forms of the agent's own names.
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("buildkite"),
    names: |path| {
        lower_name(path).is_some_and(|n| {
            let parent = parents(path).next().map(str::to_ascii_lowercase);
            let pipeline = is_yaml_named(&n, "pipeline") || n == "pipeline.json";
            is_yaml_named(&n, "buildkite")
                || n == "buildkite.json"
                || (is_yaml_name(&n) && parent.as_deref() == Some(".buildkite"))
                || (pipeline && matches!(parent.as_deref(), Some(".buildkite" | "buildkite")))
        })
    },
    sniff: None,
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "image:",
        "steps:\n  - command: x\n    image:",
        "steps:\n  - plugins:\n      - docker#v5.11.0:\n          image:",
        "steps:\n  - plugins:\n      docker#v5.11.0:\n        image:",
        "steps:\n  - plugins:\n      - https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5:\n          image:",
        "steps:\n  - plugins:\n      - docker-compose#v4.16.0:\n          run: app\n          image-repository:",
        "steps:\n  - group: g\n    steps:\n      - command: x\n        image:",
        "steps:\n  - plugins:\n      - kubernetes:\n          podSpec:\n            containers:\n              - image:",
        "steps:\n  - plugins:\n      - kubernetes:\n          sidecars:\n            - image:",
        "steps:\n  - trigger: other\n    image:",
        "- command: x\n  image:",
        "steps:\n  - wait\n  - block: ok",
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
        if root.is_sequence() {
            walker.steps(root, "");
            continue;
        }
        if let Some(image) = root.get("image") {
            walker.image(image, "image".into());
        }
        if let Some(steps) = root.get("steps") {
            walker.steps(steps, "steps");
        }
    }
    Ok(walker.found)
}

struct Walker {
    found: Vec<Occurrence>,
    /// Collections already walked (aliases share nodes: each is walked once).
    visited: HashSet<usize>,
}

impl Walker {
    fn image(&mut self, image: &Node, context: String) {
        self.found.extend(image_scalar(image, Hint::Image, context));
    }

    /// A list of steps (a group's too).
    fn steps(&mut self, steps: &Node, context: &str) {
        if !steps.is_sequence() || !self.visited.insert(steps.id()) {
            return;
        }
        for (i, step) in steps.items().enumerate() {
            let context = format!("{context}[{i}]");
            if !step.is_mapping() {
                continue;
            }
            if step.get("group").is_some() {
                if let Some(inner) = step.get("steps") {
                    self.steps(inner, &format!("{context}.steps"));
                }
                continue;
            }
            if NOT_COMMANDS.iter().any(|k| step.get(k).is_some()) {
                continue;
            }
            if let Some(image) = step.get("image") {
                self.image(image, format!("{context}.image"));
            }
            if let Some(plugins) = step.get("plugins") {
                self.plugins(plugins, &format!("{context}.plugins"));
            }
        }
    }

    /// `plugins:` as a list of one-key maps, or as one map.
    fn plugins(&mut self, plugins: &Node, context: &str) {
        if !self.visited.insert(plugins.id()) {
            return;
        }
        let entries: Vec<(String, &Node, &Node)> = if plugins.is_sequence() {
            plugins
                .items()
                .enumerate()
                .flat_map(|(i, item)| {
                    item.merged_entries()
                        .into_iter()
                        .map(move |(k, v)| (format!("[{i}]"), k, v))
                })
                .collect()
        } else {
            plugins
                .merged_entries()
                .into_iter()
                .map(|(k, v)| (String::new(), k, v))
                .collect()
        };
        for (index, name, config) in entries {
            let Some(name) = name.as_str() else { continue };
            let context = format!("{context}{index}.{name}");
            match plugin(name) {
                Some(Plugin::Docker) => {
                    if let Some(image) = config.get("image") {
                        self.image(image, format!("{context}.image"));
                    }
                }
                Some(Plugin::Kubernetes) => self.kubernetes(config, &context),
                None => {}
            }
        }
    }

    /// The containers of the `kubernetes` plugin (Agent Stack for
    /// Kubernetes).
    fn kubernetes(&mut self, config: &Node, context: &str) {
        for spec in ["podSpec", "podSpecPatch"] {
            let Some(pod) = config.get(spec) else { continue };
            for list in ["containers", "initContainers"] {
                self.containers(pod.get(list), &format!("{context}.{spec}.{list}"));
            }
        }
        self.containers(config.get("sidecars"), &format!("{context}.sidecars"));
    }

    fn containers(&mut self, list: Option<&Node>, context: &str) {
        for (i, container) in list.into_iter().flat_map(Node::items).enumerate() {
            if let Some(image) = container.get("image") {
                self.image(image, format!("{context}[{i}].image"));
            }
        }
    }
}

/// The plugins whose settings name images.
#[derive(Debug, PartialEq, Eq)]
enum Plugin {
    Docker,
    Kubernetes,
}

/// Which plugin a `plugins` key names. Short names expand to a GitHub
/// repository (`docker` → `buildkite-plugins/docker-buildkite-plugin`,
/// `org/docker` → `org/docker-buildkite-plugin`); a URL or host path names
/// its repository exactly.
fn plugin(key: &str) -> Option<Plugin> {
    let source = key.split('#').next().unwrap_or("").trim().trim_end_matches('/');
    if source == "kubernetes" {
        return Some(Plugin::Kubernetes);
    }
    let last = source.rsplit(['/', ':']).next().unwrap_or("");
    let last = last.strip_suffix(".git").unwrap_or(last);
    let full = source.contains("://")
        || source.contains('@')
        || source.split('/').next().is_some_and(|host| host.contains('.'))
        || source.split('/').count() > 2;
    let docker = if full {
        last == "docker-buildkite-plugin"
    } else {
        last == "docker" || last == "docker-buildkite-plugin"
    };
    docker.then_some(Plugin::Docker)
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

    #[test]
    fn names() {
        let k = |p: &str| (KIND.names)(std::path::Path::new(p));
        assert!(k(".buildkite/pipeline.yml"));
        assert!(k("sub/.buildkite/pipeline.release.yaml"));
        assert!(k(".buildkite/deploy.yml"));
        assert!(k("buildkite.yml"));
        assert!(k("x/buildkite.yaml"));
        assert!(k("buildkite/pipeline.yml"));
        assert!(!k("buildkite/deploy.yml"));
        assert!(!k(".buildkite/hooks/pre-command"));
        assert!(!k(".buildkite/k8s/deploy.yaml"));
        assert!(k(".buildkite/pipeline.json"));
        assert!(k("buildkite.json"));
        assert!(k("buildkite/pipeline.json"));
        assert!(!k(".buildkite/renovate.json"));
        assert!(!k("pipeline.json"));
        // Compose's name rule comes first.
        assert_eq!(
            crate::scan::kind_for_path(std::path::Path::new(".buildkite/docker-compose.yml"))
                .map(FileKind::as_str),
            Some("compose")
        );
    }

    #[test]
    fn plugin_names() {
        for docker in [
            "docker#v5.11.0",
            "docker",
            "docker#main",
            "buildkite-plugins/docker#v5",
            "myorg/docker#v1",
            "docker-buildkite-plugin#v5",
            "https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.11.0",
            "github.com/buildkite-plugins/docker-buildkite-plugin#v5",
            "ssh://git@github.com/buildkite-plugins/docker-buildkite-plugin.git#v5",
            "git@github.com:buildkite-plugins/docker-buildkite-plugin.git#v5",
            "file:///plugins/docker-buildkite-plugin#v5",
        ] {
            assert_eq!(plugin(docker), Some(Plugin::Docker), "{docker}");
        }
        for other in [
            "docker-compose#v4.16.0",
            "docker-login#v3.0.0",
            "ecr#v2.9.0",
            "artifacts#v1.9.4",
            "https://github.com/acme/docker.git#v1",
            "https://github.com/buildkite-plugins/docker-compose-buildkite-plugin.git#v4",
            "acme/docker-cache#v1",
            "kubernetes-helper#v1",
        ] {
            assert_eq!(plugin(other), None, "{other}");
        }
        assert_eq!(plugin("kubernetes"), Some(Plugin::Kubernetes));
    }

    #[test]
    fn the_example_of_the_issue() {
        let t = "\
steps:
  - command: make test
    plugins:
      - docker#v5.11.0:
          image: golang:1.22
      - docker-compose#v4.16.0:
          run: app
      - https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.11.0:
          image: \"node:20\"
  - label: hosted
    command: x
    image: \"ubuntu:24.04\"
";
        assert_eq!(
            found(t),
            [
                ("golang:1.22", "steps[0].plugins[0].docker#v5.11.0.image".into()),
                (
                    "node:20",
                    "steps[0].plugins[2].https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.11.0.image".into()
                ),
                ("ubuntu:24.04", "steps[1].image".into()),
            ]
        );
    }

    #[test]
    fn groups_old_plugin_maps_top_level_lists_and_anchors() {
        let t = "\
image: debian:12
x-docker: &docker
  docker#v5.11.0:
    image: rust:1.83
steps:
  - group: tests
    steps:
      - command: cargo test
        plugins:
          - *docker
      - command: cargo doc
        plugins:
          - *docker
  - command: old syntax
    plugins:
      docker#v3.0.0:
        image: alpine:3.20
        always-pull: true
";
        assert_eq!(
            found(t),
            [
                ("debian:12", "image".into()),
                (
                    "rust:1.83",
                    "steps[0].steps[0].plugins[0].docker#v5.11.0.image".into()
                ),
                ("alpine:3.20", "steps[1].plugins.docker#v3.0.0.image".into()),
            ]
        );
        let t = "- command: x\n  image: node:22\n- wait\n";
        assert_eq!(found(t), [("node:22", "[0].image".into())]);
    }

    #[test]
    fn kubernetes_plugin() {
        let t = "\
steps:
  - label: k8s
    agents: {queue: kubernetes}
    plugins:
      - kubernetes:
          podSpec:
            initContainers:
              - image: busybox:1.36
            containers:
              - image: alpine:3.20
                command: [echo]
          sidecars:
            - image: nginx:1.27
          podSpecPatch:
            containers:
              - name: container-0
                image: golang:1.23
";
        assert_eq!(
            found(t),
            [
                (
                    "busybox:1.36",
                    "steps[0].plugins[0].kubernetes.podSpec.initContainers[0].image".into()
                ),
                (
                    "alpine:3.20",
                    "steps[0].plugins[0].kubernetes.podSpec.containers[0].image".into()
                ),
                (
                    "nginx:1.27",
                    "steps[0].plugins[0].kubernetes.sidecars[0].image".into()
                ),
                (
                    "golang:1.23",
                    "steps[0].plugins[0].kubernetes.podSpecPatch.containers[0].image".into()
                ),
            ]
        );
    }

    #[test]
    fn never_images() {
        let t = "\
env:
  IMAGE: alpine:3
agents:
  image: not/this:1
steps:
  - command: docker run --rm busybox:1.36 true
    env: {BASE_IMAGE: 'debian:12'}
    matrix: ['node:20', 'node:22']
    plugins:
      - docker-compose#v4.16.0:
          run: app
          image-repository: acme/app
          image-name: app
          cache-from: [app:acme/app:cache]
      - ecr#v2.9.0:
          login: true
      - docker-login#v3.0.0:
          username: me
      - docker#v5.11.0
      - docker#v5.11.0: ~
      - acme/image-builder#v1:
          image: acme/out:1
  - wait
  - block: ':rocket: Release'
  - trigger: deploy
    image: not/this:2
  - input: ok
    image: not/this:3
";
        assert!(found(t).is_empty(), "{:?}", found(t));
    }

    #[test]
    fn interpolation_is_dynamic() {
        let t = "\
steps:
  - command: x
    image: \"$BASE_IMAGE\"
  - command: y
    matrix: ['20', '22']
    plugins:
      - docker#v5.11.0:
          image: node:{{matrix}}
";
        let rows = test_helpers::fixture(KIND.id, ".buildkite/pipeline.yml", t);
        assert_eq!(
            rows,
            [
                row(3, 13, "$BASE_IMAGE", Status::Dynamic, "steps[0].image"),
                row(
                    8,
                    18,
                    "node:{{matrix}}",
                    Status::Dynamic,
                    "steps[1].plugins[0].docker#v5.11.0.image"
                ),
            ]
        );
    }

    #[test]
    fn json_pipelines_with_tabs() {
        let t = "{\n\t\"steps\": [\n\t\t{\n\t\t\t\"command\": \"x\",\n\t\t\t\"plugins\": [{\"docker#v5.11.0\": {\"image\": \"golang:1.22\"}}],\n\t\t\t\"image\": \"node:20\"\n\t\t}\n\t]\n}\n";
        let rows = test_helpers::fixture(KIND.id, ".buildkite/pipeline.json", t);
        assert_eq!(
            rows,
            [
                row(
                    5,
                    46,
                    "golang:1.22",
                    Status::Unpinned,
                    "steps[0].plugins[0].docker#v5.11.0.image"
                ),
                row(6, 14, "node:20", Status::Unpinned, "steps[0].image"),
            ]
        );
    }

    #[test]
    fn invalid_yaml_is_an_error_with_a_position() {
        let e = scan("steps:\n  - image: [\n").unwrap_err();
        assert!(e.line.is_some());
    }
}
