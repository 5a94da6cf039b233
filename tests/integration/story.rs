use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use satchel_core::runtime::block_on;
use satchel_ffi::{
    in_memory_key_store, verify_presentation, CredentialFilter, CredentialStatus, KeyAlgorithm,
    KeyStoreError, PlatformKeyStore, SatchelError, SoftwareIssuer, SpaceKind, Wallet, WalletChange,
    WalletListener,
};

/// A key store that counts signatures and can be told to fail, standing in
/// for an app's platform key store.
struct CountingKeyStore {
    inner: Arc<dyn PlatformKeyStore>,
    signs: AtomicUsize,
    fail_signing: Option<KeyStoreError>,
}

fn counting(
    inner: Arc<dyn PlatformKeyStore>,
    fail: Option<KeyStoreError>,
) -> Arc<CountingKeyStore> {
    Arc::new(CountingKeyStore {
        inner,
        signs: AtomicUsize::new(0),
        fail_signing: fail,
    })
}

#[async_trait::async_trait]
impl PlatformKeyStore for CountingKeyStore {
    async fn generate_key(
        &self,
        alias: String,
        algorithm: KeyAlgorithm,
    ) -> Result<Vec<u8>, KeyStoreError> {
        self.inner.generate_key(alias, algorithm).await
    }
    async fn public_key(&self, alias: String) -> Result<Vec<u8>, KeyStoreError> {
        self.inner.public_key(alias).await
    }
    async fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        match &self.fail_signing {
            Some(KeyStoreError::UserCancelled) => return Err(KeyStoreError::UserCancelled),
            Some(_) => {
                return Err(KeyStoreError::Platform {
                    reason: "biometric hardware unavailable".into(),
                })
            }
            None => {}
        }
        self.signs.fetch_add(1, Ordering::SeqCst);
        self.inner.sign(alias, message).await
    }
    async fn delete_key(&self, alias: String) -> Result<(), KeyStoreError> {
        self.inner.delete_key(alias).await
    }
    async fn wrap_data_key(
        &self,
        alias: String,
        data_key: Vec<u8>,
    ) -> Result<Vec<u8>, KeyStoreError> {
        self.inner.wrap_data_key(alias, data_key).await
    }
    async fn unwrap_data_key(
        &self,
        alias: String,
        wrapped: Vec<u8>,
    ) -> Result<Vec<u8>, KeyStoreError> {
        self.inner.unwrap_data_key(alias, wrapped).await
    }
    async fn is_hardware_backed(&self, alias: String) -> Result<bool, KeyStoreError> {
        self.inner.is_hardware_backed(alias).await
    }
}

fn now() -> i64 {
    satchel_core::unix_now()
}

fn id_card(now: i64) -> String {
    serde_json::json!({
        "iss": "https://gdga.example", "vct": "urn:satchel:resident-id-card",
        "iat": now, "exp": now + 3600,
        "name": "王小明", "id_number": "440106199003071234", "age_over_18": true, "birthdate": "1990-03-07",
    })
    .to_string()
}

/// Collects the changes a wallet reports.
#[derive(Default)]
struct Changes(std::sync::Mutex<Vec<WalletChange>>);

impl WalletListener for Changes {
    fn on_change(&self, change: WalletChange) -> Result<(), satchel_ffi::ListenerError> {
        self.0.lock().unwrap().push(change);
        Ok(())
    }
}

