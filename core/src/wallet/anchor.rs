//! Anchoring the consent log in the server's transparency log: each record
//! becomes a leaf SHA-256(0x00 ‖ salt ‖ signed record) — nothing readable
//! leaves the device — and the device keeps the leaf indices and the last
//! checkpoint it saw. Re-checking later detects a changed, dropped or
//! reordered local record (its leaf no longer proves inclusion) and a
//! forked or rewriting server (the new checkpoint is not consistent with
//! the old one).

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{lock, Wallet, WalletError};
use crate::{
    b64,
    client::{ClientError, ServerClient},
    note::{Checkpoint, NoteVerifier},
    tlog::{leaf_hash, Hash},
};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AnchorState {
    salt: String,
    /// Log index of record `seq` = position + 1 of the space key's chain.
    indices: Vec<u64>,
    /// The same for each device's chain (ADR 0008), by device id.
    #[serde(default)]
    chains: std::collections::BTreeMap<String, Vec<u64>>,
    /// The last checkpoint verified (signed note).
    checkpoint: Option<String>,
}

impl AnchorState {
    fn indices(&self, chain: &str) -> &[u64] {
        if chain.is_empty() {
            &self.indices
        } else {
            self.chains.get(chain).map_or(&[], Vec::as_slice)
        }
    }

    fn indices_mut(&mut self, chain: &str) -> &mut Vec<u64> {
        if chain.is_empty() {
            &mut self.indices
        } else {
            self.chains.entry(chain.to_owned()).or_default()
        }
    }

    fn total(&self) -> usize {
        self.indices.len() + self.chains.values().map(Vec::len).sum::<usize>()
    }
}

/// Each chain's signed records with their leaves.
type ChainLeaves = Vec<(String, Vec<Hash>)>;

/// What an anchoring run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorReport {
    /// Records anchored in this run.
    pub anchored_now: usize,
    /// Records anchored in all.
    pub anchored_total: usize,
    /// The tree size of the checkpoint every record was proven against.
    pub checkpoint_size: u64,
}

fn fail(e: impl std::fmt::Display) -> WalletError {
    WalletError::Anchoring(e.to_string())
}

/// A failed exchange with the log: the network's fault stays a network
/// error; anything the server answered is an anchoring failure.
fn exchange_fail(context: &'static str) -> impl Fn(ClientError) -> WalletError {
    move |e| {
        super::remote::exchange_error(e, |answer| {
            if context.is_empty() {
                fail(answer)
            } else {
                fail(format!("{context}: {answer}"))
            }
        })
    }
}

impl Wallet {
    fn anchor_state(&self, space_id: &str) -> Result<Option<AnchorState>, WalletError> {
        self.open_space_row(&lock(&self.reader), "anchors", space_id)
    }

    fn leaves(state: &AnchorState, records: &[String]) -> Result<Vec<Hash>, WalletError> {
        let salt =
            b64::decode(&state.salt).ok_or_else(|| WalletError::Integrity("anchor salt".into()))?;
        Ok(records
            .iter()
            .map(|r| leaf_hash(&[salt.as_slice(), r.as_bytes()].concat()))
            .collect())
    }

