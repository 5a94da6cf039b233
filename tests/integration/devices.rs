//! Story step 9 against the real server: a second device joins a space by
//! comparing one code, the end-to-end encrypted space syncs both ways with
//! the merge rules, a withdrawal made on the second device reaches the
//! relying party's status check, and a removed device is refused.

use std::sync::Arc;

use satchel_core::{
    authz::{parse_request, Approval, Selection},
    client::ServerClient,
    net::HttpsTransport,
    note::NoteVerifier,
    registry::Registry,
    sd_jwt::{self, ClaimPath, IssueOptions},
    status_list::{StatusList, INVALID},
    AuthorizationState, CredentialFilter, KeyStore, Signer, SoftwareKey, SoftwareKeyStore,
    SpaceKind, Wallet, WalletError,
};
use satchel_server::embedded::EmbeddedServer;
use serde_json::json;

use crate::anchoring::request;

pub struct Phone {
    pub wallet: Wallet,
    pub client: ServerClient,
}

pub fn phone(dir: &std::path::Path, name: &str, server: &EmbeddedServer) -> Phone {
    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let wallet = Wallet::open(&dir.join(format!("{name}.db")), ks.clone()).unwrap();
    let client =
        ServerClient::for_device(&server.url, ks, Arc::new(HttpsTransport::new().unwrap()))
            .unwrap();
    Phone { wallet, client }
}

/// A credential for `holder`, by a software issuer.
pub fn credential(issuer: &SoftwareKey, holder: &satchel_core::Jwk, name: &str) -> String {
    let claims = json!({
        "iss": "https://issuer.example",
        "vct": "https://credentials.example/id_card",
        "iat": satchel_core::unix_now(),
        "name": name,
        "cnf": {"jwk": holder.to_value()},
    });
    sd_jwt::issue(
        claims.as_object().unwrap(),
        &[ClaimPath::keys(&["name"])],
        &IssueOptions::default(),
        issuer,
    )
    .unwrap()
}

fn no_progress(_: satchel_core::wallet::sync::SyncProgress) {}

/// One sync run of a device, which must succeed.
pub fn sync(p: &Phone, space: &str) {
    p.wallet.sync_space(space, &p.client, &no_progress).unwrap();
}

/// A with a registered space, B enrolled into it by comparing the code.
pub fn two_devices(dir: &std::path::Path, server: &EmbeddedServer) -> (Phone, Phone, String) {
    let a = phone(dir, "a", server);
    let b = phone(dir, "b", server);
    let space = a
        .wallet
        .create_space("family", SpaceKind::Personal)
        .unwrap();
    a.wallet
        .set_status_base(&format!("{}/status", server.url))
        .unwrap();
    a.wallet.register_space(&space.id, &a.client).unwrap();

    let uri = b
        .wallet
        .request_enrolment(&b.client, satchel_core::client::DEVICE_KEY_ALIAS)
        .unwrap();
    assert!(uri.starts_with("satchel-enrol:") && !uri.contains(char::is_whitespace));
    // Not approved yet.
    assert!(matches!(
        b.wallet.enrolment_offer(&b.client),
        Err(WalletError::InvalidInput(_))
    ));
    let code = a
        .wallet
        .approve_enrolment(&space.id, &uri, &a.client)
        .unwrap();
    let offer = b.wallet.enrolment_offer(&b.client).unwrap();
    assert_eq!(
        (offer.code.as_str(), offer.space_name.as_str()),
        (code.as_str(), "family")
    );
    // A code the person did not see on A: nothing is stored.
    let wrong = if code == "000 000" {
        "000 001"
    } else {
        "000 000"
    };
    assert!(b.wallet.complete_enrolment(&b.client, wrong).is_err());
    assert!(b.wallet.spaces().unwrap().is_empty());
    let on_b = b.wallet.complete_enrolment(&b.client, &code).unwrap();
    assert_eq!(on_b.id, space.id);
    assert_eq!(on_b.holder_key, space.holder_key, "the space key, public");
    assert!(!on_b.holds_space_key());
    (a, b, space.id)
}

