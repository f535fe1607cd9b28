//! Registry credentials from the files Docker and podman write:
//! `$REGISTRY_AUTH_FILE`, Docker's `$DOCKER_CONFIG/config.json` (or
//! `~/.docker/config.json`), `$DOCKER_AUTH_CONFIG` (the JSON text of a Docker
//! config, as GitLab runners pass it), and podman's
//! `$XDG_RUNTIME_DIR/containers/auth.json`.
//! Understands `auths` (base64 `auth`, `username`/`password`,
//! `identitytoken`), `credsStore` and `credHelpers` (running
//! `docker-credential-<name> get` with a timeout). Secrets never reach
//! `Debug`, messages or logs; only the source is named.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::error::RegistryError;
use crate::reference::DOCKER_HUB;

/// The key Docker uses for Docker Hub in credential stores and `auths`.
pub(crate) const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The environment variable holding a Docker config's JSON text.
pub(crate) const DOCKER_AUTH_CONFIG: &str = "DOCKER_AUTH_CONFIG";
/// The environment variable naming the mirrors (endpoint `host[:port]`,
/// comma-separated) that may receive the credentials stored for the
/// registry they are configured for. Outside the repository on purpose.
pub(crate) const TRUST_MIRROR_ENV: &str = "IMAGEPIN_TRUST_MIRROR_CREDENTIALS";
/// Auth files larger than this are refused (real ones are a few KiB).
pub(crate) const MAX_AUTH_FILE_BYTES: u64 = 4 << 20;
/// A credential helper's answer is read up to this size.
const MAX_HELPER_OUTPUT_BYTES: u64 = 1 << 20;

/// Text that may hold secrets: `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretText(pub String);

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The parts of the process environment the resolver reads.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub docker_config: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub registry_auth_file: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_cache_home: Option<PathBuf>,
    /// `PATH`, to find `docker-credential-*` helpers.
    pub path: Option<OsString>,
    /// `$DOCKER_AUTH_CONFIG`: a Docker config's JSON text.
    pub docker_auth_config: Option<SecretText>,
    /// `$IMAGEPIN_TRUST_MIRROR_CREDENTIALS`: endpoint `host[:port]`s
    /// (lowercase) that may use the credentials of the registry they mirror.
    pub trusted_mirrors: Vec<String>,
}

/// Where credentials are looked for, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSource {
    File(PathBuf),
    /// `$DOCKER_AUTH_CONFIG`.
    EnvText,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Env {
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
            registry_auth_file: var("REGISTRY_AUTH_FILE").map(PathBuf::from),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            xdg_cache_home: var("XDG_CACHE_HOME").map(PathBuf::from),
            path: var("PATH"),
            docker_auth_config: std::env::var(DOCKER_AUTH_CONFIG)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(SecretText),
            trusted_mirrors: std::env::var(TRUST_MIRROR_ENV)
                .map(|v| parse_trusted_mirrors(&v))
                .unwrap_or_default(),
        }
    }

    /// Whether the user allowed the mirror `endpoint_host` (`host[:port]`)
    /// to receive the credentials of the registry it stands in for.
    pub fn trusts_mirror(&self, endpoint_host: &str) -> bool {
        let h = endpoint_host.to_ascii_lowercase();
        self.trusted_mirrors.contains(&h)
    }

    /// The credential sources, in order of precedence: `$REGISTRY_AUTH_FILE`,
    /// Docker's config file, `$DOCKER_AUTH_CONFIG`, podman's auth file.
    pub fn auth_sources(&self) -> Vec<AuthSource> {
        let mut files = self.auth_files().into_iter();
        let mut out = Vec::new();
        if self.registry_auth_file.is_some() {
            out.extend(files.next().map(AuthSource::File));
        }
        if self.docker_config.is_some() || self.home.is_some() {
            out.extend(files.next().map(AuthSource::File));
        }
        if self.docker_auth_config.is_some() {
            out.push(AuthSource::EnvText);
        }
        out.extend(files.map(AuthSource::File));
        out
    }

    /// The auth files to consult, in order of precedence.
    pub fn auth_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        if let Some(f) = &self.registry_auth_file {
            files.push(f.clone());
        }
        if let Some(d) = &self.docker_config {
            files.push(d.join("config.json"));
        } else if let Some(h) = &self.home {
            files.push(h.join(".docker").join("config.json"));
        }
        if let Some(r) = &self.xdg_runtime_dir {
            files.push(r.join("containers").join("auth.json"));
        }
        files
    }
}

