//! The server embedded in a process on loopback, for the story demo and
//! tests: a server on port 0 in its own runtime thread, a plain-HTTP
//! [`Transport`] (no TLS: loopback only), the operator token it accepts, and
//! a throwaway PostgreSQL cluster for tests.

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
pub struct EmbeddedServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The operator token this server accepts (random per start).
    pub admin_token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl EmbeddedServer {
    /// Starts a server on the SQLite file in `dir` (created if missing).
    pub fn start(dir: &Path) -> Result<EmbeddedServer, String> {
        Self::start_with(dir, Database::Sqlite(dir.join("satchel.db")))
    }

    /// Starts a server on `db`, with its log key in `dir`.
    pub fn start_with(dir: &Path, db: Database) -> Result<EmbeddedServer, String> {
        Self::start_limited(dir, db, crate::http::Limits::default())
    }

    /// Starts a server on `db` with the given rate limits.
    pub fn start_limited(
        dir: &Path,
        db: Database,
        limits: crate::http::Limits,
    ) -> Result<EmbeddedServer, String> {
        let log_key = load_or_create_log_key(&dir.join("log.key"), "satchel.embedded/log")?;
        let operator_key = crate::load_or_create_operator_key(&dir.join("operator.jwk"))?;
        let admin_token = satchel_core::b64::encode(satchel_core::b64::random_bytes::<24>());
        let token = admin_token.clone();
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
                    operator_key,
                    admin_token: Some(token),
                    limits,
                    integrate_every: Duration::from_millis(50),
                };
                let _ = url_tx.send(url);
                launch_with_listener(config, listener, None, async {
                    let _ = stop_rx.await;
                })
                .await
            })
        });
        match url_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => Ok(EmbeddedServer {
                url,
                admin_token,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Err(_) => Err(match thread.join() {
                Ok(Err(e)) => e,
                _ => "the embedded server did not start".into(),
            }),
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

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A throwaway PostgreSQL cluster on a free port, for tests. Installs
/// Debian's `postgresql` if its binaries are missing (as root).
pub struct PgCluster {
    dir: tempfile_dir::Dir,
    bin: std::path::PathBuf,
    /// `postgres://…` of the cluster's `postgres` database.
    pub url: String,
    port: u16,
    as_postgres: bool,
}

mod tempfile_dir {
    /// A directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn pg_bin() -> Option<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

impl PgCluster {
    /// Starts a cluster, or says why it cannot (`Err` with the reason).
    pub fn start() -> Result<PgCluster, String> {
        let root = is_root();
        if pg_bin().is_none() && root {
            let _ = std::process::Command::new("apt-get")
                .args(["update", "-qq"])
                .status();
            let _ = std::process::Command::new("apt-get")
                .args([
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    "postgresql",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
        }
        let bin =
            pg_bin().ok_or("PostgreSQL server binaries not found and could not be installed")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let dir = std::env::temp_dir().join(format!("satchel-pg-{}", satchel_core::b64::new_id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let dir = tempfile_dir::Dir(dir);
        // initdb refuses to run as root: run the cluster as the postgres user.
        let as_postgres = root;
        if as_postgres {
            let ok = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir.0)
                .status()
                .map_err(|e| e.to_string())?;
            if !ok.success() {
                return Err("cannot hand the cluster directory to the postgres user".into());
            }
        }
        let c = PgCluster {
            url: format!("postgres://satchel@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = c.dir.0.join("data");
        c.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "satchel",
                "--no-sync",
            ],
        )?;
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            c.port,
            c.dir.0.display()
        );
        c.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-o",
                &opts,
                "-w",
                "-l",
                &c.dir.0.join("log").to_string_lossy(),
                "start",
            ],
        )?;
        Ok(c)
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or_default()
            ))
        }
    }

    /// Creates a fresh database and returns its URL.
    pub fn database(&self, name: &str) -> Result<String, String> {
        let mut c =
            postgres::Client::connect(&self.url, postgres::NoTls).map_err(|e| e.to_string())?;
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| e.to_string())?;
        Ok(format!("postgres://satchel@127.0.0.1:{}/{name}", self.port))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.0.join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}
