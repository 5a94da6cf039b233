//! The space's history: the signed, hash-chained consent log, provenance
//! events, and the status list where the holder publishes withdrawals.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{lock, Credential, Space, Wallet, WalletError};
use crate::{
    b64,
    consent::{self, ConsentRecord},
    provenance::{to_prov_json, Activity, AgentRole, ProvAgent, ProvenanceEvent},
    sd_jwt::ClaimPath,
    status_list::StatusList,
    Signer,
};

/// Entries a new status list starts with (it doubles when full).
const STATUS_LIST_START: usize = 1024;
/// `ttl` of published status list tokens, seconds.
const STATUS_TTL: i64 = 300;

#[derive(Serialize, Deserialize)]
struct StoredStatusList {
    lst: String,
    len: usize,
    next: usize,
}

/// `urn:satchel:holder:<thumbprint>`: the space's pseudonymous principal id.
pub(crate) fn holder_id(space: &Space) -> String {
    crate::authz::Authorization::holder_urn(&space.holder_key.thumbprint())
}

pub(crate) fn holder_agent(space: &Space) -> ProvAgent {
    ProvAgent {
        id: holder_id(space),
        role: AgentRole::Holder,
        name: None,
    }
}

pub(crate) fn wallet_agent() -> ProvAgent {
    ProvAgent {
        id: "urn:satchel:wallet".into(),
        role: AgentRole::Wallet,
        name: Some("Satchel".into()),
    }
}

