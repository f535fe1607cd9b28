//! Scanner for Jenkins pipelines (`Jenkinsfile`, Groovy): the images a
//! pipeline pulls.
//!
//! No crate fits: the Groovy parsers on crates.io are tree-sitter grammars
//! (megabytes of generated C, a C toolchain, and a tree that still needs
//! walking for the few calls that matter here), and a full parse is not
//! needed to find them. A small [`lexer`] that knows Groovy's comments and
//! strings is enough to read calls without ever reading a shell script, a
//! comment or an `echo` as code; the calls are then matched on its tokens,
//! with the blocks and argument lists they sit in:
//!
//! - `agent { docker 'img' }`, `agent { docker { image 'img' … } }`, the
//!   named form `docker(image: 'img', …)` / `docker image: 'img'`, with or
//!   without parentheses (`image('img')`), and the same for
//!   `dockerContainer` (context `agent.docker`, `agent.docker.image`);
//! - `docker.image('img')`, whatever follows it (`.inside`, `.pull()`,
//!   `.run`, `.withRun` all pull it), and `withDockerContainer('img')` /
//!   `withDockerContainer(image: 'img')`, and the Docker plugin's
//!   `dockerNode(image: 'img')`;
//! - `containerTemplate(… image: 'img' …)` (Kubernetes plugin), also without
//!   parentheses (`containerTemplate image: 'img', name: …`) and as a block
//!   (`containerTemplate { image 'img' }`);
//! - the pod YAML of `kubernetes { yaml '''…''' }` and
//!   `podTemplate(yaml: '''…''')`: the Kubernetes scanner reads the string
//!   (a Pod when the YAML names no `kind`), and its finds are mapped back to
//!   the file. A reference written with `${…}` there is dynamic, one with
//!   a `\` escape `invalid`.
//!
//! The value is a string literal: a plain one is an image with the exact
//! span of its content (so `--fix` writes the digest inside the quotes); a
//! GString with `${…}`/`$name`, a slashy string, or a literal joined to
//! something (`'node:' + v`) is dynamic; a literal with `\` escapes or left
//! unterminated is `invalid` (it can't be pinned in place). A variable
//! (`docker.image(IMAGE)`, `image params.IMG`) is dynamic too, at its name:
//! imagepin cannot see its value, and says so rather than nothing.
//!
//! Never: `docker.build(…)` (an output), `dockerfile` agents (built here),
//! `docker.withRegistry(url, credentials)`, and strings anywhere else (`sh`
//! scripts, `echo`, comments). The scanner never fails.

mod lexer;

use std::ops::Range;
use std::path::Path;

use self::lexer::{Tok, Token, tokens};
use super::kind::{Kind, Syntax, lower_name, parents};
use super::{Hint, Occurrence, ScanError};
use crate::finding::FileKind;

/// Jenkins pipelines: `Jenkinsfile`, `Jenkinsfile.*` (not documents or
/// source code such as `Jenkinsfile.md`, `jenkinsfile.rs`), `*.jenkinsfile`, and `*.groovy` in a `jenkins/`,
/// `.jenkins/` or shared-library `vars/` directory (any case).
pub(crate) static KIND: Kind = Kind {
    id: FileKind::new("jenkinsfile"),
    names: is_jenkins_name,
    sniff: None,
    scan,
    syntax: Syntax::Groovy,
    keys: &[
        "pipeline { agent { docker { image ",
        "agent { docker ",
        "agent { docker(image: ",
        "agent { dockerContainer { image(",
        "docker.image(",
        "docker.build(",
        "withDockerContainer(image: ",
        "containerTemplate(name: 'a', image: ",
        "containerTemplate image: ",
        "podTemplate(containers: [containerTemplate(image: ",
        "agent { kubernetes { yaml ",
        "agent { dockerfile true }\n",
        "sh ",
        "// ",
        "/* ",
        "${",
    ],
    relate: None,
};

/// Extensions after `Jenkinsfile.` that make a document, a data file or
/// source code (a `jenkinsfile.rs` module, a `Jenkinsfile.md` guide), not a
/// pipeline. Pipelines get any other suffix (`.release`, `.k8s`, `.groovy`).
const NOT_PIPELINES: &[&str] = &[
    "md", "markdown", "txt", "rst", "adoc", "html", "htm", "json", "yml", "yaml", "toml", "xml",
    "orig", "bak", "swp", "rej", "patch", "diff", "snap", "lock", "rs", "py", "go", "js", "mjs",
    "cjs", "ts", "java", "kt", "kts", "rb", "sh", "bash", "ps1", "c", "h", "cc", "cpp", "hpp",
    "cs", "php", "pl", "lua", "swift", "scala", "clj", "ex", "exs", "erl", "hs", "ml",
];

