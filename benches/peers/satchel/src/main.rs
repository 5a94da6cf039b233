//! satchel-core: `sd_jwt::verify` with the SD-JWT VC policy and required key
//! binding — the same call as core/benches/sd_jwt.rs. Every check runs:
//! issuer signature, `typ` `dc+sd-jwt`, `vct`, never-disclosable claims,
//! disclosure digests (each referenced exactly once), `exp`/`nbf`/`iat`, the
//! KB-JWT's `typ`, signature by `cnf.jwk`, `aud`, `nonce`, `iat` window and
//! `sd_hash`.

use std::process::ExitCode;

use peer_harness::{Fixture, Peer};
use satchel_core::{
    sd_jwt::{issue, present, verify, ClaimPath, IssueOptions, KeyBinding, VerifyOptions},
    KeyAlgorithm, Signer, SoftwareKey, VerifyingKey,
};
use serde_json::{Map, Value};

struct Satchel {
    issuer_key: VerifyingKey,
    options: VerifyOptions,
    issuer: SoftwareKey,
    holder: SoftwareKey,
    claims: Map<String, Value>,
    disclosable: Vec<ClaimPath>,
    disclosed: Vec<ClaimPath>,
    issued: String,
    audience: String,
    nonce: String,
    now: i64,
}

fn paths(names: &[String]) -> Vec<ClaimPath> {
    names
        .iter()
        .map(|n| ClaimPath::keys(std::slice::from_ref(n)))
        .collect()
}

impl Satchel {
    fn new(f: &Fixture) -> Result<Self, String> {
        let issuer_key = satchel_core::Jwk::from_json(f.get("issuer_jwk"))
            .and_then(|j| j.verifying_key())
            .map_err(|e| e.to_string())?;
        let key = |name| {
            SoftwareKey::from_pkcs8(KeyAlgorithm::Es256, &f.bytes(name)).map_err(|e| e.to_string())
        };
        let holder = key("holder_pkcs8")?;
        let mut claims: Map<String, Value> =
            serde_json::from_str(f.get("claims")).map_err(|e| e.to_string())?;
        claims.insert(
            "cnf".into(),
            serde_json::json!({ "jwk": holder.public_jwk().to_value() }),
        );
        let now = f.int("now");
        Ok(Satchel {
            issuer_key,
            options: VerifyOptions::vc(now).with_key_binding(f.get("audience"), f.get("nonce")),
            issuer: key("issuer_pkcs8")?,
            holder,
            claims,
            disclosable: paths(&f.list("disclosable")),
            disclosed: paths(&f.list("disclosed")),
            issued: f.get("issued").into(),
            audience: f.get("audience").into(),
            nonce: f.get("nonce").into(),
            now,
        })
    }
}

impl Peer for Satchel {
    fn verify(&self, presentation: &str) -> Result<(), String> {
        let verified =
            verify(presentation, &self.issuer_key, &self.options).map_err(|e| e.to_string())?;
        // Timed too (`verify_timed` calls this): one bool, a few ns.
        if !verified.key_bound {
            return Err("not key bound".into());
        }
        Ok(())
    }

    fn issue(&self) -> Option<Result<String, String>> {
        Some(
            issue(
                &self.claims,
                &self.disclosable,
                &IssueOptions::default(),
                &self.issuer,
            )
            .map_err(|e| e.to_string()),
        )
    }

    fn present(&self) -> Option<Result<String, String>> {
        let kb = KeyBinding {
            audience: &self.audience,
            nonce: &self.nonce,
            issued_at: self.now,
            signer: &self.holder,
        };
        Some(present(&self.issued, &self.disclosed, Some(kb)).map_err(|e| e.to_string()))
    }
}

fn main() -> ExitCode {
    peer_harness::main(Satchel::new)
}
