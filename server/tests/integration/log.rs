use satchel_core::{
    client::ClientError,
    note::NoteVerifier,
    tlog::{leaf_hash, Hash},
};
use satchel_server::embedded::EmbeddedServer;
use serde_json::json;

use crate::{assert_problem, raw, signed, space};

fn verifier(server: &EmbeddedServer) -> NoteVerifier {
    let (_, key) = raw(server, "GET", "/v1/log/key", None, b"");
    NoteVerifier::parse(key["verifier_key"].as_str().unwrap()).unwrap()
}

#[test]
fn append_prove_inclusion_and_consistency_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let v = verifier(&server);
    let (_, a) = space(&server, "logspace");
    let empty = a.client.checkpoint(&v).unwrap();
    assert_eq!(empty.size, 0);

    let first: Vec<Hash> = (0..10u32)
        .map(|i| leaf_hash(format!("consent record {i}").as_bytes()))
        .collect();
    let idx = a.client.append_leaves(&first).unwrap();
    assert_eq!(idx, (0..10).collect::<Vec<u64>>());
    let cp1 = a.client.checkpoint(&v).unwrap();
    assert_eq!(cp1.size, 10);
    for (i, l) in first.iter().enumerate() {
        a.client.verify_inclusion(l, i as u64, &cp1).unwrap();
    }
    a.client.verify_consistency(&empty, &cp1).unwrap();
    // A wrong leaf does not verify.
    assert!(matches!(
        a.client
            .verify_inclusion(&leaf_hash(b"never logged"), 3, &cp1),
        Err(ClientError::Proof(_))
    ));

    // Restart on the same database: the log and data survive; the new
    // checkpoint is consistent with the old one.
    server.stop();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    assert_eq!(verifier(&server), v, "same log key");
    let (_, b) = space(&server, "logspace2");
    let cp1_again = b.client.checkpoint(&v).unwrap();
    assert_eq!(cp1_again, cp1);
    let more: Vec<Hash> = (10..25u32)
        .map(|i| leaf_hash(format!("consent record {i}").as_bytes()))
        .collect();
    let idx = b.client.append_leaves(&more).unwrap();
    assert_eq!(idx[0], 10);
    let cp2 = b.client.checkpoint(&v).unwrap();
    assert_eq!(cp2.size, 25);
    b.client.verify_consistency(&cp1, &cp2).unwrap();
    b.client.verify_inclusion(&first[4], 4, &cp2).unwrap();
    // A forked view (another root at size 10) is detected.
    let mut forked = cp1.clone();
    forked.root[0] ^= 1;
    assert!(matches!(
        b.client.verify_consistency(&forked, &cp2),
        Err(ClientError::Proof(_))
    ));

    // Bad input.
    assert_problem(
        &raw(
            &server,
            "GET",
            "/v1/log/proof/inclusion?index=30&size=25",
            None,
            b"",
        ),
        400,
        "bad_request",
    );
    assert_problem(
        &raw(
            &server,
            "GET",
            "/v1/log/proof/inclusion?index=1&size=99",
            None,
            b"",
        ),
        400,
        "bad_request",
    );
    assert_problem(
        &raw(
            &server,
            "GET",
            "/v1/log/proof/consistency?size1=9&size2=2",
            None,
            b"",
        ),
        400,
        "bad_request",
    );
    assert_problem(
        &raw(
            &server,
            "GET",
            "/v1/log/proof/consistency?size1=a",
            None,
            b"",
        ),
        400,
        "bad_query",
    );
    assert_problem(
        &raw(&server, "GET", "/v1/log/leaf?hash=zz", None, b""),
        400,
        "bad_request",
    );
    assert_problem(
        &signed(
            &server,
            &b,
            "POST",
            "/v1/log/leaves",
            br#"{"leaves": ["short"]}"#,
        ),
        400,
        "bad_request",
    );
    assert_problem(
        &signed(&server, &b, "POST", "/v1/log/leaves", br#"{"leaves": 5}"#),
        400,
        "malformed_json",
    );
    assert_problem(
        &raw(
            &server,
            "POST",
            "/v1/log/leaves",
            None,
            json!({"leaves": []}).to_string().as_bytes(),
        ),
        401,
        "unauthenticated",
    );
    assert_eq!(
        b.client.checkpoint(&v).unwrap().size,
        25,
        "nothing was added by bad requests"
    );
}

