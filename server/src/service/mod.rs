//! The rules: who may do what, what is accepted, what is signed. Handlers
//! call in here; the store only stores.

pub mod auth;
pub mod issuers;
pub mod merkle;
pub mod trust;

use std::sync::{Arc, Mutex};

use satchel_core::{
    b64, jws,
    note::{Checkpoint, NoteSigner},
    status_list::StatusList,
    tlog::Hash,
    Jwk,
};
use serde::{Deserialize, Serialize};

use crate::store::{
    CheckpointRow, DeviceRow, PushRecord, PushResult, RecordRow, SpaceRow, Store, StoreError,
};
pub use merkle::MerkleTree;

/// Largest number of records per push or pull, and leaves per append.
pub const MAX_BATCH: usize = 500;

/// Leaves a space may add to the transparency log, in all (they are
/// permanent: a consent log of this many records is years of heavy use).
pub const QUOTA_LEAVES: i64 = 100_000;

/// Records a space may hold (each at most the 1 MiB body limit).
pub const QUOTA_RECORDS: i64 = 100_000;

/// Largest status list a space may publish, decoded: 1 Mi one-bit entries
/// (a million authorisations and delegations), so checking a publication
/// against the previous one is bounded work.
pub const MAX_SPACE_STATUS_BYTES: usize = 128 * 1024;

/// Leaf hashes from the wire (1 to [`MAX_BATCH`] base64url SHA-256 values).
fn decode_leaves(leaves: &[String]) -> Result<Vec<Hash>, ServiceError> {
    if leaves.is_empty() || leaves.len() > MAX_BATCH {
        return Err(ServiceError::BadRequest(format!(
            "append 1-{MAX_BATCH} leaves"
        )));
    }
    leaves
        .iter()
        .map(|l| {
            b64::decode(l)
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .ok_or_else(|| {
                    ServiceError::BadRequest("leaves are base64url of 32-byte hashes".into())
                })
        })
        .collect()
}

/// A status list as the server serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedStatusList {
    /// The `statuslist+jwt`.
    pub token: String,
    /// Its entity tag (quoted).
    pub etag: String,
    /// Seconds caches may keep it.
    pub max_age: i64,
}

/// A refusal or failure, with a stable code for `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// Malformed or out-of-range input.
    #[error("{0}")]
    BadRequest(String),
    /// Missing or invalid request signature.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed (another space's data).
    #[error("{0}")]
    Forbidden(String),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// Exists already.
    #[error("{0}")]
    Conflict(String),
    /// A nonce was used twice.
    #[error("request replayed")]
    Replay,
    /// Too many requests from this key.
    #[error("rate limit exceeded")]
    RateLimited,
    /// Larger than a space may publish.
    #[error("{0}")]
    TooLarge(String),
    /// A space's quota is used up.
    #[error("{0}")]
    QuotaExceeded(String),
    /// Storage failed.
    #[error("storage unavailable")]
    Storage(String),
}

impl ServiceError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::BadRequest(_) => "bad_request",
            ServiceError::Unauthenticated(_) => "unauthenticated",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::Replay => "replay",
            ServiceError::RateLimited => "rate_limited",
            ServiceError::TooLarge(_) => "too_large",
            ServiceError::QuotaExceeded(_) => "quota_exceeded",
            ServiceError::Storage(_) => "storage",
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ServiceError::Conflict("already exists".into()),
            StoreError::Backend(m) => ServiceError::Storage(m),
        }
    }
}

/// Registration of a new space with its first device.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RegisterSpace {
    /// Space id (client-chosen, 1–64 of `[A-Za-z0-9_-]`).
    pub space_id: String,
    /// The space key (public JWK).
    pub space_jwk: serde_json::Value,
    /// First device id.
    pub device_id: String,
    /// First device key (public JWK).
    pub device_jwk: serde_json::Value,
    /// `satchel-space+jwt` signed by the space key over
    /// `{space_id, device: <device key thumbprint>, iat}`.
    pub space_proof: String,
}

/// Enrolment of another device by an enrolled one.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EnrolDevice {
    /// New device id.
    pub device_id: String,
    /// New device key (public JWK).
    pub device_jwk: serde_json::Value,
    /// The space's data key wrapped for the new device (opaque to the server).
    pub wrapped_key: String,
    /// The new device's certificate chain, leaf first, ending at the space
    /// key (ADR 0008).
    pub certificates: Vec<String>,
}