pub(crate) fn present_event(
    space: &Space,
    c: &Credential,
    paths: &[ClaimPath],
    audience: &str,
    now: i64,
) -> ProvenanceEvent {
    ProvenanceEvent {
        id: b64::new_id(),
        time: now,
        activity: Activity::Present,
        credentials: vec![c.id.clone()],
        generated: Some(format!("presentation:{}", b64::new_id())),
        invalidated: None,
        agents: vec![
            holder_agent(space),
            ProvAgent {
                id: audience.to_owned(),
                role: AgentRole::RelyingParty,
                name: None,
            },
        ],
        on_behalf_of: None,
        note: Some(format!(
            "disclosed {}",
            paths
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

impl Wallet {
    /// Appends a provenance event to a space.
    pub(crate) fn add_event(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
        event: &ProvenanceEvent,
    ) -> Result<(), WalletError> {
        tx.execute(
            "INSERT INTO provenance (id, space_id, seq, sealed)
             VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM provenance WHERE space_id = ?2), ?3)",
            params![event.id, space_id, self.seal("provenance", &event.id, event)],
        )?;
        Ok(())
    }

    /// Signs `record` as the next entry of the space's consent log.
    pub(crate) fn append_consent(
        &self,
        tx: &Transaction<'_>,
        space: &Space,
        signer: &dyn Signer,
        record: ConsentRecord,
    ) -> Result<(ConsentRecord, String), WalletError> {
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, sealed FROM consent_log WHERE space_id = ?1 ORDER BY seq DESC LIMIT 1",
                [&space.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = match last {
            Some((seq, sealed)) => (seq + 1, Some(self.open_log_entry(&space.id, seq, &sealed)?)),
            None => (1, None),
        };
        let (record, token) = record
            .sign(prev.as_deref(), seq as u64, signer)
            .map_err(crate::authz::AuthzError::from)?;
        let aad = log_aad(&space.id, seq);
        tx.execute(
            "INSERT INTO consent_log (space_id, seq, sealed) VALUES (?1, ?2, ?3)",
            params![space.id, seq, self.seal_raw(&aad, token.as_bytes())],
        )?;
        Ok((record, token))
    }

    fn open_log_entry(
        &self,
        space_id: &str,
        seq: i64,
        sealed: &[u8],
    ) -> Result<String, WalletError> {
        let plain = self.open_raw(&log_aad(space_id, seq), sealed)?;
        String::from_utf8(plain.to_vec())
            .map_err(|_| WalletError::Integrity(format!("consent log {seq}")))
    }

    /// Takes the next free index in the space's status list.
    pub(crate) fn allocate_status(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
    ) -> Result<usize, WalletError> {
        let (mut list, mut stored) = self.load_status(tx, space_id)?;
        if stored.next >= list.len() {
            let mut bigger =
                StatusList::new(1, list.len() * 2).map_err(crate::authz::AuthzError::from)?;
            for i in 0..list.len() {
                bigger
                    .set(i, list.get(i).unwrap_or(0))
                    .map_err(crate::authz::AuthzError::from)?;
            }
            list = bigger;
        }
        let idx = stored.next;
        stored.next += 1;
        self.save_status(tx, space_id, &list, stored.next)?;
        Ok(idx)
    }

    /// Sets a status and returns the newly signed list token to publish.
    pub(crate) fn set_status(
        &self,
        tx: &Transaction<'_>,
        space: &Space,
        idx: usize,
        value: u8,
        signer: &dyn Signer,
        now: i64,
    ) -> Result<String, WalletError> {
        let (mut list, stored) = self.load_status(tx, &space.id)?;
        list.set(idx, value)
            .map_err(crate::authz::AuthzError::from)?;
        self.save_status(tx, &space.id, &list, stored.next)?;
        Ok(list
            .to_token(&self.status_uri(&space.id), now, Some(STATUS_TTL), signer)
            .map_err(crate::authz::AuthzError::from)?)
    }

    fn load_status(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
    ) -> Result<(StatusList, StoredStatusList), WalletError> {
        let sealed: Option<Vec<u8>> = tx
            .query_row(
                "SELECT sealed FROM status_lists WHERE space_id = ?1",
                [space_id],
                |r| r.get(0),
            )
            .optional()?;
        match sealed {
            Some(s) => {
                let stored: StoredStatusList = self.open_record("status_lists", space_id, &s)?;
                let list =
                    StatusList::decode(1, &stored.lst).map_err(crate::authz::AuthzError::from)?;
                Ok((list, stored))
            }
            None => {
                let list = StatusList::new(1, STATUS_LIST_START)
                    .map_err(crate::authz::AuthzError::from)?;
                let stored = StoredStatusList {
                    lst: list.encode_lst(),
                    len: list.len(),
                    next: 0,
                };
                Ok((list, stored))
            }
        }
    }

    fn save_status(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
        list: &StatusList,
        next: usize,
    ) -> Result<(), WalletError> {
        let stored = StoredStatusList {
            lst: list.encode_lst(),
            len: list.len(),
            next,
        };
        tx.execute(
            "INSERT OR REPLACE INTO status_lists (space_id, sealed) VALUES (?1, ?2)",
            params![space_id, self.seal("status_lists", space_id, &stored)],
        )?;
        Ok(())
    }

    /// Where the space's status list (its withdrawals) is published.
    pub fn status_uri(&self, space_id: &str) -> String {
        format!("{}/{space_id}", self.status_base())
    }

    /// The space's current status list, signed, for publishing.
    pub fn status_list_token(&self, space_id: &str, now: i64) -> Result<String, WalletError> {
        let space = self.space(space_id)?;
        let signer = self.signer(&space)?;
        let conn = lock(&self.writer);
        let tx = conn.unchecked_transaction()?;
        let (list, _) = self.load_status(&tx, space_id)?;
        drop(tx);
        Ok(list
            .to_token(&self.status_uri(space_id), now, Some(STATUS_TTL), &signer)
            .map_err(crate::authz::AuthzError::from)?)
    }

    /// The space's consent log: signed records, oldest first.
    pub fn consent_log(&self, space_id: &str) -> Result<Vec<String>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(
            "SELECT seq, sealed FROM consent_log WHERE space_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([space_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        rows.map(|r| {
            let (seq, sealed) = r?;
            self.open_log_entry(space_id, seq, &sealed)
        })
        .collect()
    }

    /// Verifies the whole consent log with the space key: every record
    /// signed, numbered and chained.
    pub fn verify_consent_log(&self, space_id: &str) -> Result<Vec<ConsentRecord>, WalletError> {
        let space = self.space(space_id)?;
        let key = space
            .holder_key
            .verifying_key()
            .map_err(crate::authz::AuthzError::from)?;
        consent::verify_log(&self.consent_log(space_id)?, &key)
            .map_err(|e| WalletError::Integrity(e.to_string()))
    }

    /// The consent log as a 27560-profile JSON document (verified first).
    pub fn export_consent_log(&self, space_id: &str) -> Result<Value, WalletError> {
        let records = self.verify_consent_log(space_id)?;
        Ok(consent::export_27560(
            &records,
            &self.consent_log(space_id)?,
        ))
    }

    /// Kantara Consent Receipts 1.1 for every consent given in the space.
    pub fn consent_receipts(&self, space_id: &str) -> Result<Vec<Value>, WalletError> {
        let space = self.space(space_id)?;
        Ok(self
            .verify_consent_log(space_id)?
            .iter()
            .filter(|r| r.event_type == consent::ConsentEvent::Given)
            .map(|r| r.to_kantara(&space.holder_key))
            .collect())
    }

    /// Every provenance event of a space, in order.
    pub fn provenance(&self, space_id: &str) -> Result<Vec<ProvenanceEvent>, WalletError> {
        self.open_space_rows("provenance", space_id, "seq")
    }

    /// "Where did my credential go?": its events in order (issue, import,
    /// presentations, authorisations, uses, withdrawals, deletion). Works
    /// after the credential is deleted if `space_id` is known; here the
    /// credential must still exist or `space_id` be given.
    pub fn trace(
        &self,
        credential_id: &str,
        space_id: Option<&str>,
    ) -> Result<Vec<ProvenanceEvent>, WalletError> {
        let space_id = match space_id {
            Some(s) => s.to_owned(),
            None => self.credential(credential_id)?.space_id,
        };
        Ok(self
            .provenance(&space_id)?
            .into_iter()
            .filter(|e| e.credentials.iter().any(|c| c == credential_id))
            .collect())
    }

    /// [`Wallet::trace`] as PROV-JSON.
    pub fn trace_prov_json(
        &self,
        credential_id: &str,
        space_id: Option<&str>,
    ) -> Result<Value, WalletError> {
        Ok(to_prov_json(&self.trace(credential_id, space_id)?))
    }
}

fn log_aad(space_id: &str, seq: i64) -> String {
    format!("consent_log/{space_id}/{seq}")
}
