use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use satchel_ffi::{
    in_memory_key_store, verify_presentation, CredentialFilter, CredentialStatus, KeyAlgorithm,
    KeyStoreError, PlatformKeyStore, SatchelError, SoftwareIssuer, SpaceKind, Wallet,
};

/// A key store that counts signatures and can be told to fail, standing in
/// for an app's platform key store.
struct CountingKeyStore {
    inner: Arc<dyn PlatformKeyStore>,
    signs: AtomicUsize,
    fail_signing: bool,
}

impl PlatformKeyStore for CountingKeyStore {
    fn generate_key(
        &self,
        alias: String,
        algorithm: KeyAlgorithm,
    ) -> Result<Vec<u8>, KeyStoreError> {
        self.inner.generate_key(alias, algorithm)
    }
    fn public_key(&self, alias: String) -> Result<Vec<u8>, KeyStoreError> {
        self.inner.public_key(alias)
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        if self.fail_signing {
            return Err(KeyStoreError::Platform {
                reason: "user cancelled biometric prompt".into(),
            });
        }
        self.signs.fetch_add(1, Ordering::SeqCst);
        self.inner.sign(alias, message)
    }
    fn delete_key(&self, alias: String) -> Result<(), KeyStoreError> {
        self.inner.delete_key(alias)
    }
    fn wrap_data_key(&self, alias: String, data_key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        self.inner.wrap_data_key(alias, data_key)
    }
    fn unwrap_data_key(&self, alias: String, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        self.inner.unwrap_data_key(alias, wrapped)
    }
    fn is_hardware_backed(&self, alias: String) -> Result<bool, KeyStoreError> {
        self.inner.is_hardware_backed(alias)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn id_card(now: i64) -> String {
    serde_json::json!({
        "iss": "https://gdga.example", "vct": "urn:satchel:resident-id-card",
        "iat": now, "exp": now + 3600,
        "name": "王小明", "id_number": "440106199003071234", "age_over_18": true, "birthdate": "1990-03-07",
    })
    .to_string()
}

#[test]
fn citizen_receives_stores_and_presents_an_id_card() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.db").to_string_lossy().into_owned();
    let ks = Arc::new(CountingKeyStore {
        inner: in_memory_key_store(),
        signs: AtomicUsize::new(0),
        fail_signing: false,
    });
    let wallet = Wallet::open(path.clone(), ks.clone()).unwrap();
    let space = wallet
        .create_space("个人空间".into(), SpaceKind::Personal)
        .unwrap();

    let issuer = SoftwareIssuer::generate(KeyAlgorithm::Es256).unwrap();
    wallet
        .add_trusted_issuer("https://gdga.example".into(), issuer.public_jwk())
        .unwrap();
    let token = issuer
        .issue(
            id_card(now()),
            vec![
                "name".into(),
                "id_number".into(),
                "age_over_18".into(),
                "birthdate".into(),
            ],
            Some(space.holder_jwk.clone()),
        )
        .unwrap();
    let credential = wallet
        .import_credential(space.id.clone(), token, None)
        .unwrap();
    assert_eq!(credential.status, CredentialStatus::Valid);

    let listed = wallet
        .credentials(space.id.clone(), CredentialFilter::default())
        .unwrap();
    assert_eq!(listed.len(), 1);

    let presentation = wallet
        .present(
            credential.id.clone(),
            vec!["name".into(), "id_number".into(), "age_over_18".into()],
            "https://bank".into(),
            "n-42".into(),
        )
        .unwrap();
    assert_eq!(
        ks.signs.load(Ordering::SeqCst),
        1,
        "key binding signed by the app's key store"
    );
    let verified = verify_presentation(
        presentation.clone(),
        issuer.public_jwk(),
        Some("https://bank".into()),
        Some("n-42".into()),
        None,
    )
    .unwrap();
    let claims: serde_json::Value = serde_json::from_str(&verified.claims_json).unwrap();
    assert_eq!(claims["id_number"], "440106199003071234");
    assert!(
        claims.get("birthdate").is_none(),
        "birthdate was not approved"
    );

    // Replay to another verifier or with another nonce: refused.
    assert!(matches!(
        verify_presentation(
            presentation.clone(),
            issuer.public_jwk(),
            Some("https://other".into()),
            Some("n-42".into()),
            None
        ),
        Err(SatchelError::Rejected(_))
    ));
    assert!(matches!(
        verify_presentation(
            presentation,
            issuer.public_jwk(),
            Some("https://bank".into()),
            Some("n-43".into()),
            None
        ),
        Err(SatchelError::Rejected(_))
    ));

    // Reopen: everything is still there, still encrypted.
    drop(wallet);
    let wallet = Wallet::open(path.clone(), ks.clone()).unwrap();
    assert_eq!(
        wallet.credential(credential.id.clone()).unwrap().vct,
        "urn:satchel:resident-id-card"
    );
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    assert!(!bytes.windows(18).any(|w| w == b"440106199003071234"));
}

#[test]
fn a_failing_platform_key_store_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.db").to_string_lossy().into_owned();
    let inner = in_memory_key_store();
    let ok_ks = Arc::new(CountingKeyStore {
        inner: inner.clone(),
        signs: AtomicUsize::new(0),
        fail_signing: false,
    });
    let wallet = Wallet::open(path.clone(), ok_ks).unwrap();
    let space = wallet
        .create_space("s".into(), SpaceKind::Enterprise)
        .unwrap();
    let issuer = SoftwareIssuer::generate(KeyAlgorithm::Ed25519).unwrap();
    let token = issuer
        .issue(id_card(now()), vec!["name".into()], Some(space.holder_jwk))
        .unwrap();
    let c = wallet
        .import_credential(space.id, token, Some(issuer.public_jwk()))
        .unwrap();
    drop(wallet);

    let failing = Arc::new(CountingKeyStore {
        inner,
        signs: AtomicUsize::new(0),
        fail_signing: true,
    });
    let wallet = Wallet::open(path, failing).unwrap();
    match wallet.present(c.id, vec!["name".into()], "https://rp".into(), "n".into()) {
        Err(SatchelError::KeyStore(msg)) => assert!(msg.contains("biometric"), "{msg}"),
        other => panic!("expected a key store error, got {other:?}"),
    }
}
