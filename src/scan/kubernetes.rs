//! Scanner for Kubernetes manifests: every YAML document with top-level
//! `apiVersion` and `kind` (multi-document streams); other documents are
//! skipped.
//!
//! What counts as an image:
//! - `image` of each item of `containers`, `initContainers`,
//!   `ephemeralContainers` at any depth (pod specs, pod templates, CronJob
//!   `jobTemplate`, `kind: List` items, and custom resources that embed pod
//!   specs or container lists);
//! - custom resources that embed containers under other names: `sidecars` and
//!   `steps` items (Argo Workflows, Tekton), and single containers under
//!   `container`, `script` (Argo templates) and `stepTemplate` (Tekton);
//! - `volumes[].image.reference` (OCI image volumes);
//! - the images of well-known operators' custom resources, named outside
//!   any container ([`OPERATOR_IMAGES`]: a table of API group, kind and
//!   path, such as Prometheus `spec.image` or CloudNativePG
//!   `spec.imageName`), never a guess at other `image` keys.
//!
//! Istio's placeholder `image: auto` (gateway and sidecar injection
//! templates: the injector puts in the proxy image) is never reported: a
//! container image whose value is exactly `auto` is not an image.
//!
//! Never `status` (`containerStatuses[].image`/`imageID`), `managedFields`,
//! ConfigMap/Secret `data`/`stringData`/`binaryData`, text inside block
//! scalars, or `image` keys elsewhere (`rbd.image`). Template expressions
//! (`{{inputs.parameters.image}}`, `$(params.image)`) are dynamic.
//!
//! Helm chart templates are not valid YAML. When the text does not parse and
//! contains `{{`, a line-based pass reports `image:` values whose parent key
//! is one of the container keys above (outside block scalars and
//! ConfigMap/Secret documents): templated values are dynamic, a literal
//! value in a template is a real image. A parse error in any other file is a
//! [`ScanError`].

use std::collections::HashSet;

use super::kind::{Kind, Syntax, no_names};
use super::yaml::{self, Node, Piece};
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

mod helm_template;

/// Keys whose value is a list of containers.
const CONTAINER_LISTS: &[&str] = &[
    "containers",
    "initContainers",
    "ephemeralContainers",
    "sidecars",
    "steps",
];

/// Keys whose value is one container.
const SINGLE_CONTAINERS: &[&str] = &["container", "script", "stepTemplate"];

/// Keys never descended into.
const SKIPPED: &[&str] = &["status", "managedFields"];

/// Keys of the document root never descended into (ConfigMap/Secret payloads).
const SKIPPED_AT_ROOT: &[&str] = &["data", "stringData", "binaryData"];

/// A container image value that is a placeholder, filled in later: Istio's
/// gateway/sidecar injection writes `image: auto`.
const PLACEHOLDERS: &[&str] = &["auto"];