/// A secret for one registry. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Secret {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user).
    IdentityToken {
        token: String,
    },
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Secret::IdentityToken { .. } => f
                .debug_struct("IdentityToken")
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

/// Credentials and where they came from (for messages: a file and key, or a helper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub secret: Secret,
    pub source: String,
}

#[derive(Deserialize, Default)]
struct AuthFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// The host a config key names: `https://index.docker.io/v1/` → `docker.io`,
/// `https://ghcr.io` → `ghcr.io`, `quay.io/org` → `quay.io`.
pub(crate) fn key_host(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_string()
        }
        _ => host,
    }
}

/// The server URL given to a credential helper for `registry`.
pub(crate) fn helper_server_url(registry: &str) -> String {
    if registry == DOCKER_HUB {
        DOCKER_HUB_KEY.to_string()
    } else {
        registry.to_string()
    }
}

/// `IMAGEPIN_TRUST_MIRROR_CREDENTIALS`: `host[:port]` entries separated by
/// commas or spaces; a URL's scheme and path are ignored.
pub(crate) fn parse_trusted_mirrors(value: &str) -> Vec<String> {
    value
        .split([',', ' ', '\t', '\n'])
        .map(|e| {
            let e = e.trim();
            let e = e.split_once("://").map_or(e, |(_, rest)| rest);
            e.split('/').next().unwrap_or(e).to_ascii_lowercase()
        })
        .filter(|e| !e.is_empty())
        .collect()
}

/// Where credentials were looked for, for "no credentials" messages.
pub(crate) fn searched(env: &Env) -> String {
    let files: Vec<String> = env
        .auth_sources()
        .iter()
        .map(|s| match s {
            AuthSource::File(p) => p.display().to_string(),
            AuthSource::EnvText => DOCKER_AUTH_CONFIG.to_string(),
        })
        .collect();
    if files.is_empty() {
        "no auth file (HOME and DOCKER_CONFIG are unset)".to_string()
    } else {
        files.join(", ")
    }
}

