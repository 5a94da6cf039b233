//! The one presentation every peer verifies, made by satchel-core: an SD-JWT
//! VC with 10 selectively disclosable claims, 3 disclosed, ES256 issuer
//! key, ES256 key-binding JWT (`aud` + `nonce`); plus the keys and claims
//! the issue/present peers need, and tampered copies for the `check` run.

use peer_harness::{b64url_encode, TAMPER_PREFIX};
use ring::{
    rand::SystemRandom,
    signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use satchel_core::{
    b64, jws,
    sd_jwt::{issue, present, ClaimPath, IssueOptions, KeyBinding, KB_TYP},
    KeyAlgorithm, Signer, SoftwareKey,
};
use serde_json::{json, Map, Value};

pub const AUDIENCE: &str = "https://verifier.example";
pub const NONCE: &str = "n-0S6_WzA2Mj";
const DISCLOSABLE: usize = 10;
const DISCLOSED: usize = 3;

/// Tampered cases every SD-JWT verifier must refuse; one it accepts skips a
/// check, and the run stops.
pub const MUST_REFUSE: [&str; 7] = [
    "issuer_sig",
    "kb_sig",
    "dropped_disclosure",
    "wrong_aud",
    "wrong_nonce",
    "no_kb",
    "expired",
];
/// Cases the specs require refusing but not every library checks: reported,
/// not enforced.
pub const REPORTED: [&str; 3] = ["stale_kb", "forged_disclosure", "wrong_typ"];
/// The only case about the issuer signature alone (what the ring peer checks).
pub const SIGNATURE_CASE: &str = "issuer_sig";

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("claim_{i}")).collect()
}

fn paths(names: &[String]) -> Vec<ClaimPath> {
    names
        .iter()
        .map(|n| ClaimPath::keys(std::slice::from_ref(n)))
        .collect()
}

fn es256_pkcs8() -> Result<Vec<u8>, String> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .map(|d| d.as_ref().to_vec())
        .map_err(|_| "cannot generate a P-256 key".to_string())
}

/// Replaces one base64url character in the middle of the signature (last
/// segment) of the JWS at `token[jws_start..jws_end]`.
fn corrupt_signature(token: &str, jws_start: usize, jws_end: usize) -> String {
    let jws = &token[jws_start..jws_end];
    let at = jws_start + jws.rfind('.').unwrap_or(0) + 20;
    let mut out = token.to_string();
    let replacement = if &token[at..=at] == "A" { "B" } else { "A" };
    out.replace_range(at..=at, replacement);
    out
}

