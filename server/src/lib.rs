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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        Err(format!(
            "unknown database URL {url:?}: use sqlite:PATH or postgres://…"
        ))
    }
}

/// Server configuration.
#[derive(Debug, Clone)]
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
}

/// Reads the log key from `path`, or creates one named `origin` there.
pub fn load_or_create_log_key(path: &std::path::Path, origin: &str) -> Result<String, String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        NoteSigner::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(text.trim().to_owned());
    }
    let signer = NoteSigner::generate(origin).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let text = signer.encode();
    std::fs::write(path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    restrict(path);
    Ok(text.to_string())
}

#[cfg(unix)]
fn restrict(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict(_: &std::path::Path) {}

/// Reads the registry operator key (a private JWK) from `path`, or creates one.
pub fn load_or_create_operator_key(path: &std::path::Path) -> Result<String, String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        satchel_core::SoftwareKey::from_private_jwk(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(text.trim().to_owned());
    }
    let key = satchel_core::SoftwareKey::generate_ed25519().map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let text = key.to_private_jwk();
    std::fs::write(path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    restrict(path);
    Ok(text.to_string())
}

/// Builds the shared state for a store.
pub fn state<S: Store>(store: S, config: &Config) -> Result<Arc<AppState<S>>, String> {
    let signer = NoteSigner::parse(&config.log_key).map_err(|e| format!("log key: {e}"))?;
    let operator = satchel_core::SoftwareKey::from_private_jwk(&config.operator_key)
        .map_err(|e| format!("operator key: {e}"))?;
    let service = Service::new(Arc::new(store), signer, &config.public_url, operator)
        .map_err(|e| format!("starting the log: {e}"))?;
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
