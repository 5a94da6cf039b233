use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::{
    sd_jwt::{self, issue, ClaimPath, IssueOptions, VerifyOptions},
    KeyStore, Signer, SoftwareKey, SoftwareKeyStore,
};

const NOW: i64 = 1_800_000_000;
const SECRET_ID: &str = "440101199001019999";

struct Setup {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    keystore: Arc<dyn KeyStore>,
    wallet: Wallet,
    issuer: SoftwareKey,
}

impl Setup {
    /// A personal space holding one imported ID card.
    fn space_with_id_card(&self) -> (Space, Credential) {
        let space = self.wallet.create_space("Me", SpaceKind::Personal).unwrap();
        let token = id_card(&self.issuer, &space.holder_key, "urn:id-card", NOW + 1000);
        let c = self
            .wallet
            .import_credential(&space.id, &token, Some(&self.issuer.public_jwk()), NOW)
            .unwrap();
        (space, c)
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.db");
    let keystore: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let wallet = Wallet::open(&path, keystore.clone()).unwrap();
    Setup {
        _dir: dir,
        path,
        keystore,
        wallet,
        issuer: SoftwareKey::generate_es256().unwrap(),
    }
}

/// Every credential of `space_id`, as of `NOW`.
fn all_at_now(wallet: &Wallet, space_id: &str) -> Vec<Credential> {
    let now = CredentialFilter {
        now: NOW,
        ..Default::default()
    };
    wallet.credentials(space_id, &now).unwrap()
}

fn id_card(issuer: &SoftwareKey, holder: &Jwk, vct: &str, exp: i64) -> String {
    let claims = json!({
        "iss": "https://gdga.example", "vct": vct, "iat": NOW - 10, "exp": exp,
        "cnf": {"jwk": holder.to_value()},
        "name": "王小明", "id_number": SECRET_ID, "age_over_18": true,
    });
    let paths = ["name", "id_number", "age_over_18"].map(|p| ClaimPath::keys(&[p]));
    issue(
        claims.as_object().unwrap(),
        &paths,
        &IssueOptions::default(),
        issuer,
    )
    .unwrap()
}

#[test]
fn import_list_get_label_delete() {
    let s = setup();
    let (space, c) = s.space_with_id_card();
    assert_eq!(c.claims["name"], "王小明");
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("王小明") && !debug.contains(SECRET_ID),
        "Debug hides claims"
    );
    assert_eq!(c.issuer.as_deref(), Some("https://gdga.example"));
    let lic = id_card(&s.issuer, &space.holder_key, "urn:licence", NOW + 10);
    s.wallet
        .import_credential(&space.id, &lic, Some(&s.issuer.public_jwk()), NOW)
        .unwrap();

    let all = all_at_now(&s.wallet, &space.id);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, c.id, "import order");
    let by_type = CredentialFilter {
        vct: Some("urn:licence".into()),
        now: NOW,
        ..Default::default()
    };
    assert_eq!(s.wallet.credentials(&space.id, &by_type).unwrap().len(), 1);
    let expired = CredentialFilter {
        status: Some(CredentialStatus::Expired),
        now: NOW + 100,
        ..Default::default()
    };
    assert_eq!(
        s.wallet.credentials(&space.id, &expired).unwrap()[0].vct,
        "urn:licence"
    );
    let soon = CredentialFilter {
        expires_before: Some(NOW + 500),
        now: NOW,
        ..Default::default()
    };
    assert_eq!(s.wallet.credentials(&space.id, &soon).unwrap().len(), 1);
    let other_issuer = CredentialFilter {
        issuer: Some("x".into()),
        now: NOW,
        ..Default::default()
    };
    assert!(s
        .wallet
        .credentials(&space.id, &other_issuer)
        .unwrap()
        .is_empty());

    assert_eq!(
        s.wallet
            .set_label(&c.id, Some("身份证"))
            .unwrap()
            .label
            .as_deref(),
        Some("身份证")
    );
    assert_eq!(
        s.wallet.credential(&c.id).unwrap().label.as_deref(),
        Some("身份证")
    );
    assert_eq!(
        s.wallet.mark_revoked(&c.id).unwrap().status(NOW),
        CredentialStatus::Revoked
    );

    s.wallet.delete_credential(&c.id).unwrap();
    assert!(matches!(
        s.wallet.credential(&c.id),
        Err(WalletError::NotFound { .. })
    ));
    assert!(matches!(
        s.wallet.delete_credential(&c.id),
        Err(WalletError::NotFound { .. })
    ));

    s.wallet.delete_space(&space.id).unwrap();
    assert!(s.wallet.spaces().unwrap().is_empty());
    assert!(
        s.keystore.public_key(&space.holder_key_alias).is_err(),
        "holder key deleted"
    );
}