/// The server's state of the log and its signer.
pub struct Log {
    /// The checkpoint origin (also the verifier key's name).
    pub origin: String,
    signer: NoteSigner,
    tree: Mutex<MerkleTree>,
}

/// The service.
pub struct Service<S: Store> {
    /// The store.
    pub store: Arc<S>,
    /// The log.
    pub log: Log,
    /// Base URL under which status lists are published, e.g. `https://h/status`.
    pub status_base: String,
    /// Accepted clock skew for request signatures, seconds.
    pub max_skew: i64,
    /// The public base URL.
    pub public_url: String,
    /// The operator key that signs the registry.
    pub operator: Arc<satchel_core::SoftwareKey>,
    /// Demo data on: the demo issuers, their keys and seeded records
    /// (`--demo`; the embedded server used by the demo and tests).
    pub demo: bool,
    /// Leaves each space may add to the log ([`QUOTA_LEAVES`] by default).
    pub quota_leaves: i64,
    /// Records each space may hold ([`QUOTA_RECORDS`] by default).
    pub quota_records: i64,
    /// The `c_nonce` MAC key, read from the store once.
    nonce_key: std::sync::OnceLock<ring::hmac::Key>,
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn jwk(v: &serde_json::Value, what: &str) -> Result<Jwk, ServiceError> {
    Jwk::from_value(v).map_err(|e| ServiceError::BadRequest(format!("{what}: {e}")))
}

impl<S: Store> Service<S> {
    /// A service over `store` at `public_url`; the log's in-memory tree is
    /// rebuilt from the store.
    pub fn new(
        store: Arc<S>,
        signer: NoteSigner,
        public_url: &str,
        operator: satchel_core::SoftwareKey,
    ) -> Result<Self, ServiceError> {
        let origin = signer.verifier().name.clone();
        let log = Log {
            origin,
            signer,
            tree: Mutex::new(MerkleTree::default()),
        };
        let public_url = public_url.trim_end_matches('/').to_owned();
        let service = Service {
            store,
            log,
            status_base: format!("{public_url}/status"),
            max_skew: 300,
            public_url,
            operator: Arc::new(operator),
            demo: false,
            quota_leaves: QUOTA_LEAVES,
            quota_records: QUOTA_RECORDS,
            nonce_key: std::sync::OnceLock::new(),
        };
        service.integrate()?;
        Ok(service)
    }

    fn tree(&self) -> std::sync::MutexGuard<'_, MerkleTree> {
        self.log.tree.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leaves integrated so far (as this instance knows).
    pub fn log_size(&self) -> u64 {
        self.tree().size()
    }

    /// The log's verifier key text.
    pub fn log_verifier_key(&self) -> String {
        self.log.signer.verifier().encode()
    }

    /// Registers a space and its first device. The request itself must be
    /// signed by the device key (checked by the caller with [`auth`]).
    pub fn register_space(&self, r: &RegisterSpace, now: i64) -> Result<(), ServiceError> {
        if !valid_id(&r.space_id) || !valid_id(&r.device_id) {
            return Err(ServiceError::BadRequest(
                "ids are 1-64 characters of A-Z a-z 0-9 - _".into(),
            ));
        }
        let space_key = jwk(&r.space_jwk, "space_jwk")?;
        let device_key = jwk(&r.device_jwk, "device_jwk")?;
        let vk = space_key
            .verifying_key()
            .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        let (header, proof) = jws::verify(&r.space_proof, &vk)
            .map_err(|e| ServiceError::Unauthenticated(format!("space proof: {e}")))?;
        let fresh = proof
            .get("iat")
            .and_then(|v| v.as_i64())
            .is_some_and(|iat| (now - iat).abs() <= self.max_skew);
        if !header.typ_is("satchel-space+jwt")
            || proof.get("space_id").and_then(|v| v.as_str()) != Some(r.space_id.as_str())
            || proof.get("device").and_then(|v| v.as_str())
                != Some(device_key.thumbprint().as_str())
            || !fresh
        {
            return Err(ServiceError::Unauthenticated(
                "space proof does not bind this space and device".into(),
            ));
        }
        let space = SpaceRow {
            id: r.space_id.clone(),
            jwk: space_key.to_value().to_string(),
            created_at: now,
        };
        let device = DeviceRow {
            id: r.device_id.clone(),
            space_id: r.space_id.clone(),
            jwk: device_key.to_value().to_string(),
            ..Default::default()
        };
        self.store
            .create_space(&space, &device)
            .map_err(|e| match e {
                StoreError::Conflict => {
                    ServiceError::Conflict("space or device id already registered".into())
                }
                other => other.into(),
            })
    }

