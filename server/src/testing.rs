//! Helpers for tests that drive a real server on loopback: a plain-HTTP
//! [`Transport`] (no TLS: loopback only) and a server on port 0.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    time::Duration,
};

use satchel_core::client::{ClientError, HttpRequest, HttpResponse, Transport};

use crate::{launch_with_listener, load_or_create_log_key, Config, Database};

/// HTTP/1.1 over a fresh TCP connection per request, for `http://` URLs on
/// loopback in tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoopbackTransport;

impl Transport for LoopbackTransport {
    fn send(&self, r: HttpRequest) -> Result<HttpResponse, ClientError> {
        let err = |e: std::io::Error| ClientError::Transport(e.to_string());
        let rest = r.url.strip_prefix("http://").ok_or_else(|| {
            ClientError::Transport("loopback transport speaks http:// only".into())
        })?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut stream = TcpStream::connect(host).map_err(err)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(err)?;
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            r.method,
            if path.is_empty() { "/" } else { path },
            r.body.len()
        );
        for (k, v) in &r.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).map_err(err)?;
        // A server may answer (e.g. 413) and close before the whole body is
        // written: read the answer anyway.
        let wrote = stream.write_all(&r.body);
        let mut raw = Vec::new();
        let read = stream.read_to_end(&mut raw);
        if raw.is_empty() {
            wrote.map_err(err)?;
            read.map_err(err)?;
        }
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| ClientError::Transport("no header end".into()))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ClientError::Transport("bad status line".into()))?;
        let mut body = raw[split + 4..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body);
        }
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < pos + 2 + size {
            break;
        }
        out.extend_from_slice(&b[pos + 2..pos + 2 + size]);
        b = &b[(pos + 4 + size).min(b.len())..];
    }
    out
}

/// A server running on port 0 in its own runtime thread.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl TestServer {
    /// Starts a server on the SQLite file in `dir` (created if missing).
    pub fn start(dir: &Path) -> TestServer {
        let log_key =
            load_or_create_log_key(&dir.join("log.key"), "test.satchel/log").expect("log key");
        let db = Database::Sqlite(dir.join("satchel.db"));
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .map_err(|e| e.to_string())?;
                let url = format!(
                    "http://{}",
                    listener.local_addr().map_err(|e| e.to_string())?
                );
                let config = Config {
                    database: db,
                    public_url: url.clone(),
                    log_key,
                    integrate_every: Duration::from_millis(50),
                };
                let _ = url_tx.send(url);
                launch_with_listener(config, listener, None, async {
                    let _ = stop_rx.await;
                })
                .await
            })
        });
        let url = url_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server started");
        TestServer {
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}
