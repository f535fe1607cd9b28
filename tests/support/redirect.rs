//! An HTTPS server (certificate from a [`TestCa`]) that answers every request
//! with `307 Temporary Redirect` to the same path on another base URL: a
//! registry that sends its clients elsewhere, e.g. from HTTPS to plain HTTP.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::http1;
use super::tls::TestCa;

pub struct TlsRedirect {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TlsRedirect {
    /// Redirects `https://127.0.0.1:PORT/<path>` to `<to>/<path>` (`to`
    /// without a trailing slash, e.g. `http://127.0.0.1:5000`).
    pub fn start(ca: &TestCa, to: &str) -> TlsRedirect {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(ca.server_cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("server cert");
        let key = PrivateKeyDer::from_pem_slice(ca.server_key_pem.as_bytes()).expect("key");
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind redirector");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let (s, to) = (stop.clone(), to.to_string());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let (config, to) = (config.clone(), to.clone());
                    std::thread::spawn(move || serve(conn, config, &to));
                }
            }
        });
        TlsRedirect { addr, stop }
    }

    /// `127.0.0.1:PORT`: the registry host in references and config keys.
    pub fn host(&self) -> String {
        super::host_of(self.addr)
    }
}

impl Drop for TlsRedirect {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(100));
    }
}

fn serve(conn: TcpStream, config: Arc<rustls::ServerConfig>, to: &str) {
    let Ok(tls) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut reader = BufReader::new(rustls::StreamOwned::new(tls, conn));
    while let Ok(Some(head)) = http1::read_head(&mut reader) {
        if http1::read_body(&mut reader, &head, false, false).is_err() {
            return;
        }
        let location = format!("{to}{}", head.second());
        let w = reader.get_mut();
        if http1::write_response(w, 307, &[("Location", location.as_str())], b"").is_err()
            || w.flush().is_err()
        {
            return;
        }
    }
}
