//! Commands that talk to a Satchel server anywhere: `space`, `credential`,
//! `status`, `log anchor` and the operator's `operator …`. They use core's
//! built-in HTTPS stack; each prints one line of result.

use std::{path::PathBuf, sync::Arc};

use clap::{Args, Subcommand};
use satchel_core::{
    client::{self, ClientError, HttpRequest, ServerClient, Transport},
    issuance::{percent_encode, CredentialOffer},
    net::{HttpsTransport, NetworkConfig, PlainHttp},
    note::NoteVerifier,
    registry::{RegisteredRelyingParty, Registry},
    unix_now, SpaceKind, Wallet,
};
use serde_json::{json, Value};

use crate::{read_file, read_public_jwk, wallet_cmd, CmdResult, Failure};

/// Where the server is and how to reach it.
#[derive(Args, Clone)]
pub(crate) struct ServerArgs {
    /// The server's base URL.
    #[arg(long, env = "SATCHEL_SERVER", default_value = "http://127.0.0.1:8480")]
    pub server: String,
    /// An extra trusted CA certificate (PEM) for a private deployment (repeat).
    #[arg(long = "ca-cert")]
    pub ca_certs: Vec<String>,
    /// Allow plain http to a host that is not loopback (test networks only).
    #[arg(long)]
    pub allow_plain_http: bool,
}

impl ServerArgs {
    pub(crate) fn transport(&self) -> Result<HttpsTransport, Failure> {
        let config = NetworkConfig {
            extra_roots_pem: self
                .ca_certs
                .iter()
                .map(|p| read_file(p))
                .collect::<Result<_, _>>()?,
            plain_http: if self.allow_plain_http {
                PlainHttp::Anywhere
            } else {
                PlainHttp::LoopbackOnly
            },
            ..NetworkConfig::default()
        };
        Ok(HttpsTransport::with_config(&config)?)
    }

    /// The server's signed registry, verified with `operator_key` (a JWK
    /// file) or the key the server publishes.
    fn registry(
        &self,
        transport: &HttpsTransport,
        operator_key: Option<&str>,
    ) -> Result<Registry, Failure> {
        let pinned = operator_key.map(read_public_jwk).transpose()?;
        Ok(client::fetch_registry(
            &self.server,
            transport,
            pinned.as_ref(),
            unix_now(),
        )?)
    }

    pub(crate) fn device(&self, wallet: &Wallet) -> Result<ServerClient, Failure> {
        Ok(ServerClient::for_device(
            &self.server,
            wallet.keystore(),
            Arc::new(self.transport()?),
        )?)
    }
}

