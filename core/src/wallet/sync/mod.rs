//! End-to-end encrypted sync of a space between its devices (ADR 0008).
//!
//! Every syncable row becomes one [`Item`], sealed with AES-256-GCM under the
//! space's sync key of the current epoch and pushed as opaque ciphertext
//! under an opaque id (HMAC of the local id under the space's id key). A run
//! pulls first (from a stored cursor, in bounded batches, each merged in
//! one transaction with the cursor), then pushes every item whose content
//! differs from what was last acknowledged. Interrupted anywhere, the next
//! run repeats at most one batch, which the merge rules absorb.
//!
//! Merge rules: credentials are immutable (labels last-writer-wins by
//! [`Hlc`], revocation sticks), deletions are tombstones that win;
//! authorisation state only moves forward (withdrawn or expired beats
//! active) and use receipts are a union; provenance events, consent
//! records and members are a union; status lists merge by OR of their
//! invalid bits; delegation revocation sticks.

mod items;
mod keys;

pub(crate) use items::Item;
pub use keys::Hlc;
pub(crate) use keys::{aead_key, SyncKeys};

use std::collections::HashMap;

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::{lock, Wallet, WalletChange, WalletError};
use crate::{
    b64,
    client::ServerClient,
    software_keystore::{open_with, seal_with},
};

/// A record to push: local id, its serialisation, its MAC, the server's
/// cursor of the version it replaces.
type Due = (String, Zeroizing<Vec<u8>>, Vec<u8>, Option<i64>);

/// Records per push or pull request.
pub const SYNC_BATCH: usize = 200;
/// Bytes of ciphertext per push request (the server takes 1 MiB bodies).
const MAX_BATCH_BYTES: usize = 768 * 1024;

/// How far a sync run has come (for a progress bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    /// Records pulled and merged so far.
    pub pulled: u64,
    /// Records pushed so far.
    pub pushed: u64,
    /// Records this run will push in all (known once pulling is done).
    pub to_push: u64,
}

/// What a sync run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncReport {
    /// Records pulled.
    pub pulled: u64,
    /// Pulled records that changed something here.
    pub merged: u64,
    /// Records pushed.
    pub pushed: u64,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    v: u8,
    id: String,
    item: Item,
}

#[derive(Default, Serialize, Deserialize)]
struct SyncState {
    cursor: i64,
}

fn aad(space_id: &str, server_id: &str, epoch: u32) -> String {
    format!("satchel-sync-v1/{space_id}/{server_id}/{epoch}")
}

fn sync_error(e: crate::client::ClientError) -> WalletError {
    super::remote::exchange_error(e, |answer| WalletError::ServerRefused(answer.to_string()))
}

impl Wallet {
    /// Syncs a space with the server `client` talks to: pulls what the
    /// other devices pushed and merges it, then pushes what changed here.
    /// `progress` hears after each batch.
    pub fn sync_space(
        &self,
        space_id: &str,
        client: &ServerClient,
        progress: &dyn Fn(SyncProgress),
    ) -> Result<SyncReport, WalletError> {
        // New epochs another device sealed for this one after a removal.
        self.take_rekey(space_id, client)?;
        let keys = self.sync_keys(space_id)?;
        let mut report = SyncReport::default();
        // A push refused as a conflict (another device pushed that record
        // since this one last pulled it) is pulled, merged and pushed again.
        for _ in 0..4 {
            self.pull(space_id, client, &keys, &mut report, progress)?;
            if self.push(space_id, client, &keys, &mut report, progress)? == 0 {
                break;
            }
        }
        if report.merged > 0 || report.pushed > 0 {
            self.changed(&[WalletChange::Synced {
                space_id: space_id.to_owned(),
                merged: report.merged,
                pushed: report.pushed,
            }]);
        }
        Ok(report)
    }

