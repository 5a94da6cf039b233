#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod embedded;
pub mod http;
pub mod service;
pub mod store;

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use satchel_core::note::NoteSigner;
use tokio::net::TcpListener;

use crate::{
    http::AppState,
    service::Service,
    store::{postgres::PostgresStore, sqlite::SqliteStore, Store},
};

/// Where data lives: `sqlite:PATH` or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://…`).
    Postgres(String),
}

impl Database {
    /// Parses a database URL.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err("sqlite: needs a path".into());
            }
            return Ok(Database::Sqlite(path.into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.into()));
        }
        // The URL is not echoed: it may hold a password.
        Err("unknown database URL scheme: use sqlite:PATH or postgres://…".into())
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            // postgres://user:password@host/db: never print the credentials.
            Database::Postgres(url) => {
                let host = url.rsplit_once('@').map_or("…", |(_, h)| h);
                // Query parameters may carry a password too.
                let host = host.split('?').next().unwrap_or_default();
                f.debug_tuple("Postgres")
                    .field(&format_args!("postgres://…@{host}"))
                    .finish()
            }
        }
    }
}

/// Server configuration. Its `Debug` hides keys, the token and database
/// credentials.
#[derive(Clone)]
pub struct Config {
    /// The database.
    pub database: Database,
    /// Public base URL (status list URIs are `<public_url>/status/<space>`).
    pub public_url: String,
    /// The log's signing key (`PRIVATE+KEY+…`); its name is the log origin.
    pub log_key: String,
    /// The registry operator's private JWK.
    pub operator_key: String,
    /// Bearer token for operator endpoints (`None`: operator endpoints off).
    pub admin_token: Option<String>,
    /// Rate limits.
    pub limits: http::Limits,
    /// How often queued leaves are integrated.
    pub integrate_every: Duration,
    /// Demo data: the four demo issuers with their keys and seeded records.
    /// Never on in production.
    pub demo: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &self.database)
            .field("public_url", &self.public_url)
            .field("log_key", &"[hidden]")
            .field("operator_key", &"[hidden]")
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "[hidden]"),
            )
            .field("limits", &self.limits)
            .field("integrate_every", &self.integrate_every)
            .field("demo", &self.demo)
            .finish()
    }
}

/// Reads a key file, or creates it with `generate` when there is none. A
/// file that exists but cannot be read or parsed is an error: replacing it
/// would silently change the server's identity (its log, its registry).
fn load_or_create_key(
    path: &std::path::Path,
    what: &str,
    parse: impl Fn(&str) -> Result<(), String>,
    generate: impl FnOnce() -> Result<String, String>,
) -> Result<String, String> {
    let existing = |read: std::io::Result<String>| -> Result<String, String> {
        let text = read.map_err(|e| {
            format!(
                "cannot read the {what} in {} ({e}); refusing to start with a new one",
                path.display()
            )
        })?;
        parse(&text).map_err(|e| {
            format!(
                "{what} in {} is unusable ({e}); refusing to start with a new one",
                path.display()
            )
        })?;
        Ok(text.trim().to_owned())
    };
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            let text = generate()?;
            let created = satchel_core::private_file::create_atomically(path, text.as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if created {
                Ok(text)
            } else {
                // Another instance created it first: use theirs.
                existing(std::fs::read_to_string(path))
            }
        }
        read => existing(read),
    }
}

/// Reads the log key from `path`, or creates one named `origin` there.
pub fn load_or_create_log_key(path: &std::path::Path, origin: &str) -> Result<String, String> {
    load_or_create_key(
        path,
        "log key",
        |t| NoteSigner::parse(t).map(|_| ()).map_err(|e| e.to_string()),
        || {
            NoteSigner::generate(origin)
                .map(|s| s.encode().to_string())
                .map_err(|e| e.to_string())
        },
    )
}

