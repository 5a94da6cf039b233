//! `satchel sd-jwt issue|present|verify`.

use clap::Subcommand;
use satchel_core::{
    sd_jwt::{
        self, ClaimPath, IssueOptions, KeyBinding, KeyBindingCheck, TypPolicy, VerifyOptions,
        VC_TYP,
    },
    unix_now, SoftwareKey,
};

use crate::{read_file, read_public_jwk, CmdResult, Failure};

#[derive(Subcommand)]
pub(crate) enum SdJwtCommand {
    /// Verify an SD-JWT (or SD-JWT VC); print the verified claims as JSON.
    Verify {
        /// The issuer's public JWK.
        #[arg(long)]
        issuer_jwk: String,
        /// Required header typ (`dc+sd-jwt` also applies the SD-JWT VC rules). Default: any.
        #[arg(long)]
        typ: Option<String>,
        /// Expected key-binding audience (with --nonce: key binding required).
        #[arg(long, requires = "nonce")]
        aud: Option<String>,
        /// Expected key-binding nonce (with --aud).
        #[arg(long, requires = "aud")]
        nonce: Option<String>,
        /// Verification time, Unix seconds (default: now).
        #[arg(long)]
        now: Option<i64>,
        /// Allowed clock skew for exp/nbf/iat, seconds.
        #[arg(long, default_value_t = 0)]
        leeway: i64,
        /// File holding the SD-JWT.
        token_file: String,
    },
    /// Issue an SD-JWT (VC by default); print it.
    Issue {
        /// The issuer's private JWK.
        #[arg(long)]
        issuer_key: String,
        /// JSON file with the claims.
        #[arg(long)]
        claims: String,
        /// A claim to make selectively disclosable (dotted path; repeat).
        #[arg(long = "sd")]
        disclosable: Vec<String>,
        /// Holder public JWK to bind (`cnf.jwk`).
        #[arg(long)]
        holder_jwk: Option<String>,
        /// Header typ.
        #[arg(long, default_value = VC_TYP)]
        typ: String,
        /// Decoy digests per `_sd` array.
        #[arg(long, default_value_t = 2)]
        decoys: usize,
    },
    /// Make a presentation: keep chosen disclosures, optionally add key binding.
    Present {
        /// File holding the SD-JWT as issued.
        #[arg(long)]
        token: String,
        /// A claim to disclose (dotted path; repeat).
        #[arg(long = "disclose")]
        disclose: Vec<String>,
        /// Holder private JWK, to sign the key-binding JWT.
        #[arg(long, requires_all = ["aud", "nonce"])]
        holder_key: Option<String>,
        /// Key-binding audience.
        #[arg(long)]
        aud: Option<String>,
        /// Key-binding nonce.
        #[arg(long)]
        nonce: Option<String>,
        /// Key-binding iat, Unix seconds (default: now).
        #[arg(long)]
        iat: Option<i64>,
    },
}

fn claim_paths(dotted: &[String]) -> Result<Vec<ClaimPath>, Failure> {
    Ok(ClaimPath::parse_dotted_list(dotted)?)
}

fn private_key(path: &str) -> Result<SoftwareKey, Failure> {
    SoftwareKey::from_private_jwk(&read_file(path)?).map_err(|e| Failure(format!("{path}: {e}")))
}

pub(crate) fn run(cmd: SdJwtCommand) -> CmdResult {
    match cmd {
        SdJwtCommand::Verify {
            issuer_jwk,
            typ,
            aud,
            nonce,
            now,
            leeway,
            token_file,
        } => {
            let key = read_public_jwk(&issuer_jwk)?.verifying_key()?;
            let typ = match typ {
                None => TypPolicy::Any,
                Some(t) if t.eq_ignore_ascii_case(VC_TYP) => TypPolicy::SdJwtVc,
                Some(t) => TypPolicy::Exactly(t),
            };
            let key_binding = match (aud, nonce) {
                (Some(a), Some(n)) => {
                    // "Within a few minutes" either way of the verification time.
                    Some(KeyBindingCheck {
                        max_future: 300,
                        ..KeyBindingCheck::new(&a, &n)
                    })
                }
                _ => None,
            };
            let options = VerifyOptions {
                typ,
                now: now.unwrap_or_else(unix_now),
                leeway,
                key_binding,
            };
            let token = read_file(&token_file)?;
            let verified = sd_jwt::verify(&token, &key, &options)?;
            println!("{}", serde_json::to_string_pretty(&verified.claims)?);
        }
        SdJwtCommand::Issue {
            issuer_key,
            claims,
            disclosable,
            holder_jwk,
            typ,
            decoys,
        } => {
            let key = private_key(&issuer_key)?;
            let mut claims: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&read_file(&claims)?)
                    .map_err(|_| Failure("claims file must hold a JSON object".into()))?;
            if let Some(h) = holder_jwk {
                claims.insert(
                    "cnf".into(),
                    serde_json::json!({ "jwk": read_public_jwk(&h)?.to_value() }),
                );
            }
            let vc = typ.eq_ignore_ascii_case(VC_TYP);
            let options = IssueOptions {
                typ,
                vc,
                decoys,
                kid: None,
            };
            println!(
                "{}",
                sd_jwt::issue(&claims, &claim_paths(&disclosable)?, &options, &key)?
            );
        }
        SdJwtCommand::Present {
            token,
            disclose,
            holder_key,
            aud,
            nonce,
            iat,
        } => {
            let token = read_file(&token)?;
            let paths = claim_paths(&disclose)?;
            let out = match (holder_key, aud, nonce) {
                (Some(k), Some(aud), Some(nonce)) => {
                    let key = private_key(&k)?;
                    let kb = KeyBinding {
                        audience: &aud,
                        nonce: &nonce,
                        issued_at: iat.unwrap_or_else(unix_now),
                        signer: &key,
                    };
                    sd_jwt::present(&token, &paths, Some(kb))?
                }
                _ => sd_jwt::present(&token, &paths, None)?,
            };
            println!("{out}");
        }
    }
    Ok(())
}
