//! ssi-sd-jwt 0.6 (SpruceKit): `SdJwt::decode_reveal_verify_any` verifies
//! the issuer signature and the revealed registered claims (`exp`, `nbf`,
//! `iat`, system clock) and refuses disclosures no digest references. Key
//! binding is the caller's job in ssi (as its own tests do it): decode the
//! KB-JWT, compare `aud`, `nonce`, `sd_hash`, then verify its signature with
//! `cnf.jwk` — which also checks its `typ` `kb+jwt` and that `iat` is not in
//! the future.
//!
//! Not checked by ssi, and not added here: the SD-JWT VC rules (`typ`
//! `dc+sd-jwt`, `vct`, never-disclosable claims) and a maximum KB-JWT age.
//! ES256 here is RustCrypto's `p256`, not ring: part of any gap is the
//! curve implementation, not the SD-JWT code.
//!
//! Issuing cannot set the `typ` header and adds no decoys.

use std::process::ExitCode;

use peer_harness::{block_on, Fixture, Peer};
use ssi_claims_core::VerificationParameters;
use ssi_jwk::JWK;
use ssi_jws::JwsPayload;
use ssi_jwt::JWTClaims;
use ssi_sd_jwt::{ConcealJwtClaims, JsonPointerBuf, KbJwtPayload, SdAlg, SdJwt};

struct Ssi {
    issuer_params: VerificationParameters<JWK>,
    issuer_signing: JWK,
    holder_signing: JWK,
    claims: JWTClaims,
    disclosable: Vec<JsonPointerBuf>,
    disclosed: Vec<JsonPointerBuf>,
    issued: String,
    audience: String,
    nonce: String,
}

fn pointers(names: &[String]) -> Result<Vec<JsonPointerBuf>, String> {
    names
        .iter()
        .map(|n| JsonPointerBuf::new(format!("/{n}")).map_err(|e| e.to_string()))
        .collect()
}

impl Ssi {
    fn new(f: &Fixture) -> Result<Self, String> {
        let jwk = |name| serde_json::from_str::<JWK>(f.get(name)).map_err(|e| e.to_string());
        let mut claims: serde_json::Value =
            serde_json::from_str(f.get("claims")).map_err(|e| e.to_string())?;
        claims["cnf"] = serde_json::json!({
            "jwk": serde_json::from_str::<serde_json::Value>(f.get("holder_jwk"))
                .map_err(|e| e.to_string())?
        });
        Ok(Ssi {
            issuer_params: VerificationParameters::from_resolver(jwk("issuer_jwk")?),
            issuer_signing: jwk("issuer_private_jwk")?,
            holder_signing: jwk("holder_private_jwk")?,
            claims: serde_json::from_value(claims).map_err(|e| e.to_string())?,
            disclosable: pointers(&f.list("disclosable"))?,
            disclosed: pointers(&f.list("disclosed"))?,
            issued: f.get("issued").into(),
            audience: f.get("audience").into(),
            nonce: f.get("nonce").into(),
        })
    }
}

impl Peer for Ssi {
    fn verify(&self, presentation: &str) -> Result<(), String> {
        let sd_jwt = SdJwt::new(presentation).map_err(|e| e.to_string())?;
        let (revealed, verification) =
            block_on(sd_jwt.decode_reveal_verify_any(&self.issuer_params))
                .map_err(|e| e.to_string())?;
        verification.map_err(|e| e.to_string())?;

        let cnf = revealed
            .claims()
            .private
            .get("cnf")
            .and_then(|c| c.get("jwk"))
            .ok_or("no cnf.jwk")?;
        let holder: JWK = serde_json::from_value(cnf.clone()).map_err(|e| e.to_string())?;
        let kb = sd_jwt
            .decode_kb()
            .map_err(|e| e.to_string())?
            .ok_or("key binding required but no KB-JWT")?;
        let claims = &kb.signing_bytes.payload;
        if claims.aud != self.audience {
            return Err("KB-JWT aud does not match".into());
        }
        if claims.nonce.0 != self.nonce {
            return Err("KB-JWT nonce does not match".into());
        }
        if !claims.sd_hash.verify(revealed.sd_alg, sd_jwt) {
            return Err("KB-JWT sd_hash does not match".into());
        }
        block_on(kb.verify(VerificationParameters::from_resolver(&holder)))
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("KB-JWT: {e}"))
    }

    fn issue(&self) -> Option<Result<String, String>> {
        Some(
            block_on(self.claims.conceal_and_sign(
                SdAlg::Sha256,
                &self.disclosable,
                &self.issuer_signing,
            ))
            .map(|sd| sd.into_string())
            .map_err(|e| e.to_string()),
        )
    }

    fn present(&self) -> Option<Result<String, String>> {
        let present = || -> Result<String, String> {
            let issued = SdJwt::new(&self.issued).map_err(|e| e.to_string())?;
            let revealed = issued.decode_reveal_any().map_err(|e| e.to_string())?;
            let mut sd = revealed.retaining(&self.disclosed).into_encoded();
            // KB-JWT `iat` from the system clock (not settable).
            let kb = block_on(
                KbJwtPayload::new(
                    self.audience.clone(),
                    self.nonce.clone(),
                    SdAlg::Sha256,
                    &sd,
                )
                .sign(&self.holder_signing),
            )
            .map_err(|e| e.to_string())?;
            sd.set_kb(&kb);
            Ok(sd.into_string())
        };
        Some(present())
    }
}

fn main() -> ExitCode {
    peer_harness::main(Ssi::new)
}
