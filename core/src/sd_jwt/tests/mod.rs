//! Positive and negative tests of issuance, presentation and every
//! verification rule of RFC 9901 §7.1–7.3 and SD-JWT VC.

use serde_json::{json, Map, Value};

use super::*;
use crate::{b64, jws, Signer, SoftwareKey};

mod key_binding;
mod rules;

const NOW: i64 = 1_800_000_000;

struct Fixture {
    issuer: SoftwareKey,
    holder: SoftwareKey,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            issuer: SoftwareKey::generate_es256().unwrap(),
            holder: SoftwareKey::generate_es256().unwrap(),
        }
    }

    fn claims(&self) -> Map<String, Value> {
        json!({
            "iss": "https://issuer.example",
            "vct": "urn:satchel:id-card",
            "iat": NOW - 100,
            "exp": NOW + 3600,
            "cnf": {"jwk": self.holder.public_jwk().to_value()},
            "name": "张三",
            "id_number": "440101199001011234",
            "age_over_18": true,
            "address": {"street": "1 Road", "city": "Guangzhou"},
            "nationalities": ["CN", "HK"],
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn paths() -> Vec<ClaimPath> {
        [
            "name",
            "id_number",
            "age_over_18",
            "address",
            "address.street",
            "address.city",
            "nationalities.*",
        ]
        .iter()
        .map(|p| ClaimPath::parse_dotted(p).unwrap())
        .collect()
    }

    fn issue(&self) -> String {
        issue(
            &self.claims(),
            &Self::paths(),
            &IssueOptions::default(),
            &self.issuer,
        )
        .unwrap()
    }

    fn present(&self, token: &str, paths: &[&str]) -> String {
        let paths: Vec<ClaimPath> = paths
            .iter()
            .map(|p| ClaimPath::parse_dotted(p).unwrap())
            .collect();
        let kb = KeyBinding {
            audience: "https://bank.example",
            nonce: "n-123",
            issued_at: NOW,
            signer: &self.holder,
        };
        present(token, &paths, Some(kb)).unwrap()
    }

    fn key(&self) -> crate::VerifyingKey {
        self.issuer.public_jwk().verifying_key().unwrap()
    }

    fn verify_kb(&self, token: &str) -> Result<VerifiedSdJwt, SdJwtError> {
        verify(
            token,
            &self.key(),
            &VerifyOptions::vc(NOW).with_key_binding("https://bank.example", "n-123"),
        )
    }

    /// Why `token` is refused under the SD-JWT VC policy at `NOW` (key
    /// binding not required); panics if it verifies.
    fn refused(&self, token: &str) -> SdJwtError {
        verify(token, &self.key(), &VerifyOptions::vc(NOW)).unwrap_err()
    }

    /// Signs an arbitrary payload as the issuer, then appends disclosures.
    fn forge(&self, typ: &str, payload: Value, disclosures: &[&Disclosure]) -> String {
        let mut out = jws::sign(jws::header_with_typ(typ), &payload, &self.issuer).unwrap();
        out.push('~');
        for d in disclosures {
            out.push_str(&d.encoded);
            out.push('~');
        }
        out
    }
}

#[test]
fn issue_present_verify_discloses_only_what_was_chosen() {
    let f = Fixture::new();
    let token = f.issue();
    // Issued: the plain payload hides every disclosable value.
    let payload = jws::decode(token.split('~').next().unwrap())
        .unwrap()
        .payload_object()
        .unwrap();
    assert!(payload.get("name").is_none());
    assert_eq!(payload["_sd_alg"], "sha-256");
    assert!(
        payload["_sd"].as_array().unwrap().len() >= 4 + 2,
        "claims plus decoys"
    );

    let all = verify(&token, &f.key(), &VerifyOptions::vc(NOW)).unwrap();
    assert_eq!(all.claims["name"], "张三");
    assert_eq!(all.claims["address"]["street"], "1 Road");
    assert_eq!(all.claims["nationalities"], json!(["CN", "HK"]));
    assert!(all.claims.get("_sd").is_none() && all.claims.get("_sd_alg").is_none());

    let p = f.present(&token, &["name", "age_over_18", "address.street"]);
    let v = f.verify_kb(&p).unwrap();
    assert!(v.key_bound);
    assert_eq!(v.claims["name"], "张三");
    assert_eq!(v.claims["age_over_18"], true);
    assert_eq!(
        v.claims["address"],
        json!({"street": "1 Road"}),
        "city stays hidden"
    );
    assert!(v.claims.get("id_number").is_none());
    assert_eq!(
        v.claims["nationalities"],
        json!([]),
        "undisclosed array elements are dropped"
    );
    assert_eq!(v.disclosure_count, 4, "name, age, address, street");
    assert!(!p.contains("Guangzhou"));
    assert!(!p.contains(&b64::encode("440101199001011234")));
}

#[test]
fn array_element_and_whole_object_selection() {
    let f = Fixture::new();
    let token = f.issue();
    let v = f
        .verify_kb(&f.present(&token, &["nationalities.1", "address"]))
        .unwrap();
    assert_eq!(v.claims["nationalities"], json!(["HK"]));
    assert_eq!(
        v.claims["address"],
        json!({"street": "1 Road", "city": "Guangzhou"})
    );
}

#[test]
fn ed25519_issuer_and_holder() {
    let f = Fixture {
        issuer: SoftwareKey::generate_ed25519().unwrap(),
        holder: SoftwareKey::generate_ed25519().unwrap(),
    };
    let token = f.issue();
    f.verify_kb(&f.present(&token, &["name"])).unwrap();
}

#[test]
fn presenting_an_unknown_claim_is_an_error() {
    let f = Fixture::new();
    let token = f.issue();
    let err = present(&token, &[ClaimPath::keys(&["shoe_size"])], None).unwrap_err();
    assert!(matches!(err, SdJwtError::ClaimNotFound(_)));
}

#[test]
fn issue_refuses_bad_input() {
    let f = Fixture::new();
    let mut no_vct = f.claims();
    no_vct.remove("vct");
    assert_eq!(
        issue(&no_vct, &[], &IssueOptions::default(), &f.issuer).unwrap_err(),
        SdJwtError::MissingVct
    );
    for protected in VC_NEVER_DISCLOSABLE {
        let mut c = f.claims();
        c.insert(protected.into(), json!("x"));
        assert_eq!(
            issue(
                &c,
                &[ClaimPath::keys(&[protected])],
                &IssueOptions::default(),
                &f.issuer
            )
            .unwrap_err(),
            SdJwtError::NotDisclosable(protected.into())
        );
    }
    assert!(matches!(
        issue(
            &f.claims(),
            &[ClaimPath::keys(&["nope"])],
            &IssueOptions::default(),
            &f.issuer
        )
        .unwrap_err(),
        SdJwtError::ClaimNotFound(_)
    ));
    // What a verifier would read as SD-JWT structure, at any depth.
    let mut deep = json!("x");
    for _ in 0..70 {
        deep = json!({ "a": deep });
    }
    for (claim, why) in [
        (json!({"_sd": "junk", "x": 1}), "reserved"),
        (json!([1, {"...": "d"}]), "reserved"),
        (json!({"l": [{"k": {"_sd": []}}]}), "reserved"),
        (deep, "nested too deeply"),
    ] {
        let mut c = f.claims();
        c.insert("o".into(), claim);
        let err = issue(&c, &[], &IssueOptions::default(), &f.issuer).unwrap_err();
        let SdJwtError::InvalidIssueInput(m) = &err else {
            panic!("{err:?}")
        };
        let expected = if why == "reserved" {
            "may not contain _sd"
        } else {
            why
        };
        assert!(m.contains(expected), "{m}");
    }
    // `{"...": x}` with other members, or outside an array, is a claim.
    let mut c = f.claims();
    c.insert("o".into(), json!({"...": 1, "l": [{"...": 1, "b": 2}]}));
    issue(
        &c,
        &[ClaimPath::keys(&["o"])],
        &IssueOptions::default(),
        &f.issuer,
    )
    .unwrap();
}

/// Signs `payload` JSON text exactly as written, as the issuer.
fn forge_text(f: &Fixture, payload: &str, disclosures: &[&Disclosure]) -> String {
    let header = json!({"alg": "ES256", "typ": VC_TYP}).to_string();
    let mut out = jws::sign_json(header.as_bytes(), payload.as_bytes(), &f.issuer).unwrap();
    out.push('~');
    for d in disclosures {
        out.push_str(&d.encoded);
        out.push('~');
    }
    out
}