fn is_jenkins_name(path: &Path) -> bool {
    let Some(name) = lower_name(path) else {
        return false;
    };
    if name == "jenkinsfile" || name.ends_with(".jenkinsfile") {
        return true;
    }
    if let Some(ext) = name.strip_prefix("jenkinsfile.") {
        return !ext.is_empty() && !NOT_PIPELINES.contains(&ext);
    }
    name.ends_with(".groovy")
        && parents(path)
            .next()
            .is_some_and(|d| ["jenkins", ".jenkins", "vars"].contains(&d.to_ascii_lowercase().as_str()))
}

/// Finds the image references in one file's text (BOM already stripped).
pub(crate) fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let toks = tokens(text);
    let mut s = Scanner {
        text,
        toks: &toks,
        frames: Vec::new(),
        command: None,
        found: Vec::new(),
    };
    s.run();
    Ok(s.found)
}

/// An open bracket: which one, and the name of what it belongs to (the
/// call or block before it: `agent`, `docker`, `containerTemplate`).
struct Frame<'t> {
    open: u8,
    owner: &'t str,
}

struct Scanner<'t> {
    text: &'t str,
    toks: &'t [Token],
    frames: Vec<Frame<'t>>,
    /// A call written without parentheses whose named arguments are being
    /// read (`containerTemplate image: 'x', name: 'y'`): its name and the
    /// bracket depth it is at.
    command: Option<(&'t str, usize)>,
    found: Vec<Occurrence>,
}

/// Calls whose named argument `image:` is an image.
const IMAGE_CALLS: &[&str] = &[
    "containerTemplate",
    "docker",
    "dockerContainer",
    "withDockerContainer",
    "dockerNode",
];
/// Calls whose named argument `yaml:` is a pod's YAML.
const YAML_CALLS: &[&str] = &["podTemplate", "kubernetes"];