#[test]
fn present_from_the_wallet() {
    let s = setup();
    let (_, c) = s.space_with_id_card();
    let p = s
        .wallet
        .present(
            &c.id,
            &[ClaimPath::keys(&["age_over_18"])],
            "https://bank",
            "n1",
            NOW,
        )
        .unwrap();
    let v = sd_jwt::verify(
        &p,
        &s.issuer.public_jwk().verifying_key().unwrap(),
        &VerifyOptions::vc(NOW).with_key_binding("https://bank", "n1"),
    )
    .unwrap();
    assert_eq!(v.claims["age_over_18"], true);
    assert!(v.claims.get("id_number").is_none());
}

#[test]
fn import_refusals() {
    let s = setup();
    let space = s.wallet.create_space("Me", SpaceKind::Personal).unwrap();
    let token = id_card(&s.issuer, &space.holder_key, "urn:id-card", NOW + 1000);
    // Unknown issuer without a key.
    assert!(matches!(
        s.wallet.import_credential(&space.id, &token, None, NOW),
        Err(WalletError::UnknownIssuer(_))
    ));
    // Wrong key.
    let other = SoftwareKey::generate_es256().unwrap().public_jwk();
    assert!(matches!(
        s.wallet
            .import_credential(&space.id, &token, Some(&other), NOW),
        Err(WalletError::Credential(_))
    ));
    // Expired.
    assert!(matches!(
        s.wallet
            .import_credential(&space.id, &token, Some(&s.issuer.public_jwk()), NOW + 5000),
        Err(WalletError::Credential(SdJwtError::Expired))
    ));
    // Bound to someone else's key.
    let stranger = SoftwareKey::generate_es256().unwrap().public_jwk();
    let theirs = id_card(&s.issuer, &stranger, "urn:id-card", NOW + 1000);
    assert_eq!(
        s.wallet
            .import_credential(&space.id, &theirs, Some(&s.issuer.public_jwk()), NOW)
            .unwrap_err(),
        WalletError::HolderMismatch
    );
    // Garbage.
    assert!(s
        .wallet
        .import_credential(&space.id, "garbage", Some(&s.issuer.public_jwk()), NOW)
        .is_err());
    // Unknown space.
    assert!(matches!(
        s.wallet.import_credential("nope", &token, None, NOW),
        Err(WalletError::NotFound { .. })
    ));
    assert!(
        s.wallet
            .credentials(&space.id, &CredentialFilter::default())
            .unwrap()
            .is_empty(),
        "nothing stored"
    );

    // Trusted issuer: now it imports without a key.
    s.wallet
        .add_trusted_issuer("https://gdga.example", &s.issuer.public_jwk())
        .unwrap();
    s.wallet
        .import_credential(&space.id, &token, None, NOW)
        .unwrap();
}

#[test]
fn no_claim_value_in_the_database_file() {
    let s = setup();
    let space = s
        .wallet
        .create_space("Personal space", SpaceKind::Personal)
        .unwrap();
    for _ in 0..3 {
        let token = id_card(&s.issuer, &space.holder_key, "urn:id-card", NOW + 1000);
        s.wallet
            .import_credential(&space.id, &token, Some(&s.issuer.public_jwk()), NOW)
            .unwrap();
    }
    drop(s.wallet);
    let mut bytes = std::fs::read(&s.path).unwrap();
    let wal = s.path.with_extension("db-wal");
    if let Ok(w) = std::fs::read(&wal) {
        bytes.extend(w);
    }
    let hay = String::from_utf8_lossy(&bytes);
    for needle in [
        SECRET_ID,
        "王小明",
        "gdga.example",
        "urn:id-card",
        "Personal space",
    ] {
        assert!(!hay.contains(needle), "{needle} found in plaintext");
        assert!(
            !hay.contains(&crate::b64::encode(needle)),
            "{needle} found base64url-encoded"
        );
    }
    assert!(bytes
        .windows(SECRET_ID.len())
        .all(|w| w != SECRET_ID.as_bytes()));
}

#[test]
fn reopen_needs_the_same_key_store() {
    let s = setup();
    let space = s.wallet.create_space("Me", SpaceKind::Personal).unwrap();
    drop(s.wallet);
    let again = Wallet::open(&s.path, s.keystore.clone()).unwrap();
    assert_eq!(again.spaces().unwrap(), vec![space]);
    drop(again);
    let stranger: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    assert!(matches!(
        Wallet::open(&s.path, stranger),
        Err(WalletError::KeyStore(_))
    ));
}

#[test]
fn tampered_or_moved_rows_are_detected() {
    let s = setup();
    let a = s.wallet.create_space("A", SpaceKind::Personal).unwrap();
    let b = s.wallet.create_space("B", SpaceKind::Enterprise).unwrap();
    let token = id_card(&s.issuer, &a.holder_key, "urn:id-card", NOW + 1000);
    let c = s
        .wallet
        .import_credential(&a.id, &token, Some(&s.issuer.public_jwk()), NOW)
        .unwrap();
    let raw = rusqlite::Connection::open(&s.path).unwrap();
    raw.execute(
        "UPDATE credentials SET space_id = ?1 WHERE id = ?2",
        [&b.id, &c.id],
    )
    .unwrap();
    assert_eq!(
        s.wallet.credential(&c.id).unwrap_err(),
        WalletError::Integrity(c.id.clone())
    );
    raw.execute(
        "UPDATE credentials SET space_id = ?1, sealed = x'00112233' WHERE id = ?2",
        [&a.id, &c.id],
    )
    .unwrap();
    assert_eq!(
        s.wallet.credential(&c.id).unwrap_err(),
        WalletError::Integrity(c.id.clone())
    );
}

