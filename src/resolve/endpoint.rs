//! Which base URL serves a registry host: Docker Hub's aliases, configured
//! endpoints (mirrors, pull-through caches), and when plain HTTP is allowed
//! (hosts declared `insecure`, and loopback addresses, as Docker allows).

use std::net::IpAddr;

use super::client::Trust;
use super::error::RegistryError;
use crate::config::Config;
use crate::reference::DOCKER_HUB;

/// Docker Hub's API endpoint (`docker.io`, `index.docker.io`, no domain).
pub(crate) const DOCKER_HUB_ENDPOINT: &str = "https://registry-1.docker.io";

/// Where to send the requests for one registry host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Base URLs (no trailing slash) to try in order: one when the scheme is
    /// fixed, `https://` then `http://` for loopback and insecure hosts.
    pub candidates: Vec<String>,
    /// Which certificates its requests trust (`insecure`, `ca-file`).
    pub trust: Trust,
    /// Whose credentials to send: the server actually contacted. For a
    /// configured endpoint that is the endpoint's own `host[:port]`
    /// (`docker login mirror.example.com`): `.imagepin.toml` travels with the
    /// repository, so it must not be able to send a developer's credentials
    /// for one registry to another server.
    pub auth_host: String,
    /// For a configured endpoint, the registry it stands in for. Its
    /// credentials are used when `auth_host` has none only if the user
    /// trusts this mirror outside the repository
    /// ([`super::credentials::TRUST_MIRROR_ENV`]), never because of
    /// `.imagepin.toml` alone, and never for being on loopback (another
    /// user or a sidecar may listen there).
    pub mirror_of: Option<String>,
}

/// The endpoint for `host` as it appears in a normalized reference
/// (`docker.io`, `ghcr.io`, `localhost:5000`).
/// A wrong endpoint is a configuration error.
pub(crate) fn endpoint_for(host: &str, config: &Config) -> Result<Endpoint, RegistryError> {
    let rc = config.registry(host);
    let insecure = rc.is_some_and(|r| r.insecure);
    let trust = Trust {
        section: host.to_string(),
        insecure,
        ca_file: rc.and_then(|r| r.ca_file.clone()),
    };
    if let Some(ep) = rc.and_then(|r| r.endpoint.as_deref()) {
        let ep = ep.trim_end_matches('/');
        let authority = ep
            .split_once("://")
            .map_or(ep, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or("");
        if authority.contains('@') {
            return Err(RegistryError::config(format!(
                "endpoint for {host} contains credentials; put them in the Docker config \
                 (`docker login`), never in .imagepin.toml"
            )));
        }
        if let Some(rest) = ep.strip_prefix("http://") {
            let ep_host = rest.split('/').next().unwrap_or(rest);
            if !insecure && !is_loopback(ep_host) {
                return Err(RegistryError::config(format!(
                    "endpoint {ep} configured for {host} uses plain HTTP; \
                     use https:// or set `insecure = true` for [registries.\"{host}\"]"
                )));
            }
        }
        return Ok(Endpoint {
            candidates: vec![ep.to_string()],
            trust,
            auth_host: authority.to_ascii_lowercase(),
            mirror_of: Some(host.to_string()),
        });
    }
    if host == DOCKER_HUB {
        return Ok(Endpoint {
            candidates: vec![DOCKER_HUB_ENDPOINT.to_string()],
            trust,
            auth_host: DOCKER_HUB.to_string(),
            mirror_of: None,
        });
    }
    let mut candidates = vec![format!("https://{host}")];
    if insecure || is_loopback(host) {
        candidates.push(format!("http://{host}"));
    }
    Ok(Endpoint {
        candidates,
        trust,
        auth_host: host.to_string(),
        mirror_of: None,
    })
}

/// Whether `host[:port]` names the local machine: `localhost`, 127.0.0.0/8, `::1`.
pub(crate) fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host_port.matches(':').count() > 1 {
        host_port // bare IPv6
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/r/.imagepin.toml"), Path::new("/r")).unwrap()
    }

    #[test]
    fn docker_hub_uses_registry_1() {
        let e = endpoint_for("docker.io", &Config::default()).unwrap();
        assert_eq!(e.candidates, vec!["https://registry-1.docker.io"]);
    }

    #[test]
    fn remote_hosts_are_https_only() {
        let e = endpoint_for("ghcr.io", &Config::default()).unwrap();
        assert_eq!(e.candidates, vec!["https://ghcr.io"]);
        let e = endpoint_for("registry.example.com:5000", &Config::default()).unwrap();
        assert_eq!(e.candidates, vec!["https://registry.example.com:5000"]);
    }

    #[test]
    fn loopback_and_insecure_may_fall_back_to_http() {
        for h in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            let e = endpoint_for(h, &Config::default()).unwrap();
            assert_eq!(
                e.candidates,
                vec![format!("https://{h}"), format!("http://{h}")],
                "{h}"
            );
            assert!(!e.trust.insecure);
        }
        let c = config("[registries.\"reg.lan:5000\"]\ninsecure = true");
        let e = endpoint_for("reg.lan:5000", &c).unwrap();
        assert_eq!(
            e.candidates,
            vec!["https://reg.lan:5000", "http://reg.lan:5000"]
        );
        assert!(e.trust.insecure);
        assert!(!is_loopback("128.0.0.1"));
        assert!(!is_loopback("localhost.example.com"));
    }

    #[test]
    fn configured_endpoint_overrides_host() {
        let c = config("[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:5000/\"");
        let e = endpoint_for("docker.io", &c).unwrap();
        assert_eq!(e.candidates, vec!["http://127.0.0.1:5000"]);
        // An endpoint gets its own credentials; the registry's only if the
        // user trusts the mirror (decided in `Registry`, from the environment).
        assert_eq!(e.auth_host, "127.0.0.1:5000");
        assert_eq!(e.mirror_of.as_deref(), Some("docker.io"));
        assert_eq!(
            endpoint_for("docker.io", &Config::default())
                .unwrap()
                .auth_host,
            "docker.io"
        );
        let c = config("[registries.\"index.docker.io\"]\nendpoint = \"https://mirror.lan\"");
        let e = endpoint_for("docker.io", &c).unwrap();
        assert_eq!(e.candidates, vec!["https://mirror.lan"]);
        assert_eq!(e.auth_host, "mirror.lan");
        assert_eq!(e.mirror_of.as_deref(), Some("docker.io"));
    }

    #[test]
    fn credentials_in_endpoints_are_refused_without_echoing_them() {
        let c = config("[registries.\"ghcr.io\"]\nendpoint = \"https://u:hunter2@mirror.lan\"");
        let e = endpoint_for("ghcr.io", &c).unwrap_err();
        assert!(
            e.message.contains("credentials") && !e.message.contains("hunter2"),
            "{e}"
        );
    }

    #[test]
    fn plain_http_endpoint_needs_insecure_unless_loopback() {
        let c = config("[registries.\"ghcr.io\"]\nendpoint = \"http://mirror.lan:5000\"");
        let e = endpoint_for("ghcr.io", &c).unwrap_err();
        assert!(
            e.message.contains("insecure = true") && e.message.contains("ghcr.io"),
            "{e}"
        );
        let c = config(
            "[registries.\"ghcr.io\"]\nendpoint = \"http://mirror.lan:5000\"\ninsecure = true",
        );
        assert!(endpoint_for("ghcr.io", &c).is_ok());
    }
}