impl<'t> Scanner<'t> {
    fn tok(&self, i: usize) -> Option<&'t Token> {
        self.toks.get(i)
    }

    fn is(&self, i: usize, tok: Tok) -> bool {
        self.tok(i).is_some_and(|t| t.tok == tok)
    }

    /// The text of token `i` when it is an identifier.
    fn ident(&self, i: usize) -> Option<&'t str> {
        let t = self.tok(i)?;
        (t.tok == Tok::Ident).then(|| self.text.get(t.span.clone()).unwrap_or(""))
    }

    /// The owner of the frame `depth` levels out (0: the innermost).
    fn owner(&self, depth: usize, open: u8) -> Option<&'t str> {
        let f = self.frames.iter().rev().nth(depth)?;
        (f.open == open).then_some(f.owner)
    }

    fn run(&mut self) {
        // The owner of the last `(…)` closed: `stage('x') {` belongs to `stage`.
        let mut closed_call: &'t str = "";
        for i in 0..self.toks.len() {
            let t = &self.toks[i];
            self.end_command(i);
            match t.tok {
                Tok::Open(open) => {
                    let owner = match self.ident(i.wrapping_sub(1)) {
                        Some(name) if i > 0 => name,
                        _ if open == b'{' && self.is(i.wrapping_sub(1), Tok::Close(b')')) => {
                            closed_call
                        }
                        _ => "",
                    };
                    self.frames.push(Frame { open, owner });
                }
                Tok::Close(_) => {
                    if let Some(f) = self.frames.pop() {
                        closed_call = if f.open == b'(' { f.owner } else { "" };
                    }
                }
                Tok::Ident => self.ident_at(i),
                _ => {}
            }
        }
    }

    /// Ends a parenthesis-less call at the end of its statement: a line
    /// break not after `,` or `:`, a `;`, or the bracket it is in closing.
    fn end_command(&mut self, i: usize) {
        let Some((_, depth)) = self.command else {
            return;
        };
        let t = &self.toks[i];
        let continued = i > 0 && matches!(self.toks[i - 1].tok, Tok::Punct(b',' | b':'));
        if self.frames.len() < depth
            || (self.frames.len() == depth
                && (t.tok == Tok::Punct(b';')
                    || matches!(t.tok, Tok::Close(_))
                    || (t.newline_before && !continued)))
        {
            self.command = None;
        }
    }

    fn ident_at(&mut self, i: usize) {
        let Some(name) = self.ident(i) else { return };
        let after_dot = i > 0 && self.is(i - 1, Tok::Punct(b'.'));
        let receiver = if after_dot {
            self.ident(i.wrapping_sub(2))
        } else {
            None
        };
        let named = self.is(i + 1, Tok::Punct(b':'));
        if named {
            // A named argument: `image: 'x'` inside `call(…)` or after a
            // parenthesis-less `call`.
            let call = match self.command {
                Some((call, depth)) if depth == self.frames.len() => Some(call),
                _ => self.owner(0, b'('),
            };
            if let Some(call) = call {
                if name == "image" && IMAGE_CALLS.contains(&call) {
                    self.value(i + 2, &named_image_context(call));
                } else if name == "yaml" && YAML_CALLS.contains(&call) {
                    self.pod_yaml(i + 2);
                }
            }
            return;
        }
        if after_dot {
            if receiver == Some("docker") && name == "image" {
                self.argument(i + 1, "docker.image");
            }
            return;
        }
        let in_agent = self.owner(0, b'{') == Some("agent");
        let block = self.owner(0, b'{');
        match name {
            "docker" | "dockerContainer" if in_agent => {
                if self.named_args_follow(i + 1) {
                    self.command = Some((name, self.frames.len()));
                } else if !self.is(i + 1, Tok::Open(b'{')) {
                    self.argument(i + 1, "agent.docker");
                }
            }
            "image"
                if matches!(block, Some("docker" | "dockerContainer"))
                    && self.owner(1, b'{') == Some("agent") =>
            {
                self.argument(i + 1, "agent.docker.image");
            }
            "image" if block == Some("containerTemplate") => {
                self.argument(i + 1, "containerTemplate.image");
            }
            "yaml" if block == Some("kubernetes") => {
                let at = if self.is(i + 1, Tok::Open(b'(')) { i + 2 } else { i + 1 };
                self.pod_yaml(at);
            }
            "withDockerContainer" if !self.named_args_follow(i + 1) => {
                self.argument(i + 1, "withDockerContainer");
            }
            "containerTemplate" | "withDockerContainer" | "podTemplate"
                if self.named_args_follow(i + 1) =>
            {
                self.command = Some((name, self.frames.len()));
            }
            _ => {}
        }
    }

    /// Whether `name: …` follows at `i` (a parenthesis-less call's named
    /// arguments).
    fn named_args_follow(&self, i: usize) -> bool {
        self.ident(i).is_some() && self.is(i + 1, Tok::Punct(b':'))
    }

    /// The single argument of a call at `i`: `('x')`, `'x'`, or a variable.
    fn argument(&mut self, i: usize, context: &str) {
        let at = if self.is(i, Tok::Open(b'(')) { i + 1 } else { i };
        if at == i && self.tok(i).is_some_and(|t| t.newline_before) {
            return; // `image` alone on its line: not a call with an argument
        }
        if self.named_args_follow(at) {
            return; // `call(image: …)`: read as a named argument
        }
        self.value(at, context);
    }

    /// The value at token `i`: a string literal, or a variable.
    fn value(&mut self, i: usize, context: &str) {
        let Some(t) = self.tok(i) else { return };
        match t.tok {
            Tok::Str(q) => {
                let joined = matches!(
                    self.tok(i + 1).map(|n| n.tok),
                    Some(Tok::Punct(b'+' | b'.' | b'?' | b'*' | b'['))
                );
                let hint = if !q.closed || q.escaped {
                    Hint::Unreadable
                } else if q.interpolated || joined {
                    Hint::Dynamic
                } else {
                    Hint::Image
                };
                self.push(t.span.clone(), hint, context);
            }
            Tok::Ident => {
                if matches!(self.ident(i), Some("true" | "false" | "null")) {
                    return;
                }
                // `a.b.c`: the whole name.
                let mut end = i;
                while self.is(end + 1, Tok::Punct(b'.')) && self.ident(end + 2).is_some() {
                    end += 2;
                }
                let span = t.span.start..self.toks[end].span.end;
                self.push(span, Hint::Dynamic, context);
            }
            _ => {}
        }
    }

    fn push(&mut self, span: Range<usize>, hint: Hint, context: &str) {
        let Some(s) = self.text.get(span.clone()) else {
            return;
        };
        if s.trim().is_empty() {
            return;
        }
        self.found.push(Occurrence::new(span, hint, context));
    }

    /// A pod's YAML in a string literal at `i`: the Kubernetes scanner's
    /// finds, mapped back into the file.
    fn pod_yaml(&mut self, i: usize) {
        let Some(t) = self.tok(i) else { return };
        let Tok::Str(q) = t.tok else { return };
        if !q.closed {
            return;
        }
        let Some(yaml) = self.text.get(t.span.clone()) else {
            return;
        };
        // Read as written: an escape or an interpolation elsewhere in the
        // string leaves a reference written without one as it is. One
        // written with an escape can't be pinned in place; one written with
        // `${…}` is dynamic (the grammar check sees the `$`).
        for o in pod_images(yaml) {
            let hint = match yaml.get(o.span.clone()) {
                Some(r) if q.escaped && r.contains('\\') => Hint::Unreadable,
                _ => o.hint,
            };
            let span = o.span.start + t.span.start..o.span.end + t.span.start;
            let context = format!("yaml: {}", o.context);
            self.found.push(Occurrence::new(span, hint, context));
        }
    }
}

