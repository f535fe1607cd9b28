//! A pusher over the distribution HTTP API (reqwest on a private
//! current-thread runtime): blob uploads (POST + PUT), manifests by digest
//! and by tag, and reads back (HEAD/GET with all four manifest types in
//! `Accept`) for self-checks. Answers Basic and Bearer challenges.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};

use super::image::{ACCEPT_ALL, Image, Manifest};
use super::sha256;

pub struct Pusher {
    base: String,
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
    creds: Option<(String, String)>,
    /// Bearer tokens by scope.
    tokens: Mutex<HashMap<String, String>>,
}

/// What a manifest read returned.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub digest_header: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Pusher {
    pub fn new(base: &str, ca_pem: Option<&str>, creds: Option<(String, String)>) -> Pusher {
        let mut b = reqwest::Client::builder().no_proxy();
        if let Some(pem) = ca_pem {
            b = b.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA"));
        }
        Pusher {
            base: base.trim_end_matches('/').to_string(),
            client: b.build().expect("client"),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            creds,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Pushes blobs, child manifests by digest, then the top manifest as
    /// `repo:tag`. Returns the digest the registry reported, which is checked
    /// to equal the sha256 of the bytes sent.
    pub fn push(&self, repo: &str, tag: &str, image: &Image) -> String {
        for blob in &image.blobs {
            self.push_blob(repo, blob);
        }
        for child in &image.children {
            self.put_manifest(repo, &child.digest(), child);
        }
        self.put_manifest(repo, tag, &image.top)
    }

    pub fn push_blob(&self, repo: &str, blob: &[u8]) {
        let scope = push_scope(repo);
        let digest = sha256(blob);
        let r = self.send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            &scope,
            &[],
            Vec::new(),
        );
        assert_eq!(
            r.0,
            StatusCode::ACCEPTED,
            "start upload to {repo}: {:?}",
            r.2
        );
        let location =
            r.1.get("location")
                .expect("upload Location")
                .to_str()
                .expect("ascii")
                .to_string();
        let location = location
            .strip_prefix(&self.base)
            .unwrap_or(&location)
            .to_string();
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={}", digest.replace(':', "%3A"));
        let r = self.send(
            Method::PUT,
            &url,
            &scope,
            &[("content-type", "application/octet-stream")],
            blob.to_vec(),
        );
        assert_eq!(
            r.0,
            StatusCode::CREATED,
            "upload {digest} to {repo}: {:?}",
            r.2
        );
    }

    /// PUTs a manifest as `repo:reference`; returns the registry's digest.
    pub fn put_manifest(&self, repo: &str, reference: &str, m: &Manifest) -> String {
        let r = self.send(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{reference}"),
            &push_scope(repo),
            &[("content-type", m.media_type)],
            m.bytes.clone(),
        );
        assert_eq!(
            r.0,
            StatusCode::CREATED,
            "PUT manifest {repo}:{reference}: {}",
            String::from_utf8_lossy(&r.2)
        );
        let got =
            r.1.get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .expect("Docker-Content-Digest")
                .to_string();
        assert_eq!(
            got,
            m.digest(),
            "registry digest differs from the bytes pushed"
        );
        got
    }

    /// HEAD or GET a manifest with all four types in `Accept`.
    pub fn fetch(&self, method: Method, repo: &str, reference: &str) -> Fetched {
        let r = self.send(
            method,
            &format!("/v2/{repo}/manifests/{reference}"),
            &format!("repository:{repo}:pull"),
            &[("accept", ACCEPT_ALL)],
            Vec::new(),
        );
        let h = |k: &str| r.1.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
        Fetched {
            status: r.0.as_u16(),
            digest_header: h("docker-content-digest"),
            content_type: h("content-type"),
            body: r.2,
        }
    }

    /// The digest a HEAD reports for `repo:reference`, if found.
    pub fn head_digest(&self, repo: &str, reference: &str) -> Option<String> {
        let f = self.fetch(Method::HEAD, repo, reference);
        (f.status == 200).then_some(f.digest_header).flatten()
    }

    /// `GET /v2/` without auth; the value of response header `name`, or
    /// `None` when there is no answer (used to wait for a registry).
    pub fn probe_header(&self, name: &str) -> Option<String> {
        self.rt.block_on(async {
            let r = self
                .client
                .get(format!("{}/v2/", self.base))
                .timeout(std::time::Duration::from_secs(2))
                .send()
                .await
                .ok()?;
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
    }

    pub fn delete_manifest(&self, repo: &str, digest: &str) {
        let r = self.send(
            Method::DELETE,
            &format!("/v2/{repo}/manifests/{digest}"),
            &format!("repository:{repo}:delete"),
            &[],
            Vec::new(),
        );
        assert_eq!(r.0, StatusCode::ACCEPTED, "delete {repo}@{digest}");
    }

    /// One request, answering a 401 challenge once.
    fn send(
        &self,
        method: Method,
        path: &str,
        scope: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        self.rt.block_on(async {
            let mut challenge_answered = false;
            loop {
                let mut req = self
                    .client
                    .request(method.clone(), format!("{}{path}", self.base))
                    .body(body.clone());
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                if let Some(auth) = self.authorization(scope) {
                    req = req.header("authorization", auth);
                }
                let resp = req.send().await.expect("request to registry");
                let status = resp.status();
                let hdrs = resp.headers().clone();
                let bytes = resp.bytes().await.expect("response body").to_vec();
                if status != StatusCode::UNAUTHORIZED || challenge_answered {
                    return (status, hdrs, bytes);
                }
                challenge_answered = true;
                let challenge = hdrs
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                self.answer_challenge(&challenge, scope).await;
            }
        })
    }

    fn authorization(&self, scope: &str) -> Option<String> {
        if let Some(t) = self.tokens.lock().expect("lock").get(scope) {
            return Some(format!("Bearer {t}"));
        }
        if self.tokens.lock().expect("lock").contains_key("basic") {
            return self.basic();
        }
        None
    }

    fn basic(&self) -> Option<String> {
        self.creds
            .as_ref()
            .map(|(u, p)| format!("Basic {}", STANDARD.encode(format!("{u}:{p}"))))
    }

    async fn answer_challenge(&self, challenge: &str, scope: &str) {
        let (scheme, params) = parse_challenge(challenge);
        if scheme == "basic" {
            self.tokens
                .lock()
                .expect("lock")
                .insert("basic".into(), String::new());
            return;
        }
        assert_eq!(scheme, "bearer", "unexpected challenge {challenge:?}");
        let realm = params.get("realm").expect("realm");
        let service = params.get("service").map_or("", String::as_str);
        let mut req = self
            .client
            .get(realm)
            .query(&[("service", service), ("scope", scope)]);
        if let Some(b) = self.basic() {
            req = req.header("authorization", b);
        }
        let resp = req.send().await.expect("token request");
        assert!(
            resp.status().is_success(),
            "token request: {}",
            resp.status()
        );
        let v: serde_json::Value =
            serde_json::from_slice(&resp.bytes().await.expect("token body")).expect("token JSON");
        let token = v["token"]
            .as_str()
            .or(v["access_token"].as_str())
            .expect("token in answer")
            .to_string();
        self.tokens
            .lock()
            .expect("lock")
            .insert(scope.to_string(), token);
    }
}

fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

/// `Bearer realm="..",service=".."` → ("bearer", {realm, service}).
pub fn parse_challenge(h: &str) -> (String, HashMap<String, String>) {
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = HashMap::new();
    let (mut key, mut cur, mut quoted) = (None::<String>, String::new(), false);
    for ch in rest.chars().chain([',']) {
        match ch {
            '"' => quoted = !quoted,
            '=' if !quoted && key.is_none() => {
                key = Some(std::mem::take(&mut cur).trim().to_string())
            }
            ',' if !quoted => {
                if let Some(k) = key.take() {
                    params.insert(k, std::mem::take(&mut cur));
                }
                cur.clear();
            }
            c => cur.push(c),
        }
    }
    (scheme.to_ascii_lowercase(), params)
}
