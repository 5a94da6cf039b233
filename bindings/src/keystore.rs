//! `PlatformKeyStore`: the key store apps implement over Android
//! Keystore/StrongBox or iOS Keychain/Secure Enclave (async, so an
//! implementation can wait for a biometric prompt), and its adapter to
//! core's `KeyStore`.

use std::{path::PathBuf, sync::Arc};

use satchel_core::{self as core, runtime, Jwk, KeyStoreError as CoreKeyStoreError};

use crate::{run, KeyStoreError, SatchelError};

/// The kinds of signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KeyAlgorithm {
    /// ECDSA P-256 (ES256): what Secure Enclave and StrongBox hold.
    Es256,
    /// Ed25519 (EdDSA).
    Ed25519,
}

impl From<KeyAlgorithm> for core::KeyAlgorithm {
    fn from(a: KeyAlgorithm) -> Self {
        match a {
            KeyAlgorithm::Es256 => core::KeyAlgorithm::Es256,
            KeyAlgorithm::Ed25519 => core::KeyAlgorithm::Ed25519,
        }
    }
}

/// A store of private keys that never leave it. Implement it over the
/// platform key store. Every method is `suspend` in Kotlin and `async` in
/// Swift: `sign` may wait for the user to confirm (BiometricPrompt,
/// LocalAuthentication); throw `KeyStoreException.UserCancelled` when the
/// user dismisses it.
///
/// Public keys are returned as the platform exports them: a raw P-256 point
/// (65 bytes), a raw Ed25519 key (32 bytes), or X.509 SubjectPublicKeyInfo
/// DER (`PublicKey.getEncoded()` on Android). ES256 signatures may be DER
/// (as Android and iOS produce them) or raw R‖S.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait PlatformKeyStore: Send + Sync {
    /// Generates a signing key under `alias`; returns its public key.
    /// Must fail rather than overwrite an existing key.
    async fn generate_key(
        &self,
        alias: String,
        algorithm: KeyAlgorithm,
    ) -> Result<Vec<u8>, KeyStoreError>;
    /// The public key under `alias`.
    async fn public_key(&self, alias: String) -> Result<Vec<u8>, KeyStoreError>;
    /// Signs `message` with the key under `alias`.
    async fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
    /// Deletes the key under `alias`; deleting a missing key succeeds.
    async fn delete_key(&self, alias: String) -> Result<(), KeyStoreError>;
    /// Encrypts `data_key` under the wrapping key `alias`, creating it if needed.
    async fn wrap_data_key(
        &self,
        alias: String,
        data_key: Vec<u8>,
    ) -> Result<Vec<u8>, KeyStoreError>;
    /// Decrypts a key wrapped by `wrap_data_key`.
    async fn unwrap_data_key(
        &self,
        alias: String,
        wrapped: Vec<u8>,
    ) -> Result<Vec<u8>, KeyStoreError>;
    /// Whether the key under `alias` lives in secure hardware.
    async fn is_hardware_backed(&self, alias: String) -> Result<bool, KeyStoreError>;
}

/// Core's software key store, offered to apps for desktop and tests.
struct SoftwarePlatformKeyStore(core::SoftwareKeyStore);

fn public_bytes(jwk: &Jwk) -> Result<Vec<u8>, KeyStoreError> {
    match jwk.verifying_key() {
        Ok(core::VerifyingKey::P256(p)) => Ok(p.to_vec()),
        Ok(core::VerifyingKey::Ed25519(k)) => Ok(k.to_vec()),
        Err(_) => Err(KeyStoreError::Platform {
            reason: "the stored public key is unusable".into(),
        }),
    }
}

#[async_trait::async_trait]
impl PlatformKeyStore for SoftwarePlatformKeyStore {
    async fn generate_key(
        &self,
        alias: String,
        algorithm: KeyAlgorithm,
    ) -> Result<Vec<u8>, KeyStoreError> {
        public_bytes(&core::KeyStore::generate_key(
            &self.0,
            &alias,
            algorithm.into(),
        )?)
    }
    async fn public_key(&self, alias: String) -> Result<Vec<u8>, KeyStoreError> {
        public_bytes(&core::KeyStore::public_key(&self.0, &alias)?)
    }
    async fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        Ok(core::KeyStore::sign(&self.0, &alias, &message)?)
    }
    async fn delete_key(&self, alias: String) -> Result<(), KeyStoreError> {
        Ok(core::KeyStore::delete_key(&self.0, &alias)?)
    }
    async fn wrap_data_key(
        &self,
        alias: String,
        data_key: Vec<u8>,
    ) -> Result<Vec<u8>, KeyStoreError> {
        Ok(core::KeyStore::wrap_data_key(&self.0, &alias, &data_key)?)
    }
    async fn unwrap_data_key(
        &self,
        alias: String,
        wrapped: Vec<u8>,
    ) -> Result<Vec<u8>, KeyStoreError> {
        Ok(core::KeyStore::unwrap_data_key(&self.0, &alias, &wrapped)?)
    }
    async fn is_hardware_backed(&self, alias: String) -> Result<bool, KeyStoreError> {
        Ok(core::KeyStore::is_hardware_backed(&self.0, &alias)?)
    }
}