#[test]
fn citizen_receives_stores_and_presents_an_id_card() {
    block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.db").to_string_lossy().into_owned();
        let ks = counting(in_memory_key_store(), None);
        let wallet = Wallet::open(path.clone(), ks.clone()).await.unwrap();
        let changes = Arc::new(Changes::default());
        let subscription = wallet.observe(changes.clone());
        let space = wallet
            .create_space("个人空间".into(), SpaceKind::Personal)
            .await
            .unwrap();

        let issuer = SoftwareIssuer::generate(KeyAlgorithm::Es256).unwrap();
        wallet
            .add_trusted_issuer("https://gdga.example".into(), issuer.public_jwk())
            .await
            .unwrap();
        let disclosable = ["name", "id_number", "age_over_18", "birthdate"];
        let token = issuer
            .issue(
                id_card(now()),
                disclosable.iter().map(|s| s.to_string()).collect(),
                Some(space.holder_jwk.clone()),
            )
            .unwrap();
        let credential = wallet
            .import_credential(space.id.clone(), token, None)
            .await
            .unwrap();
        assert_eq!(credential.status, CredentialStatus::Valid);
        assert_eq!(
            *changes.0.lock().unwrap(),
            vec![
                WalletChange::SpaceCreated {
                    space_id: space.id.clone()
                },
                WalletChange::CredentialAdded {
                    space_id: space.id.clone(),
                    credential_id: credential.id.clone()
                }
            ]
        );
        subscription.stop();

        let listed = wallet
            .credentials(space.id.clone(), CredentialFilter::default())
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);

        let presentation = wallet
            .present(
                credential.id.clone(),
                vec!["name".into(), "id_number".into(), "age_over_18".into()],
                "https://bank".into(),
                "n-42".into(),
            )
            .await
            .unwrap();
        assert_eq!(changes.0.lock().unwrap().len(), 2, "stopped listening");
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
        for (aud, nonce) in [("https://other", "n-42"), ("https://bank", "n-43")] {
            assert!(matches!(
                verify_presentation(
                    presentation.clone(),
                    issuer.public_jwk(),
                    Some(aud.into()),
                    Some(nonce.into()),
                    None
                ),
                Err(SatchelError::Rejected { .. })
            ));
        }

        // Reopen: everything is still there, still encrypted.
        drop(wallet);
        let wallet = Wallet::open(path.clone(), ks.clone()).await.unwrap();
        assert_eq!(
            wallet.credential(credential.id.clone()).await.unwrap().vct,
            "urn:satchel:resident-id-card"
        );
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        assert!(!bytes.windows(18).any(|w| w == b"440106199003071234"));
    })
    .unwrap();
}

#[test]
fn a_failing_platform_key_store_is_a_typed_error() {
    block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.db").to_string_lossy().into_owned();
        let inner = in_memory_key_store();
        let wallet = Wallet::open(path.clone(), counting(inner.clone(), None))
            .await
            .unwrap();
        let space = wallet
            .create_space("s".into(), SpaceKind::Enterprise)
            .await
            .unwrap();
        let issuer = SoftwareIssuer::generate(KeyAlgorithm::Ed25519).unwrap();
        let token = issuer
            .issue(id_card(now()), vec!["name".into()], Some(space.holder_jwk))
            .unwrap();
        let c = wallet
            .import_credential(space.id, token, Some(issuer.public_jwk()))
            .await
            .unwrap();
        drop(wallet);

        let broken = KeyStoreError::Platform {
            reason: String::new(),
        };
        let wallet = Wallet::open(path.clone(), counting(inner.clone(), Some(broken)))
            .await
            .unwrap();
        let present = |w: Arc<Wallet>, id: String| async move {
            w.present(id, vec!["name".into()], "https://rp".into(), "n".into())
                .await
        };
        match present(wallet, c.id.clone()).await {
            Err(e @ SatchelError::KeyStore { .. }) => {
                assert!(e.to_string().contains("biometric"), "{e}")
            }
            other => panic!("expected a key store error, got {other:?}"),
        }
        // The user dismissing the prompt is its own kind.
        let wallet = Wallet::open(path, counting(inner, Some(KeyStoreError::UserCancelled)))
            .await
            .unwrap();
        assert!(matches!(
            present(wallet, c.id).await,
            Err(SatchelError::Cancelled { .. })
        ));
    })
    .unwrap();
}