/// Custom resources whose operator runs an image written outside any
/// container: (API group, kind, path to the image). In a path, `key[]` is
/// every item of the list at `key` and `*` every value of a mapping. Taken
/// from each operator's CRD reference; outputs (Strimzi's
/// `spec.build.output.image`, where a built image is pushed) are left out.
const OPERATOR_IMAGES: &[(&str, &str, &str)] = &[
    // Prometheus Operator.
    ("monitoring.coreos.com", "Prometheus", "spec.image"),
    ("monitoring.coreos.com", "Prometheus", "spec.thanos.image"),
    ("monitoring.coreos.com", "PrometheusAgent", "spec.image"),
    ("monitoring.coreos.com", "Alertmanager", "spec.image"),
    ("monitoring.coreos.com", "ThanosRuler", "spec.image"),
    // Elastic Cloud on Kubernetes (ECK): one API group per product.
    ("elasticsearch.k8s.elastic.co", "Elasticsearch", "spec.image"),
    ("kibana.k8s.elastic.co", "Kibana", "spec.image"),
    ("apm.k8s.elastic.co", "ApmServer", "spec.image"),
    ("beat.k8s.elastic.co", "Beat", "spec.image"),
    ("agent.k8s.elastic.co", "Agent", "spec.image"),
    ("enterprisesearch.k8s.elastic.co", "EnterpriseSearch", "spec.image"),
    ("maps.k8s.elastic.co", "ElasticMapsServer", "spec.image"),
    ("logstash.k8s.elastic.co", "Logstash", "spec.image"),
    // CloudNativePG.
    ("postgresql.cnpg.io", "Cluster", "spec.imageName"),
    ("postgresql.cnpg.io", "ImageCatalog", "spec.images[].image"),
    ("postgresql.cnpg.io", "ClusterImageCatalog", "spec.images[].image"),
    // Strimzi.
    ("kafka.strimzi.io", "Kafka", "spec.kafka.image"),
    ("kafka.strimzi.io", "Kafka", "spec.zookeeper.image"),
    ("kafka.strimzi.io", "Kafka", "spec.entityOperator.*.image"),
    ("kafka.strimzi.io", "Kafka", "spec.cruiseControl.image"),
    ("kafka.strimzi.io", "Kafka", "spec.kafkaExporter.image"),
    ("kafka.strimzi.io", "KafkaConnect", "spec.image"),
    ("kafka.strimzi.io", "KafkaMirrorMaker2", "spec.image"),
    ("kafka.strimzi.io", "KafkaBridge", "spec.image"),
    // Crunchy Data PGO.
    ("postgres-operator.crunchydata.com", "PostgresCluster", "spec.image"),
    (
        "postgres-operator.crunchydata.com",
        "PostgresCluster",
        "spec.backups.pgbackrest.image",
    ),
    (
        "postgres-operator.crunchydata.com",
        "PostgresCluster",
        "spec.proxy.pgBouncer.image",
    ),
    // Zalando Postgres Operator.
    ("acid.zalan.do", "postgresql", "spec.dockerImage"),
    // RabbitMQ Cluster Operator, Keycloak, MariaDB Operator.
    ("rabbitmq.com", "RabbitmqCluster", "spec.image"),
    ("k8s.keycloak.org", "Keycloak", "spec.image"),
    ("k8s.mariadb.com", "MariaDB", "spec.image"),
    // OpenTelemetry Operator.
    ("opentelemetry.io", "OpenTelemetryCollector", "spec.image"),
    ("opentelemetry.io", "Instrumentation", "spec.*.image"),
    // Spark and Flink operators.
    ("sparkoperator.k8s.io", "SparkApplication", "spec.image"),
    ("sparkoperator.k8s.io", "SparkApplication", "spec.driver.image"),
    ("sparkoperator.k8s.io", "SparkApplication", "spec.executor.image"),
    ("flink.apache.org", "FlinkDeployment", "spec.image"),
    // KubeVirt container disks (VM disks shipped as OCI images).
    (
        "kubevirt.io",
        "VirtualMachine",
        "spec.template.spec.volumes[].containerDisk.image",
    ),
    (
        "kubevirt.io",
        "VirtualMachineInstance",
        "spec.volumes[].containerDisk.image",
    ),
    // Crossplane packages (OCI images).
    ("pkg.crossplane.io", "Provider", "spec.package"),
    ("pkg.crossplane.io", "Configuration", "spec.package"),
    ("pkg.crossplane.io", "Function", "spec.package"),
];
/// Kubernetes manifests have no telling name: a YAML file is one when a
/// document has top-level `apiVersion:` and `kind:` (or when configuration
/// declares it).
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("kubernetes"),
    names: no_names,
    sniff: Some(looks_like_kubernetes),
    scan,
    syntax: Syntax::Yaml,
    keys: &[
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image:",
        "apiVersion: v1\nkind: Pod\nspec:\n  initContainers:\n  - image:",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image:",
        "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: x\n            image:",
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - container:\n      image:",
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  image:",
        "---\napiVersion: v1\nkind: Pod\nspec:\n  containers: [{image:",
    ],
    relate: None,
};

