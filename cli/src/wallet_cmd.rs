//! `satchel wallet …`: the encrypted wallet with a passphrase-protected
//! software key store beside it (`<wallet>.keys`).

use std::{path::PathBuf, sync::Arc};

use clap::{Args, Subcommand};
use satchel_core::{
    sd_jwt::ClaimPath, unix_now, CredentialFilter, CredentialStatus, KeyStore, SoftwareKeyStore,
    SpaceKind, Wallet,
};

use crate::{read_file, read_public_jwk, CmdResult, Failure};

/// Environment variable holding the key store passphrase.
const PASSPHRASE_ENV: &str = "SATCHEL_PASSPHRASE";

#[derive(Args)]
pub(crate) struct WalletArgs {
    /// Wallet database file.
    #[arg(long, global = true, default_value = "satchel-wallet.db")]
    wallet: PathBuf,
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Create the wallet and a first personal space.
    Init {
        /// Name of the first space.
        #[arg(long, default_value = "Personal")]
        space_name: String,
        /// Make the first space an enterprise space.
        #[arg(long)]
        enterprise: bool,
    },
    /// List spaces.
    Spaces,
    /// Verify an SD-JWT VC and store it encrypted.
    Import {
        /// Issuer public JWK (otherwise a trusted issuer key is used).
        #[arg(long)]
        issuer_jwk: Option<String>,
        /// Space id (default: the first space).
        #[arg(long)]
        space: Option<String>,
        /// For an agent: the delegation credential that lets this space present the licence.
        #[arg(long)]
        delegation: Option<String>,
        /// File holding the SD-JWT VC.
        token_file: String,
    },
    /// List credentials.
    List {
        /// Space id (default: the first space).
        #[arg(long)]
        space: Option<String>,
        /// Only this credential type.
        #[arg(long)]
        vct: Option<String>,
        /// Only this status: valid, expired, not-yet-valid, revoked.
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one credential's claims as JSON.
    Show {
        /// Credential id.
        id: String,
    },
    /// Delete one credential.
    Delete {
        /// Credential id.
        id: String,
    },
    /// Present a credential with key binding; print the presentation.
    Present {
        /// Credential id.
        id: String,
        /// A claim to disclose (dotted path; repeat).
        #[arg(long = "disclose")]
        disclose: Vec<String>,
        /// Verifier (audience).
        #[arg(long)]
        aud: String,
        /// Verifier's nonce.
        #[arg(long)]
        nonce: String,
    },
}

fn passphrase() -> Result<String, Failure> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(p);
    }
    rpassword::prompt_password("Wallet passphrase: ").map_err(|e| {
        Failure(format!(
            "no passphrase: set {PASSPHRASE_ENV} or run in a terminal ({e})"
        ))
    })
}

pub(crate) fn open(path: &std::path::Path, create: bool) -> Result<Wallet, Failure> {
    if !create && !path.exists() {
        return Err(Failure(format!(
            "no wallet at {}: run `satchel wallet init` first",
            path.display()
        )));
    }
    let keys_path = path.with_extension("keys");
    let keystore: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::open(&keys_path, &passphrase()?)?);
    Ok(Wallet::open(path, keystore)?)
}

pub(crate) fn space_or_first(wallet: &Wallet, space: Option<String>) -> Result<String, Failure> {
    match space {
        Some(s) => Ok(s),
        None => wallet
            .spaces()?
            .into_iter()
            .next()
            .map(|s| s.id)
            .ok_or_else(|| Failure("the wallet has no space".into())),
    }
}

pub(crate) fn run(args: WalletArgs) -> CmdResult {
    match args.command {
        WalletCommand::Init {
            space_name,
            enterprise,
        } => {
            // A wallet that exists without a space is an init that was
            // interrupted (e.g. killed): finish it rather than refuse it.
            let existed = args.wallet.exists();
            let wallet = open(&args.wallet, true)?;
            if existed && !wallet.spaces()?.is_empty() {
                return Err(Failure(format!("{} already exists", args.wallet.display())));
            }
            let kind = if enterprise {
                SpaceKind::Enterprise
            } else {
                SpaceKind::Personal
            };
            let space = wallet.create_space(&space_name, kind)?;
            println!(
                "{}",
                serde_json::json!({"space": space.id, "holder_jwk": space.holder_key.to_value()})
            );
        }
        WalletCommand::Spaces => {
            for s in open(&args.wallet, false)?.spaces()? {
                println!("{}\t{:?}\t{}", s.id, s.kind, s.name);
            }
        }
        WalletCommand::Import {
            issuer_jwk,
            space,
            delegation,
            token_file,
        } => {
            let wallet = open(&args.wallet, false)?;
            let space = space_or_first(&wallet, space)?;
            let key = issuer_jwk.as_deref().map(read_public_jwk).transpose()?;
            let token = read_file(&token_file)?;
            let c = match delegation {
                Some(d) => wallet.import_delegated_credential(
                    &space,
                    &token,
                    &read_file(&d)?,
                    key.as_ref(),
                    unix_now(),
                )?,
                None => wallet.import_credential(&space, &token, key.as_ref(), unix_now())?,
            };
            println!("{}", c.id);
        }
        WalletCommand::List { space, vct, status } => {
            let wallet = open(&args.wallet, false)?;
            let space = space_or_first(&wallet, space)?;
            let status = status
                .map(|s| match s.as_str() {
                    "valid" => Ok(CredentialStatus::Valid),
                    "expired" => Ok(CredentialStatus::Expired),
                    "not-yet-valid" => Ok(CredentialStatus::NotYetValid),
                    "revoked" => Ok(CredentialStatus::Revoked),
                    other => Err(Failure(format!("unknown status {other}"))),
                })
                .transpose()?;
            let now = unix_now();
            let filter = CredentialFilter {
                vct,
                status,
                now,
                ..Default::default()
            };
            for c in wallet.credentials(&space, &filter)? {
                let status = format!("{:?}", c.status(now)).to_lowercase();
                println!(
                    "{}\t{}\t{}\t{}",
                    c.id,
                    c.vct,
                    c.issuer.as_deref().unwrap_or("-"),
                    status
                );
            }
        }
        WalletCommand::Show { id } => {
            let c = open(&args.wallet, false)?.credential(&id)?;
            println!("{}", serde_json::to_string_pretty(&c.claims)?);
        }
        WalletCommand::Delete { id } => open(&args.wallet, false)?.delete_credential(&id)?,
        WalletCommand::Present {
            id,
            disclose,
            aud,
            nonce,
        } => {
            let paths = ClaimPath::parse_dotted_list(&disclose)?;
            println!(
                "{}",
                open(&args.wallet, false)?.present(&id, &paths, &aud, &nonce, unix_now())?
            );
        }
    }
    Ok(())
}

/// Opens an existing wallet.
pub(crate) fn open_wallet(path: &std::path::Path) -> Result<Wallet, Failure> {
    open(path, false)
}
