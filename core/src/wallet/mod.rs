//! The encrypted on-device wallet.
//!
//! One SQLite file (WAL, one writer connection, one reader) holds spaces and
//! credentials. Every record is sealed with AES-256-GCM under a random 256-bit
//! data key, with the table and record id as associated data, so a record
//! cannot be read, altered or moved to another row unnoticed. The data key is
//! wrapped by the platform [`KeyStore`] and only ever unwrapped in memory.

mod anchor;
mod authz;
mod batch;
mod credentials;
pub use anchor::AnchorReport;
pub use authz::Approved;
use credentials::{insert_credential, unverified_issuer, verify_with_any};
mod devices;
mod enterprise;
mod history;
mod observe;
mod portable;
mod records;
pub(crate) mod remote;
pub mod schema;
pub mod sync;

use std::{
    path::Path,
    sync::{Arc, Mutex, MutexGuard},
};

pub use devices::{DeviceEntry, EnrolmentOffer};
pub use observe::{Observation, WalletChange, WalletObserver};
pub use portable::{ImportReport, EXPORT_FORMAT, MAX_EXPORT_BYTES};
use records::TrustedIssuer;
pub use records::{
    AuthorizationState, Credential, CredentialFilter, CredentialStatus, Member, MemberRole, Space,
    SpaceDevice, SpaceKind, StoredAuthorization, StoredDelegation, UseRecord,
};
use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use serde::{de::DeserializeOwned, Serialize};
use zeroize::Zeroizing;

use crate::{
    authz::AuthzError,
    b64,
    keystore::{KeyAlgorithm, KeyStore, KeyStoreError, KeyStoreSigner},
    sd_jwt::SdJwtError,
    software_keystore::{open_with, seal_with},
    unix_now, Jwk,
};

/// Status lists are published under this base until a server is configured.
pub const DEFAULT_STATUS_BASE: &str = "urn:satchel:status";

/// Key store alias of the key that wraps the wallet's data key.
pub const DATA_KEY_ALIAS: &str = "satchel.wallet.data-key";