/// Builds every fixture field.
pub fn generate(now: i64) -> Result<Vec<(String, String)>, String> {
    let e = |e: satchel_core::sd_jwt::SdJwtError| e.to_string();
    let issuer_pkcs8 = es256_pkcs8()?;
    let holder_pkcs8 = es256_pkcs8()?;
    let load =
        |d: &[u8]| SoftwareKey::from_pkcs8(KeyAlgorithm::Es256, d).map_err(|e| e.to_string());
    let (issuer, holder) = (load(&issuer_pkcs8)?, load(&holder_pkcs8)?);

    // Validity in system-clock terms: sd-jwt-rs and ssi read the clock, Satchel
    // takes `now` from the fixture.
    let claims_at = |iat: i64, exp: i64| {
        let mut c = json!({
            "iss": "https://issuer.example", "vct": "urn:satchel:id-card",
            "iat": iat, "exp": exp,
        });
        for (i, n) in names(DISCLOSABLE).iter().enumerate() {
            c[n] = json!(format!("value number {i}"));
        }
        c.as_object().cloned().unwrap_or_default()
    };
    let with_cnf = |mut c: Map<String, Value>| {
        c.insert(
            "cnf".into(),
            json!({ "jwk": holder.public_jwk().to_value() }),
        );
        c
    };
    let claims = claims_at(now - 10, now + 86_400);
    let disclosable = names(DISCLOSABLE);
    let disclosed = names(DISCLOSED);
    let issued = issue(
        &with_cnf(claims.clone()),
        &paths(&disclosable),
        &IssueOptions::default(),
        &issuer,
    )
    .map_err(e)?;
    let present_as = |token: &str, audience: &str, nonce: &str, iat: i64| {
        let kb = KeyBinding {
            audience,
            nonce,
            issued_at: iat,
            signer: &holder,
        };
        present(token, &paths(&disclosed), Some(kb)).map_err(e)
    };
    let presentation = present_as(&issued, AUDIENCE, NONCE, now)?;

    let issuer_jwt_end = presentation.find('~').unwrap_or(0);
    let kb_start = presentation.rfind('~').unwrap_or(0) + 1;
    let sd_part = &presentation[..kb_start];
    let mut dropped: Vec<&str> = sd_part.split('~').collect();
    dropped.remove(2);
    let expired = issue(
        &with_cnf(claims_at(now - 7_200, now - 3_600)),
        &paths(&disclosable),
        &IssueOptions::default(),
        &issuer,
    )
    .map_err(e)?;
    let other_typ = issue(
        &with_cnf(claims.clone()),
        &paths(&disclosable),
        &IssueOptions {
            typ: "example+sd-jwt".into(),
            ..IssueOptions::default()
        },
        &issuer,
    )
    .map_err(e)?;
    // A well-formed disclosure no digest references, with a valid KB-JWT
    // over it: only digest checking can refuse it.
    let forged_disclosure = b64::encode(r#"["c2FsdHNhbHRzYWx0","claim_9","forged"]"#);
    let forged_sd = format!("{sd_part}{forged_disclosure}~");
    let forged_kb = jws::sign(
        jws::header_with_typ(KB_TYP),
        &json!({
            "iat": now, "aud": AUDIENCE, "nonce": NONCE,
            "sd_hash": b64::sha256_b64(forged_sd.as_bytes()),
        }),
        &holder,
    )
    .map_err(|e| e.to_string())?;

    let tampered = [
        (
            "issuer_sig",
            corrupt_signature(&presentation, 0, issuer_jwt_end),
        ),
        (
            "kb_sig",
            corrupt_signature(&presentation, kb_start, presentation.len()),
        ),
        (
            "dropped_disclosure",
            dropped.join("~") + &presentation[kb_start..],
        ),
        (
            "wrong_aud",
            present_as(&issued, "https://other.example", NONCE, now)?,
        ),
        (
            "wrong_nonce",
            present_as(&issued, AUDIENCE, "n-other", now)?,
        ),
        (
            "no_kb",
            present(&issued, &paths(&disclosed), None).map_err(e)?,
        ),
        ("expired", present_as(&expired, AUDIENCE, NONCE, now)?),
        (
            "stale_kb",
            present_as(&issued, AUDIENCE, NONCE, now - 3_600)?,
        ),
        ("forged_disclosure", forged_sd + &forged_kb),
        ("wrong_typ", present_as(&other_typ, AUDIENCE, NONCE, now)?),
    ];

    let mut fields: Vec<(String, String)> = vec![
        ("now".into(), now.to_string()),
        ("audience".into(), AUDIENCE.into()),
        ("nonce".into(), NONCE.into()),
        (
            "issuer_jwk".into(),
            issuer.public_jwk().to_value().to_string(),
        ),
        (
            "holder_jwk".into(),
            holder.public_jwk().to_value().to_string(),
        ),
        ("issuer_pkcs8".into(), b64url_encode(&issuer_pkcs8)),
        ("holder_pkcs8".into(), b64url_encode(&holder_pkcs8)),
        (
            "issuer_private_jwk".into(),
            issuer.to_private_jwk().to_string(),
        ),
        (
            "holder_private_jwk".into(),
            holder.to_private_jwk().to_string(),
        ),
        ("claims".into(), Value::Object(claims).to_string()),
        ("disclosable".into(), disclosable.join(",")),
        ("disclosed".into(), disclosed.join(",")),
        ("issued".into(), issued),
        ("presentation".into(), presentation),
    ];
    for (case, token) in tampered {
        fields.push((format!("{TAMPER_PREFIX}{case}"), token));
    }
    Ok(fields)
}
