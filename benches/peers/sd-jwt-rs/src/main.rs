//! sd-jwt-rs 0.7 (OpenWallet Foundation's reference implementation):
//! `SDJWTVerifier::new` with the expected `aud` and `nonce`, which checks
//! the issuer signature (jsonwebtoken over ring), `exp` (system clock, 60 s
//! leeway), `_sd_alg`, duplicate digests, and the KB-JWT's `typ`,
//! signature by `cnf.jwk`, `aud`, `nonce` and `sd_hash`.
//!
//! What it does not check, and a wrapper here does not add (that would time
//! our code, not the library's): the SD-JWT VC rules (`typ` `dc+sd-jwt`,
//! `vct`, never-disclosable claims), the KB-JWT `iat` window, `nbf`/`iat` of
//! the credential, and disclosures no digest references (ignored, not
//! refused). The `check` run reports each of these as accepted.
//!
//! Issuing cannot set the `typ` header (no `dc+sd-jwt`); decoys are on
//! (2–4 per `_sd` array, random; Satchel adds 2).

use std::process::ExitCode;

use jsonwebtoken::{jwk::Jwk, DecodingKey, EncodingKey};
use peer_harness::{Fixture, Peer};
use sd_jwt_rs::{
    issuer::ClaimsForSelectiveDisclosureStrategy, SDJWTHolder, SDJWTIssuer,
    SDJWTSerializationFormat, SDJWTVerifier,
};
use serde_json::{Map, Value};

struct SdJwtRs {
    issuer_key: DecodingKey,
    issuer_signing: EncodingKey,
    holder_signing: EncodingKey,
    holder_jwk: Jwk,
    claims: Value,
    disclosable: Vec<String>,
    disclosed: Map<String, Value>,
    issued: String,
    audience: String,
    nonce: String,
}

impl SdJwtRs {
    fn new(f: &Fixture) -> Result<Self, String> {
        let jwk = |name| serde_json::from_str::<Jwk>(f.get(name)).map_err(|e| e.to_string());
        Ok(SdJwtRs {
            issuer_key: DecodingKey::from_jwk(&jwk("issuer_jwk")?).map_err(|e| e.to_string())?,
            // jsonwebtoken's "DER" for EC keys is PKCS#8 (ring's format).
            issuer_signing: EncodingKey::from_ec_der(&f.bytes("issuer_pkcs8")),
            holder_signing: EncodingKey::from_ec_der(&f.bytes("holder_pkcs8")),
            holder_jwk: jwk("holder_jwk")?,
            claims: serde_json::from_str(f.get("claims")).map_err(|e| e.to_string())?,
            disclosable: f
                .list("disclosable")
                .iter()
                .map(|n| format!("$.{n}"))
                .collect(),
            disclosed: f
                .list("disclosed")
                .into_iter()
                .map(|n| (n, Value::Bool(true)))
                .collect(),
            issued: f.get("issued").into(),
            audience: f.get("audience").into(),
            nonce: f.get("nonce").into(),
        })
    }
}

impl Peer for SdJwtRs {
    fn verify(&self, presentation: &str) -> Result<(), String> {
        // The issuer-key callback must be 'static: it owns a clone.
        let key = self.issuer_key.clone();
        SDJWTVerifier::new(
            presentation.to_string(),
            Box::new(move |_issuer, _header| key.clone()),
            Some(self.audience.clone()),
            Some(self.nonce.clone()),
            SDJWTSerializationFormat::Compact,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    fn issue(&self) -> Option<Result<String, String>> {
        let strategy = ClaimsForSelectiveDisclosureStrategy::Custom(
            self.disclosable.iter().map(String::as_str).collect(),
        );
        Some(
            SDJWTIssuer::new(self.issuer_signing.clone(), Some("ES256".into()))
                .issue_sd_jwt(
                    self.claims.clone(),
                    strategy,
                    Some(self.holder_jwk.clone()),
                    true,
                    SDJWTSerializationFormat::Compact,
                )
                .map_err(|e| e.to_string()),
        )
    }

    fn present(&self) -> Option<Result<String, String>> {
        // The KB-JWT `iat` comes from the system clock (not settable).
        Some(
            SDJWTHolder::new(self.issued.clone(), SDJWTSerializationFormat::Compact)
                .and_then(|mut holder| {
                    holder.create_presentation(
                        self.disclosed.clone(),
                        Some(self.nonce.clone()),
                        Some(self.audience.clone()),
                        Some(self.holder_signing.clone()),
                        Some("ES256".into()),
                    )
                })
                .map_err(|e| e.to_string()),
        )
    }
}

fn main() -> ExitCode {
    peer_harness::main(SdJwtRs::new)
}
