//! ring's raw P-256 (`ECDSA_P256_SHA256_FIXED`): the floor under every
//! peer. `verify` times one verification of the issuer JWT's signature over
//! its signing input (a presentation needs two: issuer JWT and KB-JWT);
//! `sign` times one signature over the KB-JWT's signing input with the
//! holder key. `check` verifies the issuer signature of each presentation:
//! only the `issuer_sig` tamper case concerns it.

use std::process::ExitCode;

use peer_harness::{b64url_decode, Fixture, Peer};
use ring::{
    rand::SystemRandom,
    signature::{
        EcdsaKeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
    },
};

struct Ring {
    /// Uncompressed point `04‖x‖y`, as Satchel's `VerifyingKey::P256` holds it.
    issuer_point: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
    holder: EcdsaKeyPair,
    kb_message: Vec<u8>,
    rng: SystemRandom,
}

/// The signing input and signature of the compact JWS `jws`.
fn split_jws(jws: &str) -> Result<(&str, Vec<u8>), String> {
    let dot = jws.rfind('.').ok_or("JWS without signature")?;
    let sig = b64url_decode(&jws[dot + 1..]).ok_or("signature is not base64url")?;
    Ok((&jws[..dot], sig))
}

fn jwk_coordinate(jwk: &str, name: &str) -> Result<Vec<u8>, String> {
    // The driver writes compact JSON: `"x":"…"`.
    let key = format!("\"{name}\":\"");
    let start = jwk.find(&key).ok_or(format!("JWK without {name}"))? + key.len();
    let end = jwk[start..].find('"').ok_or("unterminated JWK value")? + start;
    b64url_decode(&jwk[start..end]).ok_or(format!("JWK {name} is not base64url"))
}

impl Ring {
    fn new(f: &Fixture) -> Result<Self, String> {
        let jwk = f.get("issuer_jwk");
        let mut issuer_point = vec![4u8];
        issuer_point.extend(jwk_coordinate(jwk, "x")?);
        issuer_point.extend(jwk_coordinate(jwk, "y")?);
        let presentation = f.get("presentation");
        let issuer_jwt = presentation.split('~').next().unwrap_or_default();
        let (message, signature) = split_jws(issuer_jwt)?;
        let kb = presentation.rsplit('~').next().unwrap_or_default();
        let (kb_message, _) = split_jws(kb)?;
        let rng = SystemRandom::new();
        let holder = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &f.bytes("holder_pkcs8"),
            &rng,
        )
        .map_err(|e| e.to_string())?;
        Ok(Ring {
            issuer_point,
            message: message.as_bytes().to_vec(),
            signature,
            holder,
            kb_message: kb_message.as_bytes().to_vec(),
            rng,
        })
    }

    fn verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), String> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.issuer_point)
            .verify(message, signature)
            .map_err(|_| "signature does not verify".to_string())
    }
}

impl Peer for Ring {
    fn verify(&self, presentation: &str) -> Result<(), String> {
        let issuer_jwt = presentation.split('~').next().unwrap_or_default();
        let (message, signature) = split_jws(issuer_jwt)?;
        self.verify_raw(message.as_bytes(), &signature)
    }

    /// Only the signature check: the message and signature are decoded once.
    fn verify_timed(&self, _presentation: &str) {
        if let Err(e) = self.verify_raw(&self.message, &self.signature) {
            panic!("{e}");
        }
    }

    fn sign(&self) -> Option<Vec<u8>> {
        self.holder
            .sign(&self.rng, &self.kb_message)
            .ok()
            .map(|s| s.as_ref().to_vec())
    }
}

fn main() -> ExitCode {
    peer_harness::main(Ring::new)
}
