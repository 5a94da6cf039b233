//! Story step 8 against the real server: the consent log is anchored in the
//! transparency log; the device verifies inclusion and consistency, so a
//! rewritten local history or a forked server is detected.

use satchel_core::net::HttpsTransport;
use std::sync::Arc;

use satchel_core::{
    authz::{
        parse_request, AuthorizationRequest, ClaimQuery, Controller, CredentialQuery, DcqlQuery,
        PiplFlags, Terms,
    },
    client::ServerClient,
    note::NoteVerifier,
    registry::Registry,
    KeyStore, KeyStoreSigner, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet, WalletError,
};
use satchel_server::embedded::EmbeddedServer;
use serde_json::json;

pub fn request(bank: &SoftwareKey) -> String {
    let now = satchel_core::unix_now();
    AuthorizationRequest {
        client_id: "https://bank.example".into(),
        response_uri: "https://bank.example/r".into(),
        nonce: "nonce-0123456789".into(),
        state: None,
        iat: now,
        exp: now + 600,
        dcql_query: DcqlQuery {
            credentials: vec![CredentialQuery {
                id: "q".into(),
                format: "dc+sd-jwt".into(),
                meta: None,
                claims: vec![ClaimQuery {
                    id: None,
                    path: json!(["name"]),
                }],
                claim_sets: None,
            }],
        },
        satchel: Terms {
            purpose: "IdentityVerification".into(),
            legal_basis: "Consent".into(),
            not_before: now,
            not_after: now + 86400,
            max_uses: 1,
            retention_days: 1,
            onward_transfer: false,
            pipl: PiplFlags::default(),
            controller: Controller {
                name: "Bank".into(),
                contact: String::new(),
            },
            jurisdiction: "CN".into(),
        },
    }
    .sign(bank)
    .unwrap()
}

#[test]
fn consent_log_anchored_verified_and_tampering_detected() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let db = dir.path().join("wallet.db");
    let wallet = Wallet::open(&db, ks.clone()).unwrap();
    let space = wallet.create_space("me", SpaceKind::Personal).unwrap();
    let device = Arc::new(SoftwareKey::generate_es256().unwrap());
    let client = ServerClient::new(
        &server.url,
        "phone-a",
        device.clone(),
        Arc::new(HttpsTransport::new().unwrap()),
    );
    client
        .register_space(
            &space.id,
            &KeyStoreSigner::new(ks.clone(), &space.holder_key_alias).unwrap(),
        )
        .unwrap();
    let key = client.call("GET", "/v1/log/key", None).unwrap();
    let verifier = NoteVerifier::parse(key["verifier_key"].as_str().unwrap()).unwrap();

    // Nothing anchored yet: nothing to check, and no error.
    let r = wallet
        .verify_anchors(&space.id, &client, &verifier)
        .unwrap();
    assert_eq!((r.anchored_total, r.checkpoint_size), (0, 0));

    // Two refusals, anchored.
    let bank = SoftwareKey::generate_es256().unwrap();
    let now = satchel_core::unix_now();
    for _ in 0..2 {
        let parsed = parse_request(&request(&bank), &Registry::default(), now).unwrap();
        wallet.deny(&space.id, &parsed, now).unwrap();
    }
    let r = wallet
        .anchor_consent_log(&space.id, &client, &verifier)
        .unwrap();
    assert_eq!((r.anchored_now, r.anchored_total), (2, 2));
    // The server never saw a record: only salted hashes.
    let server_db = std::fs::read(dir.path().join("server/satchel.db")).unwrap();
    assert!(!server_db
        .windows(6)
        .any(|w| w == b"Refuse" || w == b"refuse"));

    // One more, anchored; the new checkpoint is proven consistent with the old.
    let parsed = parse_request(&request(&bank), &Registry::default(), now).unwrap();
    wallet.deny(&space.id, &parsed, now).unwrap();
    let r = wallet
        .anchor_consent_log(&space.id, &client, &verifier)
        .unwrap();
    assert_eq!((r.anchored_now, r.anchored_total), (1, 3));
    wallet
        .verify_anchors(&space.id, &client, &verifier)
        .unwrap();

    // A dishonest server: same log key, another history.
    let forked_dir = dir.path().join("fork");
    std::fs::create_dir_all(&forked_dir).unwrap();
    std::fs::copy(
        dir.path().join("server/log.key"),
        forked_dir.join("log.key"),
    )
    .unwrap();
    let fork = EmbeddedServer::start(&forked_dir).unwrap();
    let fork_client = ServerClient::new(
        &fork.url,
        "phone-a",
        device,
        Arc::new(HttpsTransport::new().unwrap()),
    );
    let other = Arc::new(SoftwareKey::generate_es256().unwrap());
    let c2 = ServerClient::new(
        &fork.url,
        "other-dev",
        other,
        Arc::new(HttpsTransport::new().unwrap()),
    );
    c2.register_space("other", &SoftwareKey::generate_es256().unwrap())
        .unwrap();
    c2.append_leaves(
        &(0..5u8)
            .map(|i| satchel_core::tlog::leaf_hash(&[i]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let err = wallet
        .verify_anchors(&space.id, &fork_client, &verifier)
        .unwrap_err();
    assert!(matches!(err, WalletError::Anchoring(_)), "{err:?}");

    // A rewritten local history: the newest record dropped from the database.
    drop(wallet);
    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute("DELETE FROM consent_log WHERE seq = 3", [])
        .unwrap();
    drop(raw);
    let wallet = Wallet::open(&db, ks).unwrap();
    let err = wallet
        .verify_anchors(&space.id, &client, &verifier)
        .unwrap_err();
    assert!(
        matches!(&err, WalletError::Anchoring(m) if m.contains("dropped")),
        "{err:?}"
    );
    // An anchored space can still be deleted, with everything in it.
    wallet.delete_space(&space.id).unwrap();
    assert!(wallet.spaces().unwrap().is_empty());
    server.stop();
}
