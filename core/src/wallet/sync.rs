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

use std::collections::HashMap;

use ring::{
    aead::{LessSafeKey, UnboundKey, AES_256_GCM},
    hmac,
};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::{
    history::StoredStatusList, insert_credential, lock, records::UseRecord, AuthorizationState,
    Credential, Member, StoredAuthorization, StoredDelegation, Wallet, WalletChange, WalletError,
};
use crate::{
    b64,
    client::ServerClient,
    provenance::ProvenanceEvent,
    software_keystore::{open_with, seal_with},
    status_list::StatusList,
};

/// A record to push: local id, its serialisation, its MAC, the server's
/// cursor of the version it replaces.
type Due = (String, Zeroizing<Vec<u8>>, Vec<u8>, Option<i64>);

/// Records per push or pull request.
pub const SYNC_BATCH: usize = 200;
/// Bytes of ciphertext per push request (the server takes 1 MiB bodies).
const MAX_BATCH_BYTES: usize = 768 * 1024;
/// Epoch 0 of `sync_keys` holds the id key (never rotated).
const ID_KEY_EPOCH: u32 = 0;

/// A hybrid logical clock reading: wall time, a counter for events in the
/// same millisecond, and the device as the tie-break.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch.
    pub wall_ms: i64,
    /// Events within the same millisecond.
    pub counter: u32,
    /// The device that made the reading.
    pub device: String,
}

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

/// One syncable thing, as sealed for the other devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Item {
    Credential(Box<Credential>),
    Deleted {
        id: String,
    },
    Authorization(Box<StoredAuthorization>),
    Provenance(Box<ProvenanceEvent>),
    Consent {
        chain: String,
        seq: i64,
        token: String,
    },
    StatusList {
        lst: String,
        len: usize,
        next: usize,
    },
    Member(Box<Member>),
    Delegation(Box<StoredDelegation>),
    /// One device's anchoring of the consent log (`device`: its consent
    /// chain name, `""` for the space key's device).
    Anchor {
        device: String,
        state: Value,
    },
}

impl Item {
    /// The local id: stable across devices.
    fn local_id(&self) -> String {
        match self {
            Item::Credential(c) => format!("cred:{}", c.id),
            Item::Deleted { id } => format!("cred:{id}"),
            Item::Authorization(a) => format!("authz:{}", a.id),
            Item::Provenance(e) => format!("prov:{}", e.id),
            Item::Consent { chain, seq, .. } => format!("consent:{chain}:{seq}"),
            Item::StatusList { .. } => "status".into(),
            Item::Member(m) => format!("member:{}", m.id),
            Item::Delegation(d) => format!("deleg:{}", d.id),
            Item::Anchor { device, .. } => format!("anchor:{device}"),
        }
    }
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

/// The space's sync keys: the id key and each epoch's encryption key.
pub(crate) struct SyncKeys {
    pub(crate) id_key: Zeroizing<Vec<u8>>,
    /// (epoch, key), oldest first; the last is current.
    pub(crate) epochs: Vec<(u32, Zeroizing<Vec<u8>>)>,
}

impl SyncKeys {
    /// New keys: an id key and epoch 1.
    pub(crate) fn fresh() -> SyncKeys {
        SyncKeys {
            id_key: Zeroizing::new(b64::random_bytes::<32>().to_vec()),
            epochs: vec![(1, Zeroizing::new(b64::random_bytes::<32>().to_vec()))],
        }
    }

    fn current(&self) -> Result<(u32, LessSafeKey), WalletError> {
        let (epoch, raw) = self
            .epochs
            .last()
            .ok_or_else(|| WalletError::Integrity("sync key".into()))?;
        Ok((*epoch, aead_key(raw)?))
    }

    pub(crate) fn epoch(&self, epoch: u32) -> Option<&Zeroizing<Vec<u8>>> {
        self.epochs
            .iter()
            .find(|(e, _)| *e == epoch)
            .map(|(_, k)| k)
    }

    /// The opaque server id of a local id.
    fn server_id(&self, local_id: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.id_key);
        b64::encode(&hmac::sign(&key, local_id.as_bytes()).as_ref()[..24])
    }

