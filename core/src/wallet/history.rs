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
pub(super) struct StoredStatusList {
    pub(super) lst: String,
    pub(super) len: usize,
    pub(super) next: usize,
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
        let seq = super::next_seq(tx, "provenance", space_id)?;
        insert_event(
            tx,
            space_id,
            &event.id,
            seq,
            &self.seal("provenance", &event.id, event),
        )
    }

    /// Signs `record` as the next entry of this device's chain of the
    /// space's consent log (ADR 0008: one chain per signing device).
    pub(crate) fn append_consent(
        &self,
        tx: &Transaction<'_>,
        space: &Space,
        signer: &dyn Signer,
        record: ConsentRecord,
    ) -> Result<(ConsentRecord, String), WalletError> {
        let chain = space.consent_chain();
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, sealed FROM consent_log WHERE space_id = ?1 AND chain = ?2
                 ORDER BY seq DESC LIMIT 1",
                [&space.id, chain],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = match last {
            Some((seq, sealed)) => (
                seq + 1,
                Some(self.open_log_entry(&space.id, chain, seq, &sealed)?),
            ),
            None => (1, None),
        };
        let (record, token) = record
            .sign_chained(prev.as_deref(), seq as u64, signer, space.chain())
            .map_err(crate::authz::AuthzError::from)?;
        self.put_log_entry(tx, &space.id, chain, seq, &token)?;
        Ok((record, token))
    }

    /// Stores one signed consent record of `chain` (sealed).
    pub(crate) fn put_log_entry(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
        chain: &str,
        seq: i64,
        token: &str,
    ) -> Result<(), WalletError> {
        let aad = log_aad(space_id, chain, seq);
        tx.execute(
            "INSERT INTO consent_log (space_id, chain, seq, sealed) VALUES (?1, ?2, ?3, ?4)",
            params![space_id, chain, seq, self.seal_raw(&aad, token.as_bytes())],
        )?;
        Ok(())
    }

    fn open_log_entry(
        &self,
        space_id: &str,
        chain: &str,
        seq: i64,
        sealed: &[u8],
    ) -> Result<String, WalletError> {
        let plain = self.open_raw(&log_aad(space_id, chain, seq), sealed)?;
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
            .to_token_chained(
                &self.status_uri(&space.id),
                now,
                Some(STATUS_TTL),
                signer,
                space.chain(),
            )
            .map_err(crate::authz::AuthzError::from)?)
    }

    pub(super) fn load_status(
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

    pub(super) fn save_status(
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
            .to_token_chained(
                &self.status_uri(space_id),
                now,
                Some(STATUS_TTL),
                &signer,
                space.chain(),
            )
            .map_err(crate::authz::AuthzError::from)?)
    }

    /// The space's consent log per chain (`""` is the space key's; the
    /// others are named by the device that signs them), each oldest first.
    pub fn consent_chains(
        &self,
        space_id: &str,
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(
            "SELECT chain, seq, sealed FROM consent_log WHERE space_id = ?1 ORDER BY chain, seq",
        )?;
        let rows = stmt.query_map([space_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = std::collections::BTreeMap::<String, Vec<String>>::new();
        for row in rows {
            let (chain, seq, sealed) = row?;
            let token = self.open_log_entry(space_id, &chain, seq, &sealed)?;
            out.entry(chain).or_default().push(token);
        }
        Ok(out)
    }

    /// The space's consent log, every device's chain merged: ordered by
    /// `(iat, chain, seq)`, the space key's chain first on ties.
    pub fn consent_log(&self, space_id: &str) -> Result<Vec<String>, WalletError> {
        Ok(self
            .verified_chains(space_id)?
            .into_iter()
            .map(|(_, token)| token)
            .collect())
    }

    /// Verifies every chain of the consent log: the space key's with the
    /// space key, each device's with the key its certificate chain (ending
    /// at the space key) certifies; every record signed, numbered and
    /// chained. Returns the records in the merged order.
    pub fn verify_consent_log(&self, space_id: &str) -> Result<Vec<ConsentRecord>, WalletError> {
        Ok(self
            .verified_chains(space_id)?
            .into_iter()
            .map(|(record, _)| record)
            .collect())
    }

    fn verified_chains(&self, space_id: &str) -> Result<Vec<(ConsentRecord, String)>, WalletError> {
        let space = self.space(space_id)?;
        let mut merged = Vec::new();
        for (chain, tokens) in self.consent_chains(space_id)? {
            let key = if chain.is_empty() {
                space.holder_key.clone()
            } else {
                chain_key(&space, &chain, &tokens)?
            };
            let vk = key
                .verifying_key()
                .map_err(crate::authz::AuthzError::from)?;
            let records = consent::verify_log(&tokens, &vk).map_err(|e| {
                WalletError::Integrity(if chain.is_empty() {
                    e.to_string()
                } else {
                    format!("device {chain}: {e}")
                })
            })?;
            merged.extend(
                records
                    .into_iter()
                    .zip(tokens)
                    .map(|(r, t)| (chain.clone(), r, t)),
            );
        }
        merged
            .sort_by(|a, b| (a.1.event_time, &a.0, a.1.seq).cmp(&(b.1.event_time, &b.0, b.1.seq)));
        Ok(merged.into_iter().map(|(_, r, t)| (r, t)).collect())
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

fn log_aad(space_id: &str, chain: &str, seq: i64) -> String {
    if chain.is_empty() {
        format!("consent_log/{space_id}/{seq}")
    } else {
        format!("consent_log/{space_id}/{chain}/{seq}")
    }
}

/// The key of a device's consent chain: the one its first record's
/// certificate chain certifies for the space, as device `chain`.
pub(super) fn chain_key(
    space: &Space,
    chain: &str,
    tokens: &[String],
) -> Result<crate::Jwk, WalletError> {
    let bad = |why: String| WalletError::Integrity(format!("device {chain}: {why}"));
    let first = tokens.first().ok_or_else(|| bad("empty chain".into()))?;
    let jwt = crate::jws::decode(first).map_err(|e| bad(e.to_string()))?;
    let certs = crate::device::chain_of(&jwt)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("records carry no device certificate".into()))?;
    let leaf = crate::device::verify_chain(&certs, Some(&space.id), &space.holder_key, &|_| false)
        .map_err(|e| bad(e.to_string()))?;
    if leaf.device_id != chain {
        return Err(bad("certificate is for another device".into()));
    }
    Ok(leaf.key)
}

/// Stores a sealed provenance event as entry `seq` of the space's history.
pub(super) fn insert_event(
    tx: &Transaction<'_>,
    space_id: &str,
    id: &str,
    seq: i64,
    sealed: &[u8],
) -> Result<(), WalletError> {
    tx.prepare_cached(
        "INSERT INTO provenance (id, space_id, seq, sealed) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, space_id, seq, sealed])?;
    Ok(())
}
