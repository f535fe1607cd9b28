//! `imagepin init`: the starting configuration (a commented
//! `.imagepin.toml` with only keys imagepin knows) and the pre-commit and
//! CI snippets it prints. The snippets are the README's own (a test checks
//! the README contains each one verbatim), so they can't drift apart.

/// The `.imagepin.toml` that `init` writes. Every setting is commented out;
/// uncommented, each one parses (tested).
pub const CONFIG: &str = r#"# imagepin configuration: https://github.com/imagepin/imagepin#configuration
# Every setting is optional. Uncomment and edit what you need; globs are
# relative to this file.

# Globs that are never scanned, even when a file is named on the command line.
# exclude = ["vendor/**", "testdata/**"]

# References reported as `ignored` (matched as written, or by the normalized
# name such as docker.io/library/python).
# ignore-images = ["localhost:5000/*"]

# How long a resolved tag -> digest is reused before asking the registry again.
# cache-ttl = "1h"
# credential-helper-timeout = "10s"

# Files whose names don't reveal their kind.
# [[files]]
# glob = "deploy/**/*.yaml"
# kind = "kubernetes"

# Declared exceptions: unpinned references these rules cover are `allowed`
# (listed in JSON, never failing, never pinned by --fix) until `expires`
# (YYYY-MM-DD; after it they fail again). `reason` is required.
# [[allow]]
# paths = ["docker-compose.override.yml", "compose.override.yaml"]
# reason = "local development overrides float on purpose"
# expires = "2027-06-30"
#
# [[allow]]
# paths = ["test/**"]
# images = ["testcontainers/*"]
# reason = "unit-test images float"

# Per-registry settings, keyed by the host as written in references
# (`docker.io` also covers references with no domain).
# [registries."registry.internal:5000"]
# endpoint = "https://mirror.example.com"
# ca-file = "certs/internal-ca.pem"
# concurrency = 4
"#;

/// README "Pre-commit": `.pre-commit-config.yaml`.
pub(crate) const PRE_COMMIT: &str = "ci:
  skip: [imagepin]        # pre-commit.ci has no network; imagepin-check needs none
repos:
  - repo: https://github.com/imagepin/imagepin
    rev: v0.2.0           # a released tag (or its commit SHA)
    hooks:
      - id: imagepin          # pins unpinned images (--fix); fails when it changed files
      # - id: imagepin-check  # only reports (--check)
";

/// README "GitHub Actions": a job running the Action.
pub(crate) const GITHUB_ACTIONS: &str = "jobs:
  imagepin:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - uses: imagepin/imagepin@v0.2.0   # better: the tag's full commit SHA
";

/// README "GitLab CI": the template include.
pub(crate) const GITLAB_CI: &str = "include:
  - remote: https://raw.githubusercontent.com/imagepin/imagepin/v0.2.0/ci/imagepin.gitlab-ci.yml

imagepin:                   # optional overrides
  variables:
    IMAGEPIN_PATHS: \".\"     # space-separated
    IMAGEPIN_ARGS: \"\"       # e.g. \"--verify\"
";

/// Which CI a repository uses, from what it has at its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CiSeen {
    pub github: bool,
    pub gitlab: bool,
}

impl CiSeen {
    /// `.github/` and `.gitlab-ci.yml` at `root`.
    pub fn at(root: &std::path::Path) -> CiSeen {
        CiSeen {
            github: root.join(".github").is_dir(),
            gitlab: root.join(".gitlab-ci.yml").is_file(),
        }
    }
}

/// What `init` prints: the pre-commit snippet, then the CI snippet of each
/// CI the repository uses (both when it shows neither).
pub fn snippets(ci: CiSeen) -> String {
    let both = !ci.github && !ci.gitlab;
    let mut out = format!("# Add to .pre-commit-config.yaml:\n{PRE_COMMIT}");
    if ci.github || both {
        out.push_str(&format!(
            "\n# GitHub Actions, e.g. .github/workflows/imagepin.yml:\n{GITHUB_ACTIONS}"
        ));
    }
    if ci.gitlab || both {
        out.push_str(&format!("\n# GitLab CI, in .gitlab-ci.yml:\n{GITLAB_CI}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const README: &str = include_str!("../README.md");

    #[test]
    fn the_snippets_are_the_readmes() {
        for s in [PRE_COMMIT, GITHUB_ACTIONS, GITLAB_CI] {
            assert!(
                README.contains(&format!("```yaml\n{s}```\n")),
                "README.md has no yaml block that is exactly:\n{s}"
            );
        }
    }

    #[test]
    fn the_config_parses_commented_and_with_every_setting_uncommented() {
        let path = Path::new(".imagepin.toml");
        crate::config::Config::parse(CONFIG, path, Path::new("/r")).unwrap();
        // A setting is a commented line that starts a table or a `key =`.
        let setting = |l: &str| {
            l.strip_prefix("# ").is_some_and(|rest| {
                rest.starts_with('[')
                    || rest.split_once(" = ").is_some_and(|(k, _)| {
                        k.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                    })
            })
        };
        let uncommented: String = CONFIG
            .lines()
            .map(|l| if setting(l) { &l[2..] } else { l })
            .map(|l| format!("{l}\n"))
            .collect();
        let n = CONFIG.lines().filter(|l| setting(l)).count();
        assert!(n >= 18, "{n} settings:\n{uncommented}");
        let config = crate::config::Config::parse(&uncommented, path, Path::new("/r"))
            .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert_eq!(config.registries.len(), 1);
        assert!(config.is_excluded(Path::new("/r/vendor/x/Dockerfile")));
    }

    #[test]
    fn snippets_follow_the_ci_in_use() {
        let gh = snippets(CiSeen {
            github: true,
            gitlab: false,
        });
        assert!(gh.contains(GITHUB_ACTIONS) && !gh.contains(GITLAB_CI) && gh.contains(PRE_COMMIT));
        let gl = snippets(CiSeen {
            github: false,
            gitlab: true,
        });
        assert!(gl.contains(GITLAB_CI) && !gl.contains(GITHUB_ACTIONS));
        let none = snippets(CiSeen {
            github: false,
            gitlab: false,
        });
        assert!(none.contains(GITLAB_CI) && none.contains(GITHUB_ACTIONS));
    }
}
