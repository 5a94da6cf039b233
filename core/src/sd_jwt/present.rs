//! Holder side: choose disclosures by claim path and add key binding.

use serde_json::Value;

use super::{
    resolve::{resolve, Payload, Record},
    verify::split,
    ClaimPath, SdJwtError, KB_TYP,
};
use crate::{b64, jws, Signer};

/// The key-binding JWT to add to a presentation.
pub struct KeyBinding<'a> {
    /// The verifier (`aud`).
    pub audience: &'a str,
    /// The verifier's nonce.
    pub nonce: &'a str,
    /// `iat`, seconds since the Unix epoch.
    pub issued_at: i64,
    /// The holder key (the one in `cnf.jwk`).
    pub signer: &'a dyn Signer,
}

/// The key-binding JWT's claims (RFC 9901 §4.3).
#[derive(serde::Serialize)]
struct KbPayload<'a> {
    iat: i64,
    aud: &'a str,
    nonce: &'a str,
    sd_hash: &'a str,
}

/// Builds a presentation of `sd_jwt` (as issued: all disclosures) that
/// discloses only the claims at `paths` and whatever disclosures are needed to
/// reach them; a path to an object discloses everything inside it. With
/// `key_binding`, a `kb+jwt` is appended.
///
/// The issuer signature is not checked here (the wallet checked it on import);
/// the disclosures are checked for consistency with the payload.
pub fn present(
    sd_jwt: &str,
    paths: &[ClaimPath],
    key_binding: Option<KeyBinding<'_>>,
) -> Result<String, SdJwtError> {
    let compact = split(sd_jwt)?;
    let jwt = jws::decode(compact.issuer_jwt)?;
    let payload = Payload::read(&jwt.payload)?;
    let mut disclosures = compact.parse_disclosures()?;
    let resolved = resolve(payload, &mut disclosures, false, Record::RelatedTo(paths))?;

    let all = Value::Object(resolved.claims);
    for p in paths {
        if !p.exists_in(&all) {
            return Err(SdJwtError::ClaimNotFound(p.to_string()));
        }
    }

    // `iat`, `aud`, `nonce` and a 43-character `sd_hash`.
    let kb_size = key_binding
        .as_ref()
        .map_or(0, |kb| 96 + kb.audience.len() + kb.nonce.len());
    // The presentation, key-binding JWT included, in one buffer.
    let mut out = String::with_capacity(sd_jwt.len() + kb_size * 4 / 3 + 256);
    out.push_str(compact.issuer_jwt);
    out.push('~');
    for (d, related) in disclosures.iter().zip(&resolved.related) {
        if *related {
            out.push_str(d.encoded);
            out.push('~');
        }
    }
    if let Some(kb) = key_binding {
        let sd_hash = b64::Digest::of(out.as_bytes());
        let payload = KbPayload {
            iat: kb.issued_at,
            aud: kb.audience,
            nonce: kb.nonce,
            sd_hash: sd_hash.as_str(),
        };
        jws::sign_typed_into(&mut out, KB_TYP, None, &payload, kb_size, kb.signer)?;
    }
    Ok(out)
}