    fn pull(
        &self,
        space_id: &str,
        client: &ServerClient,
        keys: &SyncKeys,
        report: &mut SyncReport,
        progress: &dyn Fn(SyncProgress),
    ) -> Result<(), WalletError> {
        loop {
            let cursor = self.sync_state(space_id)?.cursor;
            let page = client
                .call(
                    "GET",
                    &format!("/v1/spaces/{space_id}/records?after={cursor}&limit={SYNC_BATCH}"),
                    None,
                )
                .map_err(sync_error)?;
            let records = page
                .get("records")
                .and_then(Value::as_array)
                .ok_or_else(|| WalletError::Network("malformed sync page".into()))?;
            let next = page.get("next").and_then(Value::as_i64).unwrap_or(cursor);
            let more = page.get("more").and_then(Value::as_bool).unwrap_or(false);
            let mut items = Vec::with_capacity(records.len());
            for r in records {
                let (Some(id), Some(ct), Some(at)) = (
                    r.get("id").and_then(Value::as_str),
                    r.get("ciphertext").and_then(Value::as_str),
                    r.get("cursor").and_then(Value::as_i64),
                ) else {
                    return Err(WalletError::Network("malformed sync record".into()));
                };
                items.push((self.open_item(space_id, keys, id, ct)?, at));
            }
            let merged = self.write(|tx| {
                let mut merged = 0;
                for (item, at) in &items {
                    if self.merge(tx, space_id, keys, item)? {
                        merged += 1;
                    }
                    // The version the server holds: a later push replaces it.
                    tx.execute(
                        "INSERT INTO sync_pushed (space_id, record_id, cursor) VALUES (?1, ?2, ?3)
                         ON CONFLICT (space_id, record_id) DO UPDATE SET cursor = ?3",
                        params![space_id, item.local_id(), at],
                    )?;
                }
                self.put_sync_state(tx, space_id, &SyncState { cursor: next })?;
                Ok(merged)
            })?;
            report.pulled += items.len() as u64;
            report.merged += merged;
            progress(SyncProgress {
                pulled: report.pulled,
                pushed: 0,
                to_push: 0,
            });
            if !more || next <= cursor {
                return Ok(());
            }
        }
    }

    fn open_item(
        &self,
        space_id: &str,
        keys: &SyncKeys,
        server_id: &str,
        ciphertext: &str,
    ) -> Result<Item, WalletError> {
        let bad = || WalletError::Integrity(format!("sync record {server_id}"));
        let raw = b64::decode(ciphertext).ok_or_else(bad)?;
        if raw.len() < 4 {
            return Err(bad());
        }
        let epoch = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let key = aead_key(keys.epoch(epoch).ok_or_else(bad)?)?;
        let plain = open_with(&key, aad(space_id, server_id, epoch).as_bytes(), &raw[4..])
            .ok_or_else(bad)?;
        let env: Envelope = serde_json::from_slice(&plain).map_err(|_| bad())?;
        // The id is bound to the content: a record moved to another id is caught.
        if env.v != 1 || keys.server_id(&env.id) != server_id || env.item.local_id() != env.id {
            return Err(bad());
        }
        Ok(env.item)
    }

