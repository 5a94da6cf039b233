//! `satchel authz …`, `satchel log …`, `satchel trace`, `satchel delegate`:
//! data-use authorisations from both sides, the consent log, provenance
//! and enterprise delegation.

use std::{path::PathBuf, sync::Arc};

use clap::{Args, Subcommand};
use satchel_core::{
    authz::{self, Approval, Controller, CredentialQuery, RelyingParty, Selection, Terms},
    delegation::DelegationScope,
    net::HttpsTransport,
    registry::Registry,
    sd_jwt::ClaimPath,
    unix_now, Jwk, MemberRole, SoftwareKey,
};
use serde_json::json;

use crate::{read_file, read_public_jwk, wallet_cmd::open_wallet, CmdResult, Failure};

fn private_key(path: &str) -> Result<SoftwareKey, Failure> {
    SoftwareKey::from_private_jwk(&read_file(path)?).map_err(|e| Failure(format!("{path}: {e}")))
}

fn dotted(paths: &[String]) -> Result<Vec<ClaimPath>, Failure> {
    Ok(ClaimPath::parse_dotted_list(paths)?)
}

/// A registry: a server's (`http(s)://…`: fetched and verified with
/// `--registry-key` or the key it publishes), or a file holding a signed
/// `satchel-registry+jwt` (with `--registry-key`) or plain JSON.
fn load_registry(path: &str, key: Option<&str>) -> Result<Registry, Failure> {
    if path.starts_with("https://") || path.starts_with("http://") {
        let pinned = key.map(read_public_jwk).transpose()?;
        return Ok(satchel_core::client::fetch_registry(
            path,
            &HttpsTransport::new()?,
            pinned.as_ref(),
            unix_now(),
        )?);
    }
    let text = read_file(path)?;
    match key {
        Some(k) => Ok(Registry::verify(
            &text,
            &read_public_jwk(k)?.verifying_key()?,
            unix_now(),
        )?),
        None => Registry::from_json(&text).map_err(|e| Failure(format!("{path}: {e}"))),
    }
}

#[derive(Args)]
pub(crate) struct RegistryArgs {
    /// Registry: a server URL (its signed registry), or a file (JSON, or a
    /// signed registry with --registry-key).
    #[arg(long)]
    registry: String,
    /// Operator key that signed the registry.
    #[arg(long)]
    registry_key: Option<String>,
}

#[derive(Args)]
pub(crate) struct StatusArgs {
    /// A status list token the holder published (repeat with --status-uri).
    #[arg(long, requires = "status_uri")]
    status_token: Vec<String>,
    /// The URI each --status-token was published at.
    #[arg(long)]
    status_uri: Vec<String>,
}

impl StatusArgs {
    fn load_into(&self, rp: &RelyingParty) -> CmdResult {
        if self.status_token.len() != self.status_uri.len() {
            return Err(Failure("give one --status-uri per --status-token".into()));
        }
        for (t, u) in self.status_token.iter().zip(&self.status_uri) {
            rp.update_status_list(u, read_file(t)?.trim());
        }
        Ok(())
    }
}

