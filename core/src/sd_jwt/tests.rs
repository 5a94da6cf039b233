//! Positive and negative tests of issuance, presentation and every
//! verification rule of RFC 9901 §7.1–7.3 and SD-JWT VC.

use serde_json::{json, Map, Value};

use super::*;
use crate::{b64, jws, Signer, SoftwareKey};

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

// ---- negative tests: one per rule ----

#[test]
fn tampered_disclosure_is_unreferenced() {
    let f = Fixture::new();
    let p = f.present(&f.issue(), &["name"]);
    let parts: Vec<&str> = p.split('~').collect();
    let forged = Disclosure::new(Some("name"), json!("李四"));
    let tampered = format!("{}~{}~", parts[0], forged.encoded);
    assert_eq!(
        verify(&tampered, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::UnreferencedDisclosure
    );
    // A single changed character in a real disclosure.
    let mut d = parts[1].to_owned();
    let last = d.pop().unwrap();
    d.push(if last == 'A' { 'B' } else { 'A' });
    let tampered = format!("{}~{}~", parts[0], d);
    assert!(verify(&tampered, &f.key(), &VerifyOptions::vc(NOW)).is_err());
}

#[test]
fn duplicate_disclosure_is_refused() {
    let f = Fixture::new();
    let p = f.present(&f.issue(), &["name"]);
    let parts: Vec<&str> = p.split('~').collect();
    let dup = format!("{}~{}~{}~", parts[0], parts[1], parts[1]);
    assert_eq!(
        verify(&dup, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::DuplicateDisclosure
    );
}

#[test]
fn duplicate_digest_in_payload_is_refused() {
    let f = Fixture::new();
    let d = Disclosure::new(Some("name"), json!("x"));
    let payload = json!({"vct": "t", "_sd": [d.digest], "a": {"_sd": [d.digest]}});
    let t = f.forge(VC_TYP, payload, &[&d]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::DuplicateDigest
    );
    // Also when the repeat is an undisclosed digest.
    let payload = json!({"vct": "t", "_sd": ["abc", "abc"]});
    let t = f.forge(VC_TYP, payload, &[]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::DuplicateDigest
    );
}

#[test]
fn reserved_claim_names_are_refused() {
    let f = Fixture::new();
    for name in ["_sd", "..."] {
        let d = Disclosure::new(Some(name), json!("x"));
        let t = f.forge(VC_TYP, json!({"vct": "t", "_sd": [d.digest]}), &[&d]);
        assert_eq!(
            verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
            SdJwtError::ReservedClaimName(name.into())
        );
    }
}

#[test]
fn claim_collision_is_refused() {
    let f = Fixture::new();
    let d = Disclosure::new(Some("name"), json!("x"));
    let t = f.forge(
        VC_TYP,
        json!({"vct": "t", "name": "y", "_sd": [d.digest]}),
        &[&d],
    );
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::ClaimCollision("name".into())
    );
}

#[test]
fn disclosure_kind_must_match_its_place() {
    let f = Fixture::new();
    let element = Disclosure::new(None, json!("x"));
    let t = f.forge(
        VC_TYP,
        json!({"vct": "t", "_sd": [element.digest]}),
        &[&element],
    );
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::DisclosureKindMismatch
    );
    let property = Disclosure::new(Some("a"), json!("x"));
    let t = f.forge(
        VC_TYP,
        json!({"vct": "t", "list": [{"...": property.digest}]}),
        &[&property],
    );
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::DisclosureKindMismatch
    );
}

#[test]
fn vc_protected_claims_cannot_be_disclosures() {
    let f = Fixture::new();
    for name in VC_NEVER_DISCLOSABLE {
        let d = Disclosure::new(Some(name), json!("x"));
        let t = f.forge(VC_TYP, json!({"vct": "t", "_sd": [d.digest]}), &[&d]);
        let err = verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err();
        assert!(
            err == SdJwtError::NotDisclosable(name.into())
                || (name == "vct" && err == SdJwtError::ClaimCollision("vct".into())),
            "{name}: {err}"
        );
    }
    // The same claim is fine inside a nested object.
    let d = Disclosure::new(Some("exp"), json!(1));
    let t = f.forge(
        VC_TYP,
        json!({"vct": "t", "inner": {"_sd": [d.digest]}}),
        &[&d],
    );
    verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap();
}