#[test]
fn a_second_device_joins_syncs_withdraws_and_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
    let (a, b, space_id) = two_devices(dir.path(), &server);
    let space_a = a.wallet.space(&space_id).unwrap();
    let now = satchel_core::unix_now();

    // A holds a credential bound to its key and grants an authorisation.
    let issuer = SoftwareKey::generate_es256().unwrap();
    let token = credential(&issuer, &space_a.holder_key, "Wang Xiaoming");
    let card = a
        .wallet
        .import_credential(&space_id, &token, Some(&issuer.public_jwk()), now)
        .unwrap();
    let bank = SoftwareKey::generate_es256().unwrap();
    let parsed = parse_request(&request(&bank), &Registry::default(), now).unwrap();
    let approval = Approval {
        selections: vec![Selection {
            query_id: "q".into(),
            credential_id: card.id.clone(),
            claims: vec![ClaimPath::keys(&["name"])],
        }],
        accept_untrusted: true,
        ..Default::default()
    };
    let approved = a
        .wallet
        .approve(&space_id, &parsed, &approval, now)
        .unwrap();

    // Sync A → server → B.
    let pushed = a
        .wallet
        .sync_space(&space_id, &a.client, &no_progress)
        .unwrap();
    assert!(pushed.pushed >= 5, "{pushed:?}");
    let progress = std::sync::Mutex::new(Vec::new());
    let pulled = b
        .wallet
        .sync_space(&space_id, &b.client, &|p| progress.lock().unwrap().push(p))
        .unwrap();
    assert_eq!(pulled.pulled, pushed.pushed);
    assert!(!progress.lock().unwrap().is_empty());
    let cards_b = b
        .wallet
        .credentials(&space_id, &CredentialFilter::default())
        .unwrap();
    assert_eq!(cards_b.len(), 1);
    assert_eq!(cards_b[0].claims["name"], "Wang Xiaoming");
    assert_eq!(b.wallet.authorizations(&space_id).unwrap().len(), 1);
    assert_eq!(b.wallet.verify_consent_log(&space_id).unwrap().len(), 1);
    assert!(!b.wallet.provenance(&space_id).unwrap().is_empty());
    // Nothing more to do either side; the server never saw a claim.
    assert_eq!(
        a.wallet
            .sync_space(&space_id, &a.client, &no_progress)
            .unwrap()
            .pushed,
        0
    );
    assert_eq!(
        b.wallet
            .sync_space(&space_id, &b.client, &no_progress)
            .unwrap()
            .pushed,
        0
    );
    let server_db = std::fs::read(dir.path().join("server/satchel.db")).unwrap();
    assert!(!server_db.windows(13).any(|w| w == b"Wang Xiaoming"));

    // Approvals stay on the device holding the space key.
    let parsed = parse_request(&request(&bank), &Registry::default(), now).unwrap();
    assert!(matches!(
        b.wallet.approve(&space_id, &parsed, &approval, now),
        Err(WalletError::InvalidInput(_))
    ));

    // Visible on B, presentable only on A.
    assert!(matches!(
        b.wallet
            .present(&card.id, &[], "https://bank.example", "n", now),
        Err(WalletError::BoundElsewhere(_))
    ));

    // Both label the card offline; the later label wins on both.
    a.wallet.set_label(&card.id, Some("mine")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    b.wallet.set_label(&card.id, Some("ours")).unwrap();
    sync(&a, &space_id);
    sync(&b, &space_id);
    sync(&a, &space_id);
    for w in [&a.wallet, &b.wallet] {
        assert_eq!(
            w.credential(&card.id).unwrap().label.as_deref(),
            Some("ours")
        );
    }

    // B withdraws; its status list (signed by B's key, with its chain) is
    // accepted by the server and reads as withdrawn with the space key.
    let withdrawal = b.wallet.withdraw(&approved.authorization_id, now).unwrap();
    b.wallet.publish_status_list(&space_id, &b.client).unwrap();
    let idx = b
        .wallet
        .authorization(&approved.authorization_id)
        .unwrap()
        .status_idx;
    let list = StatusList::from_space_token(
        &withdrawal.status_list_token,
        &space_a.holder_key,
        &withdrawal.status_uri,
        now,
        1 << 20,
        &|_| false,
    )
    .unwrap();
    assert_eq!(list.get(idx).unwrap(), INVALID);
    // A learns it, and both verify the consent log of two chains.
    sync(&b, &space_id);
    sync(&a, &space_id);
    assert_eq!(
        a.wallet
            .authorization(&approved.authorization_id)
            .unwrap()
            .state,
        AuthorizationState::Withdrawn
    );
    for w in [&a.wallet, &b.wallet] {
        let records = w.verify_consent_log(&space_id).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(w.consent_chains(&space_id).unwrap().len(), 2);
    }
    // Anchoring on A covers B's chain too.
    let key = a.client.call("GET", "/v1/log/key", None).unwrap();
    let verifier = NoteVerifier::parse(key["verifier_key"].as_str().unwrap()).unwrap();
    let report = a
        .wallet
        .anchor_consent_log(&space_id, &a.client, &verifier)
        .unwrap();
    assert_eq!(report.anchored_total, 2);
    // B holds A's anchoring after a sync and checks it against the log too.
    sync(&a, &space_id);
    sync(&b, &space_id);
    let checked = b
        .wallet
        .verify_anchors(&space_id, &b.client, &verifier)
        .unwrap();
    assert_eq!(checked.anchored_total, 2);
    // An export carries the anchoring too; a fresh wallet imports it.
    let file = a
        .wallet
        .export_space(&space_id, "a long passphrase")
        .unwrap();
    let fresh = phone(dir.path(), "fresh", &server);
    let imported = fresh
        .wallet
        .import_space(&file, "a long passphrase")
        .unwrap();
    assert_eq!(imported.consent_records, 2);

    // A deletes the card; B deletes it at its next sync.
    a.wallet.delete_credential(&card.id).unwrap();
    sync(&a, &space_id);
    sync(&b, &space_id);
    assert!(b
        .wallet
        .credentials(&space_id, &CredentialFilter::default())
        .unwrap()
        .is_empty());

    // A removes B: the server refuses B from now on.
    let devices = a.wallet.devices(&space_id, &a.client).unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices[0].this_device && devices[1].removed_at.is_none());
    a.wallet
        .remove_device(&space_id, b.client.device_id(), &a.client)
        .unwrap();
    assert!(matches!(
        b.wallet.sync_space(&space_id, &b.client, &no_progress),
        Err(WalletError::ServerRefused(_))
    ));
    assert!(b.wallet.publish_status_list(&space_id, &b.client).is_err());
    let devices = a.wallet.devices(&space_id, &a.client).unwrap();
    assert!(devices[1].removed_at.is_some());
    // A keeps working under the new key epoch.
    let token = credential(&issuer, &space_a.holder_key, "Li Lei");
    a.wallet
        .import_credential(&space_id, &token, Some(&issuer.public_jwk()), now)
        .unwrap();
    assert!(
        a.wallet
            .sync_space(&space_id, &a.client, &no_progress)
            .unwrap()
            .pushed
            >= 1
    );
}

