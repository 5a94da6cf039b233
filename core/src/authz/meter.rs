//! The relying party's usage ledger: every use of an authorisation is
//! checked (window, purpose, count, withdrawal), recorded and receipted with
//! a signed `satchel-use+jwt` the holder can keep. Refused attempts are
//! recorded too, for supervision.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{dpv_term, AuthzError, StatusSource, VerifiedAuthorization, DPV_PURPOSES, USE_TYP};
use crate::{b64, jws, status_list::VALID, Signer};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS authorizations (id TEXT PRIMARY KEY, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uses (
    authz_id TEXT NOT NULL REFERENCES authorizations(id),
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    receipt TEXT NOT NULL,
    PRIMARY KEY (authz_id, seq)
);
CREATE TABLE IF NOT EXISTS refusals (authz_id TEXT NOT NULL, time INTEGER NOT NULL, reason TEXT NOT NULL);
";

/// What the ledger keeps of an authorisation (no claim values).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    holder_key: crate::Jwk,
    purpose: String,
    not_before: i64,
    not_after: i64,
    max_uses: u32,
    status: Option<crate::status_list::StatusReference>,
}

/// A recorded use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseReceipt {
    /// The relying party's signed receipt (`satchel-use+jwt`).
    pub jws: String,
    /// The authorisation used.
    pub authorization_id: String,
    /// 1 for the first use.
    pub seq: u32,
    /// Uses left.
    pub remaining: u32,
    /// When, Unix seconds.
    pub time: i64,
}

/// The ledger's entry for `authz_id`.
fn load_entry(conn: &Connection, authz_id: &str) -> Result<Entry, AuthzError> {
    let entry: Option<String> = conn
        .query_row(
            "SELECT entry FROM authorizations WHERE id = ?1",
            [authz_id],
            |r| r.get(0),
        )
        .optional()?;
    match entry {
        Some(e) => serde_json::from_str(&e).map_err(|e| AuthzError::Storage(e.to_string())),
        None => Err(AuthzError::UnknownAuthorization(authz_id.into())),
    }
}

/// The relying party's ledger of authorisations and uses (SQLite).
pub struct UsageLedger {
    conn: Mutex<Connection>,
    client_id: String,
    signer: Arc<dyn Signer>,
}

impl std::fmt::Debug for UsageLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageLedger")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl UsageLedger {
    /// Opens the ledger at `path` (in memory with `None`) for `client_id`,
    /// signing receipts with `signer`.
    pub fn open(
        path: Option<&Path>,
        client_id: &str,
        signer: Arc<dyn Signer>,
    ) -> Result<Self, AuthzError> {
        let conn = match path {
            Some(p) => {
                crate::private_file::ensure_private(p)
                    .map_err(|e| AuthzError::Storage(e.kind().to_string()))?;
                Connection::open(p)?
            }
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(UsageLedger {
            conn: Mutex::new(conn),
            client_id: client_id.into(),
            signer,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a verified authorisation so it can be used.
    pub fn register(&self, v: &VerifiedAuthorization) -> Result<(), AuthzError> {
        if v.client_id != self.client_id {
            return Err(AuthzError::Mismatch(
                "authorisation is for another relying party",
            ));
        }
        let entry = Entry {
            holder_key: v.holder_key.clone(),
            purpose: v.purpose.clone(),
            not_before: v.not_before,
            not_after: v.not_after,
            max_uses: v.max_uses,
            status: v.status.clone(),
        };
        let text =
            serde_json::to_string(&entry).map_err(|e| AuthzError::Malformed(e.to_string()))?;
        self.lock().execute(
            "INSERT OR IGNORE INTO authorizations (id, entry) VALUES (?1, ?2)",
            params![v.id, text],
        )?;
        Ok(())
    }

    /// Where the holder publishes the withdrawal status of `authz_id`
    /// (`None` for an authorisation without a status reference).
    pub fn status_reference(
        &self,
        authz_id: &str,
    ) -> Result<Option<crate::status_list::StatusReference>, AuthzError> {
        Ok(load_entry(&self.lock(), authz_id)?.status)
    }

    /// Records one use of `authz_id` for `purpose` at `now`, after checking
    /// window, purpose, count and withdrawal status. A refusal is recorded
    /// and returned as the error.
    pub fn record_use(
        &self,
        authz_id: &str,
        purpose: &str,
        now: i64,
        status: &dyn StatusSource,
    ) -> Result<UseReceipt, AuthzError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let entry = load_entry(&tx, authz_id)?;
        let used: u32 = tx.query_row(
            "SELECT COUNT(*) FROM uses WHERE authz_id = ?1",
            [authz_id],
            |r| r.get(0),
        )?;
        let check = || -> Result<(), AuthzError> {
            if dpv_term(purpose, DPV_PURPOSES).is_none()
                || dpv_term(purpose, DPV_PURPOSES) != dpv_term(&entry.purpose, DPV_PURPOSES)
            {
                return Err(AuthzError::PurposeMismatch);
            }
            if now < entry.not_before || now >= entry.not_after {
                return Err(AuthzError::OutsideWindow);
            }
            if let Some(r) = &entry.status {
                if status
                    .status(r, &entry.holder_key, now)?
                    .is_some_and(|s| s != VALID)
                {
                    return Err(AuthzError::Withdrawn);
                }
            }
            if used >= entry.max_uses {
                return Err(AuthzError::UsesExhausted(entry.max_uses));
            }
            Ok(())
        };
        if let Err(e) = check() {
            tx.execute(
                "INSERT INTO refusals (authz_id, time, reason) VALUES (?1, ?2, ?3)",
                params![authz_id, now, e.to_string()],
            )?;
            tx.commit()?;
            return Err(e);
        }
        let seq = used + 1;
        let payload = json!({
            "jti": b64::new_id(),
            "iss": self.client_id,
            "authorization": authz_id,
            "seq": seq,
            "purpose": entry.purpose,
            "iat": now,
        });
        let receipt = jws::sign(
            jws::header_with_typ(USE_TYP),
            &payload,
            self.signer.as_ref(),
        )?;
        tx.execute(
            "INSERT INTO uses (authz_id, seq, time, receipt) VALUES (?1, ?2, ?3, ?4)",
            params![authz_id, seq, now, receipt],
        )?;
        tx.commit()?;
        Ok(UseReceipt {
            jws: receipt,
            authorization_id: authz_id.into(),
            seq,
            remaining: entry.max_uses - seq,
            time: now,
        })
    }

    /// The uses of an authorisation, in order.
    pub fn uses(&self, authz_id: &str) -> Result<Vec<UseReceipt>, AuthzError> {
        let conn = self.lock();
        let max: Option<String> = conn
            .query_row(
                "SELECT entry FROM authorizations WHERE id = ?1",
                [authz_id],
                |r| r.get(0),
            )
            .optional()?;
        let max = max
            .and_then(|e| serde_json::from_str::<Entry>(&e).ok())
            .map(|e| e.max_uses)
            .ok_or_else(|| AuthzError::UnknownAuthorization(authz_id.into()))?;
        let mut stmt =
            conn.prepare("SELECT seq, time, receipt FROM uses WHERE authz_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([authz_id], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (seq, time, jws) = r?;
            Ok(UseReceipt {
                jws,
                authorization_id: authz_id.into(),
                seq,
                remaining: max.saturating_sub(seq),
                time,
            })
        })
        .collect()
    }

    /// Refused use attempts: (authorisation id, time, reason).
    pub fn refusals(&self) -> Result<Vec<(String, i64, String)>, AuthzError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare("SELECT authz_id, time, reason FROM refusals ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
