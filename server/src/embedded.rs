//! The server embedded in a process, for the story demo and tests: a
//! server on port 0 in its own runtime thread and the operator token it
//! accepts. Clients reach it with core's built-in transport like any other
//! server.

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
