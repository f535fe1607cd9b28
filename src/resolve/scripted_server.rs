//! A scripted HTTP/1.1 server for unit tests of the registry client: each
//! request goes to a handler that answers or closes the connection,
//! so a test can check the exact request sequence (the `Accept` header, the
//! number of attempts, token and credential exchanges). Faults that only
//! need the user-visible outcome are rows of the integration tests' fault
//! table (tests/integration/registry_faults.rs), against a real registry.

use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

pub(super) struct Req {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(super) enum Action {
    Respond(u16, Vec<(&'static str, String)>, Vec<u8>),
    Close,
}

pub(super) fn ok(headers: Vec<(&'static str, String)>, body: &[u8]) -> Action {
    Action::Respond(200, headers, body.to_vec())
}

pub(super) type Handler = Arc<dyn Fn(&Req) -> Action + Send + Sync>;

/// Serves `handler` on a loopback port until the runtime stops.
pub(super) async fn serve(handler: Handler) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let Some(req) = read_request(&mut sock, &mut buf).await else {
                        return;
                    };
                    match handler(&req) {
                        Action::Respond(status, headers, body) => {
                            let mut head = format!(
                                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n",
                                body.len()
                            );
                            for (k, v) in headers {
                                head.push_str(&format!("{k}: {v}\r\n"));
                            }
                            head.push_str("\r\n");
                            let mut out = head.into_bytes();
                            if req.method != "HEAD" {
                                out.extend_from_slice(&body);
                            }
                            if sock.write_all(&out).await.is_err() {
                                return;
                            }
                        }
                        Action::Close => return,
                    }
                }
            });
        }
    });
    port
}

async fn read_request(sock: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<Req> {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.first() == Some(&0x16) {
            return None; // a TLS ClientHello: this server speaks plain HTTP only
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    buf.drain(..end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < len {
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..len).collect();
    Some(Req {
        method,
        path,
        headers,
        body,
    })
}

/// Serves `handler` from a thread of its own, for tests of blocking code.
pub(super) fn serve_in_thread(handler: Handler) -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            tx.send(serve(handler).await).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}