/// An offer from a demo issuer, made by the operator.
fn demo_offer(server: &EmbeddedServer) -> satchel_core::issuance::CredentialOffer {
    use satchel_core::client::{HttpRequest, Transport};
    let answer = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "POST".into(),
            url: format!("{}/v1/admin/issuers/public-security/offers", server.url),
            headers: vec![
                (
                    "Authorization".into(),
                    format!("Bearer {}", server.admin_token),
                ),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: br#"{"subject": "citizen-1"}"#.to_vec(),
        })
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    satchel_core::issuance::CredentialOffer::parse(v["credential_offer_uri"].as_str().unwrap())
        .unwrap()
}

#[test]
fn a_credential_bound_to_the_phone_is_reissued_to_the_tablet() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
    let (a, b, space_id) = two_devices(dir.path(), &server);
    let net = HttpsTransport::new().unwrap();
    let now = satchel_core::unix_now();
    let registry = satchel_core::client::fetch_registry(&server.url, &net, None, now).unwrap();
    let card = a
        .wallet
        .receive_credential(&space_id, &demo_offer(&server), &net, &registry, now)
        .unwrap();
    sync(&a, &space_id);
    sync(&b, &space_id);
    assert!(matches!(
        b.wallet
            .present(&card.id, &[], "https://bank.example", "n", now),
        Err(WalletError::BoundElsewhere(_))
    ));
    // One call: the issuer binds a new instance to the tablet's own key.
    let own = b
        .wallet
        .reissue_credential(&card.id, &demo_offer(&server), &net, &registry, now)
        .unwrap();
    let tablet_key = b.wallet.space(&space_id).unwrap().signing_key().clone();
    assert_eq!(own.bound_key(), Some(tablet_key.clone()));
    assert_eq!(own.vct, card.vct);
    let shown = b
        .wallet
        .present(
            &own.id,
            &[ClaimPath::keys(&["name"])],
            "https://bank.example",
            "n",
            now,
        )
        .unwrap();
    // The presentation's key binding verifies with the tablet's key.
    let issuer_keys: Vec<_> = registry
        .issuers
        .iter()
        .flat_map(|i| i.keys.clone())
        .collect();
    let verified = issuer_keys.iter().find_map(|k| {
        sd_jwt::verify(
            &shown,
            &k.verifying_key().unwrap(),
            &sd_jwt::VerifyOptions::vc(now).with_key_binding("https://bank.example", "n"),
        )
        .ok()
    });
    assert!(verified.is_some_and(|v| v.holder_key == Some(tablet_key)));
    // Each device now holds its own instance; the phone sees both.
    sync(&b, &space_id);
    sync(&a, &space_id);
    assert_eq!(
        a.wallet
            .credentials(&space_id, &CredentialFilter::default())
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn removing_a_device_rekeys_the_ones_that_remain() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
    let (a, b, space_id) = two_devices(dir.path(), &server);
    // A third device, enrolled by B (its certificate chains through B).
    let c = phone(dir.path(), "c", &server);
    let uri = c
        .wallet
        .request_enrolment(&c.client, satchel_core::client::DEVICE_KEY_ALIAS)
        .unwrap();
    let code = b
        .wallet
        .approve_enrolment(&space_id, &uri, &b.client)
        .unwrap();
    c.wallet.complete_enrolment(&c.client, &code).unwrap();
    sync(&c, &space_id);
    assert_eq!(c.wallet.devices(&space_id, &c.client).unwrap().len(), 3);

    // A removes C; B is re-keyed through the server, C is not.
    a.wallet
        .remove_device(&space_id, c.client.device_id(), &a.client)
        .unwrap();
    let issuer = SoftwareKey::generate_es256().unwrap();
    let holder = a.wallet.space(&space_id).unwrap().holder_key;
    let token = credential(&issuer, &holder, "after the removal");
    let now = satchel_core::unix_now();
    let added = a
        .wallet
        .import_credential(&space_id, &token, Some(&issuer.public_jwk()), now)
        .unwrap();
    sync(&a, &space_id);
    sync(&b, &space_id);
    assert_eq!(
        b.wallet.credential(&added.id).unwrap().claims["name"],
        "after the removal"
    );
    // B's changes under the new epoch reach A too.
    b.wallet.set_label(&added.id, Some("seen on B")).unwrap();
    sync(&b, &space_id);
    sync(&a, &space_id);
    assert_eq!(
        a.wallet.credential(&added.id).unwrap().label.as_deref(),
        Some("seen on B")
    );
    assert!(c
        .wallet
        .sync_space(&space_id, &c.client, &no_progress)
        .is_err());
    assert!(c.wallet.credential(&added.id).is_err());
}