#[derive(Subcommand)]
pub(crate) enum SpaceCommand {
    /// Create a space (prints its id).
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// A company's space rather than a personal one.
        #[arg(long)]
        enterprise: bool,
    },
    /// Register a space with a server, with this installation as its first
    /// device; status lists are then published there.
    Register {
        /// Space id.
        #[arg(long)]
        space: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Export a whole space as one sealed, signed file (passphrase from
    /// SATCHEL_EXPORT_PASSPHRASE or a prompt).
    Export {
        /// Space id.
        #[arg(long)]
        space: String,
        /// The file to write (not overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a space from an export file after verifying all of it.
    Import {
        /// The export file.
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum CredentialCommand {
    /// Receive a credential offered with a pre-authorised code (OpenID4VCI).
    Receive {
        /// Space id.
        #[arg(long)]
        space: String,
        /// The offer: an `openid-credential-offer://` URI or its JSON.
        #[arg(long)]
        offer: String,
        /// The operator's registry key (JWK file) to pin; otherwise the key
        /// the server publishes is used.
        #[arg(long)]
        operator_key: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand)]
pub(crate) enum StatusCommand {
    /// Publish a space's status list (after withdrawals or revoked delegations).
    Publish {
        /// Space id.
        #[arg(long)]
        space: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand)]
pub(crate) enum OperatorCommand {
    /// Create a credential offer at a demo issuer (prints the offer URI).
    Offer {
        /// Issuer: public-security, transport, market-regulation, social-insurance.
        #[arg(long)]
        issuer: String,
        /// The seeded subject, e.g. citizen-1.
        #[arg(long)]
        subject: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Register (or update) a relying party in the server's registry.
    RelyingParty {
        /// Its identifier (`client_id`).
        #[arg(long)]
        client_id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Its public JWK file (a private JWK works: only public members are used).
        #[arg(long)]
        jwk: String,
        /// A DPV purpose it may ask for (repeat; none means any).
        #[arg(long = "purpose")]
        purposes: Vec<String>,
        #[command(flatten)]
        admin: AdminArgs,
    },
}

/// The operator's credentials.
#[derive(Args)]
pub(crate) struct AdminArgs {
    /// The operator token the server was started with.
    #[arg(long, env = "SATCHEL_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
    #[command(flatten)]
    server: ServerArgs,
}

impl AdminArgs {
    fn call(&self, method: &str, path: &str, body: &Value) -> Result<Value, Failure> {
        let answer = self.server.transport()?.send(HttpRequest {
            method: method.into(),
            url: format!("{}{path}", self.server.server.trim_end_matches('/')),
            headers: vec![
                (
                    "Authorization".into(),
                    format!("Bearer {}", self.admin_token),
                ),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: body.to_string().into_bytes(),
        })?;
        let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if answer.status >= 400 {
            return Err(ClientError::Server {
                status: answer.status,
                code: value["code"].as_str().unwrap_or("error").into(),
                detail: value["detail"].as_str().unwrap_or_default().into(),
            }
            .into());
        }
        Ok(value)
    }
}

pub(crate) fn run_space(wallet: PathBuf, cmd: SpaceCommand) -> CmdResult {
    match cmd {
        SpaceCommand::Create { name, enterprise } => {
            let w = wallet_cmd::open(&wallet, true)?;
            let kind = if enterprise {
                SpaceKind::Enterprise
            } else {
                SpaceKind::Personal
            };
            println!("{}", w.create_space(&name, kind)?.id);
        }
        SpaceCommand::Register { space, server } => {
            let w = wallet_cmd::open_wallet(&wallet)?;
            let device = server.device(&w)?;
            w.register_space(&space, &device)?;
            w.set_status_base(&format!("{}/status", device.base_url()))?;
            println!(
                "registered space {space} on {} as {}",
                device.base_url(),
                device.device_id()
            );
        }
        SpaceCommand::Export { space, out } => crate::device_cmd::run_export(wallet, space, out)?,
        SpaceCommand::Import { file } => crate::device_cmd::run_import(wallet, file)?,
    }
    Ok(())
}

pub(crate) fn run_credential(wallet: PathBuf, cmd: CredentialCommand) -> CmdResult {
    match cmd {
        CredentialCommand::Receive {
            space,
            offer,
            operator_key,
            server,
        } => {
            let transport = server.transport()?;
            let registry = server.registry(&transport, operator_key.as_deref())?;
            let offer = CredentialOffer::parse(&offer)?;
            let w = wallet_cmd::open_wallet(&wallet)?;
            let c = w.receive_credential(&space, &offer, &transport, &registry, unix_now())?;
            println!(
                "{}\t{}\t{}",
                c.id,
                c.vct,
                c.issuer.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

pub(crate) fn run_status(wallet: PathBuf, cmd: StatusCommand) -> CmdResult {
    match cmd {
        StatusCommand::Publish { space, server } => {
            let w = wallet_cmd::open_wallet(&wallet)?;
            let uri = w.publish_status_list(&space, &server.device(&w)?)?;
            println!("published {uri}");
        }
    }
    Ok(())
}

pub(crate) fn run_anchor(
    wallet: PathBuf,
    space: Option<String>,
    log_key: &str,
    server: &ServerArgs,
) -> CmdResult {
    let w = wallet_cmd::open_wallet(&wallet)?;
    let space = wallet_cmd::space_or_first(&w, space)?;
    let verifier = NoteVerifier::parse(log_key).map_err(|e| Failure(format!("--log-key: {e}")))?;
    let r = w.anchor_consent_log(&space, &server.device(&w)?, &verifier)?;
    println!(
        "anchored {} new, {} in all; inclusion and consistency proven under checkpoint size {}",
        r.anchored_now, r.anchored_total, r.checkpoint_size
    );
    Ok(())
}

pub(crate) fn run_operator(cmd: OperatorCommand) -> CmdResult {
    match cmd {
        OperatorCommand::Offer {
            issuer,
            subject,
            admin,
        } => {
            let v = admin.call(
                "POST",
                &format!("/v1/admin/issuers/{issuer}/offers"),
                &json!({ "subject": subject }),
            )?;
            let uri = v["credential_offer_uri"]
                .as_str()
                .ok_or_else(|| Failure("the server returned no offer".into()))?;
            println!("{uri}");
        }
        OperatorCommand::RelyingParty {
            client_id,
            name,
            jwk,
            purposes,
            admin,
        } => {
            let rp = RegisteredRelyingParty {
                client_id: client_id.clone(),
                name,
                keys: vec![read_public_jwk(&jwk)?],
                allowed_purposes: purposes,
            };
            admin.call(
                "PUT",
                &format!("/v1/admin/relying-parties/{}", percent_encode(&client_id)),
                &serde_json::to_value(rp)?,
            )?;
            println!("registered relying party {client_id}");
        }
    }
    Ok(())
}
