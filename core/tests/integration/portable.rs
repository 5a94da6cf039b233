//! Story step 11: the whole space as one verifiable file, imported into a
//! fresh wallet; every tampered, truncated or wrongly sealed file refused
//! with nothing half-imported.

use std::sync::Arc;

use satchel_core::{
    authz::{Approval, Selection},
    b64, AuthorizationState, CredentialFilter, KeyStore, SoftwareKeyStore, Wallet, WalletError,
};

use crate::fixture::{paths, World, NOW};

const PASS: &str = "correct horse battery";

type Edit = dyn Fn(&mut serde_json::Value);

fn fresh_wallet(dir: &std::path::Path) -> Wallet {
    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    Wallet::open(&dir.join("fresh.db"), ks).unwrap()
}

fn exported_world() -> (World, Vec<u8>, String) {
    let w = World::new();
    let (_, parsed) = w.parse(&w.request());
    let approval = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: w.id_card.id.clone(),
            claims: paths(&["name"]),
        }],
        ..Default::default()
    };
    let approved = w
        .wallet
        .approve(&w.citizen.id, &parsed, &approval, NOW)
        .unwrap();
    w.wallet
        .withdraw(&approved.authorization_id, NOW + 1)
        .unwrap();
    w.wallet.set_label(&w.id_card.id, Some("身份证")).unwrap();
    let file = w.wallet.export_space(&w.citizen.id, PASS).unwrap();
    (w, file, approved.authorization_id)
}

#[test]
fn a_space_round_trips_through_an_export_file() {
    let (w, file, authz_id) = exported_world();
    // The file reveals nothing readable.
    let text = String::from_utf8_lossy(&file);
    assert!(text.contains("satchel-space-export"));
    assert!(!text.contains("王小明") && !text.contains(crate::fixture::ID_NUMBER));

    let dir = tempfile::tempdir().unwrap();
    let fresh = fresh_wallet(dir.path());
    let report = fresh.import_space(&file, PASS).unwrap();
    assert_eq!(report.space.id, w.citizen.id);
    assert_eq!(report.space.holder_key, w.citizen.holder_key);
    assert_eq!(
        (
            report.credentials,
            report.authorizations,
            report.consent_records
        ),
        (1, 1, 2)
    );
    assert_eq!(report.to_reissue, vec![w.id_card.id.clone()]);
    let cards = fresh
        .credentials(&w.citizen.id, &CredentialFilter::default())
        .unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].claims["name"], "王小明");
    assert_eq!(cards[0].label.as_deref(), Some("身份证"));
    assert_eq!(
        fresh.authorization(&authz_id).unwrap().state,
        AuthorizationState::Withdrawn
    );
    assert_eq!(
        fresh.verify_consent_log(&w.citizen.id).unwrap(),
        w.wallet.verify_consent_log(&w.citizen.id).unwrap()
    );
    assert_eq!(
        fresh.provenance(&w.citizen.id).unwrap().len(),
        w.wallet.provenance(&w.citizen.id).unwrap().len()
    );
    // Bound to the old device's key: not presentable here; nor can this
    // device sign for the space until a device of the space enrols it.
    assert!(matches!(
        fresh.present(&cards[0].id, &[], "aud", "n", NOW),
        Err(WalletError::BoundElsewhere(_))
    ));
    assert!(fresh.status_list_token(&w.citizen.id, NOW).is_err());
    // Importing twice is refused.
    assert!(fresh.import_space(&file, PASS).is_err());
}