/// A software key store kept in memory (for tests and desktop tools).
#[uniffi::export]
pub fn in_memory_key_store() -> Arc<dyn PlatformKeyStore> {
    Arc::new(SoftwarePlatformKeyStore(core::SoftwareKeyStore::in_memory()))
}

/// A software key store in a file encrypted under `passphrase` (Argon2id);
/// created if missing. Not hardware-backed: for desktop use.
#[uniffi::export]
pub async fn file_key_store(
    path: String,
    passphrase: String,
) -> Result<Arc<dyn PlatformKeyStore>, SatchelError> {
    run(move || {
        let store = core::SoftwareKeyStore::open(&PathBuf::from(path), &passphrase)?;
        Ok(Arc::new(SoftwarePlatformKeyStore(store)) as Arc<dyn PlatformKeyStore>)
    })
    .await
}

/// Adapts an app's `PlatformKeyStore` to core's synchronous `KeyStore`.
/// Core runs on the blocking pool, so waiting here for the app's suspend
/// function holds a pool thread, never the app's or the I/O thread.
pub(crate) struct ForeignKeyStore(pub Arc<dyn PlatformKeyStore>);

/// Waits for an app's key-store call on this (pool) thread: a Rust key
/// store's work never lands on the SDK's I/O thread, and an app's completes
/// through uniffi. A cancelled caller drops the call (and the app's
/// coroutine or task with it).
fn wait<T>(
    call: impl std::future::Future<Output = Result<T, KeyStoreError>>,
) -> Result<T, CoreKeyStoreError> {
    match runtime::wait_here(call) {
        Ok(answer) => answer.map_err(Into::into),
        Err(runtime::RuntimeError::Cancelled) => Err(CoreKeyStoreError::Cancelled),
        Err(_) => Err(CoreKeyStoreError::Platform(
            "the key store call failed".into(),
        )),
    }
}

fn jwk_of(bytes: Vec<u8>) -> Result<Jwk, CoreKeyStoreError> {
    Jwk::from_public_key_bytes(&bytes).map_err(|_| {
        CoreKeyStoreError::Platform("the key store returned an unusable public key".into())
    })
}

impl core::KeyStore for ForeignKeyStore {
    fn generate_key(
        &self,
        alias: &str,
        algorithm: core::KeyAlgorithm,
    ) -> Result<Jwk, CoreKeyStoreError> {
        jwk_of(wait(
            self.0.generate_key(alias.into(), algorithm_of(algorithm)),
        )?)
    }
    fn public_key(&self, alias: &str) -> Result<Jwk, CoreKeyStoreError> {
        jwk_of(wait(self.0.public_key(alias.into()))?)
    }
    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, CoreKeyStoreError> {
        wait(self.0.sign(alias.into(), message.to_vec()))
    }
    fn delete_key(&self, alias: &str) -> Result<(), CoreKeyStoreError> {
        wait(self.0.delete_key(alias.into()))
    }
    fn wrap_data_key(&self, alias: &str, data_key: &[u8]) -> Result<Vec<u8>, CoreKeyStoreError> {
        wait(self.0.wrap_data_key(alias.into(), data_key.to_vec()))
    }
    fn unwrap_data_key(&self, alias: &str, wrapped: &[u8]) -> Result<Vec<u8>, CoreKeyStoreError> {
        wait(self.0.unwrap_data_key(alias.into(), wrapped.to_vec()))
    }
    fn is_hardware_backed(&self, alias: &str) -> Result<bool, CoreKeyStoreError> {
        wait(self.0.is_hardware_backed(alias.into()))
    }
}

fn algorithm_of(a: core::KeyAlgorithm) -> KeyAlgorithm {
    match a {
        core::KeyAlgorithm::Es256 => KeyAlgorithm::Es256,
        core::KeyAlgorithm::Ed25519 => KeyAlgorithm::Ed25519,
    }
}