    fn push(
        &self,
        space_id: &str,
        client: &ServerClient,
        keys: &SyncKeys,
        report: &mut SyncReport,
        progress: &dyn Fn(SyncProgress),
    ) -> Result<usize, WalletError> {
        let pushed = self.pushed_state(space_id)?;
        let mut due: Vec<Due> = Vec::new();
        for item in self.items(space_id)? {
            let id = item.local_id();
            let plain = serde_json::to_vec(&item).unwrap_or_default();
            let mac = keys.mac(&id, &plain);
            let (last_mac, cursor) = pushed.get(&id).cloned().unwrap_or_default();
            if last_mac.as_ref() != Some(&mac) {
                due.push((id, Zeroizing::new(plain), mac, cursor));
            }
        }
        let mut conflicts = 0;
        let total = due.len() as u64;
        let (epoch, key) = keys.current()?;
        // Batches bounded by count and by bytes (the server takes 1 MiB bodies).
        let mut batches: Vec<Vec<(usize, Value)>> = Vec::new();
        let mut current: Vec<(usize, Value)> = Vec::new();
        let mut bytes = 0;
        for (i, (id, item, _, base)) in due.iter().enumerate() {
            let server_id = keys.server_id(id);
            // The envelope `{"v":1,"id":…,"item":…}` around the item as
            // already serialised for its MAC.
            let mut plain = Zeroizing::new(Vec::with_capacity(item.len() + id.len() + 32));
            plain.extend_from_slice(b"{\"v\":1,\"id\":");
            plain.extend_from_slice(&serde_json::to_vec(id).unwrap_or_default());
            plain.extend_from_slice(b",\"item\":");
            plain.extend_from_slice(item);
            plain.push(b'}');
            let mut raw = epoch.to_be_bytes().to_vec();
            raw.extend(seal_with(
                &key,
                aad(space_id, &server_id, epoch).as_bytes(),
                &plain,
            ));
            let size = raw.len() * 4 / 3 + 160;
            if size > MAX_BATCH_BYTES {
                return Err(WalletError::InvalidInput(format!(
                    "record {id} is too large to sync"
                )));
            }
            if current.len() == SYNC_BATCH || bytes + size > MAX_BATCH_BYTES {
                batches.push(std::mem::take(&mut current));
                bytes = 0;
            }
            bytes += size;
            current.push((
                i,
                json!({
                    "id": server_id,
                    "content_hash": b64::sha256_b64(&raw),
                    "ciphertext": b64::encode(&raw),
                    "base_cursor": base,
                }),
            ));
        }
        if !current.is_empty() {
            batches.push(current);
        }
        for sealed in batches {
            let batch: Vec<&Due> = sealed.iter().map(|(i, _)| &due[*i]).collect();
            let records: Vec<Value> = sealed.into_iter().map(|(_, r)| r).collect();
            let answer = client
                .call(
                    "POST",
                    &format!("/v1/spaces/{space_id}/records"),
                    Some(&json!({ "records": records })),
                )
                .map_err(sync_error)?;
            let results = answer
                .get("results")
                .and_then(Value::as_array)
                .filter(|r| r.len() == batch.len())
                .ok_or_else(|| WalletError::Network("malformed push answer".into()))?;
            let mut stored = 0;
            self.write(|tx| {
                let mut fresh = Vec::new();
                let mut seen_before = true;
                let last = self.sync_state_in(tx, space_id)?.cursor;
                for ((id, _, mac, _), result) in batch.iter().copied().zip(results) {
                    let cursor = result.get("cursor").and_then(Value::as_i64);
                    match result.get("status").and_then(Value::as_str) {
                        Some(status @ ("stored" | "duplicate")) => {
                            stored += 1;
                            match (status, cursor) {
                                ("stored", Some(c)) => fresh.push(c),
                                (_, Some(c)) => seen_before &= c <= last,
                                _ => seen_before = false,
                            }
                            tx.execute(
                                "INSERT OR REPLACE INTO sync_pushed (space_id, record_id, mac, cursor)
                                 VALUES (?1, ?2, ?3, ?4)",
                                params![space_id, id, mac, cursor],
                            )?;
                        }
                        _ => {
                            conflicts += 1;
                            seen_before = false;
                        }
                    }
                }
                // If the server numbered exactly our records right after
                // what we have pulled, nobody else pushed meanwhile: skip
                // pulling our own records back.
                fresh.sort_unstable();
                let contiguous = fresh
                    .iter()
                    .enumerate()
                    .all(|(i, c)| *c == last + 1 + i as i64);
                if seen_before && contiguous && !fresh.is_empty() {
                    let cursor = last + fresh.len() as i64;
                    self.put_sync_state(tx, space_id, &SyncState { cursor })?;
                }
                Ok(())
            })?;
            report.pushed += stored;
            progress(SyncProgress {
                pulled: report.pulled,
                pushed: report.pushed,
                to_push: total,
            });
        }
        Ok(conflicts)
    }

    /// Per record: what was last pushed or merged (its MAC) and the cursor
    /// of the version the server holds.
    #[allow(clippy::type_complexity)]
    fn pushed_state(
        &self,
        space_id: &str,
    ) -> Result<HashMap<String, (Option<Vec<u8>>, Option<i64>)>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt = conn
            .prepare_cached("SELECT record_id, mac, cursor FROM sync_pushed WHERE space_id = ?1")?;
        let rows = stmt.query_map([space_id], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn sync_state(&self, space_id: &str) -> Result<SyncState, WalletError> {
        self.sync_state_in(&lock(&self.reader), space_id)
    }

    fn sync_state_in(
        &self,
        conn: &rusqlite::Connection,
        space_id: &str,
    ) -> Result<SyncState, WalletError> {
        Ok(self
            .open_space_row(conn, "sync_state", space_id)?
            .unwrap_or_default())
    }

    fn put_sync_state(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
        state: &SyncState,
    ) -> Result<(), WalletError> {
        tx.execute(
            "INSERT OR REPLACE INTO sync_state (space_id, sealed) VALUES (?1, ?2)",
            params![space_id, self.seal("sync_state", space_id, state)],
        )?;
        Ok(())
    }
}