    /// Enrols a new device into `device`'s space: its certificate chain
    /// must end at the space key and pass only through devices that are
    /// still in the space.
    pub fn enrol_device(
        &self,
        device: &DeviceRow,
        space_id: &str,
        e: &EnrolDevice,
    ) -> Result<(), ServiceError> {
        self.same_space(device, space_id)?;
        if !valid_id(&e.device_id) || e.wrapped_key.is_empty() || e.wrapped_key.len() > 16_384 {
            return Err(ServiceError::BadRequest(
                "device id or wrapped key invalid".into(),
            ));
        }
        let key = jwk(&e.device_jwk, "device_jwk")?;
        let leaf = self.verify_device_chain(space_id, &e.certificates)?;
        if leaf.device_id != e.device_id || leaf.key != key {
            return Err(ServiceError::BadRequest(
                "the certificate is for another device or key".into(),
            ));
        }
        let row = DeviceRow {
            id: e.device_id.clone(),
            space_id: space_id.into(),
            jwk: key.to_value().to_string(),
            wrapped_key: Some(e.wrapped_key.clone()),
            certificates: Some(serde_json::json!(e.certificates).to_string()),
            removed_at: None,
        };
        self.store.add_device(&row).map_err(|e| match e {
            StoreError::Conflict => ServiceError::Conflict("device id already enrolled".into()),
            other => other.into(),
        })
    }

    /// Checks a certificate chain for `space_id` against the space key and
    /// the devices removed from it.
    pub fn verify_device_chain(
        &self,
        space_id: &str,
        chain: &[String],
    ) -> Result<satchel_core::device::DeviceCertificate, ServiceError> {
        let space_key = self.space_key(space_id)?;
        let removed = self.removed_devices(space_id)?;
        satchel_core::device::verify_chain(chain, Some(space_id), &space_key, &|d| {
            removed.contains(d)
        })
        .map_err(|e| ServiceError::BadRequest(e.to_string()))
    }

    fn space_key(&self, space_id: &str) -> Result<Jwk, ServiceError> {
        let space = self
            .store
            .space(space_id)?
            .ok_or_else(|| ServiceError::NotFound("no such space".into()))?;
        Jwk::from_json(&space.jwk).map_err(|e| ServiceError::Storage(e.to_string()))
    }

    /// Ids of the devices removed from a space.
    pub fn removed_devices(
        &self,
        space_id: &str,
    ) -> Result<std::collections::HashSet<String>, ServiceError> {
        Ok(self
            .store
            .devices(space_id)?
            .into_iter()
            .filter(|d| d.removed_at.is_some())
            .map(|d| d.id)
            .collect())
    }

    /// The devices of `device`'s space (removed ones marked).
    pub fn devices(
        &self,
        device: &DeviceRow,
        space_id: &str,
    ) -> Result<Vec<DeviceRow>, ServiceError> {
        self.same_space(device, space_id)?;
        Ok(self.store.devices(space_id)?)
    }

    /// Removes a device from `device`'s space (a device may remove itself).
    /// From then on its requests, and anything signed through it, are refused.
    pub fn remove_device(
        &self,
        device: &DeviceRow,
        space_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        self.same_space(device, space_id)?;
        let active = self
            .store
            .devices(space_id)?
            .iter()
            .filter(|d| d.removed_at.is_none())
            .count();
        if active <= 1 {
            return Err(ServiceError::Conflict(
                "the last device of a space cannot be removed".into(),
            ));
        }
        if !self.store.remove_device(space_id, device_id, now)? {
            return Err(ServiceError::NotFound(
                "no such device in this space, or removed already".into(),
            ));
        }
        Ok(())
    }

