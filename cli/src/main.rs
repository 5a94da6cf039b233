//! `satchel`: the Satchel command line — the story demo, wallet
//! administration and the spec tools integrators (and our conformance
//! tests) use.
//!
//! Exit codes: 0 success; 1 the input was rejected or the operation failed
//! (one line on stderr says why); 2 bad usage.

mod authz_cmd;
mod demo;
mod device_cmd;
mod remote_cmd;
mod sd_jwt_cmd;
mod spec_cmd;
mod wallet_cmd;

use std::{path::Path, process::ExitCode};

use clap::{Parser, Subcommand};
use satchel_core::Jwk;

#[derive(Parser)]
#[command(
    name = "satchel",
    version,
    about = "Satchel: personal and business digital spaces"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the story on an embedded reference server (SQLite).
    Demo,
    /// SD-JWT / SD-JWT VC tools.
    #[command(name = "sd-jwt", subcommand)]
    SdJwt(sd_jwt_cmd::SdJwtCommand),
    /// JWK tools.
    #[command(subcommand)]
    Jwk(JwkCommand),
    /// The encrypted wallet on this computer.
    Wallet(wallet_cmd::WalletArgs),
    /// Data-use authorisations: request, approve, deny, verify, use, withdraw, list.
    Authz {
        /// Wallet database file (holder commands).
        #[arg(long, global = true, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        #[command(subcommand)]
        command: authz_cmd::AuthzCommand,
    },
    /// A space on several devices: request, approve, complete, list, remove.
    Device {
        /// Wallet database file.
        #[arg(long, global = true, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        #[command(subcommand)]
        command: device_cmd::DeviceCommand,
    },
    /// Sync a space with the other devices through the server (end-to-end encrypted).
    Sync {
        /// Wallet database file.
        #[arg(long, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        /// Space id.
        #[arg(long)]
        space: String,
        #[command(flatten)]
        server: remote_cmd::ServerArgs,
    },
    /// Spaces: create, register with a server, export, import.
    Space {
        /// Wallet database file.
        #[arg(long, global = true, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        #[command(subcommand)]
        command: remote_cmd::SpaceCommand,
    },
    /// Credentials from issuers: receive one through OpenID4VCI.
    Credential {
        /// Wallet database file.
        #[arg(long, global = true, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        #[command(subcommand)]
        command: remote_cmd::CredentialCommand,
    },
    /// A space's status list: publish it on the server.
    Status {
        /// Wallet database file.
        #[arg(long, global = true, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        #[command(subcommand)]
        command: remote_cmd::StatusCommand,
    },
    /// Operator tasks on a server: demo credential offers, the registry.
    #[command(subcommand)]
    Operator(remote_cmd::OperatorCommand),
    /// The consent log: verify, export, anchor in a server's transparency log.
    Log {
        /// Wallet database file.
        #[arg(long, global = true, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        #[command(subcommand)]
        command: authz_cmd::LogCommand,
    },
    /// "Where did my credential go?": its provenance, in order.
    Trace {
        /// Wallet database file.
        #[arg(long, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        /// Print W3C PROV-JSON instead of a table.
        #[arg(long)]
        prov: bool,
        /// Credential id.
        credential_id: String,
    },
    /// Transparency log proof tools (RFC 9162).
    #[command(subcommand)]
    Tlog(spec_cmd::TlogCommand),
    /// Token Status List tools.
    #[command(name = "status-list", subcommand)]
    StatusList(spec_cmd::StatusListCommand),
    /// C2SP signed-note tools.
    #[command(subcommand)]
    Note(spec_cmd::NoteCommand),
    /// Enterprise: delegate presenting licences to an agent (prints the delegation credential).
    Delegate {
        /// Wallet database file.
        #[arg(long, default_value = "satchel-wallet.db")]
        wallet: std::path::PathBuf,
        #[command(flatten)]
        args: authz_cmd::DelegateArgs,
    },
}

#[derive(Subcommand)]
enum JwkCommand {
    /// Print the RFC 7638 thumbprint of a JWK.
    Thumbprint {
        /// JWK file (public or private; only public members are used).
        file: String,
    },
    /// Generate a private JWK (keep it secret) and print it.
    Generate {
        /// ES256 or EdDSA.
        #[arg(long, default_value = "ES256")]
        alg: String,
    },
    /// Print the public JWK of a private JWK.
    Public {
        /// Private JWK file.
        file: String,
    },
}

/// A failure to report: one line, exit code 1.
pub(crate) struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

pub(crate) type CmdResult = Result<(), Failure>;

pub(crate) fn read_file(path: &str) -> Result<String, Failure> {
    std::fs::read_to_string(Path::new(path))
        .map_err(|e| Failure(format!("cannot read {path}: {e}")))
}

/// Reads a JWK file, keeping only the public members (a private JWK works too).
pub(crate) fn read_public_jwk(path: &str) -> Result<Jwk, Failure> {
    let text = read_file(path)?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| Failure(format!("{path}: not JSON")))?;
    if let Some(obj) = value.as_object_mut() {
        obj.retain(|k, _| matches!(k.as_str(), "kty" | "crv" | "x" | "y" | "kid"));
    }
    Jwk::from_value(&value).map_err(|e| Failure(format!("{path}: {e}")))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo => demo::run(),
        Command::SdJwt(cmd) => sd_jwt_cmd::run(cmd),
        Command::Jwk(cmd) => jwk(cmd),
        Command::Wallet(args) => wallet_cmd::run(args),
        Command::Authz { wallet, command } => authz_cmd::run_authz(wallet, command),
        Command::Log { wallet, command } => authz_cmd::run_log(wallet, command),
        Command::Space { wallet, command } => remote_cmd::run_space(wallet, command),
        Command::Device { wallet, command } => device_cmd::run_device(wallet, command),
        Command::Sync {
            wallet,
            space,
            server,
        } => device_cmd::run_sync(wallet, space, server),
        Command::Credential { wallet, command } => remote_cmd::run_credential(wallet, command),
        Command::Status { wallet, command } => remote_cmd::run_status(wallet, command),
        Command::Operator(command) => remote_cmd::run_operator(command),
        Command::Trace {
            wallet,
            prov,
            credential_id,
        } => authz_cmd::run_trace(wallet, &credential_id, prov),
        Command::Delegate { wallet, args } => authz_cmd::run_delegate(wallet, args),
        Command::Tlog(cmd) => spec_cmd::run_tlog(cmd),
        Command::StatusList(cmd) => spec_cmd::run_status_list(cmd),
        Command::Note(cmd) => spec_cmd::run_note(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(reason)) => {
            eprintln!("{}", reason.lines().next().unwrap_or("failed"));
            ExitCode::from(1)
        }
    }
}

fn jwk(cmd: JwkCommand) -> CmdResult {
    match cmd {
        JwkCommand::Thumbprint { file } => println!("{}", read_public_jwk(&file)?.thumbprint()),
        JwkCommand::Generate { alg } => {
            let algorithm = match alg.as_str() {
                "ES256" => satchel_core::KeyAlgorithm::Es256,
                "EdDSA" | "Ed25519" => satchel_core::KeyAlgorithm::Ed25519,
                other => {
                    return Err(Failure(format!(
                        "unsupported algorithm {other}: use ES256 or EdDSA"
                    )))
                }
            };
            println!(
                "{}",
                satchel_core::SoftwareKey::generate(algorithm)?
                    .to_private_jwk()
                    .as_str()
            );
        }
        JwkCommand::Public { file } => println!("{}", read_public_jwk(&file)?.to_value()),
    }
    Ok(())
}
