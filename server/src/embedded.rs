//! The server embedded in a process, for the story demo and tests: a
//! server on port 0 in its own runtime thread, the operator token it
//! accepts, and a throwaway PostgreSQL cluster for tests. Clients reach it
//! with core's built-in transport like any other server.

use std::{path::Path, time::Duration};

use crate::{launch_with_listener, load_or_create_log_key, Config, Database};

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

    /// Starts a server on `db` with the given rate limits (demo data on).
    pub fn start_limited(
        dir: &Path,
        db: Database,
        limits: crate::http::Limits,
    ) -> Result<EmbeddedServer, String> {
        Self::start_configured(dir, db, limits, true)
    }

    /// Starts a server as configured; `demo` turns the demo issuers on.
    pub fn start_configured(
        dir: &Path,
        db: Database,
        limits: crate::http::Limits,
        demo: bool,
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
                    demo,
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
