//! Self-tests of the test harness (tests/support): registries start and
//! stop, images pushed through the API read back with the digests we
//! computed, the token server's JWTs are accepted by distribution (x5c and
//! kid), and the proxies count and inject faults. These check our tools,
//! not imagepin.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use crate::support;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::image::{DOCKER_LIST, OCI_INDEX, OCI_MANIFEST};
use crate::support::token::TokenField;
use crate::support::{
    Auth, Fault, Format, Image, Proxy, ProxyOpts, Pusher, Registry, RegistryOpts, TokenOpts,
    TokenServer,
};
use reqwest::Method;

#[test]
fn pushed_images_read_back_with_their_digests() {
    let reg = Registry::anonymous();
    let p = reg.pusher();
    let multi = Image::multi_arch("a", Format::Oci);
    let list = Image::multi_arch("b", Format::Docker);
    let single = Image::single("c", Format::Oci);
    assert_eq!(p.push("library/python", "3.12", &multi), multi.digest());
    assert_eq!(p.push("library/python", "list", &list), list.digest());
    assert_eq!(p.push("org/app", "1", &single), single.digest());

    let f = p.fetch(Method::GET, "library/python", "3.12");
    assert_eq!(f.status, 200);
    assert_eq!(f.body, multi.top.bytes);
    assert_eq!(f.content_type.as_deref(), Some(OCI_INDEX));
    assert_eq!(f.digest_header, Some(multi.digest()));
    let f = p.fetch(Method::HEAD, "library/python", "list");
    assert_eq!(f.content_type.as_deref(), Some(DOCKER_LIST));
    assert_eq!(f.digest_header, Some(list.digest()));
    assert_eq!(p.head_digest("org/app", "1"), Some(single.digest()));
    assert_eq!(
        p.fetch(Method::HEAD, "org/app", "1")
            .content_type
            .as_deref(),
        Some(OCI_MANIFEST)
    );
    // children are there by digest
    assert_eq!(
        p.head_digest("library/python", &multi.children[1].digest()),
        Some(multi.children[1].digest())
    );
    assert_eq!(p.head_digest("org/app", "nope"), None);

    // re-point a tag
    let newer = Image::multi_arch("a2", Format::Oci);
    p.push("library/python", "3.12", &newer);
    assert_eq!(
        p.head_digest("library/python", "3.12"),
        Some(newer.digest())
    );
    // the old digest stays fetchable by digest
    assert_eq!(
        p.head_digest("library/python", &multi.digest()),
        Some(multi.digest())
    );
}

#[test]
fn registry_process_is_gone_after_drop() {
    let reg = Registry::anonymous();
    let addr = reg.addr();
    let storage = reg.storage().to_path_buf();
    assert!(storage.is_dir());
    drop(reg);
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
    assert!(!storage.exists());
}

#[test]
fn seeded_storage_is_served() {
    let img = Image::multi_arch("seeded", Format::Oci);
    let img2 = img.clone();
    let reg = Registry::start(RegistryOpts {
        seed: Some(Box::new(move |root| {
            support::seed::seed_image(root, "bench/repo0001", "v1", &img2)
        })),
        ..Default::default()
    });
    assert_eq!(
        reg.pusher().head_digest("bench/repo0001", "v1"),
        Some(img.digest())
    );
}

#[test]
fn basic_auth_registry_needs_the_password() {
    let reg = Registry::start(RegistryOpts {
        auth: Auth::Basic {
            user: "alice".into(),
            password: "s3cret".into(),
        },
        ..Default::default()
    });
    let img = Image::single("basic", Format::Docker);
    assert_eq!(reg.pusher().push("team/app", "v1", &img), img.digest());
    let wrong = Pusher::new(&reg.url(), None, Some(("alice".into(), "nope".into())));
    assert_eq!(wrong.fetch(Method::HEAD, "team/app", "v1").status, 401);
    let anon = Pusher::new(&reg.url(), None, None);
    assert_eq!(anon.fetch(Method::HEAD, "team/app", "v1").status, 401);
}

#[test]
fn tls_registry_with_test_ca() {
    let reg = Registry::start(RegistryOpts {
        tls: true,
        ..Default::default()
    });
    assert!(reg.url().starts_with("https://"));
    let img = Image::single("tls", Format::Oci);
    assert_eq!(reg.pusher().push("org/app", "1", &img), img.digest());
    assert_eq!(reg.pusher().head_digest("org/app", "1"), Some(img.digest()));
}

fn token_registry(opts: TokenOpts) -> (TokenServer, Registry) {
    let ts = TokenServer::start(opts);
    let reg = Registry::start(RegistryOpts {
        auth: ts.auth(),
        ..Default::default()
    });
    (ts, reg)
}

