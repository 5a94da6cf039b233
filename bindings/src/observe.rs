//! Observing a wallet: a listener (implemented by the app) hears every
//! committed change; `Flow` (Kotlin) and `AsyncStream` (Swift) adapters
//! ship beside the generated code.

use std::sync::{Arc, Mutex};

use satchel_core as core;

use crate::{wallet_authz::AuthorizationState, Wallet};

/// A committed change to a wallet: ids and states, never claim values
/// (re-read what you show).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum WalletChange {
    /// A space was created.
    SpaceCreated {
        /// The space.
        space_id: String,
    },
    /// A space and everything in it was deleted.
    SpaceDeleted {
        /// The space.
        space_id: String,
    },
    /// A credential was stored.
    CredentialAdded {
        /// Its space.
        space_id: String,
        /// The credential.
        credential_id: String,
    },
    /// A credential's label or status changed.
    CredentialUpdated {
        /// Its space.
        space_id: String,
        /// The credential.
        credential_id: String,
    },
    /// A credential was deleted.
    CredentialRemoved {
        /// Its space.
        space_id: String,
        /// The credential.
        credential_id: String,
    },
    /// An authorisation was granted, used, withdrawn or expired.
    AuthorizationChanged {
        /// Its space.
        space_id: String,
        /// The authorisation.
        authorization_id: String,
        /// Its state now.
        state: AuthorizationState,
    },
    /// A consent record was appended.
    ConsentRecorded {
        /// The space.
        space_id: String,
    },
    /// The consent log was anchored and proven.
    Anchored {
        /// The space.
        space_id: String,
        /// Records anchored in all.
        anchored_total: u64,
    },
    /// An enterprise space's members or delegations changed.
    EnterpriseChanged {
        /// The space.
        space_id: String,
    },
    /// A sync run merged other devices' changes or pushed this device's.
    Synced {
        /// The space.
        space_id: String,
        /// Pulled records that changed something here.
        merged: u64,
        /// Records pushed.
        pushed: u64,
    },
}

impl From<&core::WalletChange> for WalletChange {
    fn from(c: &core::WalletChange) -> Self {
        use core::WalletChange as C;
        match c.clone() {
            C::SpaceCreated { space_id } => Self::SpaceCreated { space_id },
            C::SpaceDeleted { space_id } => Self::SpaceDeleted { space_id },
            C::CredentialAdded {
                space_id,
                credential_id,
            } => Self::CredentialAdded {
                space_id,
                credential_id,
            },
            C::CredentialUpdated {
                space_id,
                credential_id,
            } => Self::CredentialUpdated {
                space_id,
                credential_id,
            },
            C::CredentialRemoved {
                space_id,
                credential_id,
            } => Self::CredentialRemoved {
                space_id,
                credential_id,
            },
            C::AuthorizationChanged {
                space_id,
                authorization_id,
                state,
            } => Self::AuthorizationChanged {
                space_id,
                authorization_id,
                state: state.into(),
            },
            C::ConsentRecorded { space_id } => Self::ConsentRecorded { space_id },
            C::Anchored {
                space_id,
                anchored_total,
            } => Self::Anchored {
                space_id,
                anchored_total,
            },
            C::EnterpriseChanged { space_id } => Self::EnterpriseChanged { space_id },
            C::Synced {
                space_id,
                merged,
                pushed,
            } => Self::Synced {
                space_id,
                merged,
                pushed,
            },
        }
    }
}

/// A listener's failure; reported and otherwise ignored (a listener cannot
/// undo a committed change).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ListenerError {
    /// The app's listener threw.
    #[error("listener failed: {reason}")]
    Failed {
        /// What it said.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ListenerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ListenerError::Failed { reason: e.reason }
    }
}

/// Hears a wallet's committed changes, on the thread that committed them:
/// hand the change on (to a channel or a main-thread queue) and return.
#[uniffi::export(with_foreign)]
pub trait WalletListener: Send + Sync {
    /// One committed change.
    fn on_change(&self, change: WalletChange) -> Result<(), ListenerError>;
}

struct Forward(Arc<dyn WalletListener>);

impl core::WalletObserver for Forward {
    fn on_change(&self, change: &core::WalletChange) {
        // A failing listener must not fail the operation that committed.
        let _ = self.0.on_change(change.into());
    }
}

/// A registered listener; it hears nothing more after `stop()` or once
/// closed (Kotlin `close()`/`use {}`, Swift deinit).
#[derive(uniffi::Object)]
pub struct WalletSubscription {
    observation: Mutex<Option<core::Observation>>,
}

#[uniffi::export]
impl WalletSubscription {
    /// Stops the listener. Stopping twice is harmless.
    pub fn stop(&self) {
        let taken = self
            .observation
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(taken);
    }
}

#[uniffi::export]
impl Wallet {
    /// Registers `listener` for every committed change of this wallet
    /// until the returned subscription is stopped or closed.
    pub fn observe(&self, listener: Arc<dyn WalletListener>) -> Arc<WalletSubscription> {
        let observation = self.inner.observe(Arc::new(Forward(listener)));
        Arc::new(WalletSubscription {
            observation: Mutex::new(Some(observation)),
        })
    }
}
