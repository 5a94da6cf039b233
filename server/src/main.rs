//! `satchel-server`: the Satchel reference server.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use satchel_server::{launch_with_listener, load_or_create_log_key, Config, Database};

#[derive(Parser)]
#[command(name = "satchel-server", version, about = "Satchel reference server")]
struct Args {
    /// Database: sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "SATCHEL_DB",
        hide_env_values = true,
        default_value = "sqlite:satchel-data/satchel.db"
    )]
    db: String,
    /// Address to listen on.
    #[arg(long, env = "SATCHEL_LISTEN", default_value = "127.0.0.1:8480")]
    listen: String,
    /// Address for /healthz and /metrics.
    #[arg(long, env = "SATCHEL_METRICS_LISTEN", default_value = "127.0.0.1:8481")]
    metrics_listen: String,
    /// Public base URL of this server.
    #[arg(
        long,
        env = "SATCHEL_PUBLIC_URL",
        default_value = "http://127.0.0.1:8480"
    )]
    public_url: String,
    /// Log signing key file (created if missing).
    #[arg(
        long,
        env = "SATCHEL_LOG_KEY_FILE",
        default_value = "satchel-data/log.key"
    )]
    log_key_file: PathBuf,
    /// Log origin (name of a new log key).
    #[arg(long, env = "SATCHEL_LOG_ORIGIN", default_value = "satchel.local/log")]
    log_origin: String,
    /// Registry operator key file (a private JWK; created if missing).
    #[arg(
        long,
        env = "SATCHEL_OPERATOR_KEY_FILE",
        default_value = "satchel-data/operator.jwk"
    )]
    operator_key_file: PathBuf,
    /// Demo data: four demo issuers (public security, transport, market
    /// regulation, social insurance) with keys and seeded records, for
    /// trying the story. Never in production.
    #[arg(long, env = "SATCHEL_DEMO")]
    demo: bool,
    /// Bearer token for operator endpoints (/v1/admin/…); unset disables them.
    #[arg(long, env = "SATCHEL_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Log format on stderr: `text` or `json` (one object per line). Logs
    /// hold request ids, routes, statuses and latencies; never claims,
    /// tokens, keys or record contents.
    #[arg(long, env = "SATCHEL_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Leaf integration interval, milliseconds.
    #[arg(long, default_value_t = 200)]
    integrate_ms: u64,
    /// Print the OpenAPI document (as served at `/openapi.json`) and exit.
    #[arg(long)]
    print_openapi: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_openapi {
        println!("{}", *satchel_server::http::OPENAPI);
        return ExitCode::SUCCESS;
    }
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    if args.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    let run = async {
        let database = Database::parse(&args.db)?;
        let log_key = load_or_create_log_key(&args.log_key_file, &args.log_origin)?;
        let operator_key = satchel_server::load_or_create_operator_key(&args.operator_key_file)?;
        let config = Config {
            database,
            public_url: args.public_url.clone(),
            log_key,
            operator_key,
            admin_token: args.admin_token.clone(),
            limits: satchel_server::http::Limits::default(),
            integrate_every: Duration::from_millis(args.integrate_ms),
            demo: args.demo,
        };
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| format!("{}: {e}", args.listen))?;
        let metrics = tokio::net::TcpListener::bind(&args.metrics_listen)
            .await
            .map_err(|e| format!("{}: {e}", args.metrics_listen))?;
        tracing::info!(
            listen = %args.listen,
            metrics = %args.metrics_listen,
            demo = args.demo,
            "satchel-server listening"
        );
        launch_with_listener(config, listener, Some(metrics), async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    };
    match run.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("satchel-server: {e}");
            ExitCode::FAILURE
        }
    }
}