#[test]
fn batched_integration_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let v = verifier(&server);
    let (_, a) = space(&server, "batch");
    let leaves: Vec<String> = (0..300u32)
        .map(|i| satchel_core::b64::encode(leaf_hash(&i.to_le_bytes())))
        .collect();
    let r = a
        .client
        .call("POST", "/v1/log/leaves", Some(&json!({"leaves": leaves})))
        .unwrap();
    assert_eq!(r["queued"], 300);
    // The background integrator (every 50 ms here) picks them up.
    let mut size = 0;
    for _ in 0..100 {
        size = a.client.checkpoint(&v).unwrap().size;
        if size == 300 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(size, 300);
}

/// Leaves are permanent: each space has a quota, counted per space in the
/// store (so it holds across instances and restarts).
#[test]
fn each_space_has_a_leaf_quota() {
    use std::sync::Arc;

    use satchel_server::{
        service::{Service, ServiceError},
        store::{sqlite::SqliteStore, DeviceRow},
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("q.db")).unwrap();
    let mut service = Service::new(
        Arc::new(store),
        satchel_core::note::NoteSigner::generate("quota/log").unwrap(),
        "http://x",
        satchel_core::SoftwareKey::generate_ed25519().unwrap(),
    )
    .unwrap();
    service.quota_leaves = 10;
    let device = |space: &str| DeviceRow {
        id: format!("{space}-dev"),
        space_id: space.into(),
        jwk: String::new(),
        wrapped_key: None,
        ..Default::default()
    };
    service.charge_leaves(&device("a"), 6).unwrap();
    service.charge_leaves(&device("a"), 4).unwrap();
    match service.charge_leaves(&device("a"), 1) {
        Err(e @ ServiceError::QuotaExceeded(_)) => assert_eq!(e.code(), "quota_exceeded"),
        other => panic!("{other:?}"),
    }
    // Another space has its own.
    service.charge_leaves(&device("b"), 10).unwrap();
    assert!(service.charge_leaves(&device("b"), 0).is_err());
    // Records: a space holds at most its quota.
    use satchel_core::Signer;
    service.quota_records = 2;
    let space_key = satchel_core::SoftwareKey::generate_es256().unwrap();
    let dev_key = satchel_core::SoftwareKey::generate_es256().unwrap();
    let proof = satchel_core::jws::sign(
        satchel_core::jws::header_with_typ("satchel-space+jwt"),
        &serde_json::json!({"space_id": "r", "device": dev_key.public_jwk().thumbprint(), "iat": satchel_core::unix_now()}),
        &space_key,
    )
    .unwrap();
    service
        .register_space(
            &satchel_server::service::RegisterSpace {
                space_id: "r".into(),
                space_jwk: space_key.public_jwk().to_value(),
                device_id: "r-dev".into(),
                device_jwk: dev_key.public_jwk().to_value(),
                space_proof: proof,
            },
            satchel_core::unix_now(),
        )
        .unwrap();
    let record = |id: &str| {
        let ct = satchel_core::b64::encode(id.as_bytes());
        satchel_server::store::PushRecord {
            id: id.into(),
            content_hash: satchel_core::b64::sha256_b64(id.as_bytes()),
            ciphertext: ct,
            base_cursor: None,
        }
    };
    let r_dev = DeviceRow {
        id: "r-dev".into(),
        space_id: "r".into(),
        jwk: String::new(),
        wrapped_key: None,
        ..Default::default()
    };
    service
        .push(&r_dev, "r", &[record("a"), record("b")])
        .unwrap();
    assert!(matches!(
        service.push(&r_dev, "r", &[record("c")]),
        Err(ServiceError::QuotaExceeded(_))
    ));
    // Over HTTP the refusal is a 429 problem.
    let problem = satchel_server::http::Problem::from(ServiceError::QuotaExceeded("x".into()));
    assert_eq!(problem.status.as_u16(), 429);
}