/// Reads the registry operator key (a private JWK) from `path`, or creates one.
pub fn load_or_create_operator_key(path: &std::path::Path) -> Result<String, String> {
    load_or_create_key(
        path,
        "operator key",
        |t| {
            satchel_core::SoftwareKey::from_private_jwk(t)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        || {
            satchel_core::SoftwareKey::generate_ed25519()
                .map(|k| k.to_private_jwk().to_string())
                .map_err(|e| e.to_string())
        },
    )
}

/// Builds the shared state for a store.
pub fn state<S: Store>(store: S, config: &Config) -> Result<Arc<AppState<S>>, String> {
    let signer = NoteSigner::parse(&config.log_key).map_err(|e| format!("log key: {e}"))?;
    let operator = satchel_core::SoftwareKey::from_private_jwk(&config.operator_key)
        .map_err(|e| format!("operator key: {e}"))?;
    let mut service = Service::new(Arc::new(store), signer, &config.public_url, operator)
        .map_err(|e| format!("starting the log: {e}"))?;
    service.demo = config.demo;
    service
        .seed_demo_issuers(satchel_core::unix_now())
        .map_err(|e| format!("seeding the demo issuers: {e}"))?;
    Ok(Arc::new(AppState::new(
        service,
        config.admin_token.clone(),
        config.limits,
    )))
}

/// Runs the server on `listener` (and metrics on `metrics`, if given) until
/// `shutdown` completes; in-flight requests finish first. Tests call this
/// with port-0 listeners.
pub async fn launch_with_listener(
    config: Config,
    listener: TcpListener,
    metrics: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    // Opening a store and rebuilding the log tree block: off the async threads.
    let c = config.clone();
    match config.database.clone() {
        Database::Sqlite(path) => {
            let state = tokio::task::spawn_blocking(move || {
                state(SqliteStore::open(&path).map_err(|e| e.to_string())?, &c)
            })
            .await
            .map_err(|e| e.to_string())??;
            serve(state, &config, listener, metrics, shutdown).await
        }
        Database::Postgres(url) => {
            let state = tokio::task::spawn_blocking(move || {
                state(PostgresStore::open(&url).map_err(|e| e.to_string())?, &c)
            })
            .await
            .map_err(|e| e.to_string())??;
            serve(state, &config, listener, metrics, shutdown).await
        }
    }
}

async fn serve<S: Store>(
    state: Arc<AppState<S>>,
    config: &Config,
    listener: TcpListener,
    metrics: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Integrate queued leaves in batches.
    let integrator = {
        let state = state.clone();
        let every = config.integrate_every;
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut ticks: u64 = 0;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => break,
                }
                let s = state.clone();
                ticks += 1;
                // About once a minute, forget expired codes, nonces and relayed requests.
                let sweep = ticks % (60_000 / every.as_millis().max(1) as u64).max(1) == 0;
                let _ = tokio::task::spawn_blocking(move || {
                    if sweep {
                        let _ = s.service.sweep(satchel_core::unix_now());
                    }
                    s.service.integrate()
                })
                .await;
            }
        })
    };
    if let Some(m) = metrics {
        let app = http::metrics_router(state.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _ = axum::serve(m, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
        });
    }
    let app =
        http::router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await
        .map_err(|e| e.to_string());
    let _ = integrator.await;
    // Leave nothing queued behind.
    let s = state.clone();
    let _ = tokio::task::spawn_blocking(move || s.service.integrate()).await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_key_file_stops_the_server_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.key");
        let first = load_or_create_log_key(&log, "test/log").unwrap();
        assert_eq!(load_or_create_log_key(&log, "test/log").unwrap(), first);
        // Torn: half a key.
        std::fs::write(&log, &first[..first.len() / 2]).unwrap();
        let e = load_or_create_log_key(&log, "test/log").unwrap_err();
        assert!(e.contains("refusing"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            &first[..first.len() / 2]
        );
        // Unreadable (here: a directory where the file should be).
        let op = dir.path().join("operator.jwk");
        std::fs::create_dir(&op).unwrap();
        assert!(load_or_create_operator_key(&op)
            .unwrap_err()
            .contains("refusing"));
        assert!(op.is_dir());
        // A missing file is created, private.
        let fresh = dir.path().join("fresh/operator.jwk");
        load_or_create_operator_key(&fresh).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let with_query =
            Database::parse("postgres://db.internal/satchel?user=s&password=hunter2").unwrap();
        assert!(!format!("{with_query:?}").contains("hunter2"));
        let url = "postgres://satchel:hunter2@db.internal:5432/satchel";
        let db = Database::parse(url).unwrap();
        assert!(!format!("{db:?}").contains("hunter2"));
        let e = Database::parse("mysql://root:hunter2@db/satchel").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let config = Config {
            database: db,
            public_url: "https://satchel.example".into(),
            log_key: "PRIVATE+KEY+test/log+00000000+AAAA".into(),
            operator_key: r#"{"kty":"OKP","d":"secret-d"}"#.into(),
            admin_token: Some("token-hunter2".into()),
            limits: http::Limits::default(),
            integrate_every: Duration::from_millis(50),
            demo: false,
        };
        let shown = format!("{config:?}");
        for secret in ["hunter2", "PRIVATE+KEY", "secret-d"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
