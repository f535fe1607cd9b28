//! A real registry (CNCF distribution 2.8, Debian's `docker-registry`) as a
//! child process on a loopback port, with its own config and storage
//! directory (on /dev/shm when it exists). Dropping the [`Registry`] kills
//! and reaps the process and removes its directories, also when a test
//! panics.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::push::Pusher;
use super::tls::TestCa;
use super::{fast_tempdir, free_port, http1};

const DEFAULT_BIN: &str = "/usr/bin/docker-registry";

/// How clients must authenticate.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    #[default]
    Anonymous,
    /// htpasswd (bcrypt) Basic auth with one user.
    Basic { user: String, password: String },
    /// Bearer tokens from a token server (see [`super::TokenServer::auth`]).
    Token {
        realm: String,
        service: String,
        issuer: String,
        root_cert_pem: String,
    },
}

/// Fills the storage directory before the registry starts.
pub type Seeder = Box<dyn FnOnce(&Path)>;

/// Registry options. `Default` is anonymous plain HTTP with empty storage.
#[derive(Default)]
pub struct RegistryOpts {
    pub auth: Auth,
    /// Serve HTTPS with a certificate from a fresh [`TestCa`].
    pub tls: bool,
    /// With `tls`: a self-signed server certificate instead of a CA-signed one.
    pub self_signed: bool,
    /// Fixed port (default: one picked at random).
    pub port: Option<u16>,
    /// Called with the storage root before the registry starts (see [`super::seed`]).
    pub seed: Option<Seeder>,
}

pub struct Registry {
    child: Child,
    addr: SocketAddr,
    ca: Option<TestCa>,
    auth: Auth,
    log: PathBuf,
    // Removed after the child is reaped (Drop::drop runs before fields drop).
    storage: tempfile::TempDir,
    // The configuration and TLS files, kept until the registry is dropped.
    _dir: tempfile::TempDir,
}

/// The registry binary: `$IMAGEPIN_DOCKER_REGISTRY`, else /usr/bin/docker-registry.
pub fn binary() -> PathBuf {
    let bin = std::env::var_os("IMAGEPIN_DOCKER_REGISTRY")
        .map_or_else(|| PathBuf::from(DEFAULT_BIN), PathBuf::from);
    assert!(
        bin.is_file(),
        "{} not found: these tests need a real registry (CNCF distribution 2.8). \
         Install it with `sudo apt-get install docker-registry` \
         (or point IMAGEPIN_DOCKER_REGISTRY at a distribution binary)",
        bin.display()
    );
    bin
}

impl Registry {
    /// An anonymous plain-HTTP registry.
    pub fn anonymous() -> Registry {
        Registry::start(RegistryOpts::default())
    }

    pub fn start(mut opts: RegistryOpts) -> Registry {
        let bin = binary();
        let dir = tempfile::Builder::new()
            .prefix("imagepin-registry-")
            .tempdir()
            .expect("config dir");
        let storage = fast_tempdir("imagepin-registry-data-");
        if let Some(seed) = opts.seed.take() {
            seed(storage.path());
        }
        let ca = match (opts.tls, opts.self_signed) {
            (false, _) => None,
            (true, false) => Some(TestCa::new()),
            (true, true) => Some(TestCa::self_signed()),
        };
        let auth_yaml = auth_config(&opts.auth, dir.path());
        let tls_yaml = match &ca {
            Some(ca) => {
                std::fs::write(dir.path().join("server.pem"), &ca.server_cert_pem).expect("cert");
                std::fs::write(dir.path().join("server.key"), &ca.server_key_pem).expect("key");
                format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    dir.path().join("server.pem").display(),
                    dir.path().join("server.key").display()
                )
            }
            None => String::new(),
        };
        let log = dir.path().join("registry.log");
        let mut last_error = String::new();
        // A picked port can be taken by someone else before the registry
        // binds it: try a few.
        for _attempt in 0..5 {
            let port = opts.port.unwrap_or_else(free_port);
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            // Tells our registry apart from anything else that got the port.
            let instance = format!("{}-{port}-{:?}", std::process::id(), Instant::now());
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: {addr}\n  secret: imagepin-test-secret\n\
                 \x20 headers:\n    X-Imagepin-Instance: [\"{instance}\"]\n{tls_yaml}\
                 {auth_yaml}",
                storage.path().display()
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).expect("write registry config");
            let log_file = std::fs::File::create(&log).expect("registry log");
            let mut child = Command::new(&bin)
                .arg("serve")
                .arg(&config_path)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("log"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
            let tls_probe = ca
                .as_ref()
                .map(|c| Pusher::new(&format!("https://{addr}"), Some(&c.ca_pem), None));
            match wait_ready(&mut child, addr, tls_probe.as_ref(), &instance, &log) {
                Ok(()) => {
                    return Registry {
                        child,
                        addr,
                        ca,
                        auth: opts.auth,
                        log,
                        storage,
                        _dir: dir,
                    };
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = e;
                    if opts.port.is_some() {
                        break;
                    }
                }
            }
        }
        panic!("docker-registry did not start: {last_error}");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        super::host_of(self.addr)
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA that signed the server certificate (TLS registries).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|c| c.ca_pem.as_str())
    }

    pub fn storage(&self) -> &Path {
        self.storage.path()
    }

    /// A pusher for this registry; for Basic auth it uses the registry's user.
    pub fn pusher(&self) -> Pusher {
        let creds = match &self.auth {
            Auth::Basic { user, password } => Some((user.clone(), password.clone())),
            _ => None,
        };
        Pusher::new(&self.url(), self.ca_pem(), creds)
    }

    /// A pusher that authenticates (to the token server) as `user`.
    pub fn pusher_as(&self, user: &str, password: &str) -> Pusher {
        Pusher::new(
            &self.url(),
            self.ca_pem(),
            Some((user.to_string(), password.to_string())),
        )
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_ready(
    child: &mut Child,
    addr: SocketAddr,
    tls_probe: Option<&Pusher>,
    instance: &str,
    log: &Path,
) -> Result<(), String> {
    let log_text = || std::fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status}; log:\n{}", log_text()));
        }
        if let Ok(conn) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            let ours = match tls_probe {
                Some(p) => p.probe_header("x-imagepin-instance").as_deref() == Some(instance),
                None => probe_v2(conn, instance),
            };
            if ours {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("no answer on {addr}; log:\n{}", log_text()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn probe_v2(mut conn: TcpStream, instance: &str) -> bool {
    use std::io::{BufReader, Write};
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    if conn
        .write_all(b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    matches!(
        http1::read_head(&mut BufReader::new(conn)),
        Ok(Some(h)) if h.header("x-imagepin-instance") == Some(instance)
    )
}

fn auth_config(auth: &Auth, dir: &Path) -> String {
    match auth {
        Auth::Anonymous => String::new(),
        Auth::Basic { user, password } => {
            let hash = bcrypt::hash(password, 4).expect("bcrypt");
            let path = dir.join("htpasswd");
            std::fs::write(&path, format!("{user}:{hash}\n")).expect("write htpasswd");
            format!(
                "auth:\n  htpasswd:\n    realm: imagepin-test\n    path: {}\n",
                path.display()
            )
        }
        Auth::Token {
            realm,
            service,
            issuer,
            root_cert_pem,
        } => {
            let path = dir.join("token-root.pem");
            std::fs::write(&path, root_cert_pem).expect("write root cert");
            format!(
                "auth:\n  token:\n    realm: \"{realm}\"\n    service: \"{service}\"\n    \
                 issuer: \"{issuer}\"\n    rootcertbundle: {}\n",
                path.display()
            )
        }
    }
}