#[test]
fn vc_requires_vct() {
    let f = Fixture::new();
    let t = f.forge(VC_TYP, json!({"iss": "x"}), &[]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::MissingVct
    );
    let t = f.forge(VC_TYP, json!({"vct": 5}), &[]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::MissingVct
    );
}

#[test]
fn typ_policy() {
    let f = Fixture::new();
    let t = f.forge("example+sd-jwt", json!({"vct": "t"}), &[]);
    assert!(matches!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::WrongTyp { .. }
    ));
    let any = VerifyOptions {
        typ: TypPolicy::Any,
        ..VerifyOptions::vc(NOW)
    };
    verify(&t, &f.key(), &any).unwrap();
    let exact = VerifyOptions {
        typ: TypPolicy::Exactly("example+sd-jwt".into()),
        ..VerifyOptions::vc(NOW)
    };
    verify(&t, &f.key(), &exact).unwrap();
    let other = VerifyOptions {
        typ: TypPolicy::Exactly("other".into()),
        ..VerifyOptions::vc(NOW)
    };
    assert!(matches!(
        verify(&t, &f.key(), &other).unwrap_err(),
        SdJwtError::WrongTyp { .. }
    ));
}

#[test]
fn alg_none_is_refused() {
    let f = Fixture::new();
    let header = b64::encode(json!({"alg": "none", "typ": VC_TYP}).to_string());
    let payload = b64::encode(json!({"vct": "t"}).to_string());
    let t = format!("{header}.{payload}.~");
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::Jose(jws::JoseError::AlgNone)
    );
}