/// Finds credentials for `registry` (a normalized host: `docker.io`,
/// `ghcr.io`). The first file with an answer wins. `Ok(None)` when nothing
/// is configured; errors name the file or the helper, never a secret.
pub(crate) async fn lookup(
    env: &Env,
    registry: &str,
    timeout: Duration,
) -> Result<Option<Found>, RegistryError> {
    for source in env.auth_sources() {
        let (file, origin) = match &source {
            AuthSource::File(path) => match read_auth_file(path)? {
                Some(f) => (f, path.display().to_string()),
                None => continue,
            },
            AuthSource::EnvText => {
                let text = env.docker_auth_config.as_ref().map_or("", |t| t.0.as_str());
                match parse_auth_text(text.as_bytes(), DOCKER_AUTH_CONFIG)? {
                    Some(f) => (f, DOCKER_AUTH_CONFIG.to_string()),
                    None => continue,
                }
            }
        };
        if let Some(found) = lookup_in(&file, &origin, env, registry, timeout).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn read_auth_file(path: &Path) -> Result<Option<AuthFile>, RegistryError> {
    if std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Ok(None);
    }
    let text = crate::fsio::read_regular_file(path, MAX_AUTH_FILE_BYTES)
        .map_err(|e| RegistryError::credentials(format!("{}: {e}", path.display())))?;
    parse_auth_text(&text, &path.display().to_string())
}

/// An auth file's JSON (`None` when blank); errors name `origin`, never
/// the content.
fn parse_auth_text(text: &[u8], origin: &str) -> Result<Option<AuthFile>, RegistryError> {
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(text).map(Some).map_err(|e| {
        RegistryError::credentials(format!(
            "{origin}: not a valid Docker auth config (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

async fn lookup_in(
    file: &AuthFile,
    origin: &str,
    env: &Env,
    registry: &str,
    timeout: Duration,
) -> Result<Option<Found>, RegistryError> {
    let server = helper_server_url(registry);
    if let Some(helper) = file
        .cred_helpers
        .iter()
        .filter(|(k, _)| key_host(k) == registry)
        .map(|(_, v)| v)
        .min()
    {
        return run_helper(env, helper, &server, timeout, true).await;
    }
    if let Some(store) = file.creds_store.as_deref().filter(|s| !s.is_empty()) {
        if let Some(found) = run_helper(env, store, &server, timeout, false).await? {
            return Ok(Some(found));
        }
    }
    // Prefer an exact host key over a namespaced one (`quay.io/org`).
    let mut best: Option<(&String, &AuthEntry)> = None;
    for (k, e) in &file.auths {
        if key_host(k) != registry {
            continue;
        }
        let specific = |k: &str| {
            k.strip_prefix("https://")
                .or_else(|| k.strip_prefix("http://"))
                .unwrap_or(k)
                .trim_end_matches('/')
                .contains('/')
                && !k.contains("index.docker.io/v1")
        };
        let better = match best {
            None => true,
            Some((bk, _)) => (specific(bk), bk.as_str()) > (specific(k), k.as_str()),
        };
        if better && entry_secret(e).is_some() {
            best = Some((k, e));
        }
    }
    Ok(best.and_then(|(k, e)| {
        entry_secret(e).map(|secret| Found {
            secret,
            source: format!("{origin} (auths.\"{k}\")"),
        })
    }))
}

fn entry_secret(e: &AuthEntry) -> Option<Secret> {
    let (mut user, mut pass) = (e.username.clone(), e.password.clone());
    if let Some(a) = e.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(a.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok());
        if let Some((u, p)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            user = Some(u.to_string());
            pass = Some(p.to_string());
        }
    }
    if let Some(t) = e.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Some(Secret::IdentityToken {
            token: t.to_string(),
        });
    }
    match (user, pass) {
        (Some(username), Some(password)) if !username.is_empty() => {
            Some(Secret::Basic { username, password })
        }
        _ => None,
    }
}

fn find_program(env: &Env, name: &str) -> Option<PathBuf> {
    let path = env.path.as_ref()?;
    std::env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `docker-credential-<helper> get` with `server` on stdin. A helper
/// that does not answer within `timeout` is killed and reported. With
/// `required` false (a `credsStore`), a helper that is not installed means
/// "no credentials" rather than an error.
pub(crate) async fn run_helper(
    env: &Env,
    helper: &str,
    server: &str,
    timeout: Duration,
    required: bool,
) -> Result<Option<Found>, RegistryError> {
    let name = format!("docker-credential-{helper}");
    let Some(program) = find_program(env, &name) else {
        return if required {
            Err(RegistryError::credentials(format!(
                "credential helper {name} (credHelpers) is not installed or not on PATH"
            )))
        } else {
            Ok(None)
        };
    };
    let mut child = tokio::process::Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            RegistryError::credentials(format!("cannot run credential helper {name}: {e}"))
        })?;
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let talk = async {
        if let Some(mut s) = stdin.take() {
            // A helper may exit without reading; that is not our error.
            let _ = s.write_all(server.as_bytes()).await;
            let _ = s.shutdown().await;
        }
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(o) = stdout.take() {
            let _ = o.take(MAX_HELPER_OUTPUT_BYTES).read_to_end(&mut out).await;
        }
        if let Some(e) = stderr.take() {
            let _ = e.take(MAX_HELPER_OUTPUT_BYTES).read_to_end(&mut err).await;
        }
        let status = child.wait().await;
        (status, out, err)
    };
    let (status, out, err) = match tokio::time::timeout(timeout, talk).await {
        Ok(r) => r,
        Err(_) => {
            // `talk` (and with it the child, kill_on_drop) is dropped here.
            return Err(RegistryError::credentials(format!(
                "credential helper {name} did not answer within {} s and was killed \
                 (credential-helper-timeout in .imagepin.toml)",
                timeout.as_secs_f64()
            )));
        }
    };
    let status =
        status.map_err(|e| RegistryError::credentials(format!("credential helper {name}: {e}")))?;
    let text = String::from_utf8_lossy(&out);
    if !status.success() {
        let msg = format!("{}{}", text, String::from_utf8_lossy(&err));
        if msg.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        let first: String = msg
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        return Err(RegistryError::credentials(format!(
            "credential helper {name} failed ({status}){}",
            if first.is_empty() {
                String::new()
            } else {
                format!(": {first}")
            }
        )));
    }
    let answer: HelperAnswer = serde_json::from_str(text.trim()).map_err(|_| {
        RegistryError::credentials(format!("credential helper {name} printed something that is not {{\"Username\", \"Secret\"}} JSON"))
    })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    let source = format!("credential helper {name}");
    let secret = if answer.username == "<token>" {
        Secret::IdentityToken {
            token: answer.secret,
        }
    } else {
        Secret::Basic {
            username: answer.username,
            password: answer.secret,
        }
    };
    Ok(Some(Found { secret, source }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::ErrorKind;
    use std::os::unix::fs::PermissionsExt;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn env_with(dir: &Path, config: &str) -> Env {
        std::fs::write(dir.join("config.json"), config).unwrap();
        Env {
            docker_config: Some(dir.to_path_buf()),
            path: Some(dir.as_os_str().to_owned()),
            ..Env::default()
        }
    }

    fn helper(dir: &Path, name: &str, script: &str) {
        let p = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn auths_base64_and_docker_hub_key() {
        let d = tempfile::tempdir().unwrap();
        let cfg = format!(
            r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}},
                "ghcr.io": {{"auth": "{}"}}, "empty.io": {{}}}}}}"#,
            b64("hubuser:hubpass"),
            b64("gh:tok:with:colons")
        );
        let env = env_with(d.path(), &cfg);
        let f = lookup(&env, "docker.io", T).await.unwrap().unwrap();
        assert_eq!(
            f.secret,
            Secret::Basic {
                username: "hubuser".into(),
                password: "hubpass".into()
            }
        );
        assert!(f.source.contains("config.json"), "{}", f.source);
        assert!(!f.source.contains("hubpass"));
        let f = lookup(&env, "ghcr.io", T).await.unwrap().unwrap();
        assert_eq!(
            f.secret,
            Secret::Basic {
                username: "gh".into(),
                password: "tok:with:colons".into()
            }
        );
        assert_eq!(lookup(&env, "empty.io", T).await.unwrap(), None);
        assert_eq!(lookup(&env, "quay.io", T).await.unwrap(), None);
    }

    #[tokio::test]
    async fn identitytoken_wins_over_auth() {
        let d = tempfile::tempdir().unwrap();
        let cfg = format!(
            r#"{{"auths": {{"https://myreg.example.com": {{"auth": "{}", "identitytoken": "refresh-me"}}}}}}"#,
            b64("u:p")
        );
        let env = env_with(d.path(), &cfg);
        let f = lookup(&env, "myreg.example.com", T).await.unwrap().unwrap();
        assert_eq!(
            f.secret,
            Secret::IdentityToken {
                token: "refresh-me".into()
            }
        );
        assert!(!format!("{f:?}").contains("refresh-me"));
    }

    #[tokio::test]
    async fn cred_helpers_get_the_server_url_on_stdin() {
        let d = tempfile::tempdir().unwrap();
        // Echoes the server URL back as the username, to check what it was given.
        helper(
            d.path(),
            "echo",
            r#"read url; printf '{"ServerURL":"%s","Username":"%s","Secret":"s3"}' "$url" "$url""#,
        );
        let env = env_with(
            d.path(),
            r#"{"credHelpers": {"https://index.docker.io/v1/": "echo", "ghcr.io": "echo"},
                "auths": {"ghcr.io": {"auth": "Zm9vOmJhcg=="}}}"#,
        );
        let f = lookup(&env, "docker.io", T).await.unwrap().unwrap();
        assert_eq!(
            f.secret,
            Secret::Basic {
                username: DOCKER_HUB_KEY.into(),
                password: "s3".into()
            }
        );
        assert_eq!(f.source, "credential helper docker-credential-echo");
        let f = lookup(&env, "ghcr.io", T).await.unwrap().unwrap();
        assert_eq!(
            f.secret,
            Secret::Basic {
                username: "ghcr.io".into(),
                password: "s3".into()
            }
        );
    }

    #[tokio::test]
    async fn creds_store_token_user_and_not_found_fallback() {
        let d = tempfile::tempdir().unwrap();
        helper(
            d.path(),
            "store",
            r#"read url
case "$url" in
  tok.io) echo '{"Username":"<token>","Secret":"idt"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac"#,
        );
        let env = env_with(
            d.path(),
            &format!(
                r#"{{"credsStore": "store", "auths": {{"file.io": {{"auth": "{}"}}}}}}"#,
                b64("fu:fp")
            ),
        );
        let f = lookup(&env, "tok.io", T).await.unwrap().unwrap();
        assert_eq!(
            f.secret,
            Secret::IdentityToken {
                token: "idt".into()
            }
        );
        let f = lookup(&env, "file.io", T).await.unwrap().unwrap();
        assert!(f.source.contains("auths"), "{}", f.source);
        assert_eq!(lookup(&env, "none.io", T).await.unwrap(), None);
    }

    #[tokio::test]
    async fn hanging_helper_is_killed_and_reported() {
        let d = tempfile::tempdir().unwrap();
        let pidfile = d.path().join("pid");
        helper(
            d.path(),
            "hang",
            &format!("echo $$ > {}\nexec sleep 30", pidfile.display()),
        );
        let env = env_with(d.path(), r#"{"credHelpers": {"slow.io": "hang"}}"#);
        let start = std::time::Instant::now();
        let e = lookup(&env, "slow.io", Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(
            e.message.contains("docker-credential-hang") && e.message.contains("killed"),
            "{e}"
        );
        assert_eq!(e.kind, ErrorKind::Credentials, "{e}");
        // The helper process is gone (killed, then reaped by tokio).
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
        let mut gone = false;
        for _ in 0..50 {
            let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
            if state.is_empty() || state.contains(") Z") {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(gone, "helper still running");
    }

    #[tokio::test]
    async fn failing_or_missing_helpers() {
        let d = tempfile::tempdir().unwrap();
        helper(d.path(), "broken", "echo 'boom' >&2; exit 3");
        let env = env_with(
            d.path(),
            r#"{"credHelpers": {"b.io": "broken", "m.io": "missing"}, "credsStore": "absent"}"#,
        );
        let e = lookup(&env, "b.io", T).await.unwrap_err();
        assert!(
            e.message.contains("docker-credential-broken") && e.message.contains("boom"),
            "{e}"
        );
        assert_eq!(e.kind, ErrorKind::Credentials, "{e}");
        let e = lookup(&env, "m.io", T).await.unwrap_err();
        assert!(e.message.contains("not installed"), "{e}");
        assert_eq!(e.kind, ErrorKind::Credentials, "{e}");
        // A credsStore that is not installed means no credentials.
        assert_eq!(lookup(&env, "other.io", T).await.unwrap(), None);
    }

    #[tokio::test]
    async fn podman_files_and_precedence() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("run");
        std::fs::create_dir_all(run.join("containers")).unwrap();
        std::fs::write(
            run.join("containers/auth.json"),
            format!(
                r#"{{"auths": {{"quay.io": {{"auth": "{}"}}, "quay.io/org": {{"auth": "{}"}}, "ghcr.io": {{"auth": "{}"}}}}}}"#,
                b64("q:1"),
                b64("qorg:2"),
                b64("podman:3")
            ),
        )
        .unwrap();
        let explicit = d.path().join("explicit.json");
        std::fs::write(
            &explicit,
            format!(
                r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
                b64("ex:4")
            ),
        )
        .unwrap();
        let env = Env {
            home: Some(d.path().join("nohome")),
            xdg_runtime_dir: Some(run),
            ..Env::default()
        };
        let f = lookup(&env, "quay.io", T).await.unwrap().unwrap();
        assert_eq!(
            f.secret,
            Secret::Basic {
                username: "q".into(),
                password: "1".into()
            }
        );
        let f = lookup(&env, "ghcr.io", T).await.unwrap().unwrap();
        assert!(matches!(f.secret, Secret::Basic { ref username, .. } if username == "podman"));
        let env = Env {
            registry_auth_file: Some(explicit),
            ..env
        };
        let f = lookup(&env, "ghcr.io", T).await.unwrap().unwrap();
        assert!(matches!(f.secret, Secret::Basic { ref username, .. } if username == "ex"));
        assert!(f.source.contains("explicit.json"));
    }

    #[tokio::test]
    async fn corrupt_auth_file_is_named() {
        let d = tempfile::tempdir().unwrap();
        let env = env_with(d.path(), "{not json");
        let e = lookup(&env, "ghcr.io", T).await.unwrap_err();
        assert!(e.message.contains("config.json"), "{e}");
        assert_eq!(e.kind, ErrorKind::Credentials, "{e}");
    }

    #[tokio::test]
    async fn docker_auth_config_comes_after_the_docker_config_file() {
        let d = tempfile::tempdir().unwrap();
        let text = |pw: &str| {
            SecretText(format!(
                r#"{{"auths":{{"ghcr.io":{{"auth":"{}"}}}}}}"#,
                b64(&format!("u:{pw}"))
            ))
        };
        // Only in the variable: found there, and named as the source.
        let env = Env {
            docker_config: Some(d.path().to_path_buf()),
            docker_auth_config: Some(text("from-env")),
            ..Env::default()
        };
        let f = lookup(&env, "ghcr.io", T).await.unwrap().unwrap();
        assert_eq!(f.source, "DOCKER_AUTH_CONFIG (auths.\"ghcr.io\")");
        assert!(!format!("{env:?}").contains(&b64("u:from-env")));
        assert!(searched(&env).contains("DOCKER_AUTH_CONFIG"));
        // The Docker config file wins over it.
        let env = Env {
            docker_auth_config: Some(text("from-env")),
            ..env_with(
                d.path(),
                &format!(
                    r#"{{"auths":{{"ghcr.io":{{"auth":"{}"}}}}}}"#,
                    b64("u:from-file")
                ),
            )
        };
        let f = lookup(&env, "ghcr.io", T).await.unwrap().unwrap();
        assert!(f.source.contains("config.json"), "{f:?}");
        // Broken JSON is named, without echoing it.
        let env = Env {
            docker_auth_config: Some(SecretText("{\"auths\": \"hunter2\"".into())),
            ..Env::default()
        };
        let e = lookup(&env, "ghcr.io", T).await.unwrap_err();
        assert!(
            e.message.contains("DOCKER_AUTH_CONFIG") && !e.message.contains("hunter2"),
            "{e}"
        );
        assert_eq!(e.kind, ErrorKind::Credentials, "{e}");
    }

    #[test]
    fn trusted_mirror_list() {
        assert_eq!(
            parse_trusted_mirrors("127.0.0.1:5000, https://Mirror.LAN/v2 ,,[::1]:80"),
            ["127.0.0.1:5000", "mirror.lan", "[::1]:80"]
        );
        let env = Env {
            trusted_mirrors: parse_trusted_mirrors("mirror.lan"),
            ..Env::default()
        };
        assert!(env.trusts_mirror("MIRROR.lan") && !env.trusts_mirror("mirror.lan:5000"));
    }

    #[tokio::test]
    async fn special_or_huge_auth_files_are_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", d.path().join("config.json")).unwrap();
        let env = Env {
            docker_config: Some(d.path().to_path_buf()),
            ..Env::default()
        };
        let e = lookup(&env, "ghcr.io", T).await.unwrap_err();
        assert!(
            e.message.contains("config.json") && e.message.contains("not a regular file"),
            "{e}"
        );
        assert_eq!(e.kind, ErrorKind::Credentials, "{e}");
    }

    #[test]
    fn key_hosts() {
        assert_eq!(key_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(key_host("docker.io"), "docker.io");
        assert_eq!(key_host("http://Reg.Local:5000/"), "reg.local:5000");
        assert_eq!(key_host("quay.io/org/repo"), "quay.io");
        assert_eq!(helper_server_url("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(helper_server_url("ghcr.io"), "ghcr.io");
    }
}