    /// Anchors the records not yet anchored, then proves every anchored
    /// record is in the log under a checkpoint consistent with the last one
    /// seen.
    pub fn anchor_consent_log(
        &self,
        space_id: &str,
        client: &ServerClient,
        verifier: &NoteVerifier,
    ) -> Result<AnchorReport, WalletError> {
        self.verify_consent_log(space_id)?;
        let mut state = self.anchor_state(space_id)?.unwrap_or_else(|| AnchorState {
            salt: b64::encode(b64::random_bytes::<32>()),
            indices: Vec::new(),
            chains: Default::default(),
            checkpoint: None,
        });
        let leaves = self.chain_leaves(space_id, &state)?;
        let mut anchored_now = 0;
        for (chain, chain_leaves) in &leaves {
            let new = &chain_leaves[state.indices(chain).len()..];
            anchored_now += new.len();
            // Bounded batches, as the server takes them.
            for batch in new.chunks(500) {
                let indices = client.append_leaves(batch).map_err(exchange_fail(""))?;
                state.indices_mut(chain).extend(indices);
            }
        }
        let cp = self.check_anchors(&state, &leaves, client, verifier)?;
        state.checkpoint = Some(cp.1);
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO anchors (space_id, sealed) VALUES (?1, ?2)",
                params![space_id, self.seal("anchors", space_id, &state)],
            )?;
            Ok(())
        })?;
        self.changed(&[super::WalletChange::Anchored {
            space_id: space_id.to_owned(),
            anchored_total: state.total() as u64,
        }]);
        Ok(AnchorReport {
            anchored_now,
            anchored_total: state.total(),
            checkpoint_size: cp.0.size,
        })
    }

    /// Every chain's leaves; refuses a chain shorter than what was anchored.
    fn chain_leaves(
        &self,
        space_id: &str,
        state: &AnchorState,
    ) -> Result<ChainLeaves, WalletError> {
        let mut chains = self.consent_chains(space_id)?;
        // A chain anchored before must still be there.
        for chain in state.chains.keys() {
            chains.entry(chain.clone()).or_default();
        }
        chains.entry(String::new()).or_default();
        chains
            .into_iter()
            .map(|(chain, records)| {
                if records.len() < state.indices(&chain).len() {
                    return Err(fail(
                        "the consent log is shorter than what was anchored: records were dropped",
                    ));
                }
                Ok((chain, Self::leaves(state, &records)?))
            })
            .collect()
    }

    /// Re-checks every anchored record against the server's current
    /// checkpoint, and that checkpoint against the last one seen — this
    /// device's anchoring and every other device's (synced), so a record
    /// another device anchored cannot be changed or dropped here unnoticed.
    /// A log never anchored gives a report of zeros, not an error: there is
    /// nothing to check yet.
    pub fn verify_anchors(
        &self,
        space_id: &str,
        client: &ServerClient,
        verifier: &NoteVerifier,
    ) -> Result<AnchorReport, WalletError> {
        let mut states: Vec<AnchorState> = self.anchor_state(space_id)?.into_iter().collect();
        for (_, state) in self.peer_anchor_states(space_id)? {
            states.push(serde_json::from_value(state).map_err(|_| fail("a synced anchoring"))?);
        }
        let mut report = AnchorReport {
            anchored_now: 0,
            anchored_total: 0,
            checkpoint_size: 0,
        };
        for state in &states {
            let leaves = self.chain_leaves(space_id, state)?;
            let (cp, _) = self.check_anchors(state, &leaves, client, verifier)?;
            report.anchored_total += state.total();
            report.checkpoint_size = cp.size;
        }
        Ok(report)
    }

    /// This device's anchoring state as JSON, for its other devices.
    pub(crate) fn own_anchor_state(&self, space_id: &str) -> Result<Option<Value>, WalletError> {
        Ok(self
            .anchor_state(space_id)?
            .map(|s| serde_json::to_value(s).unwrap_or_default()))
    }

    /// The other devices' anchoring states, by device.
    pub(crate) fn peer_anchor_states(
        &self,
        space_id: &str,
    ) -> Result<Vec<(String, Value)>, WalletError> {
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(
            "SELECT device, sealed FROM peer_anchors WHERE space_id = ?1 ORDER BY device",
        )?;
        let rows = stmt.query_map([space_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        rows.map(|r| {
            let (device, sealed) = r?;
            let v: Value =
                self.open_record("peer_anchors", &format!("{space_id}/{device}"), &sealed)?;
            Ok((device, v))
        })
        .collect()
    }

    /// Keeps another device's anchoring state if it covers at least as
    /// much as the one held (anchoring only grows); `true` if stored.
    pub(crate) fn put_peer_anchor(
        &self,
        tx: &rusqlite::Transaction<'_>,
        space_id: &str,
        device: &str,
        state: &Value,
    ) -> Result<bool, WalletError> {
        let incoming: AnchorState =
            serde_json::from_value(state.clone()).map_err(|_| fail("a synced anchoring"))?;
        let id = format!("{space_id}/{device}");
        let held: Option<Vec<u8>> = tx
            .query_row(
                "SELECT sealed FROM peer_anchors WHERE space_id = ?1 AND device = ?2",
                [space_id, device],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(sealed) = held {
            let held: AnchorState = self.open_record("peer_anchors", &id, &sealed)?;
            if held.total() > incoming.total()
                || serde_json::to_value(&held).ok().as_ref() == Some(state)
            {
                return Ok(false);
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO peer_anchors (space_id, device, sealed) VALUES (?1, ?2, ?3)",
            params![space_id, device, self.seal("peer_anchors", &id, &incoming)],
        )?;
        Ok(true)
    }

    fn check_anchors(
        &self,
        state: &AnchorState,
        leaves: &ChainLeaves,
        client: &ServerClient,
        verifier: &NoteVerifier,
    ) -> Result<(Checkpoint, String), WalletError> {
        let (cp, note) = client
            .checkpoint_note(verifier)
            .map_err(exchange_fail(""))?;
        if let Some(old) = &state.checkpoint {
            let old = Checkpoint::verify(old, verifier).map_err(fail)?;
            client.verify_consistency(&old, &cp).map_err(exchange_fail(
                "the server's log is not consistent with the checkpoint seen before",
            ))?;
        }
        for (chain, chain_leaves) in leaves {
            for (seq, (leaf, index)) in chain_leaves.iter().zip(state.indices(chain)).enumerate() {
                client
                    .verify_inclusion(leaf, *index, &cp)
                    .map_err(|e| match e {
                        ClientError::Transport(_) | ClientError::Cancelled => exchange_fail("")(e),
                        e => fail(format!(
                            "consent record {}{} does not match what was anchored: {e}",
                            if chain.is_empty() { "" } else { "of device " },
                            if chain.is_empty() {
                                (seq + 1).to_string()
                            } else {
                                format!("{chain} #{}", seq + 1)
                            }
                        )),
                    })?;
            }
        }
        Ok((cp, note))
    }
}