#[derive(Subcommand)]
pub(crate) enum AuthzCommand {
    /// Relying party: create a signed authorisation request (prints it).
    Request {
        /// Relying party private JWK.
        #[arg(long)]
        rp_key: String,
        /// Relying party identifier.
        #[arg(long)]
        client_id: String,
        /// Credential type asked for.
        #[arg(long)]
        vct: String,
        /// A required claim (dotted; repeat).
        #[arg(long = "claim", required = true)]
        claims: Vec<String>,
        /// An optional claim (dotted; repeat).
        #[arg(long = "optional-claim")]
        optional: Vec<String>,
        /// DPV purpose.
        #[arg(long)]
        purpose: String,
        /// DPV legal basis.
        #[arg(long, default_value = "Consent")]
        legal_basis: String,
        /// Days the authorisation may last.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Maximum uses.
        #[arg(long, default_value_t = 3)]
        max_uses: u32,
        /// Retention in days.
        #[arg(long, default_value_t = 30)]
        retention_days: u32,
        /// PIPL: the data is sensitive.
        #[arg(long)]
        sensitive: bool,
        /// Controller display name (default: the client id).
        #[arg(long, default_value = "")]
        controller: String,
        /// Where the wallet posts its response (default: `<client id>/response`).
        #[arg(long)]
        response_uri: Option<String>,
    },
    /// Holder: approve a request with chosen claims (prints the response JSON).
    Approve {
        #[command(flatten)]
        registry: RegistryArgs,
        /// Request file.
        #[arg(long)]
        request: String,
        /// Space id (default: the first space).
        #[arg(long)]
        space: Option<String>,
        /// Credential to present.
        #[arg(long)]
        credential: String,
        /// Claim to disclose (dotted; repeat).
        #[arg(long = "disclose", required = true)]
        disclose: Vec<String>,
        /// Allow fewer uses than asked.
        #[arg(long)]
        max_uses: Option<u32>,
        /// Go on although the relying party is not registered for this.
        #[arg(long)]
        accept_untrusted: bool,
    },
    /// Holder: refuse a request (prints the signed refusal record).
    Deny {
        #[command(flatten)]
        registry: RegistryArgs,
        /// Request file.
        #[arg(long)]
        request: String,
        /// Space id (default: the first space).
        #[arg(long)]
        space: Option<String>,
    },
    /// Relying party: verify a response and register the authorisation.
    Verify {
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        status: StatusArgs,
        /// Relying party private JWK (signs use receipts).
        #[arg(long)]
        rp_key: String,
        /// The ledger database.
        #[arg(long)]
        ledger: PathBuf,
        /// The request this answers.
        #[arg(long)]
        request: String,
        /// Response JSON file.
        #[arg(long)]
        response: String,
    },
    /// Relying party: record one use (prints the signed receipt).
    Use {
        #[command(flatten)]
        status: StatusArgs,
        /// Relying party private JWK.
        #[arg(long)]
        rp_key: String,
        /// Relying party identifier.
        #[arg(long)]
        client_id: String,
        /// The ledger database.
        #[arg(long)]
        ledger: PathBuf,
        /// The purpose of this use (DPV).
        #[arg(long)]
        purpose: String,
        /// Fetch the status list the holder publishes withdrawals in first.
        #[arg(long)]
        fetch_status: bool,
        /// Authorisation id.
        authorization: String,
    },
    /// Holder: withdraw an authorisation (prints the status list to publish).
    Withdraw {
        /// Authorisation id.
        authorization: String,
    },
    /// Holder: list authorisations.
    List {
        /// Space id (default: the first space).
        #[arg(long)]
        space: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum LogCommand {
    /// Verify the consent log: signatures, numbering, hash chain.
    Verify {
        /// Space id (default: the first space).
        #[arg(long)]
        space: Option<String>,
    },
    /// Export the consent log.
    Export {
        /// Space id (default: the first space).
        #[arg(long)]
        space: Option<String>,
        /// `27560` (the whole log) or `kantara` (receipts for consents given).
        #[arg(long, default_value = "27560")]
        format: String,
    },
    /// Anchor the consent log in a server's transparency log and verify the
    /// inclusion and consistency proofs.
    Anchor {
        /// Space id (default: the first space).
        #[arg(long)]
        space: Option<String>,
        /// The log's verifier key (`<origin>+<hash>+<key>`), pinned.
        #[arg(long)]
        log_key: String,
        #[command(flatten)]
        server: crate::remote_cmd::ServerArgs,
    },
}

#[derive(Args)]
pub(crate) struct DelegateArgs {
    /// Enterprise space id.
    #[arg(long)]
    space: String,
    /// The agent's name.
    #[arg(long)]
    agent_name: String,
    /// The agent's public JWK (their wallet's space key).
    #[arg(long)]
    agent_jwk: String,
    /// Licence type the agent may present (repeat).
    #[arg(long = "vct", required = true)]
    vcts: Vec<String>,
    /// Purpose (repeat).
    #[arg(long = "purpose", required = true)]
    purposes: Vec<String>,
    /// Relying party (repeat).
    #[arg(long = "audience", required = true)]
    audiences: Vec<String>,
    /// Days the delegation lasts.
    #[arg(long, default_value_t = 7)]
    days: i64,
}

pub(crate) fn run_authz(wallet: PathBuf, cmd: AuthzCommand) -> CmdResult {
    let now = unix_now();
    match cmd {
        AuthzCommand::Request {
            rp_key,
            client_id,
            vct,
            claims,
            optional,
            purpose,
            legal_basis,
            days,
            max_uses,
            retention_days,
            sensitive,
            controller,
            response_uri,
        } => {
            let query = CredentialQuery::sd_jwt_vc(
                "credential",
                &[vct],
                &dotted(&claims)?,
                &dotted(&optional)?,
            );
            let controller = Controller {
                name: if controller.is_empty() {
                    client_id.clone()
                } else {
                    controller
                },
                contact: String::new(),
            };
            let mut terms = Terms::new(&purpose, now, now + days * 86400, max_uses, controller);
            terms.legal_basis = legal_basis;
            terms.retention_days = retention_days;
            terms.pipl.sensitive = sensitive;
            let rp = RelyingParty::new(&client_id, Arc::new(private_key(&rp_key)?), None)?;
            let response_uri = response_uri.unwrap_or_else(|| format!("{client_id}/response"));
            println!(
                "{}",
                rp.create_request(vec![query], terms, &response_uri, None, now)?
            );
        }
        AuthzCommand::Approve {
            registry,
            request,
            space,
            credential,
            disclose,
            max_uses,
            accept_untrusted,
        } => {
            let reg = load_registry(&registry.registry, registry.registry_key.as_deref())?;
            let parsed = authz::parse_request(&read_file(&request)?, &reg, now)?;
            let w = open_wallet(&wallet)?;
            let space = crate::wallet_cmd::space_or_first(&w, space)?;
            let query_id = parsed
                .request
                .dcql_query
                .credentials
                .first()
                .map(|q| q.id.clone())
                .unwrap_or_default();
            let approval = Approval {
                selections: vec![Selection {
                    query_id,
                    credential_id: credential,
                    claims: dotted(&disclose)?,
                }],
                max_uses,
                not_after: None,
                accept_untrusted,
            };
            let approved = w.approve(&space, &parsed, &approval, now)?;
            eprintln!("authorization {}", approved.authorization_id);
            println!("{}", serde_json::to_string_pretty(&approved.response)?);
        }
        AuthzCommand::Deny {
            registry,
            request,
            space,
        } => {
            let reg = load_registry(&registry.registry, registry.registry_key.as_deref())?;
            let parsed = authz::parse_request(&read_file(&request)?, &reg, now)?;
            let w = open_wallet(&wallet)?;
            let space = crate::wallet_cmd::space_or_first(&w, space)?;
            println!("{}", w.deny(&space, &parsed, now)?);
        }
        AuthzCommand::Verify {
            registry,
            status,
            rp_key,
            ledger,
            request,
            response,
        } => {
            let reg = load_registry(&registry.registry, registry.registry_key.as_deref())?;
            let request = read_file(&request)?;
            let client_id = satchel_core::jws::decode(request.trim())?
                .payload_object()?
                .get("client_id")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| Failure("the request names no client_id".into()))?
                .to_owned();
            let rp = RelyingParty::new(&client_id, Arc::new(private_key(&rp_key)?), Some(&ledger))?;
            status.load_into(&rp)?;
            let v = rp.verify_response(&request, &read_file(&response)?, &reg, now)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "authorization": v.id, "purpose": v.purpose, "max_uses": v.max_uses,
                    "not_before": v.not_before, "not_after": v.not_after, "claims": v.claims,
                }))?
            );
        }
        AuthzCommand::Use {
            status,
            rp_key,
            client_id,
            ledger,
            purpose,
            fetch_status,
            authorization,
        } => {
            let rp = RelyingParty::new(&client_id, Arc::new(private_key(&rp_key)?), Some(&ledger))?;
            status.load_into(&rp)?;
            if fetch_status {
                rp.refresh_status(&authorization, &HttpsTransport::new()?)?;
            }
            let r = rp.record_use(&authorization, &purpose, now)?;
            eprintln!("use {} ({} left)", r.seq, r.remaining);
            println!("{}", r.jws);
        }
        AuthzCommand::Withdraw { authorization } => {
            let w = open_wallet(&wallet)?.withdraw(&authorization, now)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "revocation": w.revocation, "status_uri": w.status_uri, "status_list_token": w.status_list_token,
                }))?
            );
        }
        AuthzCommand::List { space } => {
            let w = open_wallet(&wallet)?;
            let space = crate::wallet_cmd::space_or_first(&w, space)?;
            for a in w.authorizations(&space)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}/{}",
                    a.id,
                    a.client_id,
                    a.purpose,
                    a.state.as_str(),
                    a.uses.len(),
                    a.max_uses
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn run_log(wallet: PathBuf, cmd: LogCommand) -> CmdResult {
    match cmd {
        LogCommand::Anchor {
            space,
            log_key,
            server,
        } => return crate::remote_cmd::run_anchor(wallet, space, &log_key, &server),
        LogCommand::Verify { space } => {
            let w = open_wallet(&wallet)?;
            let space = crate::wallet_cmd::space_or_first(&w, space)?;
            let n = w.verify_consent_log(&space)?.len();
            println!("ok: {n} records, signed and chained");
        }
        LogCommand::Export { space, format } => {
            let w = open_wallet(&wallet)?;
            let space = crate::wallet_cmd::space_or_first(&w, space)?;
            let out = match format.as_str() {
                "27560" => w.export_consent_log(&space)?,
                "kantara" => serde_json::Value::Array(w.consent_receipts(&space)?),
                other => {
                    return Err(Failure(format!(
                        "unknown format {other}: use 27560 or kantara"
                    )))
                }
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(())
}

pub(crate) fn run_trace(wallet: PathBuf, credential: &str, prov: bool) -> CmdResult {
    let w = open_wallet(&wallet)?;
    if prov {
        println!(
            "{}",
            serde_json::to_string_pretty(&w.trace_prov_json(credential, None)?)?
        );
        return Ok(());
    }
    for e in w.trace(credential, None)? {
        let activity = e.activity.as_str();
        let agents: Vec<String> = e
            .agents
            .iter()
            .map(|a| a.name.clone().unwrap_or_else(|| a.id.clone()))
            .collect();
        println!(
            "{}\t{activity}\t{}\t{}",
            satchel_core::rfc3339(e.time),
            agents.join(", "),
            e.note.unwrap_or_default()
        );
    }
    Ok(())
}

pub(crate) fn run_delegate(wallet: PathBuf, a: DelegateArgs) -> CmdResult {
    let now = unix_now();
    let w = open_wallet(&wallet)?;
    let agent_key: Jwk = read_public_jwk(&a.agent_jwk)?;
    let member = match w
        .members(&a.space)?
        .into_iter()
        .find(|m| m.key == agent_key && m.role == MemberRole::Agent)
    {
        Some(m) => m,
        None => w.add_member(&a.space, &a.agent_name, MemberRole::Agent, &agent_key, now)?,
    };
    let scope = DelegationScope {
        credential_types: a.vcts,
        purposes: a.purposes,
        audiences: a.audiences,
        not_before: now,
        not_after: now + a.days * 86400,
    };
    let d = w.delegate(&a.space, &member.id, &scope, now)?;
    eprintln!("delegation {}", d.id);
    println!("{}", d.token);
    Ok(())
}
