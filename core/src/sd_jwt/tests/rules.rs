//! Negative tests: one per rule of RFC 9901 §7.1–7.2 and SD-JWT VC.

use super::*;

#[test]
fn tampered_disclosure_is_unreferenced() {
    let f = Fixture::new();
    let p = f.present(&f.issue(), &["name"]);
    let parts: Vec<&str> = p.split('~').collect();
    let forged = Disclosure::new(Some("name"), json!("李四"));
    let tampered = format!("{}~{}~", parts[0], forged.encoded);
    assert_eq!(f.refused(&tampered), SdJwtError::UnreferencedDisclosure);
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
    assert_eq!(f.refused(&dup), SdJwtError::DuplicateDisclosure);
}

#[test]
fn duplicate_digest_in_payload_is_refused() {
    let f = Fixture::new();
    let d = Disclosure::new(Some("name"), json!("x"));
    let payload = json!({"vct": "t", "_sd": [d.digest], "a": {"_sd": [d.digest]}});
    let t = f.forge(VC_TYP, payload, &[&d]);
    assert_eq!(f.refused(&t), SdJwtError::DuplicateDigest);
    // Also when the repeat is an undisclosed digest.
    let payload = json!({"vct": "t", "_sd": ["abc", "abc"]});
    let t = f.forge(VC_TYP, payload, &[]);
    assert_eq!(f.refused(&t), SdJwtError::DuplicateDigest);
}

#[test]
fn reserved_claim_names_are_refused() {
    let f = Fixture::new();
    for name in ["_sd", "..."] {
        let d = Disclosure::new(Some(name), json!("x"));
        let t = f.forge(VC_TYP, json!({"vct": "t", "_sd": [d.digest]}), &[&d]);
        assert_eq!(f.refused(&t), SdJwtError::ReservedClaimName(name.into()));
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
    assert_eq!(f.refused(&t), SdJwtError::ClaimCollision("name".into()));
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
    assert_eq!(f.refused(&t), SdJwtError::DisclosureKindMismatch);
    let property = Disclosure::new(Some("a"), json!("x"));
    let t = f.forge(
        VC_TYP,
        json!({"vct": "t", "list": [{"...": property.digest}]}),
        &[&property],
    );
    assert_eq!(f.refused(&t), SdJwtError::DisclosureKindMismatch);
}

#[test]
fn vc_protected_claims_cannot_be_disclosures() {
    let f = Fixture::new();
    for name in VC_NEVER_DISCLOSABLE {
        let d = Disclosure::new(Some(name), json!("x"));
        let t = f.forge(VC_TYP, json!({"vct": "t", "_sd": [d.digest]}), &[&d]);
        let err = f.refused(&t);
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
    assert_eq!(f.refused(&t), SdJwtError::MissingVct);
    let t = f.forge(VC_TYP, json!({"vct": 5}), &[]);
    assert_eq!(f.refused(&t), SdJwtError::MissingVct);
}

#[test]
fn typ_policy() {
    let f = Fixture::new();
    let t = f.forge("example+sd-jwt", json!({"vct": "t"}), &[]);
    assert!(matches!(f.refused(&t), SdJwtError::WrongTyp { .. }));
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
    assert_eq!(f.refused(&t), SdJwtError::Jose(jws::JoseError::AlgNone));
}

#[test]
fn wrong_issuer_key_is_refused() {
    let f = Fixture::new();
    let token = f.issue();
    // Another P-256 key, then a key of another algorithm.
    for (other, refusal) in [
        (SoftwareKey::generate_es256(), jws::JoseError::BadSignature),
        (
            SoftwareKey::generate_ed25519(),
            jws::JoseError::AlgKeyMismatch,
        ),
    ] {
        let other = other.unwrap().public_jwk().verifying_key().unwrap();
        assert_eq!(
            verify(&token, &other, &VerifyOptions::vc(NOW)).unwrap_err(),
            SdJwtError::Jose(refusal)
        );
    }
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
    assert_eq!(f.refused(&t), SdJwtError::NotYetValid);
    let t = f.forge(VC_TYP, json!({"vct": "t", "iat": NOW + 1000}), &[]);
    assert_eq!(f.refused(&t), SdJwtError::NotYetValid);
    let t = f.forge(VC_TYP, json!({"vct": "t", "exp": "tomorrow"}), &[]);
    assert_eq!(f.refused(&t), SdJwtError::BadTimeClaim("exp"));
}

#[test]
fn unsupported_sd_alg() {
    let f = Fixture::new();
    let t = f.forge(VC_TYP, json!({"vct": "t", "_sd_alg": "md5"}), &[]);
    assert_eq!(f.refused(&t), SdJwtError::UnsupportedSdAlg("md5".into()));
    for alg in [json!(5), json!(null), json!(["sha-256"]), json!({"a": 1})] {
        let t = f.forge(VC_TYP, json!({"vct": "t", "_sd_alg": alg}), &[]);
        assert_eq!(
            f.refused(&t),
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
        let err = f.refused(&t);
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
        assert_eq!(f.refused(&t), expected);
    }
    let d = Disclosure::new(Some("n"), json!(1));
    let t = f.forge(
        VC_TYP,
        json!({"vct": "t", "_sd": [d.digest, d.digest, 1]}),
        &[&d],
    );
    assert_eq!(f.refused(&t), SdJwtError::DuplicateDigest);
    // A disclosed scalar below the nesting limit is refused like any claim there.
    let leaf = Disclosure::new(Some("x"), json!(1));
    let mut deep = json!({"_sd": [leaf.digest]});
    for _ in 0..65 {
        deep = json!({ "a": deep });
    }
    let t = f.forge(VC_TYP, json!({"vct": "t", "deep": deep}), &[&leaf]);
    assert_eq!(
        f.refused(&t),
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
            f.refused(&forge_text(&f, &payload, &[])),
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
        f.refused(&forge_text(&f, &payload, &[&d])),
        SdJwtError::UnreferencedDisclosure
    );
    // Not an object, or not JSON at all.
    for payload in ["[1]", "\"x\"", "{\"vct\":", "{\"vct\":\"t\"} x"] {
        assert_eq!(
            f.refused(&forge_text(&f, payload, &[])),
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
    assert!(matches!(f.refused("abc"), SdJwtError::Malformed(_)));
    assert!(matches!(f.refused("~"), SdJwtError::Malformed(_)));
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
        assert_eq!(f.refused(&token), expected, "{token}");
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
    assert!(matches!(f.refused(&huge), SdJwtError::Malformed(_)));
}