/// Whether a YAML text has a document with top-level `apiVersion:` and
/// `kind:` (a cheap line test; the scanner does the real parse).
pub(crate) fn looks_like_kubernetes(text: &str) -> bool {
    use super::kind::has_line_starting;
    if !has_line_starting(text, "\nkind:") || !has_line_starting(text, "\napiVersion:") {
        return false;
    }
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

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let mut walker = Walker {
        text,
        found: Vec::new(),
        visited: HashSet::new(),
        spans: HashSet::new(),
        path: ContextPath::default(),
    };
    // Documents, and the items of a `kind: List`, are walked as they are
    // parsed and freed after: a 50 MB List never exists as one tree. An
    // item's finds count once its document turns out to be a resource.
    let mut pending: Vec<Occurrence> = Vec::new();
    let parsed = yaml::parse_each(text, &mut |piece| match piece {
        Piece::Item(item) => {
            // Freed nodes' addresses are reused: visited sets don't carry over.
            walker.visited.clear();
            let kind = item.root_get("kind").and_then(Node::as_str).unwrap_or("?");
            walker.path.start(kind);
            walker.path.push_key("items");
            walker.path.push_index(item.index);
            let before = walker.found.len();
            walker.node(item.node);
            pending.extend(walker.found.drain(before..));
        }
        Piece::Document(doc) => {
            walker.visited.clear();
            let root = doc.root();
            let (Some(_), Some(kind)) = (root.get("apiVersion"), root.get("kind")) else {
                pending.clear();
                return;
            };
            let kind = kind.as_str().unwrap_or("?");
            for mut o in pending.drain(..) {
                // `kind:` written after `items:`: name it now.
                if let Some(rest) = o.context.strip_prefix("? ").filter(|_| kind != "?") {
                    o.context = format!("{kind} {rest}");
                }
                walker.found.push(o);
            }
            walker.path.start(kind);
            walker.mapping(root, true);
        }
    });
    match parsed {
        Ok(()) => Ok(walker.found),
        Err(_) if text.contains("{{") => Ok(helm_template::scan(text)),
        Err(e) => Err(e),
    }
}

struct Walker<'t> {
    text: &'t str,
    found: Vec<Occurrence>,
    /// Collections already walked (aliases share nodes: each is walked once).
    visited: HashSet<usize>,
    /// Start offsets of the spans already found.
    spans: HashSet<usize>,
    /// Where the walk is: the kind, then keys and `[index]`es.
    path: ContextPath,
}

/// The context of the node being walked (`Deployment spec.template…`),
/// kept as one string that grows and shrinks with the walk: no allocation
/// per key visited, only per image found.
struct ContextPath {
    kind: String,
    /// The keys and `[index]`es so far, joined as in the context.
    rest: String,
    /// The length of `rest` before each segment still pushed.
    marks: Vec<usize>,
}

impl Default for ContextPath {
    fn default() -> ContextPath {
        ContextPath {
            kind: "?".to_string(),
            rest: String::new(),
            marks: Vec::new(),
        }
    }
}

impl ContextPath {
    /// A new resource of this kind: no segments.
    fn start(&mut self, kind: &str) {
        self.kind.clear();
        self.kind.push_str(kind);
        self.rest.clear();
        self.marks.clear();
    }

    /// A key: after a `.`, unless first or written like an index.
    fn push_key(&mut self, key: &str) {
        self.marks.push(self.rest.len());
        if !self.rest.is_empty() && !key.starts_with('[') {
            self.rest.push('.');
        }
        self.rest.push_str(key);
    }

    fn push_index(&mut self, i: usize) {
        self.marks.push(self.rest.len());
        // Digits by hand: `write!` costs more than the rest of a visit.
        let mut digits = [0u8; 20];
        let (mut n, mut at) = (i, digits.len());
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.rest.push('[');
        self.rest.extend(digits[at..].iter().map(|&d| char::from(d)));
        self.rest.push(']');
    }

    fn pop(&mut self) {
        if let Some(len) = self.marks.pop() {
            self.rest.truncate(len);
        }
    }

    /// `Kind path.key`.
    fn context(&self, key: &str) -> String {
        format!("{} {}.{key}", self.kind, self.rest)
    }
}