#[test]
fn token_auth_x5c_and_kid_are_accepted() {
    for use_kid in [false, true] {
        let (ts, reg) = token_registry(TokenOpts {
            use_kid,
            ..Default::default()
        });
        let img = Image::single("tok", Format::Oci);
        assert_eq!(reg.pusher().push("library/alpine", "3", &img), img.digest());
        assert!(ts.requests() >= 1);
        // a token for another repository is refused with insufficient_scope
        let other = ts.token_for(serde_json::json!([
            {"type": "repository", "name": "library/other", "actions": ["pull"]}
        ]));
        let c = raw_get(
            &reg,
            "HEAD",
            "/v2/library/alpine/manifests/3",
            Some(&format!("Bearer {other}")),
        );
        assert!(c.starts_with("HTTP/1.1 401"), "{c}");
        assert!(c.contains("insufficient_scope"), "{c}");
        let good = ts.token_for(serde_json::json!([
            {"type": "repository", "name": "library/alpine", "actions": ["pull"]}
        ]));
        let c = raw_get(
            &reg,
            "HEAD",
            "/v2/library/alpine/manifests/3",
            Some(&format!("Bearer {good}")),
        );
        assert!(c.starts_with("HTTP/1.1 200"), "kid={use_kid}: {c}");
    }
}

#[test]
fn token_server_requires_credentials_when_told() {
    let (ts, reg) = token_registry(TokenOpts {
        users: vec![("bob".into(), "pw".into())],
        anonymous: false,
        field: TokenField::AccessTokenOnly,
        ..Default::default()
    });
    let img = Image::single("cred", Format::Oci);
    assert_eq!(
        reg.pusher_as("bob", "pw").push("private/app", "1", &img),
        img.digest()
    );
    let c = raw_get_addr(
        ts.addr(),
        "GET",
        "/token?service=x&scope=repository:a:pull",
        None,
    );
    assert!(c.starts_with("HTTP/1.1 401"), "{c}");
}

#[test]
fn proxy_counts_and_injects_faults() {
    let reg = Registry::anonymous();
    let img = Image::single("p", Format::Oci);
    reg.pusher().push("org/app", "1", &img);

    let proxy = Proxy::start(ProxyOpts {
        latency: Duration::from_millis(20),
        ..ProxyOpts::to(reg.addr())
    });
    let p = Pusher::new(&proxy.url(), None, None);
    let t = std::time::Instant::now();
    assert_eq!(p.head_digest("org/app", "1"), Some(img.digest()));
    assert!(t.elapsed() >= Duration::from_millis(40));
    assert_eq!(proxy.manifest_requests(), 1);

    let proxy = Proxy::start(ProxyOpts {
        fault: Fault::TooManyRequests {
            first: 1,
            retry_after: "1".into(),
        },
        ..ProxyOpts::to(reg.addr())
    });
    let p = Pusher::new(&proxy.url(), None, None);
    assert_eq!(p.fetch(Method::HEAD, "org/app", "1").status, 429);
    assert_eq!(p.fetch(Method::HEAD, "org/app", "1").status, 200);
    assert_eq!(proxy.manifest_requests(), 2);

    let proxy = Proxy::start(ProxyOpts {
        fault: Fault::ServerError { first: 1 },
        ..ProxyOpts::to(reg.addr())
    });
    let p = Pusher::new(&proxy.url(), None, None);
    assert_eq!(p.fetch(Method::GET, "org/app", "1").status, 500);
    assert_eq!(p.fetch(Method::GET, "org/app", "1").status, 200);

    let proxy = Proxy::start(ProxyOpts {
        fault: Fault::DigestHeader("sha256:nothex".into()),
        ..ProxyOpts::to(reg.addr())
    });
    let p = Pusher::new(&proxy.url(), None, None);
    assert_eq!(
        p.fetch(Method::HEAD, "org/app", "1")
            .digest_header
            .as_deref(),
        Some("sha256:nothex")
    );

    let proxy = Proxy::start(ProxyOpts {
        fault: Fault::Reset { first: 1 },
        ..ProxyOpts::to(reg.addr())
    });
    let mut s = TcpStream::connect(proxy.addr()).unwrap();
    s.write_all(b"HEAD /v2/org/app/manifests/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 16];
    let e = s.read(&mut buf).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);

    let proxy = Proxy::start(ProxyOpts {
        fault: Fault::Hang { first: 1 },
        ..ProxyOpts::to(reg.addr())
    });
    let mut s = TcpStream::connect(proxy.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s.write_all(b"HEAD /v2/org/app/manifests/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let e = s.read(&mut buf).unwrap_err();
    assert!(matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
}

#[test]
fn proxy_routes_token_requests_to_the_token_server() {
    let ts = TokenServer::start(TokenOpts::default());
    let port = support::free_port();
    let proxy = Proxy::start(ProxyOpts {
        token_upstream: Some(ts.addr()),
        ..ProxyOpts::to(([127, 0, 0, 1], port).into())
    });
    let reg = Registry::start(RegistryOpts {
        auth: ts.auth_with_realm(&format!("{}/token", proxy.url())),
        port: Some(port),
        ..Default::default()
    });
    let img = Image::single("routed", Format::Oci);
    Pusher::new(&proxy.url(), None, None).push("library/x", "1", &img);
    assert!(proxy.token_requests() >= 1);
    assert_eq!(proxy.token_requests(), ts.requests());
    drop(reg);
}

fn raw_get(reg: &Registry, method: &str, path: &str, auth: Option<&str>) -> String {
    raw_get_addr(reg.addr(), method, path, auth)
}

/// One request over a fresh connection; returns the response head.
fn raw_get_addr(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {}\r\n{auth}Connection: close\r\n\r\n",
        support::image::ACCEPT_ALL
    )
    .unwrap();
    let head = support::http1::read_head(&mut BufReader::new(s))
        .unwrap()
        .unwrap();
    String::from_utf8(head.to_bytes()).unwrap()
}
