//! The platform key store: where device and holder keys live. Apps implement
//! [`KeyStore`] over Android Keystore/StrongBox or iOS Keychain/Secure
//! Enclave; [`crate::SoftwareKeyStore`] serves desktop and tests.

use std::sync::Arc;

use crate::{der, jws::JoseError, Alg, Jwk, Signer};

/// The kinds of signing key a key store generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA P-256 (ES256): the only kind Secure Enclave and StrongBox hold.
    Es256,
    /// Ed25519 (EdDSA): software keys, server and log keys.
    Ed25519,
}

impl KeyAlgorithm {
    /// The JWS algorithm of keys of this kind.
    pub fn jws_alg(self) -> Alg {
        match self {
            KeyAlgorithm::Es256 => Alg::Es256,
            KeyAlgorithm::Ed25519 => Alg::EdDsa,
        }
    }
}

/// Why a key store operation failed. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyStoreError {
    /// No key under this alias.
    #[error("no key under alias {0}")]
    NotFound(String),
    /// A key already exists under this alias; keys are never overwritten.
    #[error("a key already exists under alias {0}")]
    AlreadyExists(String),
    /// The key store cannot do this (e.g. Ed25519 in a Secure Enclave).
    #[error("unsupported by this key store: {0}")]
    Unsupported(String),
    /// The passphrase does not open the key store file.
    #[error("wrong passphrase or corrupted key store")]
    WrongPassphrase,
    /// A wrapped key did not open: wrong wrapping key or tampered bytes.
    #[error("wrapped key does not open")]
    UnwrapFailed,
    /// Reading or writing the key store failed.
    #[error("key store I/O: {0}")]
    Io(String),
    /// The platform key store reported an error.
    #[error("platform key store: {0}")]
    Platform(String),
    /// The caller cancelled the operation (e.g. the user dismissed the
    /// confirmation the key needs, or the calling task was cancelled).
    #[error("cancelled")]
    Cancelled,
}

/// A store of private keys that never leave it. Every method may be called
/// from any thread.
pub trait KeyStore: Send + Sync {
    /// Generates a signing key under `alias` and returns its public JWK.
    /// Fails with [`KeyStoreError::AlreadyExists`] rather than overwrite.
    fn generate_key(&self, alias: &str, algorithm: KeyAlgorithm) -> Result<Jwk, KeyStoreError>;
    /// The public JWK of the key under `alias`.
    fn public_key(&self, alias: &str) -> Result<Jwk, KeyStoreError>;
    /// Signs `message` with the key under `alias`. ES256 signatures may be
    /// raw R‖S (64 bytes) or DER, as platform key stores return them.
    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, KeyStoreError>;
    /// Deletes the key under `alias` (signing or wrapping). Deleting a
    /// missing key is not an error.
    fn delete_key(&self, alias: &str) -> Result<(), KeyStoreError>;
    /// Encrypts a data key under the wrapping key `alias`, creating that
    /// wrapping key first if it does not exist.
    fn wrap_data_key(&self, alias: &str, data_key: &[u8]) -> Result<Vec<u8>, KeyStoreError>;
    /// Decrypts a data key wrapped by [`KeyStore::wrap_data_key`].
    fn unwrap_data_key(&self, alias: &str, wrapped: &[u8]) -> Result<Vec<u8>, KeyStoreError>;
    /// Whether the key under `alias` is held in secure hardware.
    fn is_hardware_backed(&self, alias: &str) -> Result<bool, KeyStoreError>;
}

/// Normalises an ES256 signature to raw R‖S: accepts raw (64 bytes) or DER.
pub fn normalize_es256_signature(sig: Vec<u8>) -> Result<Vec<u8>, JoseError> {
    if sig.len() == 64 {
        return Ok(sig);
    }
    der::ecdsa_der_to_raw(&sig, 32)
        .map_err(|e| JoseError::Signing(format!("ES256 signature is neither raw nor DER: {e}")))
}

/// A [`Signer`] over a key in a [`KeyStore`].
#[derive(Clone)]
pub struct KeyStoreSigner {
    store: Arc<dyn KeyStore>,
    alias: String,
    jwk: Jwk,
    alg: Alg,
}

impl std::fmt::Debug for KeyStoreSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStoreSigner")
            .field("alias", &self.alias)
            .finish_non_exhaustive()
    }
}

impl KeyStoreSigner {
    /// A signer for the key under `alias`; reads its public key once.
    pub fn new(store: Arc<dyn KeyStore>, alias: &str) -> Result<Self, KeyStoreError> {
        let jwk = store.public_key(alias)?;
        let alg = jwk
            .alg()
            .map_err(|e| KeyStoreError::Platform(e.to_string()))?;
        Ok(KeyStoreSigner {
            store,
            alias: alias.to_owned(),
            jwk,
            alg,
        })
    }

    /// A signer for the ES256 key under `alias`, generated first if the
    /// store has none (a device key: P-256, so hardware can hold it). Any
    /// other failure to read the key is an error, never a new key.
    pub fn get_or_create(store: Arc<dyn KeyStore>, alias: &str) -> Result<Self, KeyStoreError> {
        match store.public_key(alias) {
            Ok(_) => {}
            Err(KeyStoreError::NotFound(_)) => {
                store.generate_key(alias, KeyAlgorithm::Es256)?;
            }
            Err(e) => return Err(e),
        }
        Self::new(store, alias)
    }
}

impl Signer for KeyStoreSigner {
    fn alg(&self) -> Alg {
        self.alg
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        // A signature may wait for the user; a caller that gave up in the
        // meantime must not see it used.
        crate::runtime::check_cancelled().map_err(|_| JoseError::SigningCancelled)?;
        let sig = self.store.sign(&self.alias, message).map_err(|e| match e {
            KeyStoreError::Cancelled => JoseError::SigningCancelled,
            other => JoseError::Signing(other.to_string()),
        })?;
        crate::runtime::check_cancelled().map_err(|_| JoseError::SigningCancelled)?;
        match self.alg {
            Alg::Es256 => normalize_es256_signature(sig),
            Alg::EdDsa => Ok(sig),
        }
    }

    fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }
}
