//! The public errors: few variants, each with a readable message that never
//! holds personal data. The mapping from core's rich errors lives here only.

use satchel_core::{
    jws::JoseError, sd_jwt::SdJwtError, JwkError, KeyStoreError as CoreKeyStoreError, WalletError,
};

/// Everything that can go wrong in a Satchel call. In Kotlin this is the
/// sealed class `SatchelException`; in Swift the enum `SatchelError`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum SatchelError {
    /// The input is malformed or out of range (bad JSON, bad path, bad key).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A credential, presentation or signature was checked and refused.
    #[error("rejected: {0}")]
    Rejected(String),
    /// No such space or credential.
    #[error("not found: {0}")]
    NotFound(String),
    /// The platform key store failed.
    #[error("key store: {0}")]
    KeyStore(String),
    /// The network failed (the app's transport could not send).
    #[error("network: {0}")]
    Network(String),
    /// Local storage failed or a stored record failed its integrity check.
    #[error("storage: {0}")]
    Storage(String),
}

impl From<WalletError> for SatchelError {
    fn from(e: WalletError) -> Self {
        let msg = e.to_string();
        match e {
            WalletError::Storage(_) | WalletError::Integrity(_) | WalletError::NewerSchema(_) => {
                SatchelError::Storage(msg)
            }
            WalletError::NotFound { .. } => SatchelError::NotFound(msg),
            WalletError::Credential(e) => e.into(),
            WalletError::KeyStore(e) => e.into(),
            WalletError::UnknownIssuer(_) | WalletError::HolderMismatch => {
                SatchelError::Rejected(msg)
            }
            WalletError::InvalidInput(_) => SatchelError::InvalidInput(msg),
            WalletError::Authz(e) => e.into(),
            WalletError::Anchoring(_) | WalletError::IssuerRefused(_) => {
                SatchelError::Rejected(msg)
            }
            WalletError::Network(_) => SatchelError::Network(msg),
        }
    }
}

impl From<SdJwtError> for SatchelError {
    fn from(e: SdJwtError) -> Self {
        match e {
            SdJwtError::ClaimNotFound(_) | SdJwtError::InvalidIssueInput(_) => {
                SatchelError::InvalidInput(e.to_string())
            }
            SdJwtError::Jose(JoseError::Signing(_)) => SatchelError::KeyStore(e.to_string()),
            _ => SatchelError::Rejected(e.to_string()),
        }
    }
}

impl From<JoseError> for SatchelError {
    fn from(e: JoseError) -> Self {
        SdJwtError::from(e).into()
    }
}

impl From<JwkError> for SatchelError {
    fn from(e: JwkError) -> Self {
        SatchelError::InvalidInput(e.to_string())
    }
}

impl From<CoreKeyStoreError> for SatchelError {
    fn from(e: CoreKeyStoreError) -> Self {
        SatchelError::KeyStore(e.to_string())
    }
}

/// An error a platform key store reports to Satchel. In Kotlin,
/// `KeyStoreException`; throw it (or any exception) from a `PlatformKeyStore`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeyStoreError {
    /// No key under the alias.
    #[error("no key under alias {alias}")]
    NotFound {
        /// The alias asked for.
        alias: String,
    },
    /// The key store cannot do this (e.g. Ed25519 in the Secure Enclave).
    #[error("unsupported: {reason}")]
    Unsupported {
        /// What is not supported.
        reason: String,
    },
    /// Anything else the platform reported.
    #[error("platform error: {reason}")]
    Platform {
        /// The platform's description (no key material).
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyStoreError::Platform { reason: e.reason }
    }
}

impl From<KeyStoreError> for CoreKeyStoreError {
    fn from(e: KeyStoreError) -> Self {
        match e {
            KeyStoreError::NotFound { alias } => CoreKeyStoreError::NotFound(alias),
            KeyStoreError::Unsupported { reason } => CoreKeyStoreError::Unsupported(reason),
            KeyStoreError::Platform { reason } => CoreKeyStoreError::Platform(reason),
        }
    }
}

impl From<CoreKeyStoreError> for KeyStoreError {
    fn from(e: CoreKeyStoreError) -> Self {
        match e {
            CoreKeyStoreError::NotFound(alias) => KeyStoreError::NotFound { alias },
            CoreKeyStoreError::Unsupported(reason) => KeyStoreError::Unsupported { reason },
            other => KeyStoreError::Platform {
                reason: other.to_string(),
            },
        }
    }
}
