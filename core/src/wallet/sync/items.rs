//! What syncs: every syncable row as an [`Item`], and the merge rules that
//! fold a pulled item into this device's copy.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    super::{
        history::StoredStatusList, insert_credential, lock, records::UseRecord, AuthorizationState,
        Credential, Member, Space, StoredAuthorization, StoredDelegation, Wallet, WalletError,
    },
    SyncKeys,
};
use crate::{provenance::ProvenanceEvent, status_list::StatusList};

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
    pub(crate) fn local_id(&self) -> String {
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

impl Wallet {
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
        self.open_space_row(&lock(&self.reader), "status_lists", space_id)
    }

    /// Merges one pulled item; `true` if it changed something here. When
    /// the result equals what was pulled, it is marked as pushed (no echo).
    pub(crate) fn merge(
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
                            super::super::next_seq(tx, "credentials", space_id)?,
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
                let space: Space = self.open_record("spaces", space_id, &sealed)?;
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