/// The context of the named argument `image:` of `call`.
fn named_image_context(call: &str) -> String {
    match call {
        "docker" | "dockerContainer" => "agent.docker.image".to_string(),
        other => format!("{other}.image"),
    }
}

/// The Kubernetes scanner's finds in a pod's YAML, spans relative to `yaml`.
/// The Kubernetes plugin takes YAML without `apiVersion`/`kind` as a Pod;
/// such text is read behind those two lines (at its own indentation), and
/// the spans shifted back. Text that is not valid YAML gives nothing (the
/// plugin rejects it too). Findings that carry parts written apart (`split`)
/// are kept whole only when their span is all there is to rewrite.
fn pod_images(yaml: &str) -> Vec<Occurrence> {
    let names_kind = yaml
        .lines()
        .any(|l| l.trim_start().starts_with("kind:"));
    let (body, shift, prefix_len) = if names_kind {
        (yaml.to_string(), 0, 0)
    } else {
        // The first line with text sets the indentation.
        let mut at = 0;
        let mut indent = "";
        for line in yaml.split_inclusive('\n') {
            let trimmed = line.trim_start_matches([' ', '\t']);
            if !trimmed.trim().is_empty() {
                indent = &line[..line.len() - trimmed.len()];
                break;
            }
            at += line.len();
        }
        let prefix = format!("{indent}apiVersion: v1\n{indent}kind: Pod\n");
        let body = format!("{prefix}{}", &yaml[at..]);
        (body, at, prefix.len())
    };
    let Ok(found) = super::kubernetes::scan(&body) else {
        return Vec::new();
    };
    found
        .into_iter()
        .filter(|o| o.split.is_none() && o.span.start >= prefix_len)
        .map(|mut o| {
            o.span = o.span.start - prefix_len + shift..o.span.end - prefix_len + shift;
            o
        })
        .filter(|o| yaml.get(o.span.clone()).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::test_helpers::found;

    fn kind() -> FileKind {
        KIND.id
    }

    fn show(text: &str) -> Vec<(&str, Hint, String)> {
        found(kind(), text)
    }

    #[test]
    fn names() {
        let yes = [
            "Jenkinsfile",
            "ci/jenkinsfile",
            "Jenkinsfile.release",
            "Jenkinsfile.groovy",
            "nightly.Jenkinsfile",
            "x.jenkinsfile",
            "jenkins/build.groovy",
            ".jenkins/deploy.groovy",
            "lib/vars/buildImage.groovy",
        ];
        for n in yes {
            assert!(is_jenkins_name(Path::new(n)), "{n}");
        }
        let no = [
            "Jenkinsfile.md",
            "src/scan/jenkinsfile.rs",
            "jenkinsfile.py",
            "Jenkinsfile.yaml",
            "Jenkinsfile.",
            "Jenkinsfiles",
            "src/main/groovy/App.groovy",
            "jenkins/README.md",
            "build.gradle",
        ];
        for n in no {
            assert!(!is_jenkins_name(Path::new(n)), "{n}");
        }
    }

    #[test]
    fn the_briefs_example() {
        let t = r#"pipeline {
  agent { docker { image 'maven:3.9-eclipse-temurin-17'; args '-v /tmp:/tmp' } }
  stages {
    stage('lint') { agent { docker 'golangci/golangci-lint:v1.59' } steps { sh 'make lint' } }
    stage('b') { agent { dockerfile true } steps { sh "echo ${env.IMAGE}" } }   // dockerfile agent
  }
}
node {
  docker.image('node:20').inside { sh 'npm test' }
  def img = docker.image("postgres:${PG_VERSION}")
  docker.build("myorg/app:${env.BUILD_ID}")
}
podTemplate(containers: [
  containerTemplate(name: 'maven', image: 'maven:3.9.6-eclipse-temurin-17', command: 'sleep', args: '99d'),
]) { node(POD_LABEL) { } }
"#;
        assert_eq!(
            show(t),
            [
                (
                    "maven:3.9-eclipse-temurin-17",
                    Hint::Image,
                    "agent.docker.image".into()
                ),
                (
                    "golangci/golangci-lint:v1.59",
                    Hint::Image,
                    "agent.docker".into()
                ),
                ("node:20", Hint::Image, "docker.image".into()),
                (
                    "postgres:${PG_VERSION}",
                    Hint::Dynamic,
                    "docker.image".into()
                ),
                (
                    "maven:3.9.6-eclipse-temurin-17",
                    Hint::Image,
                    "containerTemplate.image".into()
                ),
            ]
        );
    }

    #[test]
    fn agent_forms() {
        let refs = |t| {
            show(t)
                .into_iter()
                .map(|(r, h, _)| (r, h))
                .collect::<Vec<_>>()
        };
        let img = |r| vec![(r, Hint::Image)];
        assert_eq!(refs("agent { docker { image('a:1') } }"), img("a:1"));
        assert_eq!(refs("agent { docker { image \"a:1\" } }"), img("a:1"));
        assert_eq!(refs("agent {\n docker {\n  label 'x'\n  image 'a:1'\n }\n}"), img("a:1"));
        assert_eq!(refs("agent { docker('a:1') }"), img("a:1"));
        assert_eq!(refs("agent { docker(image: 'a:1', args: '-u 0') }"), img("a:1"));
        assert_eq!(refs("agent {\n docker image: 'a:1', args: '-u 0'\n}"), img("a:1"));
        assert_eq!(refs("agent { dockerContainer { image 'a:1' } }"), img("a:1"));
        assert_eq!(refs("agent { dockerContainer 'a:1' }"), img("a:1"));
        // Not an agent's docker: nothing.
        assert_eq!(refs("steps { docker { image 'a:1' } }"), []);
        assert_eq!(refs("docker 'a:1'"), []);
        assert_eq!(refs("agent { dockerfile { filename 'a:1' } }"), []);
        assert_eq!(refs("agent { dockerfile true }"), []);
        assert_eq!(refs("agent { docker { image } }"), []);
    }

    #[test]
    fn scripted_forms() {
        let refs = |t| show(t).into_iter().map(|(r, h, _)| (r, h)).collect::<Vec<_>>();
        assert_eq!(
            refs("docker.image('a:1').pull()\ndocker.image(\"b:2\").withRun('-p 1:1') { c -> }\ndocker.image 'c:3'"),
            [("a:1", Hint::Image), ("b:2", Hint::Image), ("c:3", Hint::Image)]
        );
        assert_eq!(
            refs("withDockerContainer('a:1') { }\nwithDockerContainer(image: 'b:2', args: '') { }\ndockerNode(image: 'c:3') { }"),
            [("a:1", Hint::Image), ("b:2", Hint::Image), ("c:3", Hint::Image)]
        );
        assert_eq!(
            refs("def i = docker.build('me/app:1')\ndocker.withRegistry('https://r.example', 'cred') { i.push() }"),
            []
        );
        assert_eq!(refs("docker.image(IMAGE).inside { }"), [("IMAGE", Hint::Dynamic)]);
        assert_eq!(
            refs("docker.image(params.IMG)"),
            [("params.IMG", Hint::Dynamic)]
        );
        assert_eq!(
            refs("docker.image('node:' + ver)"),
            [("node:", Hint::Dynamic)]
        );
        assert_eq!(refs("docker.image(\"$IMG\")"), [("$IMG", Hint::Dynamic)]);
        assert_eq!(refs("docker.image(/a:1/)"), [("a:1", Hint::Dynamic)]);
        assert_eq!(refs("docker.image('a\\:1')"), [("a\\:1", Hint::Unreadable)]);
        // A method named `image` on something else.
        assert_eq!(refs("foo.image('a:1')\nimage('b:2')"), []);
    }

    #[test]
    fn container_templates() {
        let refs = |t| show(t).into_iter().map(|(r, _, _)| r).collect::<Vec<_>>();
        assert_eq!(
            refs("podTemplate(containers: [containerTemplate(name: 'a', image: 'a:1'), containerTemplate(image: \"b:2\", name: 'b')])"),
            ["a:1", "b:2"]
        );
        assert_eq!(
            refs("containers: [\n  containerTemplate name: 'a',\n    image: 'a:1',\n    command: 'cat'\n]\nimage: 'not:me'"),
            ["a:1"]
        );
        assert_eq!(
            refs("kubernetes {\n containerTemplate {\n  name 'x'\n  image 'a:1'\n }\n}"),
            ["a:1"]
        );
        // `image:` of other calls is not an image.
        assert_eq!(refs("foo(image: 'a:1')\nx = [image: 'b:2']"), Vec::<&str>::new());
    }

    #[test]
    fn strings_elsewhere_are_never_read() {
        let t = r#"
// docker.image('comment:1')
/* agent { docker 'block:1' } */
sh '''
  docker.image('script:1')
  docker run alpine:3
'''
sh "docker pull ${'x'} && echo \"docker.image('esc:1')\""
echo 'containerTemplate(image: "echo:1")'
def s = """
agent { docker 'gstring:1' }
"""
docker.image('real:1')
"#;
        let r: Vec<&str> = show(t).into_iter().map(|(r, _, _)| r).collect();
        assert_eq!(r, ["real:1"]);
    }

    #[test]
    fn pod_yaml_is_read_by_the_kubernetes_scanner() {
        let t = "pipeline {\n  agent {\n    kubernetes {\n      yaml '''\n        spec:\n          containers:\n          - name: maven\n            image: maven:3.9\n          - name: go\n            image: \"golang:1.23\"\n        '''\n    }\n  }\n}\npodTemplate(yaml: '''\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: alpine:3.20\n''') {}\n";
        let r: Vec<(&str, Hint)> = show(t).into_iter().map(|(r, h, _)| (r, h)).collect();
        assert_eq!(
            r,
            [
                ("maven:3.9", Hint::Image),
                ("golang:1.23", Hint::Image),
                ("alpine:3.20", Hint::Image)
            ]
        );
        // A GString's interpolation is dynamic, the rest read as written;
        // an escape in a reference can't be pinned in place.
        let t = "kubernetes { yaml \"\"\"\nspec:\n  containers:\n  - image: ${x}\n  - image: a:1\n    args: ['\\n']\n  - image: b\\:2\n\"\"\" }";
        let r: Vec<(&str, Hint)> = show(t).into_iter().map(|(r, h, _)| (r, h)).collect();
        assert_eq!(
            r,
            [
                ("${x}", Hint::Image),
                ("a:1", Hint::Image),
                ("b\\:2", Hint::Unreadable)
            ]
        );
        let status = crate::scan::classify(Hint::Image, "${x}").0;
        assert_eq!(status, crate::finding::Status::Dynamic);
    }

    #[test]
    fn hostile_input_is_bounded() {
        let deep = "agent {".repeat(50_000) + &"}".repeat(10);
        assert!(show(&deep).is_empty());
        let closes = "})]".repeat(10_000) + "docker.image('a:1')";
        assert_eq!(show(&closes).len(), 1);
        let parens = "(/".repeat(50_000);
        assert!(show(&parens).is_empty());
        let gstrings = "\"${\"".repeat(20_000);
        assert!(show(&gstrings).is_empty());
        let long = format!("docker.image('{}:1')", "a".repeat(1 << 20));
        assert_eq!(show(&long).len(), 1);
        let unclosed = format!("/* {}", "docker.image('a:1') ".repeat(50_000));
        assert!(show(&unclosed).is_empty());
        for cut in ["agent { docker '", "docker.image(\"${", "/*", "'''", "$/"] {
            let _ = show(cut);
        }
        assert_eq!(
            show("docker.image('a:1"),
            [("a:1", Hint::Unreadable, "docker.image".into())]
        );
    }
}
