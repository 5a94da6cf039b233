//! Key binding (RFC 9901 §7.3).

use super::*;

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
    assert_eq!(f.refused(&t), SdJwtError::UnreferencedDisclosure);
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