#[test]
fn an_imported_space_becomes_a_full_device_once_enrolled() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
    let a = phone(dir.path(), "a", &server);
    let space = a.wallet.create_space("me", SpaceKind::Personal).unwrap();
    a.wallet
        .set_status_base(&format!("{}/status", server.url))
        .unwrap();
    a.wallet.register_space(&space.id, &a.client).unwrap();
    let issuer = SoftwareKey::generate_es256().unwrap();
    let now = satchel_core::unix_now();
    a.wallet
        .import_credential(
            &space.id,
            &credential(&issuer, &space.holder_key, "Wang"),
            Some(&issuer.public_jwk()),
            now,
        )
        .unwrap();
    let file = a
        .wallet
        .export_space(&space.id, "a long passphrase")
        .unwrap();
    let c = phone(dir.path(), "c", &server);
    c.wallet.import_space(&file, "a long passphrase").unwrap();
    assert!(
        c.wallet.status_list_token(&space.id, now).is_err(),
        "not yet"
    );
    let uri = c
        .wallet
        .request_enrolment(&c.client, satchel_core::client::DEVICE_KEY_ALIAS)
        .unwrap();
    let code = a
        .wallet
        .approve_enrolment(&space.id, &uri, &a.client)
        .unwrap();
    let joined = c.wallet.complete_enrolment(&c.client, &code).unwrap();
    assert!(!joined.chain().is_empty());
    sync(&c, &space.id);
    assert_eq!(
        c.wallet
            .credentials(&space.id, &CredentialFilter::default())
            .unwrap()
            .len(),
        1,
        "the imported copy and the synced one are the same credential"
    );
    c.wallet.status_list_token(&space.id, now).unwrap();
    c.wallet.publish_status_list(&space.id, &c.client).unwrap();
}

#[test]
fn a_device_enrolled_through_another_can_rekey_the_first_device() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
    let (a, b, space_id) = two_devices(dir.path(), &server);
    let enrol = |by: &Phone, name: &str| {
        let p = phone(dir.path(), name, &server);
        let uri = p
            .wallet
            .request_enrolment(&p.client, satchel_core::client::DEVICE_KEY_ALIAS)
            .unwrap();
        let code = by
            .wallet
            .approve_enrolment(&space_id, &uri, &by.client)
            .unwrap();
        p.wallet.complete_enrolment(&p.client, &code).unwrap();
        p
    };
    let c = enrol(&b, "c");
    let d = enrol(&b, "d");
    // C (two steps from the space key) removes D: A, the space key's
    // device, gets the new epoch too.
    c.wallet
        .remove_device(&space_id, d.client.device_id(), &c.client)
        .unwrap();
    let issuer = SoftwareKey::generate_es256().unwrap();
    let key = c.wallet.space(&space_id).unwrap().signing_key().clone();
    let token = credential(&issuer, &key, "pushed by C after the removal");
    let added = c
        .wallet
        .import_credential(
            &space_id,
            &token,
            Some(&issuer.public_jwk()),
            satchel_core::unix_now(),
        )
        .unwrap();
    sync(&c, &space_id);
    sync(&a, &space_id);
    assert!(a.wallet.credential(&added.id).is_ok());
}