#[test]
fn migrates_a_version_1_wallet() {
    let s = setup();
    let (_, c) = s.space_with_id_card();
    drop(s.wallet);
    // Turn the file back into a version 1 file, as an older build wrote it.
    let raw = rusqlite::Connection::open(&s.path).unwrap();
    raw.execute_batch(
        "DROP TABLE sync_keys; DROP TABLE sync_state; DROP TABLE sync_pushed; DROP TABLE tombstones; DROP TABLE peer_anchors;
         DROP TABLE anchors; DROP TABLE authorizations; DROP TABLE delegations; DROP TABLE consent_log;
         DROP TABLE provenance; DROP TABLE members; DROP TABLE status_lists;
         DROP INDEX credentials_by_space; DROP TABLE trusted_issuers;
         ALTER TABLE credentials DROP COLUMN seq; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(raw);
    let w = Wallet::open(&s.path, s.keystore.clone()).unwrap();
    assert_eq!(w.credential(&c.id).unwrap().claims["id_number"], SECRET_ID);
    w.add_trusted_issuer("x", &s.issuer.public_jwk()).unwrap();
}

#[test]
fn wallet_is_safe_across_threads() {
    let s = setup();
    let wallet = Arc::new(s.wallet);
    let space = wallet.create_space("Me", SpaceKind::Personal).unwrap();
    let issuer = Arc::new(s.issuer);
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (wallet, issuer, space) = (wallet.clone(), issuer.clone(), space.clone());
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let token = id_card(&issuer, &space.holder_key, "urn:id-card", NOW + 1000);
                    wallet
                        .import_credential(&space.id, &token, Some(&issuer.public_jwk()), NOW)
                        .unwrap();
                    wallet
                        .credentials(&space.id, &CredentialFilter::default())
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(all_at_now(&wallet, &space.id).len(), 60);
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wallet>();
}

#[cfg(unix)]
#[test]
fn wallet_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = setup();
    s.space_with_id_card();
    for suffix in ["", "-wal", "-shm"] {
        let p = crate::private_file::with_suffix(&s.path, suffix);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
}

#[test]
fn a_batch_stores_what_verifies_in_one_go_and_reports_the_rest() {
    let s = setup();
    let space = s.wallet.create_space("Me", SpaceKind::Personal).unwrap();
    s.wallet
        .add_trusted_issuer("https://gdga.example", &s.issuer.public_jwk())
        .unwrap();
    // Enough to be verified on more than one thread.
    let mut tokens: Vec<String> = (0..40)
        .map(|i| {
            id_card(
                &s.issuer,
                &space.holder_key,
                &format!("urn:card-{i}"),
                NOW + 1000,
            )
        })
        .collect();
    let stranger = SoftwareKey::generate_es256().unwrap();
    tokens[3] = id_card(&stranger, &space.holder_key, "urn:forged", NOW + 1000);
    tokens[17] = "not a credential".into();
    let other = s.wallet.create_space("Other", SpaceKind::Personal).unwrap();
    tokens[31] = id_card(&s.issuer, &other.holder_key, "urn:not-mine", NOW + 1000);

    let results = s
        .wallet
        .import_credentials(&space.id, &tokens, None, NOW)
        .unwrap();
    assert_eq!(results.len(), 40);
    assert!(
        matches!(results[3], Err(WalletError::Credential(_))),
        "{:?}",
        results[3]
    );
    assert!(results[17].is_err());
    assert!(matches!(results[31], Err(WalletError::HolderMismatch)));
    for (i, r) in results.iter().enumerate() {
        if ![3, 17, 31].contains(&i) {
            assert_eq!(
                r.as_ref().unwrap().vct,
                format!("urn:card-{i}"),
                "results keep their order"
            );
        }
    }
    let stored = all_at_now(&s.wallet, &space.id);
    assert_eq!(stored.len(), 37);
    // Stored in token order, although verified on several threads.
    let expected: Vec<String> = (0..40)
        .filter(|i| ![3, 17, 31].contains(i))
        .map(|i| format!("urn:card-{i}"))
        .collect();
    assert_eq!(
        stored.iter().map(|c| c.vct.clone()).collect::<Vec<_>>(),
        expected
    );
    // Each stored one has its provenance, as a single import does.
    let first = results[0].as_ref().unwrap();
    assert_eq!(s.wallet.trace(&first.id, None).unwrap().len(), 2);
    // A space that does not exist fails the whole call.
    assert!(s
        .wallet
        .import_credentials("nope", &tokens, None, NOW)
        .is_err());
}