/// Why a wallet operation failed. Messages carry ids, never claim values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    /// SQLite failed.
    #[error("storage: {0}")]
    Storage(String),
    /// A stored record does not decrypt or does not belong where it is.
    #[error("record {0} failed its integrity check")]
    Integrity(String),
    /// No such space or credential.
    #[error("no {kind} with id {id}")]
    NotFound {
        /// `space` or `credential`.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The credential did not verify.
    #[error("credential rejected: {0}")]
    Credential(#[from] SdJwtError),
    /// The key store failed.
    #[error("key store: {0}")]
    KeyStore(#[from] KeyStoreError),
    /// No issuer key was supplied and the issuer is not trusted.
    #[error("unknown issuer {0}: supply its key or add it as trusted")]
    UnknownIssuer(String),
    /// The credential is bound (`cnf.jwk`) to another key than the space's.
    #[error("credential is bound to another holder key than this space's")]
    HolderMismatch,
    /// The input is not acceptable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An authorisation step was refused.
    #[error("{0}")]
    Authz(#[from] AuthzError),
    /// The network failed (the transport could not send or was answered
    /// with something unreadable).
    #[error("network: {0}")]
    Network(String),
    /// A credential issuer refused the request.
    #[error("issuer refused: {0}")]
    IssuerRefused(String),
    /// The sync server refused a request (its problem code and detail).
    #[error("{0}")]
    ServerRefused(String),
    /// The caller cancelled, or the user dismissed a key confirmation;
    /// nothing was committed.
    #[error("cancelled")]
    Cancelled,
    /// Anchoring in the transparency log failed or found a discrepancy
    /// (a rewritten local log, a forked or dishonest server).
    #[error("anchoring: {0}")]
    Anchoring(String),
    /// The credential is bound to another device's key: it can be shown
    /// here only after it is re-issued to this device.
    #[error("credential {0} is bound to another device's key: re-issue it to this device")]
    BoundElsewhere(String),
    /// The file was written by a newer Satchel.
    #[error("wallet file has schema version {0}, newer than this build supports")]
    NewerSchema(i64),
}

impl From<rusqlite::Error> for WalletError {
    fn from(e: rusqlite::Error) -> Self {
        // rusqlite messages name SQL and columns, never bound values.
        WalletError::Storage(e.to_string())
    }
}

/// The wallet: the entry point of the SDK on a device. `Send + Sync`; share
/// one per file across threads.
pub struct Wallet {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    data_key: LessSafeKey,
    keystore: Arc<dyn KeyStore>,
    observers: observe::Observers,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet").finish_non_exhaustive()
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // Every write is one SQLite transaction, so a panic mid-way leaves the
    // database consistent and the connection usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The next `seq` of a space's rows in `table` (credentials, provenance),
/// found through the table's (space_id, seq) index. A separate cached
/// statement, not a subquery of the insert: SQLite re-prepares an insert
/// whose subquery reads a bound parameter on every execution.
fn next_seq(tx: &Transaction<'_>, table: &'static str, space_id: &str) -> Result<i64, WalletError> {
    let max: Option<i64> = tx
        .prepare_cached(&format!("SELECT MAX(seq) FROM {table} WHERE space_id = ?1"))?
        .query_row([space_id], |r| r.get(0))?;
    Ok(max.unwrap_or(0) + 1)
}

fn configure(conn: &Connection) -> Result<(), WalletError> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A stable plan per statement: otherwise SQLite re-prepares a cached
    // statement whenever a newly bound value might change its plan, which
    // for `WHERE space_id = ?` was every execution.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl Wallet {
    /// Opens (or creates) the wallet at `path`, unwrapping its data key with
    /// `keystore`. Older files are migrated.
    pub fn open(path: &Path, keystore: Arc<dyn KeyStore>) -> Result<Wallet, WalletError> {
        // Owner-only: SQLite gives its -wal and -shm files the same mode.
        crate::private_file::ensure_private(path)
            .map_err(|e| WalletError::Storage(e.kind().to_string()))?;
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        schema::migrate(&mut writer)?;
        let data_key = Self::data_key(&writer, keystore.as_ref())?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Wallet {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            data_key,
            keystore,
            observers: observe::Observers::default(),
        })
    }

    fn data_key(conn: &Connection, keystore: &dyn KeyStore) -> Result<LessSafeKey, WalletError> {
        let wrapped: Option<Vec<u8>> = conn
            .query_row("SELECT value FROM meta WHERE name = 'data_key'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let raw = match wrapped {
            Some(w) => Zeroizing::new(keystore.unwrap_data_key(DATA_KEY_ALIAS, &w)?),
            None => {
                let key = Zeroizing::new(b64::random_bytes::<32>().to_vec());
                let w = keystore.wrap_data_key(DATA_KEY_ALIAS, &key)?;
                conn.execute(
                    "INSERT INTO meta (name, value) VALUES ('data_key', ?1)",
                    [w],
                )?;
                key
            }
        };
        let unbound = UnboundKey::new(&AES_256_GCM, &raw)
            .map_err(|_| WalletError::Integrity("data key".into()))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// The key store this wallet uses.
    pub fn keystore(&self) -> Arc<dyn KeyStore> {
        self.keystore.clone()
    }

    fn seal<T: Serialize>(&self, table: &str, id: &str, value: &T) -> Vec<u8> {
        let plain = Zeroizing::new(serde_json::to_vec(value).unwrap_or_default());
        seal_with(&self.data_key, format!("{table}/{id}").as_bytes(), &plain)
    }

    /// Opens every sealed row of `table` belonging to `space_id`, in
    /// `order` (an SQL ordering of that table's columns).
    fn open_space_rows<T: DeserializeOwned>(
        &self,
        table: &'static str,
        space_id: &str,
        order: &'static str,
    ) -> Result<Vec<T>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, sealed FROM {table} WHERE space_id = ?1 ORDER BY {order}"
        ))?;
        let rows = stmt.query_map([space_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        rows.map(|r| {
            let (id, sealed) = r?;
            self.open_record(table, &id, &sealed)
        })
        .collect()
    }

    fn open_record<T: DeserializeOwned>(
        &self,
        table: &str,
        id: &str,
        sealed: &[u8],
    ) -> Result<T, WalletError> {
        let plain = open_with(&self.data_key, format!("{table}/{id}").as_bytes(), sealed)
            .ok_or_else(|| WalletError::Integrity(id.into()))?;
        serde_json::from_slice(&plain).map_err(|_| WalletError::Integrity(id.into()))
    }

    fn seal_raw(&self, aad: &str, plain: &[u8]) -> Vec<u8> {
        seal_with(&self.data_key, aad.as_bytes(), plain)
    }

    fn open_raw(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, WalletError> {
        open_with(&self.data_key, aad.as_bytes(), sealed)
            .ok_or_else(|| WalletError::Integrity(aad.into()))
    }

    /// The base URL under which spaces' status lists are published.
    pub fn status_base(&self) -> String {
        self.meta("status_base")
            .ok()
            .flatten()
            .and_then(|v| String::from_utf8(v).ok())
            .unwrap_or_else(|| DEFAULT_STATUS_BASE.into())
    }

    /// A `meta` value, as stored.
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, WalletError> {
        Ok(lock(&self.reader)
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// A space's one sealed row of `table` (keyed by the space id), opened,
    /// as `conn` sees it.
    fn open_space_row<T: DeserializeOwned>(
        &self,
        conn: &Connection,
        table: &'static str,
        space_id: &str,
    ) -> Result<Option<T>, WalletError> {
        let sealed: Option<Vec<u8>> = conn
            .query_row(
                &format!("SELECT sealed FROM {table} WHERE space_id = ?1"),
                [space_id],
                |r| r.get(0),
            )
            .optional()?;
        sealed
            .map(|s| self.open_record(table, space_id, &s))
            .transpose()
    }

    /// Sets where status lists are published (the sync server's
    /// `…/status` endpoint). Authorisations already granted keep theirs.
    pub fn set_status_base(&self, base: &str) -> Result<(), WalletError> {
        if base.is_empty() || base.ends_with('/') {
            return Err(WalletError::InvalidInput(
                "status base must be non-empty without a trailing /".into(),
            ));
        }
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('status_base', ?1)",
                [base.as_bytes()],
            )?;
            Ok(())
        })
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, WalletError>,
    ) -> Result<T, WalletError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    // ---- spaces ----

    /// Creates a space with a new ES256 holder key in the key store.
    pub fn create_space(&self, name: &str, kind: SpaceKind) -> Result<Space, WalletError> {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(WalletError::InvalidInput(
                "space name must be 1-200 bytes".into(),
            ));
        }
        let id = b64::new_id();
        let alias = format!("satchel.space.{id}");
        let holder_key = self.keystore.generate_key(&alias, KeyAlgorithm::Es256)?;
        let space = Space {
            id: id.clone(),
            name: name.into(),
            kind,
            holder_key_alias: alias.clone(),
            holder_key,
            created_at: unix_now(),
            device: None,
        };
        let sealed = self.seal("spaces", &id, &space);
        let stored = self.write(|tx| {
            tx.execute(
                "INSERT INTO spaces (id, sealed) VALUES (?1, ?2)",
                params![id, sealed],
            )?;
            Ok(())
        });
        if let Err(e) = stored {
            // Best effort: do not leave an orphan key behind.
            let _ = self.keystore.delete_key(&alias);
            return Err(e);
        }
        self.changed(&[WalletChange::SpaceCreated {
            space_id: space.id.clone(),
        }]);
        Ok(space)
    }

    /// All spaces, oldest first.
    pub fn spaces(&self) -> Result<Vec<Space>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached("SELECT id, sealed FROM spaces")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sealed) = row?;
            out.push(self.open_record::<Space>("spaces", &id, &sealed)?);
        }
        out.sort_by_key(|s| s.created_at);
        Ok(out)
    }

    /// One space.
    pub fn space(&self, id: &str) -> Result<Space, WalletError> {
        let conn = lock(&self.reader);
        let sealed: Option<Vec<u8>> = conn
            .query_row("SELECT sealed FROM spaces WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let sealed = sealed.ok_or_else(|| WalletError::NotFound {
            kind: "space",
            id: id.into(),
        })?;
        self.open_record("spaces", id, &sealed)
    }

    /// Deletes a space, its credentials and its holder key.
    pub fn delete_space(&self, id: &str) -> Result<(), WalletError> {
        let space = self.space(id)?;
        self.write(|tx| {
            for table in [
                "credentials",
                "authorizations",
                "delegations",
                "consent_log",
                "provenance",
                "members",
                "status_lists",
                "anchors",
                "sync_keys",
                "sync_state",
                "sync_pushed",
                "tombstones",
                "peer_anchors",
            ] {
                tx.execute(&format!("DELETE FROM {table} WHERE space_id = ?1"), [id])?;
            }
            tx.execute("DELETE FROM spaces WHERE id = ?1", [id])?;
            Ok(())
        })?;
        self.changed(&[WalletChange::SpaceDeleted {
            space_id: id.to_owned(),
        }]);
        // A device enrolled later signs with its installation's device key,
        // which other spaces and the server connection share: kept.
        if space.holds_space_key() {
            self.keystore.delete_key(&space.holder_key_alias)?;
        }
        Ok(())
    }

    // ---- trusted issuers ----

    /// Trusts `key` for credentials whose `iss` is `issuer`.
    pub fn add_trusted_issuer(&self, issuer: &str, key: &Jwk) -> Result<(), WalletError> {
        let id = format!("{}#{}", issuer, key.thumbprint());
        let sealed = self.seal(
            "trusted_issuers",
            &id,
            &TrustedIssuer {
                issuer: issuer.into(),
                key: key.clone(),
            },
        );
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO trusted_issuers (id, sealed) VALUES (?1, ?2)",
                params![id, sealed],
            )?;
            Ok(())
        })
    }

    /// Keys trusted for `issuer`.
    pub fn trusted_issuer_keys(&self, issuer: &str) -> Result<Vec<Jwk>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached("SELECT id, sealed FROM trusted_issuers")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sealed) = row?;
            let t: TrustedIssuer = self.open_record("trusted_issuers", &id, &sealed)?;
            if t.issuer == issuer {
                out.push(t.key);
            }
        }
        Ok(out)
    }

    /// The space key's signer, for what only the device holding it does:
    /// approvals and delegations (they take entries in the space's status
    /// list and relying parties check them against the space key).
    pub(crate) fn space_key_signer(&self, space: &Space) -> Result<KeyStoreSigner, WalletError> {
        if !space.holds_space_key() {
            return Err(WalletError::InvalidInput(
                "approvals and delegations are made on the device that holds the space key; this device can withdraw, label, sync and present its own credentials".into(),
            ));
        }
        self.signer(space)
    }

    /// The signer this device uses for a space: the space key where it
    /// was made, the device key elsewhere (ADR 0008).
    pub(crate) fn signer(&self, space: &Space) -> Result<KeyStoreSigner, WalletError> {
        let alias = match &space.device {
            Some(d) if d.chain.is_empty() => {
                return Err(WalletError::InvalidInput(
                    "this space was imported: to sign for it here, enrol this device from a device of the space".into(),
                ))
            }
            Some(d) => &d.key_alias,
            None => &space.holder_key_alias,
        };
        Ok(KeyStoreSigner::new(self.keystore.clone(), alias)?)
    }
}

#[cfg(test)]
mod tests;
