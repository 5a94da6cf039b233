//! Anchoring the consent log in the server's transparency log: each record
//! becomes a leaf SHA-256(0x00 ‖ salt ‖ signed record) — nothing readable
//! leaves the device — and the device keeps the leaf indices and the last
//! checkpoint it saw. Re-checking later detects a changed, dropped or
//! reordered local record (its leaf no longer proves inclusion) and a
//! forked or rewriting server (the new checkpoint is not consistent with
//! the old one).

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

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
    /// Log index of record `seq` = position + 1.
    indices: Vec<u64>,
    /// The last checkpoint verified (signed note).
    checkpoint: Option<String>,
}

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
        let sealed: Option<Vec<u8>> = lock(&self.reader)
            .query_row(
                "SELECT sealed FROM anchors WHERE space_id = ?1",
                [space_id],
                |r| r.get(0),
            )
            .optional()?;
        sealed
            .map(|s| self.open_record("anchors", space_id, &s))
            .transpose()
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
        let records = self.consent_log(space_id)?;
        let mut state = self.anchor_state(space_id)?.unwrap_or_else(|| AnchorState {
            salt: b64::encode(b64::random_bytes::<32>()),
            indices: Vec::new(),
            checkpoint: None,
        });
        if records.len() < state.indices.len() {
            return Err(fail(
                "the consent log is shorter than what was anchored: records were dropped",
            ));
        }
        let leaves = Self::leaves(&state, &records)?;
        let new = &leaves[state.indices.len()..];
        let anchored_now = new.len();
        if !new.is_empty() {
            state
                .indices
                .extend(client.append_leaves(new).map_err(exchange_fail(""))?);
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
            anchored_total: state.indices.len() as u64,
        }]);
        Ok(AnchorReport {
            anchored_now,
            anchored_total: state.indices.len(),
            checkpoint_size: cp.0.size,
        })
    }

    /// Re-checks every anchored record against the server's current
    /// checkpoint, and that checkpoint against the last one seen.
    pub fn verify_anchors(
        &self,
        space_id: &str,
        client: &ServerClient,
        verifier: &NoteVerifier,
    ) -> Result<AnchorReport, WalletError> {
        let state = self
            .anchor_state(space_id)?
            .ok_or_else(|| fail("nothing anchored yet"))?;
        let records = self.consent_log(space_id)?;
        if records.len() < state.indices.len() {
            return Err(fail(
                "the consent log is shorter than what was anchored: records were dropped",
            ));
        }
        let leaves = Self::leaves(&state, &records)?;
        let (cp, _) = self.check_anchors(&state, &leaves, client, verifier)?;
        Ok(AnchorReport {
            anchored_now: 0,
            anchored_total: state.indices.len(),
            checkpoint_size: cp.size,
        })
    }

    fn check_anchors(
        &self,
        state: &AnchorState,
        leaves: &[Hash],
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
        for (seq, (leaf, index)) in leaves.iter().zip(&state.indices).enumerate() {
            client
                .verify_inclusion(leaf, *index, &cp)
                .map_err(|e| match e {
                    ClientError::Transport(_) | ClientError::Cancelled => exchange_fail("")(e),
                    e => fail(format!(
                        "consent record {} does not match what was anchored: {e}",
                        seq + 1
                    )),
                })?;
        }
        Ok((cp, note))
    }
}
