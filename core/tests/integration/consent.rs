use satchel_core::{
    authz::PiplFlags,
    consent::{verify_log, ConsentEvent, ConsentLogError, ConsentRecord, ControllerRef},
    Signer, SoftwareKey,
};

use crate::fixture::NOW;

fn record(i: u64) -> ConsentRecord {
    ConsentRecord {
        record_id: format!("r{i}"),
        seq: 0,
        prev: None,
        principal: "urn:satchel:holder:x".into(),
        controller: ControllerRef {
            id: "https://bank".into(),
            name: "Bank".into(),
            contact: String::new(),
        },
        purposes: vec!["IdentityVerification".into()],
        data_categories: vec!["urn:id#name".into()],
        recipients: vec!["https://bank".into()],
        legal_basis: "Consent".into(),
        jurisdiction: "CN".into(),
        event_time: NOW + i as i64,
        not_before: None,
        not_after: None,
        withdrawal_method: "tap".into(),
        event_type: ConsentEvent::Given,
        state: String::new(),
        authorization_id: None,
        request_hash: None,
        pipl: PiplFlags::default(),
        onward_transfer: false,
        retention_days: None,
        max_uses: None,
    }
}

fn log(key: &SoftwareKey, n: u64) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in 1..=n {
        let (_, t) = record(i)
            .sign(out.last().map(String::as_str), i, key)
            .unwrap();
        out.push(t);
    }
    out
}

#[test]
fn a_valid_log_verifies() {
    let key = SoftwareKey::generate_es256().unwrap();
    let vk = key.public_jwk().verifying_key().unwrap();
    let records = verify_log(&log(&key, 5), &vk).unwrap();
    assert_eq!(records.len(), 5);
    assert_eq!(records[4].state, "dpv:ConsentGiven");
    assert!(verify_log(&[], &vk).unwrap().is_empty());
}

#[test]
fn changed_dropped_inserted_reordered_records_are_detected() {
    let key = SoftwareKey::generate_es256().unwrap();
    let vk = key.public_jwk().verifying_key().unwrap();
    let good = log(&key, 5);

    // Changed: a record's payload edited (signature breaks).
    let mut changed = good.clone();
    let parts: Vec<&str> = changed[2].split('.').collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&satchel_core::b64::decode(parts[1]).unwrap()).unwrap();
    payload["purposes"] = serde_json::json!(["Marketing"]);
    changed[2] = format!(
        "{}.{}.{}",
        parts[0],
        satchel_core::b64::encode(payload.to_string()),
        parts[2]
    );
    assert_eq!(
        verify_log(&changed, &vk).unwrap_err(),
        ConsentLogError::BadSignature { index: 2 }
    );

    // Changed and re-signed with the right key: the next record's chain breaks.
    let mut resigned = good.clone();
    let mut r = record(3);
    r.purposes = vec!["Marketing".into()];
    resigned[2] = r.sign(Some(&good[1]), 3, &key).unwrap().1;
    assert_eq!(
        verify_log(&resigned, &vk).unwrap_err(),
        ConsentLogError::BrokenChain { index: 3 }
    );

    // Dropped.
    let mut dropped = good.clone();
    dropped.remove(1);
    assert!(matches!(
        verify_log(&dropped, &vk).unwrap_err(),
        ConsentLogError::OutOfSequence { index: 1, .. }
    ));

    // Inserted (a record signed as seq 3 after record 2, then the rest).
    let mut inserted = good.clone();
    inserted.insert(2, record(99).sign(Some(&good[1]), 3, &key).unwrap().1);
    assert_eq!(
        verify_log(&inserted, &vk).unwrap_err(),
        ConsentLogError::OutOfSequence {
            index: 3,
            expected: 4,
            found: 3
        }
    );

    // Reordered.
    let mut reordered = good.clone();
    reordered.swap(1, 2);
    assert!(matches!(
        verify_log(&reordered, &vk).unwrap_err(),
        ConsentLogError::OutOfSequence { index: 1, .. }
    ));

    // Signed by another key.
    let other = SoftwareKey::generate_es256().unwrap();
    assert_eq!(
        verify_log(&log(&other, 2), &vk).unwrap_err(),
        ConsentLogError::BadSignature { index: 0 }
    );

    // Garbage.
    assert_eq!(
        verify_log(&["garbage".into()], &vk).unwrap_err(),
        ConsentLogError::BadSignature { index: 0 }
    );
}

#[test]
fn wallet_log_rows_cannot_be_swapped_in_the_database() {
    let w = crate::fixture::World::new();
    let (_, parsed) = w.parse(&w.request());
    w.wallet.deny(&w.citizen.id, &parsed, NOW).unwrap();
    w.wallet.deny(&w.citizen.id, &parsed, NOW + 1).unwrap();
    w.wallet.verify_consent_log(&w.citizen.id).unwrap();
    let export = w.wallet.export_consent_log(&w.citizen.id).unwrap();
    assert_eq!(export["records"].as_array().unwrap().len(), 2);
    assert_eq!(export["records"][0]["consentState"], "dpv:ConsentRefused");
    let db = w._dir.path().join("citizen.db");
    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute_batch("UPDATE consent_log SET seq = -seq; UPDATE consent_log SET seq = 3 + seq;")
        .unwrap();
    assert!(
        w.wallet.consent_log(&w.citizen.id).is_err(),
        "sealed rows are bound to their position"
    );
}

/// A long log is verified on several threads; the result and the first
/// failing index are the same as sequentially.
#[test]
fn a_long_log_verifies_in_parallel_and_reports_the_first_failure() {
    let key = SoftwareKey::generate_es256().unwrap();
    let vk = key.public_jwk().verifying_key().unwrap();
    let records = log(&key, 300);
    let verified = verify_log(&records, &vk).unwrap();
    assert_eq!(verified.len(), 300);
    assert!(verified
        .iter()
        .enumerate()
        .all(|(i, r)| r.seq == i as u64 + 1));
    // Break two records in different chunks: the earlier one is reported.
    let mut broken = records.clone();
    broken[250] = records[249].clone();
    broken[120] = records[121].clone();
    match verify_log(&broken, &vk).unwrap_err() {
        ConsentLogError::OutOfSequence { index, .. } | ConsentLogError::BrokenChain { index } => {
            assert_eq!(index, 120)
        }
        other => panic!("{other:?}"),
    }
}