impl Walker<'_> {
    fn node(&mut self, node: &Node) {
        if !(node.is_mapping() || node.is_sequence()) || !self.visited.insert(node.id()) {
            return;
        }
        if node.is_mapping() {
            self.mapping(node, false);
        } else {
            for (i, item) in node.items().enumerate() {
                self.path.push_index(i);
                self.node(item);
                self.path.pop();
            }
        }
    }

    /// Walks a mapping; `root` when it is a resource (a document root, or a
    /// `kind: List` item with its own `apiVersion` and `kind`).
    fn mapping(&mut self, map: &Node, root: bool) {
        let root = root || (map.get("apiVersion").is_some() && map.get("kind").is_some());
        if root {
            self.operator_images(map);
        }
        for (key, value) in map.merged_entries() {
            let Some(key) = key.as_str() else { continue };
            if SKIPPED.contains(&key) || (root && SKIPPED_AT_ROOT.contains(&key)) {
                continue;
            }
            self.path.push_key(key);
            if CONTAINER_LISTS.contains(&key) {
                for (i, item) in value.items().enumerate() {
                    self.path.push_index(i);
                    self.image(item.get("image"), "image");
                    self.path.pop();
                }
            } else if SINGLE_CONTAINERS.contains(&key) {
                self.image(value.get("image"), "image");
            } else if key == "volumes" {
                for (i, item) in value.items().enumerate() {
                    self.path.push_index(i);
                    self.image(
                        item.get("image").and_then(|v| v.get("reference")),
                        "image.reference",
                    );
                    self.path.pop();
                }
            }
            self.node(value);
            self.path.pop();
        }
    }

    /// The images [`OPERATOR_IMAGES`] lists for this resource's group and kind.
    fn operator_images(&mut self, resource: &Node) {
        let (Some(api), Some(kind)) = (
            resource.get("apiVersion").and_then(Node::as_str),
            resource.get("kind").and_then(Node::as_str),
        ) else {
            return;
        };
        let group = api.split_once('/').map_or("", |(g, _)| g);
        for &(_, _, path) in OPERATOR_IMAGES
            .iter()
            .filter(|(g, k, _)| *g == group && *k == kind)
        {
            let segments: Vec<&str> = path.split('.').collect();
            self.operator_path(resource, &segments);
        }
    }

    /// Follows `segments` of an [`OPERATOR_IMAGES`] path from `node`; the
    /// last one is the image key.
    fn operator_path(&mut self, node: &Node, segments: &[&str]) {
        match segments {
            [] => {}
            [key] => self.image(node.get(key), key),
            ["*", rest @ ..] => {
                for (key, value) in node.merged_entries() {
                    let Some(key) = key.as_str() else { continue };
                    self.path.push_key(key);
                    self.operator_path(value, rest);
                    self.path.pop();
                }
            }
            [seg, rest @ ..] => {
                let (key, list) = match seg.strip_suffix("[]") {
                    Some(key) => (key, true),
                    None => (*seg, false),
                };
                let Some(value) = node.get(key) else { return };
                self.path.push_key(key);
                if list {
                    for (i, item) in value.items().enumerate() {
                        self.path.push_index(i);
                        self.operator_path(item, rest);
                        self.path.pop();
                    }
                } else {
                    self.operator_path(value, rest);
                }
                self.path.pop();
            }
        }
    }

    /// Records an image value (a scalar, or a Helm `{{ … }}` read as a flow mapping).
    fn image(&mut self, value: Option<&Node>, key: &str) {
        let Some(value) = value else { return };
        if value.is_null() || value.is_sequence() {
            return;
        }
        if value.as_str().is_some_and(|v| PLACEHOLDERS.contains(&v)) {
            return;
        }
        let context = self.path.context(key);
        let occurrence = match value.value_span(self.text) {
            Some(span) if !span.is_empty() => Occurrence::new(span, Hint::Image, context),
            Some(_) => return,
            None => {
                // A template read as a flow mapping, escapes or several
                // lines: no text to pin in place.
                let source = value.source();
                let Some(raw) = self.text.get(source.clone()) else {
                    return;
                };
                if value.is_mapping() && !raw.starts_with("{{") {
                    return;
                }
                let raw = raw.trim_end();
                let hint = if super::is_templated(raw) {
                    Hint::Dynamic
                } else {
                    Hint::Unreadable
                };
                Occurrence::new(source.start..source.start + raw.len(), hint, context)
            }
        };
        if self.spans.insert(occurrence.span.start) {
            self.found.push(occurrence);
        }
    }
}