#[test]
fn tampered_truncated_or_wrongly_sealed_files_are_refused_and_leave_nothing() {
    let (w, file, _) = exported_world();
    let dir = tempfile::tempdir().unwrap();
    let fresh = fresh_wallet(dir.path());
    let header: serde_json::Value = serde_json::from_slice(&file).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut h = header.clone();
        f(&mut h);
        serde_json::to_vec(&h).unwrap()
    };
    let payload = b64::decode(header["payload"].as_str().unwrap()).unwrap();
    let flipped = |i: usize| {
        let mut p = payload.clone();
        p[i] ^= 1;
        with(&|h| h["payload"] = b64::encode(&p).into())
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("wrong passphrase", file.clone(), "wrong horse battery"),
        ("truncated", file[..file.len() / 2].to_vec(), PASS),
        ("empty", Vec::new(), PASS),
        ("payload byte flipped", flipped(40), PASS),
        ("tag flipped", flipped(payload.len() - 1), PASS),
        (
            "payload cut",
            with(&|h| h["payload"] = b64::encode(&payload[..payload.len() - 10]).into()),
            PASS,
        ),
        (
            "salt changed",
            with(&|h| h["kdf"]["salt"] = b64::encode([9u8; 16]).into()),
            PASS,
        ),
        (
            "parameters changed",
            with(&|h| h["kdf"]["t"] = 3.into()),
            PASS,
        ),
        (
            "parameters unbounded",
            with(&|h| h["kdf"]["m_kib"] = u32::MAX.into()),
            PASS,
        ),
        ("other format", with(&|h| h["format"] = "zip".into()), PASS),
        ("other version", with(&|h| h["v"] = 2.into()), PASS),
    ];
    for (what, bytes, pass) in cases {
        let e = fresh.import_space(&bytes, pass).unwrap_err();
        let line = e.to_string();
        assert!(!line.contains('\n') && !line.is_empty(), "{what}: {line}");
        assert!(
            fresh.spaces().unwrap().is_empty(),
            "{what}: nothing imported"
        );
    }
    // Re-sealed with the right passphrase but altered inside: the signed
    // manifest or a record's own signature refuses it.
    let inside: Vec<(&str, Box<Edit>)> = vec![
        (
            "a record dropped",
            Box::new(|p| {
                p["items"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "a label changed",
            Box::new(|p| {
                for i in p["items"].as_array_mut().unwrap() {
                    if i["kind"] == "credential" {
                        i["label"] = "forged".into();
                    }
                }
            }),
        ),
        (
            "manifest by another key",
            Box::new(|p| {
                let other = satchel_core::SoftwareKey::generate_es256().unwrap();
                let jwt = satchel_core::jws::decode(p["manifest"].as_str().unwrap()).unwrap();
                let body: serde_json::Value = serde_json::from_slice(&jwt.payload).unwrap();
                p["manifest"] = satchel_core::jws::sign(
                    satchel_core::jws::header_with_typ("satchel-export+jwt"),
                    &body,
                    &other,
                )
                .unwrap()
                .into();
            }),
        ),
        (
            "not JSON inside",
            Box::new(|p| *p = serde_json::Value::Null),
        ),
    ];
    for (what, edit) in inside {
        let bytes = reseal(&file, PASS, edit.as_ref());
        let e = fresh.import_space(&bytes, PASS).unwrap_err();
        assert!(matches!(e, WalletError::InvalidInput(_)), "{what}: {e}");
        assert!(
            fresh.spaces().unwrap().is_empty(),
            "{what}: nothing imported"
        );
    }
    // The unaltered re-seal imports (the helper is faithful).
    let same = reseal(&file, PASS, &|_| {});
    fresh.import_space(&same, PASS).unwrap();
    assert_eq!(fresh.spaces().unwrap()[0].id, w.citizen.id);
}

/// Opens an export with its passphrase, edits the contents, seals again.
fn reseal(file: &[u8], pass: &str, edit: &dyn Fn(&mut serde_json::Value)) -> Vec<u8> {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let mut h: serde_json::Value = serde_json::from_slice(file).unwrap();
    let kdf = &h["kdf"];
    let (m, t, p) = (
        kdf["m_kib"].as_u64().unwrap() as u32,
        kdf["t"].as_u64().unwrap() as u32,
        kdf["p"].as_u64().unwrap() as u32,
    );
    let salt_text = kdf["salt"].as_str().unwrap().to_owned();
    let salt = b64::decode(&salt_text).unwrap();
    let params = argon2::Params::new(m, t, p, Some(32)).unwrap();
    let mut kek = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(pass.as_bytes(), &salt, &mut kek)
        .unwrap();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &kek).unwrap());
    let aad = format!("satchel-space-export/1/argon2id/{m}/{t}/{p}/{salt_text}");
    let sealed = b64::decode(h["payload"].as_str().unwrap()).unwrap();
    let mut buf = sealed[12..].to_vec();
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(&sealed[..12]).unwrap(),
            Aad::from(aad.as_bytes()),
            &mut buf,
        )
        .unwrap()
        .to_vec();
    let mut payload: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    edit(&mut payload);
    let mut out = serde_json::to_vec(&payload).unwrap();
    let nonce = [7u8; 12];
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_bytes()),
            &mut out,
        )
        .unwrap();
    let mut sealed = nonce.to_vec();
    sealed.extend(out);
    sealed.extend(tag.as_ref());
    h["payload"] = b64::encode(sealed).into();
    serde_json::to_vec(&h).unwrap()
}

#[test]
fn short_passphrases_are_refused() {
    let w = World::new();
    assert!(matches!(
        w.wallet.export_space(&w.citizen.id, "short"),
        Err(WalletError::InvalidInput(_))
    ));
}