    /// Leaves a newly wrapped data key for another device of the space
    /// (after a rotation).
    pub fn rewrap_key(
        &self,
        device: &DeviceRow,
        space_id: &str,
        device_id: &str,
        wrapped_key: &str,
    ) -> Result<(), ServiceError> {
        self.same_space(device, space_id)?;
        if wrapped_key.is_empty() || wrapped_key.len() > 16_384 {
            return Err(ServiceError::BadRequest("wrapped key invalid".into()));
        }
        match self.store.device(device_id)? {
            Some(d) if d.space_id == space_id && d.removed_at.is_none() => {
                Ok(self.store.set_wrapped_key(device_id, wrapped_key)?)
            }
            _ => Err(ServiceError::NotFound(
                "no such device in this space".into(),
            )),
        }
    }

    /// The wrapped data key left for `device` by the device that enrolled it.
    pub fn wrapped_key(
        &self,
        device: &DeviceRow,
        space_id: &str,
        device_id: &str,
    ) -> Result<String, ServiceError> {
        self.same_space(device, space_id)?;
        if device.id != device_id {
            return Err(ServiceError::Forbidden(
                "a device reads only its own wrapped key".into(),
            ));
        }
        device
            .wrapped_key
            .clone()
            .ok_or_else(|| ServiceError::NotFound("no wrapped key for this device".into()))
    }

    fn same_space(&self, device: &DeviceRow, space_id: &str) -> Result<(), ServiceError> {
        if device.space_id != space_id {
            return Err(ServiceError::Forbidden(
                "this device is not enrolled in that space".into(),
            ));
        }
        Ok(())
    }

    /// Pushes encrypted records.
    pub fn push(
        &self,
        device: &DeviceRow,
        space_id: &str,
        records: &[PushRecord],
    ) -> Result<Vec<PushResult>, ServiceError> {
        self.same_space(device, space_id)?;
        if records.is_empty() || records.len() > MAX_BATCH {
            return Err(ServiceError::BadRequest(format!(
                "push 1-{MAX_BATCH} records"
            )));
        }
        for r in records {
            if !valid_id(&r.id) {
                return Err(ServiceError::BadRequest(
                    "record ids are 1-64 characters of A-Z a-z 0-9 - _".into(),
                ));
            }
            let bytes = b64::decode(&r.ciphertext)
                .ok_or_else(|| ServiceError::BadRequest("ciphertext must be base64url".into()))?;
            if b64::sha256_b64(&bytes) != r.content_hash {
                return Err(ServiceError::BadRequest(format!(
                    "content_hash of {} does not match its ciphertext",
                    r.id
                )));
            }
        }
        // A space holds at most `quota_records`; a push whose new records
        // (those without a base cursor) could take it beyond is refused.
        // Updates of stored records always go through.
        let new = records.iter().filter(|r| r.base_cursor.is_none()).count() as i64;
        if new > 0 && self.store.record_count(space_id)? + new > self.quota_records {
            return Err(ServiceError::QuotaExceeded(format!(
                "a space may hold at most {} records",
                self.quota_records
            )));
        }
        Ok(self.store.push(space_id, records)?)
    }

    /// Pulls records after `cursor`.
    pub fn pull(
        &self,
        device: &DeviceRow,
        space_id: &str,
        cursor: i64,
        limit: usize,
    ) -> Result<Vec<RecordRow>, ServiceError> {
        self.same_space(device, space_id)?;
        Ok(self
            .store
            .pull(space_id, cursor.max(0), limit.clamp(1, MAX_BATCH))?)
    }

    /// Charges `count` leaves to the device's space: leaves are permanent,
    /// so each space may add at most `quota_leaves`.
    pub fn charge_leaves(&self, device: &DeviceRow, count: usize) -> Result<(), ServiceError> {
        if count == 0 || count > MAX_BATCH {
            return Err(ServiceError::BadRequest(format!(
                "append 1-{MAX_BATCH} leaves"
            )));
        }
        if self
            .store
            .consume_quota(&device.space_id, "leaves", count as i64, self.quota_leaves)?
        {
            Ok(())
        } else {
            Err(ServiceError::QuotaExceeded(format!(
                "a space may add at most {} leaves to the log",
                self.quota_leaves
            )))
        }
    }

