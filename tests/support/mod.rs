//! Test support shared by the integration tests and the resolver benchmark:
//! real `docker-registry` processes on loopback ([`registry`]), images and a
//! pusher over the distribution API ([`image`], [`push`], [`seed`]), a token
//! server ([`token`]), latency/fault proxies ([`proxy`]), an HTTPS
//! redirector ([`redirect`]), self-signed TLS ([`tls`]), snapshot redactions ([`snapshot`]) and a sandbox for running the `imagepin` binary ([`workspace`]).
//!
//! The integration tests (`tests/integration/main.rs`) include it once; the
//! resolver benchmark includes it with `#[path = "../tests/support/mod.rs"]`
//! and allows the dead code of the parts it does not use.
//!
//! Environment: `IMAGEPIN_DOCKER_REGISTRY` (registry binary, default
//! `/usr/bin/docker-registry`; missing → the test fails saying
//! `apt-get install docker-registry`), `IMAGEPIN_TEST_SHOW=1` (the registry tests
//! prints every imagepin run; use with `--nocapture`).

pub mod cli;
pub mod http1;
pub mod image;
pub mod proxy;
pub mod push;
pub mod redirect;
pub mod registry;
pub mod seed;
pub mod snapshot;
pub mod tls;
pub mod token;
pub mod workspace;

pub use image::{Dated, Format, Image, index_of};
pub use proxy::{Fault, Proxy, ProxyOpts};
pub use push::Pusher;
pub use redirect::TlsRedirect;
pub use registry::{Auth, Registry, RegistryOpts};
pub use tls::TestCa;
pub use token::{TokenOpts, TokenServer};
pub use workspace::{Run, Workspace};

use std::net::{SocketAddr, TcpListener};

/// A loopback port that was free a moment ago (bind :0, read, release).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    let mut s = String::from("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A directory for temporary files: under /dev/shm (tmpfs, faster) when it exists.
pub fn fast_tempdir(prefix: &str) -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    let b = {
        let mut b = tempfile::Builder::new();
        b.prefix(prefix);
        b
    };
    if shm.is_dir() {
        if let Ok(d) = b.tempdir_in(shm) {
            return d;
        }
    }
    b.tempdir().expect("create temp dir")
}

/// `host:port` for an address, as used in image references and config keys.
pub fn host_of(addr: SocketAddr) -> String {
    format!("{}:{}", addr.ip(), addr.port())
}
