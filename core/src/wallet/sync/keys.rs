//! The space's sync keys (an id key and one encryption key per epoch),
//! their storage and rotation, and the hybrid logical clock.

use ring::{
    aead::{LessSafeKey, UnboundKey, AES_256_GCM},
    hmac,
};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::super::{lock, Wallet, WalletError};
use crate::b64;

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

    pub(crate) fn current(&self) -> Result<(u32, LessSafeKey), WalletError> {
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
    pub(crate) fn server_id(&self, local_id: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.id_key);
        b64::encode(&hmac::sign(&key, local_id.as_bytes()).as_ref()[..24])
    }

    /// What was last pushed of an item (keyed: the wallet file does not
    /// reveal guessable contents).
    pub(crate) fn mac(&self, local_id: &str, plain: &[u8]) -> Vec<u8> {
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

    pub(crate) fn read_sync_keys(&self, space_id: &str) -> Result<Option<SyncKeys>, WalletError> {
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
}