    /// A device appends leaves for its space: charged to the space's quota,
    /// queued, and with `wait`, integrated at once so their indices can be
    /// returned (`None` without `wait`: the next integration picks them up).
    pub fn append_leaves(
        &self,
        device: &DeviceRow,
        leaves: &[String],
        wait: bool,
    ) -> Result<Option<Vec<u64>>, ServiceError> {
        let hashes = decode_leaves(leaves)?;
        self.charge_leaves(device, hashes.len())?;
        self.store.queue_leaves(&hashes)?;
        if !wait {
            return Ok(None);
        }
        self.integrate()?;
        hashes
            .iter()
            .map(|h| self.leaf_index(&b64::encode(h)))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Queues leaf hashes (salted hashes of consent records: nothing readable).
    pub fn queue_leaves(&self, leaves: &[String]) -> Result<Vec<Hash>, ServiceError> {
        let hashes = decode_leaves(leaves)?;
        self.store.queue_leaves(&hashes)?;
        Ok(hashes)
    }

    /// Integrates queued leaves and signs a checkpoint. Safe to run from
    /// several instances: the store serialises integration.
    pub fn integrate(&self) -> Result<Option<CheckpointRow>, ServiceError> {
        let mut tree = self.tree();
        let known = tree.size();
        let log = &self.log;
        let mut sign = |new: &[Hash], size: u64| -> Result<String, StoreError> {
            for l in new {
                tree.push(*l);
            }
            if tree.size() != size {
                return Err(StoreError::Backend(
                    "log out of step with the database".into(),
                ));
            }
            let root = tree
                .root(size)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            Checkpoint {
                origin: log.origin.clone(),
                size,
                root,
            }
            .sign(&log.signer)
            .map_err(|e| StoreError::Backend(e.to_string()))
        };
        let result = self.store.integrate(known, &mut sign);
        if result.is_err() {
            tree.truncate(known);
        }
        Ok(result?)
    }

    /// The latest signed checkpoint. Public reads never integrate (that
    /// takes the log lock): the background integrator and `?wait=true`
    /// appends do.
    pub fn checkpoint(&self) -> Result<CheckpointRow, ServiceError> {
        if let Some(c) = self.store.checkpoint()? {
            return Ok(c);
        }
        // The empty log: sign its checkpoint on demand (nothing to store).
        let root = self
            .tree()
            .root(0)
            .map_err(|e| ServiceError::Storage(e.to_string()))?;
        let note = Checkpoint {
            origin: self.log.origin.clone(),
            size: 0,
            root,
        }
        .sign(&self.log.signer)
        .map_err(|e| ServiceError::Storage(e.to_string()))?;
        Ok(CheckpointRow { size: 0, note })
    }

    fn caught_up(&self, size: u64) -> Result<std::sync::MutexGuard<'_, MerkleTree>, ServiceError> {
        // Another instance may have integrated more: catch up, but only to a
        // size a checkpoint already vouches for, so a request cannot make
        // this instance take the log lock at will.
        if self.tree().size() < size && self.store.checkpoint()?.is_some_and(|c| c.size >= size) {
            self.integrate()?;
        }
        let tree = self.tree();
        if size > tree.size() {
            return Err(ServiceError::BadRequest("size beyond the log".into()));
        }
        Ok(tree)
    }

    /// Inclusion proof of leaf `index` in the tree of `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ServiceError> {
        self.caught_up(size)?
            .inclusion_proof(index, size)
            .map_err(|e| ServiceError::BadRequest(e.to_string()))
    }