#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, Hint, String)> {
        crate::scan::test_helpers::found(crate::scan::kubernetes::KIND.id, text)
    }

    fn refs(text: &str) -> Vec<&str> {
        crate::scan::test_helpers::refs(crate::scan::kubernetes::KIND.id, text)
    }

    #[test]
    fn context_indexes_are_written_in_decimal() {
        let mut path = ContextPath::default();
        path.start("List");
        path.push_key("items");
        for i in [0, 7, 10, 12_345, usize::MAX] {
            path.push_index(i);
            assert_eq!(path.context("image"), format!("List items[{i}].image"));
            path.pop();
        }
    }

    const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  initContainers:
  - name: init
    image: busybox:1.36
  containers:
  - image: \"nginx:1.25\"
    name: web
  - name: side
    image: 'envoy:v1'   # proxy
  ephemeralContainers:
  - name: debug
    image: alpine
  volumes:
  - name: rbd
    rbd:
      image: ceph-image
  - name: oci
    image:
      reference: quay.io/x/artifact:1
status:
  containerStatuses:
  - image: nginx:1.25
    imageID: docker-pullable://nginx@sha256:abc
";

    #[test]
    fn pod_containers_init_and_ephemeral() {
        let f = found(POD);
        assert_eq!(
            f,
            [
                (
                    "busybox:1.36",
                    Hint::Image,
                    "Pod spec.initContainers[0].image".into()
                ),
                (
                    "nginx:1.25",
                    Hint::Image,
                    "Pod spec.containers[0].image".into()
                ),
                (
                    "envoy:v1",
                    Hint::Image,
                    "Pod spec.containers[1].image".into()
                ),
                (
                    "alpine",
                    Hint::Image,
                    "Pod spec.ephemeralContainers[0].image".into()
                ),
                (
                    "quay.io/x/artifact:1",
                    Hint::Image,
                    "Pod spec.volumes[1].image.reference".into()
                ),
            ]
        );
    }

    #[test]
    fn documents_without_api_version_and_kind_are_skipped() {
        let t = "containers:\n- image: a:1\n---\nkind: Pod\nspec:\n  containers:\n  - image: b:1\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: c:1\n";
        assert_eq!(refs(t), ["c:1"]);
    }

    #[test]
    fn configmap_data_and_block_scalars_are_not_images() {
        let t = "\
apiVersion: v1
kind: ConfigMap
data:
  pod.yaml: |
    containers:
    - image: inside:1
  containers: x
---
apiVersion: v1
kind: Secret
stringData:
  containers:
  - image: nope:1
---
apiVersion: batch/v1
kind: Job
metadata:
  annotations:
    note: |
      image: fake:1
spec:
  template:
    spec:
      containers:
      - name: j
        image: real:1
        args:
        - |
          image: also-fake:2
";
        assert_eq!(refs(t), ["real:1"]);
    }

    #[test]
    fn cronjob_job_template() {
        let t = include_str!("../../tests/fixtures/kubernetes/cronjob.yaml");
        let f = found(t);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].0, "gcr.io/project/batch:stable");
        assert_eq!(
            f[0].2,
            "CronJob spec.jobTemplate.spec.template.spec.containers[0].image"
        );
        assert_eq!(
            f[1].0,
            "bitnami/kubectl@sha256:44468c0f5b348e6dcf5e11feb6fdcc969c874bba2856150fe50eb1aacb3bdfee"
        );
    }

    #[test]
    fn argo_workflow_templates() {
        let t = include_str!("../../tests/fixtures/kubernetes/argo-workflow.yaml");
        let f = found(t);
        let got: Vec<_> = f.iter().map(|(r, _, c)| (*r, c.as_str())).collect();
        assert_eq!(
            got,
            [
                ("alpine:3.20", "Workflow spec.templates[0].container.image"),
                (
                    "busybox:1.36",
                    "Workflow spec.templates[0].initContainers[0].image"
                ),
                (
                    "docker:27-dind",
                    "Workflow spec.templates[0].sidecars[0].image"
                ),
                (
                    "{{inputs.parameters.image}}:{{inputs.parameters.tag}}",
                    "Workflow spec.templates[1].container.image"
                ),
                (
                    "python:3.12-slim",
                    "Workflow spec.templates[2].script.image"
                ),
            ]
        );
        // withItems maps with an `image` key are argument plumbing, not containers.
        assert!(!t[..t.find("python:3.12").unwrap()].is_empty());
        assert!(f.iter().all(|(r, _, _)| *r != "debian"));
    }

    #[test]
    fn tekton_steps_and_sidecars() {
        let t = "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params:\n  - name: img\n    default: ubuntu:24.04\n  steps:\n  - name: s\n    image: $(params.img)\n  - name: t\n    image: golang:1.23\n  sidecars:\n  - image: redis:7\n  stepTemplate:\n    image: base:1\n";
        let f = found(t);
        let got: Vec<_> = f.iter().map(|(r, h, _)| (*r, *h)).collect();
        assert_eq!(
            got,
            [
                ("$(params.img)", Hint::Image),
                ("golang:1.23", Hint::Image),
                ("redis:7", Hint::Image),
                ("base:1", Hint::Image)
            ]
        );
        assert_eq!(
            crate::scan::classify(Hint::Image, "$(params.img)").0,
            crate::finding::Status::Dynamic
        );
    }

    #[test]
    fn anchors_are_reported_once_at_the_anchor() {
        let t = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  spec:
    containers: &cs
    - name: a
      image: &img app:1
- apiVersion: v1
  kind: Pod
  spec:
    containers: *cs
    initContainers:
    - name: i
      image: *img
";
        let f = found(t);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "app:1");
        assert_eq!(f[0].2, "List items[0].spec.containers[0].image");
    }

    #[test]
    fn list_items_are_walked_as_they_are_parsed_with_the_same_results() {
        // Streaming a List's items (to keep memory flat) must find what the
        // whole tree finds, with the same contexts, whatever the key order.
        let item = |i: usize| {
            format!(
                "- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n    - image: a{i}:1\n    - image: &x b{i}:1\n    initContainers:\n    - image: *x\n"
            )
        };
        let items: String = (0..3).map(item).collect();
        for t in [
            format!("apiVersion: v1\nkind: List\nitems:\n{items}"),
            format!("items:\n{items}apiVersion: v1\nkind: List\n"),
            format!("apiVersion: v1\nkind: List\nitems:\n{items}---\nnot: k8s\nitems:\n{items}"),
        ] {
            let got = found(&t);
            let want: Vec<(String, String)> = (0..3)
                .flat_map(|i| {
                    [
                        (format!("a{i}:1"), format!("List items[{i}].spec.containers[0].image")),
                        (format!("b{i}:1"), format!("List items[{i}].spec.containers[1].image")),
                    ]
                })
                .collect();
            let got: Vec<(String, String)> =
                got.into_iter().map(|(r, _, c)| (r.to_string(), c)).collect();
            assert_eq!(got, want, "{t}");
        }
    }

    #[test]
    fn list_items_are_resources_too() {
        let t = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  data:\n    containers:\n    - image: not-this:1\n- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n    - image: this:1\n  status:\n    containerStatuses:\n    - image: this:1\n";
        assert_eq!(refs(t), ["this:1"]);
        assert_eq!(found(t)[0].2, "List items[1].spec.containers[0].image");
    }

    #[test]
    fn deep_nesting_within_parser_limits_is_fine() {
        let mut t = String::from("apiVersion: v1\nkind: X\nspec: ");
        t.push_str(&"{a: [".repeat(120));
        t.push_str("{containers: [{image: deep:1}]}");
        t.push_str(&"]}".repeat(120));
        t.push('\n');
        assert_eq!(refs(&t), ["deep:1"]);
        let mut block = String::from("apiVersion: v1\nkind: X\n");
        for i in 0..250 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(scan(&block).is_ok());
    }

    #[test]
    fn billion_laughs_is_linear() {
        let mut t =
            String::from("apiVersion: v1\nkind: List\na0: &a0 {containers: [{image: lol:1}]}\n");
        for i in 1..30 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            t.push_str(&format!(
                "a{i}: &a{i} {{containers: [{refs}], x: [{refs}]}}\n"
            ));
        }
        assert_eq!(refs(&t), ["lol:1"]);
    }

    #[test]
    fn crlf_and_multi_document_fixture() {
        let t = include_str!("../../tests/fixtures/kubernetes/multi-doc-crlf.yaml");
        assert!(t.contains("\r\n"));
        let f = found(t);
        let got: Vec<_> = f.iter().map(|(r, _, _)| *r).collect();
        assert_eq!(
            got,
            [
                "cockroachdb/cockroach-k8s-init:0.2",
                "cockroachdb/cockroach:v1.1.0",
                "sysdig/agent",
                "ghcr.io/ünï/app:1",
            ]
        );
    }

    #[test]
    fn helm_template_line_pass() {
        let t = include_str!("../../tests/fixtures/kubernetes/helm-deployment.yaml");
        assert!(
            yaml::parse(t).is_err(),
            "the fixture must not be valid YAML"
        );
        let f = found(t);
        let got: Vec<_> = f.iter().map(|(r, _, c)| (*r, c.as_str())).collect();
        assert_eq!(
            got,
            [
                (
                    "{{ .Values.init.image }}",
                    "initContainers[].image (template)"
                ),
                (
                    "{{ .Values.image.repository }}:{{ .Values.image.tag | default (printf \"v%s\" .Chart.AppVersion) }}",
                    "containers[].image (template)"
                ),
                ("busybox:1.36", "initContainers[].image (template)"),
                (
                    "{{ template \"fqdn-image\" . }}:{{ .Values.sidecar.tag }}",
                    "initContainers[].image (template)"
                ),
                ("flow:1", "containers[].image (template)"),
                ("nginx:1.27", "containers[].image (template)"),
                ("flow:2", "container.image (template)"),
                ("flow:3", "sidecars[].image (template)"),
                ("{{ .Values.t }}", "sidecars[].image (template)"),
            ]
        );
        use crate::finding::Status;
        use crate::scan::classify;
        assert_eq!(classify(Hint::Image, got[0].0).0, Status::Dynamic);
        assert_eq!(classify(Hint::Image, got[1].0).0, Status::Dynamic);
        assert_eq!(classify(Hint::Image, got[2].0).0, Status::Unpinned);
        assert_eq!(classify(Hint::Image, got[3].0).0, Status::Dynamic);
    }

    #[test]
    fn crlf_and_bom_give_the_same_texts() {
        for lf in [
            include_str!("../../tests/fixtures/kubernetes/helm-deployment.yaml"),
            include_str!("../../tests/fixtures/kubernetes/argo-workflow.yaml"),
            include_str!("../../tests/fixtures/kubernetes/cronjob.yaml"),
        ] {
            let crlf = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
            assert_eq!(refs(lf), refs(&crlf));
        }
    }

    #[test]
    fn block_scalar_images() {
        let t = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: >-\n      registry.example.com/a/very/long/path/app:1.2.3\n  - image: |\n      two\n      lines\n";
        assert_eq!(
            found(t),
            [
                (
                    "registry.example.com/a/very/long/path/app:1.2.3",
                    Hint::Image,
                    "Pod spec.containers[0].image".into()
                ),
                (
                    "two",
                    Hint::Unreadable,
                    "Pod spec.containers[1].image".into()
                ),
            ]
        );
    }

    #[test]
    fn helm_value_parsed_as_flow_mapping_is_dynamic() {
        let t = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: {{ .Values.image }}\n";
        assert!(yaml::parse(t).is_ok());
        assert_eq!(
            found(t),
            [(
                "{{ .Values.image }}",
                Hint::Dynamic,
                "Pod spec.containers[0].image".into()
            )]
        );
    }

    fn rows(name: &str, text: &str) -> Vec<crate::scan::test_helpers::Row> {
        crate::scan::test_helpers::fixture(KIND.id, name, text)
    }

    #[test]
    fn operator_custom_resources() {
        let t = include_str!("../../tests/fixtures/kubernetes/operators.yaml");
        use crate::finding::Status::{Pinned, Unpinned};
        use crate::scan::test_helpers::row;
        let kafka = "quay.io/strimzi/kafka:0.43.0-kafka-3.8.0";
        let operator = "quay.io/strimzi/operator:0.43.0";
        let pinned = "quay.io/prometheus/alertmanager@sha256:e13b6ed5cb929eeaee733479dce55e10eb3bc2e9c4586c705a4e8da41e5eacf5";
        // Strimzi's `spec.build.output.image` (where the built image is
        // pushed) and look-alike keys of another API group are not images.
        assert_eq!(
            rows("operators.yaml", t),
            [
                row(6, 10, "quay.io/prometheus/prometheus:v2.54.1", Unpinned, "Prometheus spec.image"),
                row(9, 13, "quay.io/thanos/thanos:v0.36.1", Unpinned, "Prometheus spec.thanos.image"),
                row(
                    12,
                    14,
                    "quay.io/prometheus-operator/prometheus-config-reloader:v0.76.0",
                    Unpinned,
                    "Prometheus spec.containers[0].image"
                ),
                row(19, 10, pinned, Pinned, "Alertmanager spec.image"),
                row(
                    27,
                    10,
                    "docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
                    Unpinned,
                    "Elasticsearch spec.image"
                ),
                row(32, 11, "docker.elastic.co/kibana/kibana:8.15.0", Unpinned, "Kibana spec.image"),
                row(40, 14, "ghcr.io/cloudnative-pg/postgresql:16.4", Unpinned, "Cluster spec.imageName"),
                row(
                    49,
                    14,
                    "ghcr.io/cloudnative-pg/postgresql:15.8",
                    Unpinned,
                    "ImageCatalog spec.images[0].image"
                ),
                row(
                    51,
                    14,
                    "ghcr.io/cloudnative-pg/postgresql:16.4",
                    Unpinned,
                    "ImageCatalog spec.images[1].image"
                ),
                row(60, 12, kafka, Unpinned, "Kafka spec.kafka.image"),
                row(62, 12, kafka, Unpinned, "Kafka spec.zookeeper.image"),
                row(65, 14, operator, Unpinned, "Kafka spec.entityOperator.topicOperator.image"),
                row(66, 27, operator, Unpinned, "Kafka spec.entityOperator.userOperator.image"),
                row(73, 10, kafka, Unpinned, "KafkaConnect spec.image"),
            ]
        );
    }

    #[test]
    fn istio_auto_is_a_placeholder() {
        let t = include_str!("../../tests/fixtures/kubernetes/istio-gateway.yaml");
        use crate::finding::Status;
        use crate::scan::test_helpers::row;
        // `auto`, quoted or not, is filled in by the injector; nothing else is.
        assert_eq!(
            rows("istio-gateway.yaml", t),
            [row(
                23,
                18,
                "busybox:1.36",
                Status::Unpinned,
                "Deployment spec.template.spec.containers[2].image"
            )]
        );
        // The same in a Helm template (the line pass) and in flow containers.
        let helm = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: istio-proxy\n        image: auto\n        {{- with .Values.resources }}\n      - {name: x, image: auto}\n      - name: y\n        image: \"{{ .Values.image }}\"\n";
        assert!(yaml::parse(helm).is_err());
        assert_eq!(refs(helm), ["{{ .Values.image }}"]);
        // A value that merely contains `auto` is an image.
        assert_eq!(
            refs("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: auto:1\n  - image: autoscaler\n"),
            ["auto:1", "autoscaler"]
        );
    }

    #[test]
    fn invalid_yaml_without_templates_is_an_error() {
        let e = scan("apiVersion: v1\nkind: Pod\nspec: [\n").unwrap_err();
        assert!(e.line.is_some());
        // Broken template text never panics and never errors.
        for t in [
            "{{",
            "image: {{",
            "- image: \"{{ x }}\n  image: '\n",
            "{{ if }}\n  containers:\n  - image: |\n",
        ] {
            assert!(scan(t).is_ok(), "{t:?}");
        }
    }
}