    /// What was last pushed of an item (keyed: the wallet file does not
    /// reveal guessable contents).
    fn mac(&self, local_id: &str, plain: &[u8]) -> Vec<u8> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.id_key);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(local_id.as_bytes());
        ctx.update(&[0]);
        ctx.update(plain);
        ctx.sign().as_ref().to_vec()
    }

    /// The sync keys as shipped to a new device.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id_key": b64::encode(&*self.id_key),
            "epochs": self.epochs.iter().map(|(e, k)| json!([e, b64::encode(&**k)])).collect::<Vec<_>>(),
        })
    }

    pub(crate) fn from_json(v: &Value) -> Option<SyncKeys> {
        let id_key = Zeroizing::new(b64::decode(v.get("id_key")?.as_str()?)?);
        let epochs = v
            .get("epochs")?
            .as_array()?
            .iter()
            .map(|p| {
                let e = u32::try_from(p.get(0)?.as_u64()?).ok()?;
                let k = b64::decode(p.get(1)?.as_str()?)?;
                (k.len() == 32 && e > ID_KEY_EPOCH).then(|| (e, Zeroizing::new(k)))
            })
            .collect::<Option<Vec<_>>>()?;
        (id_key.len() == 32 && !epochs.is_empty()).then_some(SyncKeys { id_key, epochs })
    }
}

pub(crate) fn aead_key(raw: &[u8]) -> Result<LessSafeKey, WalletError> {
    UnboundKey::new(&AES_256_GCM, raw)
        .map(LessSafeKey::new)
        .map_err(|_| WalletError::Integrity("sync key".into()))
}

fn aad(space_id: &str, server_id: &str, epoch: u32) -> String {
    format!("satchel-sync-v1/{space_id}/{server_id}/{epoch}")
}

fn sync_error(e: crate::client::ClientError) -> WalletError {
    super::remote::exchange_error(e, |answer| WalletError::ServerRefused(answer.to_string()))
}

impl Wallet {
    /// The space's sync keys, made on first use.
    pub(crate) fn sync_keys(&self, space_id: &str) -> Result<SyncKeys, WalletError> {
        self.space(space_id)?;
        if let Some(keys) = self.read_sync_keys(space_id)? {
            return Ok(keys);
        }
        let keys = SyncKeys::fresh();
        self.write(|tx| {
            // Another thread may have made them meanwhile: theirs stay.
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT epoch FROM sync_keys WHERE space_id = ?1 LIMIT 1",
                    [space_id],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_none() {
                self.put_sync_keys(tx, space_id, &keys)?;
            }
            Ok(())
        })?;
        self.read_sync_keys(space_id)?
            .ok_or_else(|| WalletError::Integrity("sync key".into()))
    }