    /// Consistency proof between two sizes.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, ServiceError> {
        self.caught_up(size2)?
            .consistency_proof(size1, size2)
            .map_err(|e| ServiceError::BadRequest(e.to_string()))
    }

    /// The index of an integrated leaf.
    pub fn leaf_index(&self, leaf: &str) -> Result<u64, ServiceError> {
        let h = b64::decode(leaf)
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| ServiceError::BadRequest("leaf must be base64url of 32 bytes".into()))?;
        self.store
            .leaf_index(&h)?
            .ok_or_else(|| ServiceError::NotFound("leaf not in the log".into()))
    }

    /// The URI a space's status list is published at.
    pub fn status_uri(&self, space_id: &str) -> String {
        format!("{}/{space_id}", self.status_base)
    }

    /// Publishes a space's status list: it must be a `statuslist+jwt` signed
    /// by the space key, for this space's URI.
    pub fn put_status_list(
        &self,
        device: &DeviceRow,
        space_id: &str,
        token: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        self.same_space(device, space_id)?;
        let space = self
            .store
            .space(space_id)?
            .ok_or_else(|| ServiceError::NotFound("no such space".into()))?;
        let key = Jwk::from_json(&space.jwk).map_err(|e| ServiceError::Storage(e.to_string()))?;
        let removed = self.removed_devices(space_id)?;
        let uri = self.status_uri(space_id);
        // Signed by the space key or by a device still in the space.
        let read = |t: &str| {
            StatusList::from_space_token(t, &key, &uri, now, MAX_SPACE_STATUS_BYTES, &|d| {
                removed.contains(d)
            })
        };
        let list = read(token).map_err(|e| match e {
            satchel_core::status_list::StatusListError::TooLarge => ServiceError::TooLarge(
                format!("a space's status list may hold at most {MAX_SPACE_STATUS_BYTES} bytes"),
            ),
            e => ServiceError::BadRequest(format!("status list: {e}")),
        })?;
        let iat = |t: &str| {
            jws::decode(t)
                .ok()
                .and_then(|j| j.payload_object().ok())
                .and_then(|p| p.get("iat").and_then(|v| v.as_i64()))
        };
        let previous = self.store.status_list(space_id)?;
        if let Some(prev) = &previous {
            // Only forward: a newer list that keeps every withdrawal. An old
            // token replayed by a lost device cannot undo withdrawals.
            if iat(token) < iat(prev) {
                return Err(ServiceError::Conflict(
                    "status list is older than the published one".into(),
                ));
            }
            // (A list a since-removed device published still counts.)
            let old = StatusList::from_space_token(
                prev,
                &key,
                &uri,
                now,
                MAX_SPACE_STATUS_BYTES,
                &|_| false,
            );
            if let Ok(old) = old {
                let cleared = (0..old.len()).any(|i| {
                    old.get(i) == Ok(satchel_core::status_list::INVALID)
                        && list.get(i) != Ok(satchel_core::status_list::INVALID)
                });
                if cleared {
                    return Err(ServiceError::Conflict(
                        "a withdrawal cannot be undone".into(),
                    ));
                }
            }
        }
        if !self
            .store
            .swap_status_list(space_id, previous.as_deref(), token.trim())?
        {
            return Err(ServiceError::Conflict(
                "the status list changed meanwhile: fetch it and retry".into(),
            ));
        }
        Ok(())
    }

    /// A published status list as served: the token, its entity tag and how
    /// long caches may keep it (its `ttl`, 300 s without one).
    pub fn served_status_list(&self, key: &str) -> Result<ServedStatusList, ServiceError> {
        let token = self.status_list(key)?;
        let max_age = jws::decode(&token)
            .ok()
            .and_then(|j| j.payload_object().ok())
            .and_then(|p| p.get("ttl").and_then(|v| v.as_i64()))
            .filter(|t| *t >= 0)
            .unwrap_or(300);
        Ok(ServedStatusList {
            etag: format!("\"{}\"", b64::sha256_b64(token.as_bytes())),
            token,
            max_age,
        })
    }

    /// Registers a space from a request signed by the device its body
    /// introduces (no device is enrolled yet: the key comes from the body).
    pub fn register_space_signed(
        &self,
        r: &RegisterSpace,
        authorization: Option<&str>,
        parts: auth::RequestParts<'_>,
        now: i64,
    ) -> Result<(), ServiceError> {
        let key = Jwk::from_value(&r.device_jwk)
            .map_err(|e| ServiceError::BadRequest(format!("device_jwk: {e}")))?;
        self.authenticate(authorization, parts, now, Some((&r.device_id, &key)))?;
        self.register_space(r, now)
    }

    /// A published status list token: a space id, or `issuer/<name>`.
    pub fn status_list(&self, space_id: &str) -> Result<String, ServiceError> {
        self.store
            .status_list(space_id)?
            .ok_or_else(|| ServiceError::NotFound("no status list published for this space".into()))
    }
}
