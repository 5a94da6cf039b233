//! Observing a wallet: observers hear about every committed change, after
//! the transaction that made it, on the thread that made it.

use std::sync::{Arc, Mutex, Weak};

use super::{AuthorizationState, Wallet};

/// A committed change to a wallet. Carries ids and states only, never
/// claim values: an observer re-reads what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// A credential was stored (imported, received or delegated).
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
    /// A consent record was appended (given, refused, withdrawn, expired).
    ConsentRecorded {
        /// The space whose log grew.
        space_id: String,
    },
    /// The consent log was anchored in a transparency log and proven.
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
    /// A sync run merged what other devices pushed, or pushed changes.
    Synced {
        /// The space.
        space_id: String,
        /// Pulled records that changed something here.
        merged: u64,
        /// Records pushed.
        pushed: u64,
    },
}

/// Something that hears about a wallet's committed changes. Called on the
/// thread that committed the change: return quickly.
pub trait WalletObserver: Send + Sync {
    /// One committed change.
    fn on_change(&self, change: &WalletChange);
}

/// An observer, its id and whether it still listens (cleared by `stop`, so
/// a notification already under way skips it).
type Entry = (
    u64,
    Arc<std::sync::atomic::AtomicBool>,
    Arc<dyn WalletObserver>,
);
type Registry = Mutex<Vec<Entry>>;

/// The observers of one wallet.
#[derive(Default)]
pub(crate) struct Observers {
    list: Arc<Registry>,
    next: std::sync::atomic::AtomicU64,
}

impl Observers {
    pub(crate) fn notify(&self, changes: &[WalletChange]) {
        let observers: Vec<_> = lock(&self.list)
            .iter()
            .map(|(_, active, o)| (active.clone(), o.clone()))
            .collect();
        for (active, o) in &observers {
            for c in changes {
                if active.load(std::sync::atomic::Ordering::SeqCst) {
                    o.on_change(c);
                }
            }
        }
    }
}

fn lock(m: &Registry) -> std::sync::MutexGuard<'_, Vec<Entry>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A registered observer; it hears no more after [`Observation::stop`] or
/// once this handle is dropped.
#[must_use = "the observer stops hearing when this handle is dropped"]
pub struct Observation {
    list: Weak<Registry>,
    id: u64,
}

impl std::fmt::Debug for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observation").field("id", &self.id).finish()
    }
}

impl Observation {
    /// Stops the observer. Stopping twice is harmless.
    pub fn stop(&self) {
        if let Some(list) = self.list.upgrade() {
            lock(&list).retain(|(id, active, _)| {
                let keep = *id != self.id;
                if !keep {
                    active.store(false, std::sync::atomic::Ordering::SeqCst);
                }
                keep
            });
        }
    }
}

impl Drop for Observation {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Wallet {
    /// Registers `observer` for every committed change until the returned
    /// handle is stopped or dropped.
    pub fn observe(&self, observer: Arc<dyn WalletObserver>) -> Observation {
        let id = self
            .observers
            .next
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        lock(&self.observers.list).push((
            id,
            Arc::new(std::sync::atomic::AtomicBool::new(true)),
            observer,
        ));
        Observation {
            list: Arc::downgrade(&self.observers.list),
            id,
        }
    }

    pub(crate) fn changed(&self, changes: &[WalletChange]) {
        self.observers.notify(changes);
    }
}