    fn read_sync_keys(&self, space_id: &str) -> Result<Option<SyncKeys>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(
            "SELECT epoch, sealed FROM sync_keys WHERE space_id = ?1 ORDER BY epoch",
        )?;
        let rows = stmt.query_map([space_id], |r| {
            Ok((r.get::<_, u32>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut id_key = None;
        let mut epochs = Vec::new();
        for row in rows {
            let (epoch, sealed) = row?;
            let raw = self.open_raw(&format!("sync_keys/{space_id}/{epoch}"), &sealed)?;
            if epoch == ID_KEY_EPOCH {
                id_key = Some(raw);
            } else {
                epochs.push((epoch, raw));
            }
        }
        Ok(id_key.map(|id_key| SyncKeys { id_key, epochs }))
    }

    pub(crate) fn put_sync_keys(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
        keys: &SyncKeys,
    ) -> Result<(), WalletError> {
        let all = std::iter::once((ID_KEY_EPOCH, &keys.id_key))
            .chain(keys.epochs.iter().map(|(e, k)| (*e, k)));
        for (epoch, raw) in all {
            tx.execute(
                "INSERT OR REPLACE INTO sync_keys (space_id, epoch, sealed) VALUES (?1, ?2, ?3)",
                params![
                    space_id,
                    epoch,
                    self.seal_raw(&format!("sync_keys/{space_id}/{epoch}"), raw)
                ],
            )?;
        }
        Ok(())
    }

    /// Starts a new sync key epoch (after a device was removed); returns the
    /// new keys, to be sealed for the devices that remain.
    pub(crate) fn rotate_sync_key(&self, space_id: &str) -> Result<SyncKeys, WalletError> {
        let mut keys = self.sync_keys(space_id)?;
        let next = keys.epochs.last().map_or(1, |(e, _)| e + 1);
        keys.epochs
            .push((next, Zeroizing::new(b64::random_bytes::<32>().to_vec())));
        self.write(|tx| self.put_sync_keys(tx, space_id, &keys))?;
        Ok(keys)
    }

    /// This device's clock reading now (monotonic even if the wall clock
    /// steps back).
    pub(crate) fn tick(&self, device: &str) -> Result<Hlc, WalletError> {
        self.write(|tx| {
            let last: Option<Vec<u8>> = tx
                .query_row("SELECT value FROM meta WHERE name = 'hlc'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let last: Option<Hlc> = last.and_then(|v| serde_json::from_slice(&v).ok());
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            let next = match last {
                Some(l) if l.wall_ms >= now => Hlc {
                    wall_ms: l.wall_ms,
                    counter: l.counter.saturating_add(1),
                    device: device.to_owned(),
                },
                _ => Hlc {
                    wall_ms: now,
                    counter: 0,
                    device: device.to_owned(),
                },
            };
            tx.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('hlc', ?1)",
                [serde_json::to_vec(&next).unwrap_or_default()],
            )?;
            Ok(next)
        })
    }

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

    /// Every syncable item of a space as it stands here.
    pub(crate) fn items(&self, space_id: &str) -> Result<Vec<Item>, WalletError> {
        let mut out = Vec::new();
        for c in self.credentials(space_id, &Default::default())? {
            out.push(Item::Credential(Box::new(c)));
        }
        for id in self.tombstones(space_id)? {
            out.push(Item::Deleted { id });
        }
        for a in self.authorizations(space_id)? {
            out.push(Item::Authorization(Box::new(a)));
        }
        for e in self.provenance(space_id)? {
            out.push(Item::Provenance(Box::new(e)));
        }
        for (chain, tokens) in self.consent_chains(space_id)? {
            for (i, token) in tokens.into_iter().enumerate() {
                out.push(Item::Consent {
                    chain: chain.clone(),
                    seq: i as i64 + 1,
                    token,
                });
            }
        }
        if let Some(s) = self.stored_status(space_id)? {
            out.push(Item::StatusList {
                lst: s.lst,
                len: s.len,
                next: s.next,
            });
        }
        for m in self.members(space_id)? {
            out.push(Item::Member(Box::new(m)));
        }
        for d in self.open_space_rows::<StoredDelegation>("delegations", space_id, "id")? {
            out.push(Item::Delegation(Box::new(d)));
        }
        let own = self.space(space_id)?.consent_chain().to_owned();
        if let Some(state) = self.own_anchor_state(space_id)? {
            out.push(Item::Anchor { device: own, state });
        }
        for (device, state) in self.peer_anchor_states(space_id)? {
            out.push(Item::Anchor { device, state });
        }
        Ok(out)
    }

    fn tombstones(&self, space_id: &str) -> Result<Vec<String>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt =
            conn.prepare_cached("SELECT id FROM tombstones WHERE space_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([space_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn stored_status(&self, space_id: &str) -> Result<Option<StoredStatusList>, WalletError> {
        let sealed: Option<Vec<u8>> = lock(&self.reader)
            .query_row(
                "SELECT sealed FROM status_lists WHERE space_id = ?1",
                [space_id],
                |r| r.get(0),
            )
            .optional()?;
        sealed
            .map(|s| self.open_record("status_lists", space_id, &s))
            .transpose()
    }

    fn sync_state(&self, space_id: &str) -> Result<SyncState, WalletError> {
        self.sync_state_in(&lock(&self.reader), space_id)
    }

    fn sync_state_in(
        &self,
        conn: &rusqlite::Connection,
        space_id: &str,
    ) -> Result<SyncState, WalletError> {
        let sealed: Option<Vec<u8>> = conn
            .query_row(
                "SELECT sealed FROM sync_state WHERE space_id = ?1",
                [space_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(sealed
            .map(|s| self.open_record("sync_state", space_id, &s))
            .transpose()?
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

    /// Merges one pulled item; `true` if it changed something here. When
    /// the result equals what was pulled, it is marked as pushed (no echo).
    pub(super) fn merge(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
        keys: &SyncKeys,
        item: &Item,
    ) -> Result<bool, WalletError> {
        let sealed_in = |table: &str, id: &str| -> Result<Option<Vec<u8>>, WalletError> {
            Ok(tx
                .query_row(
                    &format!("SELECT sealed FROM {table} WHERE id = ?1 AND space_id = ?2"),
                    [id, space_id],
                    |r| r.get(0),
                )
                .optional()?)
        };
        let foreign = |owner: &str| owner != space_id;
        let (changed, result) = match item {
            Item::Credential(c) => {
                if foreign(&c.space_id) || self.is_tombstoned(tx, space_id, &c.id)? {
                    return Ok(false);
                }
                match sealed_in("credentials", &c.id)? {
                    None => {
                        insert_credential(
                            tx,
                            &c.id,
                            space_id,
                            &self.seal("credentials", &c.id, c),
                        )?;
                        (true, Some(item.clone()))
                    }
                    Some(s) => {
                        let mut local: Credential = self.open_record("credentials", &c.id, &s)?;
                        let mut merged = local.clone();
                        if c.label_clock > local.label_clock {
                            merged.label = c.label.clone();
                            merged.label_clock = c.label_clock.clone();
                        }
                        merged.revoked |= c.revoked;
                        let changed = merged != local;
                        if changed {
                            local = merged;
                            tx.execute(
                                "UPDATE credentials SET sealed = ?2 WHERE id = ?1",
                                params![c.id, self.seal("credentials", &c.id, &local)],
                            )?;
                        }
                        (changed, Some(Item::Credential(Box::new(local))))
                    }
                }
            }
            Item::Deleted { id } => {
                let removed = tx.execute(
                    "DELETE FROM credentials WHERE id = ?1 AND space_id = ?2",
                    [id, space_id],
                )? > 0;
                tx.execute(
                    "INSERT OR IGNORE INTO tombstones (space_id, id) VALUES (?1, ?2)",
                    [space_id, id],
                )?;
                (removed, Some(item.clone()))
            }
            Item::Authorization(a) => {
                if foreign(&a.space_id) {
                    return Ok(false);
                }
                let merged = match sealed_in("authorizations", &a.id)? {
                    None => (**a).clone(),
                    Some(s) => {
                        let local: StoredAuthorization =
                            self.open_record("authorizations", &a.id, &s)?;
                        merge_authorization(&local, a)
                    }
                };
                let before = sealed_in("authorizations", &a.id)?
                    .map(|s| self.open_record::<StoredAuthorization>("authorizations", &a.id, &s))
                    .transpose()?;
                let changed = before.as_ref() != Some(&merged);
                if changed {
                    self.put_authorization(tx, &merged)?;
                }
                (changed, Some(Item::Authorization(Box::new(merged))))
            }
            Item::Provenance(e) => {
                let n = tx.execute(
                    "INSERT OR IGNORE INTO provenance (id, space_id, seq, sealed)
                     VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM provenance WHERE space_id = ?2), ?3)",
                    params![e.id, space_id, self.seal("provenance", &e.id, e)],
                )?;
                (n > 0, Some(item.clone()))
            }
            Item::Consent { chain, seq, token } => {
                let exists: Option<i64> = tx
                    .query_row(
                        "SELECT seq FROM consent_log WHERE space_id = ?1 AND chain = ?2 AND seq = ?3",
                        params![space_id, chain, seq],
                        |r| r.get(0),
                    )
                    .optional()?;
                if exists.is_none() {
                    self.put_log_entry(tx, space_id, chain, *seq, token)?;
                }
                (exists.is_none(), Some(item.clone()))
            }
            Item::StatusList { lst, len, next } => {
                let (mut local, stored) = self.load_status(tx, space_id)?;
                let remote = StatusList::decode(1, lst)
                    .map_err(|_| WalletError::Integrity("synced status list".into()))?;
                if remote.len() > crate::status_list::MAX_LIST_BYTES * 8 || *len != remote.len() {
                    return Err(WalletError::Integrity("synced status list".into()));
                }
                let mut changed = false;
                if remote.len() > local.len() {
                    let mut bigger = StatusList::new(1, remote.len())
                        .map_err(|_| WalletError::Integrity("synced status list".into()))?;
                    for i in 0..local.len() {
                        let _ = bigger.set(i, local.get(i).unwrap_or(0));
                    }
                    local = bigger;
                    changed = true;
                }
                for i in 0..remote.len() {
                    if remote.get(i) == Ok(crate::status_list::INVALID)
                        && local.get(i) != Ok(crate::status_list::INVALID)
                    {
                        let _ = local.set(i, crate::status_list::INVALID);
                        changed = true;
                    }
                }
                let next = stored.next.max(*next);
                changed |= next != stored.next;
                if changed {
                    self.save_status(tx, space_id, &local, next)?;
                }
                let result = Item::StatusList {
                    lst: local.encode_lst(),
                    len: local.len(),
                    next,
                };
                (changed, Some(result))
            }
            Item::Member(m) => {
                if foreign(&m.space_id) {
                    return Ok(false);
                }
                let n = tx.execute(
                    "INSERT OR IGNORE INTO members (id, space_id, sealed) VALUES (?1, ?2, ?3)",
                    params![m.id, space_id, self.seal("members", &m.id, m)],
                )?;
                (n > 0, Some(item.clone()))
            }
            Item::Anchor { device, state } => {
                // Read in the transaction: an import writes the space in it.
                let sealed: Vec<u8> =
                    tx.query_row("SELECT sealed FROM spaces WHERE id = ?1", [space_id], |r| {
                        r.get(0)
                    })?;
                let space: super::Space = self.open_record("spaces", space_id, &sealed)?;
                let own = space.consent_chain().to_owned();
                if *device == own {
                    // This device's own anchoring is authoritative here.
                    let result = self
                        .own_anchor_state(space_id)?
                        .map(|state| Item::Anchor { device: own, state });
                    (false, result)
                } else {
                    let stored = self.put_peer_anchor(tx, space_id, device, state)?;
                    (stored, Some(item.clone()))
                }
            }
            Item::Delegation(d) => {
                if foreign(&d.space_id) {
                    return Ok(false);
                }
                let mut merged = (**d).clone();
                let local = sealed_in("delegations", &d.id)?
                    .map(|s| self.open_record::<StoredDelegation>("delegations", &d.id, &s))
                    .transpose()?;
                if let Some(l) = &local {
                    merged = l.clone();
                    merged.revoked |= d.revoked;
                }
                let changed = local.as_ref() != Some(&merged);
                if changed {
                    tx.execute(
                        "INSERT OR REPLACE INTO delegations (id, space_id, sealed) VALUES (?1, ?2, ?3)",
                        params![d.id, space_id, self.seal("delegations", &d.id, &merged)],
                    )?;
                }
                (changed, Some(Item::Delegation(Box::new(merged))))
            }
        };
        if let Some(result) = result {
            if &result == item {
                let id = item.local_id();
                let plain = serde_json::to_vec(&result).unwrap_or_default();
                tx.execute(
                    "INSERT INTO sync_pushed (space_id, record_id, mac) VALUES (?1, ?2, ?3)
                     ON CONFLICT (space_id, record_id) DO UPDATE SET mac = ?3",
                    params![space_id, id, keys.mac(&id, &plain)],
                )?;
            }
        }
        Ok(changed)
    }

    fn is_tombstoned(
        &self,
        tx: &Transaction<'_>,
        space_id: &str,
        id: &str,
    ) -> Result<bool, WalletError> {
        Ok(tx
            .query_row(
                "SELECT 1 FROM tombstones WHERE space_id = ?1 AND id = ?2",
                [space_id, id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

fn state_rank(s: AuthorizationState) -> u8 {
    match s {
        AuthorizationState::Active => 0,
        AuthorizationState::Expired => 1,
        AuthorizationState::Withdrawn => 2,
    }
}

/// Authorisation state only moves forward; use receipts are a union.
fn merge_authorization(
    local: &StoredAuthorization,
    remote: &StoredAuthorization,
) -> StoredAuthorization {
    let mut out = local.clone();
    if state_rank(remote.state) > state_rank(local.state) {
        out.state = remote.state;
    }
    let mut uses: Vec<UseRecord> = local.uses.clone();
    for u in &remote.uses {
        if !uses.iter().any(|l| l.seq == u.seq) {
            uses.push(u.clone());
        }
    }
    uses.sort_by_key(|u| u.seq);
    out.uses = uses;
    out
}