#[test]
fn wrong_issuer_key_is_refused() {
    let f = Fixture::new();
    let token = f.issue();
    let other = SoftwareKey::generate_es256()
        .unwrap()
        .public_jwk()
        .verifying_key()
        .unwrap();
    assert_eq!(
        verify(&token, &other, &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::Jose(jws::JoseError::BadSignature)
    );
    let ed = SoftwareKey::generate_ed25519()
        .unwrap()
        .public_jwk()
        .verifying_key()
        .unwrap();
    assert_eq!(
        verify(&token, &ed, &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::Jose(jws::JoseError::AlgKeyMismatch)
    );
}

#[test]
fn validity_window() {
    let f = Fixture::new();
    let token = f.issue();
    assert_eq!(
        verify(&token, &f.key(), &VerifyOptions::vc(NOW + 3600 + 61)).unwrap_err(),
        SdJwtError::Expired
    );
    verify(&token, &f.key(), &VerifyOptions::vc(NOW + 3600 + 59)).unwrap();
    let t = f.forge(VC_TYP, json!({"vct": "t", "nbf": NOW + 1000}), &[]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::NotYetValid
    );
    let t = f.forge(VC_TYP, json!({"vct": "t", "iat": NOW + 1000}), &[]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::NotYetValid
    );
    let t = f.forge(VC_TYP, json!({"vct": "t", "exp": "tomorrow"}), &[]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::BadTimeClaim("exp")
    );
}

#[test]
fn unsupported_sd_alg() {
    let f = Fixture::new();
    let t = f.forge(VC_TYP, json!({"vct": "t", "_sd_alg": "md5"}), &[]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::UnsupportedSdAlg("md5".into())
    );
    for alg in [json!(5), json!(null), json!(["sha-256"]), json!({"a": 1})] {
        let t = f.forge(VC_TYP, json!({"vct": "t", "_sd_alg": alg}), &[]);
        assert_eq!(
            verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
            SdJwtError::UnsupportedSdAlg("non-string".into())
        );
    }
    // Spelt with an escape, it is still sha-256.
    let t = forge_text(&f, r#"{"vct":"t","_sd_alg":"sha\u002d256"}"#, &[]);
    verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap();
}

#[test]
fn malformed_sd_structures() {
    let f = Fixture::new();
    for payload in [
        json!({"vct": "t", "_sd": "x"}),
        json!({"vct": "t", "_sd": [1]}),
        json!({"vct": "t", "_sd": {"a": ["b"]}}),
        json!({"vct": "t", "_sd": null}),
        json!({"vct": "t", "_sd": true}),
        json!({"vct": "t", "_sd": [["nested"]]}),
        json!({"vct": "t", "_sd": ["fine", {"a": 1}]}),
        json!({"vct": "t", "o": {"_sd": 5}}),
        json!({"vct": "t", "o": {"_sd": ["fine", 2.5]}}),
        json!({"vct": "t", "l": [{"...": 1}]}),
    ] {
        let t = f.forge(VC_TYP, payload, &[]);
        let err = verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err();
        let SdJwtError::Malformed(m) = &err else {
            panic!("{err:?}")
        };
        assert!(
            m.starts_with("_sd must") || m.starts_with("array digest"),
            "{m}"
        );
    }
    // `_sd` is read in order: what is wrong with an earlier digest is the error.
    let named = Disclosure::new(Some("_sd"), json!(1));
    let unnamed = Disclosure::new(None, json!(1));
    for (disclosure, expected) in [
        (&unnamed, SdJwtError::DisclosureKindMismatch),
        (&named, SdJwtError::ReservedClaimName("_sd".into())),
    ] {
        let payload = json!({"vct": "t", "_sd": [disclosure.digest, 1]});
        let t = f.forge(VC_TYP, payload, &[disclosure]);
        assert_eq!(
            verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
            expected
        );
    }
    let d = Disclosure::new(Some("n"), json!(1));
    let t = f.forge(
        VC_TYP,
        json!({"vct": "t", "_sd": [d.digest, d.digest, 1]}),
        &[&d],
    );
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::DuplicateDigest
    );
    // A disclosed scalar below the nesting limit is refused like any claim there.
    let leaf = Disclosure::new(Some("x"), json!(1));
    let mut deep = json!({"_sd": [leaf.digest]});
    for _ in 0..65 {
        deep = json!({ "a": deep });
    }
    let t = f.forge(VC_TYP, json!({"vct": "t", "deep": deep}), &[&leaf]);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::Malformed("claims nested too deeply".into())
    );
    // Members set aside unread are still JSON: out-of-range numbers, lone
    // surrogates and nesting past the parser's limit are refused even when
    // a later member of the same name would have been fine.
    let nested_129 = format!("{}1{}", "[".repeat(129), "]".repeat(129));
    for payload in [
        r#"{"vct":"t","_sd":[[1e999]],"_sd":[]}"#.to_owned(),
        r#"{"vct":"t","_sd":{"a":1e999}}"#.to_owned(),
        r#"{"vct":"t","_sd_alg":["\ud800"],"_sd_alg":"sha-256"}"#.to_owned(),
        format!(r#"{{"vct":"t","_sd_alg":{nested_129},"_sd_alg":"sha-256"}}"#),
        format!(r#"{{"vct":"t","_sd":[{nested_129}],"_sd":[]}}"#),
    ] {
        assert_eq!(
            verify(
                &forge_text(&f, &payload, &[]),
                &f.key(),
                &VerifyOptions::vc(NOW)
            )
            .unwrap_err(),
            SdJwtError::Jose(jws::JoseError::NotObject("payload")),
            "{payload}"
        );
    }
    // Deep nesting is refused, not a stack overflow.
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!({ "a": deep });
    }
    let t = f.forge(VC_TYP, json!({"vct": "t", "deep": deep}), &[]);
    assert!(verify(&t, &f.key(), &VerifyOptions::vc(NOW)).is_err());
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

#[test]
fn digests_and_names_written_with_escapes_are_read_as_json_strings() {
    let f = Fixture::new();
    let d = Disclosure::new(Some("name"), json!("张三"));
    // `_sd` spelt with an escape, and the digest's first character escaped:
    // the same member and the same digest once read as JSON.
    let escaped = format!("\\u{:04x}{}", d.digest.as_bytes()[0], &d.digest[1..]);
    let payload = format!(r#"{{"vct":"t","_s\u0064":["{escaped}"],"_sd_alg":"sha-256"}}"#);
    let v = verify(
        &forge_text(&f, &payload, &[&d]),
        &f.key(),
        &VerifyOptions::vc(NOW),
    )
    .unwrap();
    assert_eq!(v.claims["name"], "张三");
    // A repeated `_sd` keeps its last value, as any repeated member does.
    let payload = format!(r#"{{"vct":"t","_sd":["{}"],"_sd":[]}}"#, d.digest);
    assert_eq!(
        verify(
            &forge_text(&f, &payload, &[&d]),
            &f.key(),
            &VerifyOptions::vc(NOW)
        )
        .unwrap_err(),
        SdJwtError::UnreferencedDisclosure
    );
    // Not an object, or not JSON at all.
    for payload in ["[1]", "\"x\"", "{\"vct\":", "{\"vct\":\"t\"} x"] {
        assert_eq!(
            verify(
                &forge_text(&f, payload, &[]),
                &f.key(),
                &VerifyOptions::vc(NOW)
            )
            .unwrap_err(),
            SdJwtError::Jose(jws::JoseError::NotObject("payload")),
            "{payload}"
        );
    }
}

#[test]
fn truncated_and_oversized_tokens() {
    let f = Fixture::new();
    let p = f.present(&f.issue(), &["name"]);
    for cut in [
        0,
        5,
        p.find('.').unwrap() + 3,
        p.find('~').unwrap(),
        p.len() - 10,
    ] {
        assert!(f.verify_kb(&p[..cut]).is_err(), "cut at {cut}");
    }
    assert!(matches!(
        verify("abc", &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::Malformed(_)
    ));
    assert!(matches!(
        verify("~", &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::Malformed(_)
    ));
    let parts: Vec<&str> = p.split('~').collect();
    let (jwt, d, kb) = (parts[0], parts[1], parts[2]);
    let malformed = |m: &str| SdJwtError::Malformed(m.into());
    for (token, expected) in [
        (format!("{jwt}~~{d}~"), malformed("empty disclosure")),
        (format!("{jwt}~~"), malformed("empty disclosure")),
        (format!("{jwt}~{d}~~"), malformed("empty disclosure")),
        (format!("{jwt}~~{kb}"), malformed("empty disclosure")),
        (format!("~{d}~"), malformed("empty issuer JWT")),
        (format!("~~{kb}"), malformed("empty issuer JWT")),
    ] {
        assert_eq!(
            verify(&token, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
            expected,
            "{token}"
        );
    }
    // The count of disclosures is what is read.
    for (token, count) in [
        (format!("{jwt}~"), 0),
        (format!("{jwt}~{d}~"), 1),
        (format!("{jwt}~{d}~{kb}"), 1),
        (p.clone(), 1),
    ] {
        let compact = super::verify::split(&token).unwrap();
        assert_eq!(compact.disclosure_count, count);
        assert_eq!(compact.disclosures().count(), count);
        assert_eq!(compact.parse_disclosures().unwrap().len(), count);
    }
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    assert!(matches!(
        verify(&huge, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::Malformed(_)
    ));
}

// ---- key binding ----

#[test]
fn key_binding_required_but_missing() {
    let f = Fixture::new();
    let token = f.issue();
    let p = present(&token, &[ClaimPath::keys(&["name"])], None).unwrap();
    assert_eq!(f.verify_kb(&p).unwrap_err(), SdJwtError::KeyBindingMissing);
    // Without a requirement it verifies.
    verify(&p, &f.key(), &VerifyOptions::vc(NOW)).unwrap();
}

#[test]
fn key_binding_wrong_nonce_audience_iat_key_typ_sd_hash() {
    let f = Fixture::new();
    let token = f.issue();
    let p = f.present(&token, &["name"]);
    let key = f.key();
    let opts =
        |aud: &str, nonce: &str, now: i64| VerifyOptions::vc(now).with_key_binding(aud, nonce);
    assert_eq!(
        verify(&p, &key, &opts("https://bank.example", "other", NOW)).unwrap_err(),
        SdJwtError::KbNonce
    );
    assert_eq!(
        verify(&p, &key, &opts("https://evil.example", "n-123", NOW)).unwrap_err(),
        SdJwtError::KbAudience
    );
    assert_eq!(
        verify(&p, &key, &opts("https://bank.example", "n-123", NOW + 301)).unwrap_err(),
        SdJwtError::KbIat
    );
    assert_eq!(
        verify(&p, &key, &opts("https://bank.example", "n-123", NOW - 61)).unwrap_err(),
        SdJwtError::KbIat
    );

    let sd_input = &p[..=p.rfind('~').unwrap()];
    let kb_with = |typ: &str, payload: Value, signer: &dyn Signer| {
        format!(
            "{sd_input}{}",
            jws::sign(jws::header_with_typ(typ), &payload, signer).unwrap()
        )
    };
    let good = json!({"iat": NOW, "aud": "https://bank.example", "nonce": "n-123", "sd_hash": b64::sha256_b64(sd_input.as_bytes())});
    f.verify_kb(&kb_with(KB_TYP, good.clone(), &f.holder))
        .unwrap();

    // Signed by another key than cnf.jwk.
    let thief = SoftwareKey::generate_es256().unwrap();
    assert!(matches!(
        f.verify_kb(&kb_with(KB_TYP, good.clone(), &thief))
            .unwrap_err(),
        SdJwtError::KbSignature(_)
    ));
    // Wrong typ.
    assert_eq!(
        f.verify_kb(&kb_with("jwt", good.clone(), &f.holder))
            .unwrap_err(),
        SdJwtError::KbWrongTyp
    );
    // sd_hash over something else (e.g. a disclosure removed after signing).
    let mut bad = good.clone();
    bad["sd_hash"] = json!(b64::sha256_b64(b"other"));
    assert_eq!(
        f.verify_kb(&kb_with(KB_TYP, bad, &f.holder)).unwrap_err(),
        SdJwtError::KbSdHash
    );
    // The same members as an array, in the order the checks read them: a
    // key-binding payload must be an object.
    let as_array = json!([NOW, "n-123", "https://bank.example", good["sd_hash"]]);
    assert_eq!(
        f.verify_kb(&kb_with(KB_TYP, as_array, &f.holder))
            .unwrap_err(),
        SdJwtError::KbSignature(jws::JoseError::NotObject("payload"))
    );
    // A member of the wrong type is that member's error.
    let mut numeric_nonce = good.clone();
    numeric_nonce["nonce"] = json!(123);
    assert_eq!(
        f.verify_kb(&kb_with(KB_TYP, numeric_nonce, &f.holder))
            .unwrap_err(),
        SdJwtError::KbNonce
    );
    // A member that is not a string is still read as JSON: one that is not
    // valid JSON makes the payload unreadable, whatever member it is in.
    for member in ["nonce", "aud", "sd_hash"] {
        let text = good.to_string().replacen(
            &format!(r#""{member}":"#),
            &format!(r#""{member}":[1e999],"{member}":"#),
            1,
        );
        let header = json!({"alg": "ES256", "typ": KB_TYP}).to_string();
        let kb = jws::sign_json(header.as_bytes(), text.as_bytes(), &f.holder).unwrap();
        assert_eq!(
            f.verify_kb(&format!("{sd_input}{kb}")).unwrap_err(),
            SdJwtError::KbSignature(jws::JoseError::NotObject("payload")),
            "{member}"
        );
    }
    let mut no_iat = good.clone();
    no_iat.as_object_mut().unwrap().remove("iat");
    assert_eq!(
        f.verify_kb(&kb_with(KB_TYP, no_iat, &f.holder))
            .unwrap_err(),
        SdJwtError::KbIat
    );

    // A disclosure added after the KB-JWT was signed breaks sd_hash.
    let full: Vec<&str> = token.split('~').collect();
    let kb = p.rsplit('~').next().unwrap();
    let extra = full
        .iter()
        .find(|d| {
            Disclosure::parse(d)
                .map(|d| d.name.as_deref() == Some("id_number"))
                .unwrap_or(false)
        })
        .unwrap();
    let smuggled = format!("{sd_input}{extra}~{kb}");
    assert_eq!(f.verify_kb(&smuggled).unwrap_err(), SdJwtError::KbSdHash);

    // alg none on the KB-JWT.
    let header = b64::encode(json!({"alg": "none", "typ": KB_TYP}).to_string());
    let none = format!("{sd_input}{header}.{}.", b64::encode(good.to_string()));
    assert!(matches!(
        f.verify_kb(&none).unwrap_err(),
        SdJwtError::KbSignature(jws::JoseError::AlgNone)
    ));
}

#[test]
fn key_binding_needs_a_holder_key() {
    let f = Fixture::new();
    let mut claims = f.claims();
    claims.remove("cnf");
    let token = issue(
        &claims,
        &[ClaimPath::keys(&["name"])],
        &IssueOptions::default(),
        &f.issuer,
    )
    .unwrap();
    let p = f.present(&token, &["name"]);
    assert_eq!(f.verify_kb(&p).unwrap_err(), SdJwtError::NoHolderKey);
}

#[test]
fn recursive_disclosure_needs_its_parent() {
    let f = Fixture::new();
    let token = f.issue();
    // Send only the nested street disclosure, not the address that contains its digest.
    let street = token
        .split('~')
        .skip(1)
        .find(|d| {
            Disclosure::parse(d)
                .map(|d| d.name.as_deref() == Some("street"))
                .unwrap_or(false)
        })
        .unwrap();
    let t = format!("{}~{}~", token.split('~').next().unwrap(), street);
    assert_eq!(
        verify(&t, &f.key(), &VerifyOptions::vc(NOW)).unwrap_err(),
        SdJwtError::UnreferencedDisclosure
    );
}

#[test]
fn the_key_binding_slot_is_checked_even_when_not_required() {
    let f = Fixture::new();
    let issued = f.issue();
    let no_kb = VerifyOptions::vc(NOW);
    // As issued (ends with `~`): fine without key binding.
    assert!(verify(&issued, &f.key(), &no_kb).is_ok());
    // Garbage where a KB-JWT would be.
    assert!(verify(&format!("{issued}GARBAGE"), &f.key(), &no_kb).is_err());
    // The final `~` cut off: the last disclosure would be read as a KB-JWT
    // and silently dropped; refused instead.
    let cut = issued.trim_end_matches('~');
    assert!(verify(cut, &f.key(), &no_kb).is_err());
    // A real presentation with key binding also verifies when key binding is
    // not asked for, since its KB-JWT is valid.
    let presented = f.present(&issued, &["name"]);
    assert!(verify(&presented, &f.key(), &no_kb).is_ok());
    // …but not with its disclosures changed under the KB-JWT (sd_hash).
    let parts: Vec<&str> = presented.split('~').collect();
    let without = format!("{}~{}", parts[0], parts[parts.len() - 1]);
    assert!(matches!(
        verify(&without, &f.key(), &no_kb),
        Err(SdJwtError::KbSdHash)
    ));
}
