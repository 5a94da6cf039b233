//! Storage behind the service layer. One trait, two backends (SQLite,
//! embedded; PostgreSQL, for several stateless instances), one conformance
//! suite. Methods are synchronous; the HTTP layer runs them on the blocking
//! pool. Every method that must be atomic is one transaction.

pub mod postgres;
pub mod sqlite;

use serde::{Deserialize, Serialize};

/// A storage failure or a rule the store enforces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The row already exists (e.g. space id taken).
    #[error("already exists")]
    Conflict,
    /// The database failed.
    #[error("database: {0}")]
    Backend(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict
            }
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// A registered space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceRow {
    /// Space id.
    pub id: String,
    /// The space's public key (JWK JSON).
    pub jwk: String,
    /// Registered at.
    pub created_at: i64,
}

/// An enrolled device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRow {
    /// Device id.
    pub id: String,
    /// Its space.
    pub space_id: String,
    /// Its public key (JWK JSON).
    pub jwk: String,
    /// The data key wrapped for this device by the device that enrolled it
    /// (opaque to the server), if any.
    pub wrapped_key: Option<String>,
    /// Its certificate chain, leaf first, as a JSON array of compact JWS
    /// (none for a space's first device: the space key vouches for it).
    pub certificates: Option<String>,
    /// When it was removed from the space; a removed device is refused.
    pub removed_at: Option<i64>,
}

/// An opaque encrypted record of a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordRow {
    /// Record id (chosen by the client).
    pub id: String,
    /// base64url SHA-256 of the ciphertext (idempotency).
    pub content_hash: String,
    /// The ciphertext, base64url.
    pub ciphertext: String,
    /// Server-assigned, monotonic across the space.
    pub cursor: i64,
}

/// What happened to one pushed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// Stored (new or updated).
    Stored,
    /// The same content was already stored.
    Duplicate,
    /// Changed since the client's base cursor: not overwritten.
    Conflict,
}

/// A record as pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushRecord {
    /// Record id.
    pub id: String,
    /// base64url SHA-256 of the ciphertext.
    pub content_hash: String,
    /// Ciphertext, base64url.
    pub ciphertext: String,
    /// The cursor of the version the client changed (absent for new records).
    #[serde(default)]
    pub base_cursor: Option<i64>,
}

/// The outcome for one pushed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushResult {
    /// Record id.
    pub id: String,
    /// Outcome.
    pub status: PushStatus,
    /// The record's cursor now.
    pub cursor: i64,
}

/// A signed checkpoint with its tree size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRow {
    /// Tree size.
    pub size: u64,
    /// The signed note.
    pub note: String,
}

/// One row of the usage ledger: a use or a refused attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    /// The authorisation.
    pub authorization_id: String,
    /// The relying party.
    pub client_id: String,
    /// When.
    pub time: i64,
    /// `use` or `refusal`.
    pub kind: String,
    /// Use number, or the reason of the refusal.
    pub detail: String,
}

/// Signs the checkpoint for a new tree size, given the leaves from the
/// caller's known size up to it.
pub type SignCheckpoint<'a> = dyn FnMut(&[[u8; 32]], u64) -> Result<String, StoreError> + 'a;

/// The storage interface.
pub trait Store: Send + Sync + 'static {
    /// Registers a space with its first device. `Conflict` if the space or device exists.
    fn create_space(&self, space: &SpaceRow, device: &DeviceRow) -> Result<(), StoreError>;
    /// A space.
    fn space(&self, id: &str) -> Result<Option<SpaceRow>, StoreError>;
    /// Enrols another device. `Conflict` if the device id exists.
    fn add_device(&self, device: &DeviceRow) -> Result<(), StoreError>;
    /// A device.
    fn device(&self, id: &str) -> Result<Option<DeviceRow>, StoreError>;
    /// Every device of a space (removed ones too), in enrolment order.
    fn devices(&self, space_id: &str) -> Result<Vec<DeviceRow>, StoreError>;
    /// Marks a device of `space_id` removed at `now`; `false` if there is
    /// no such device or it was removed already.
    fn remove_device(&self, space_id: &str, id: &str, now: i64) -> Result<bool, StoreError>;
    /// Replaces the wrapped data key left for a device (key rotation).
    fn set_wrapped_key(&self, id: &str, wrapped_key: &str) -> Result<(), StoreError>;
    /// Records a request nonce; `false` if it was seen before (replay).
    /// Nonces older than `prune_before` are forgotten.
    fn use_nonce(
        &self,
        key_id: &str,
        nonce: &str,
        now: i64,
        prune_before: i64,
    ) -> Result<bool, StoreError>;

    /// Stores pushed records atomically, assigning cursors.
    fn push(&self, space_id: &str, records: &[PushRecord]) -> Result<Vec<PushResult>, StoreError>;
    /// Records after `cursor`, oldest first, at most `limit`.
    fn pull(&self, space_id: &str, cursor: i64, limit: usize)
        -> Result<Vec<RecordRow>, StoreError>;

    /// Queues leaf hashes for the log.
    fn queue_leaves(&self, leaves: &[[u8; 32]]) -> Result<(), StoreError>;
    /// Integrates queued leaves under the log lock, so that only one
    /// history is ever signed, whatever the number of server instances.
    /// `sign` receives the leaves from `known_size` (what the caller already
    /// holds) to the new size, and the new size; it returns the signed
    /// checkpoint, stored in the same transaction. Returns `None` if nothing
    /// was queued and the caller is up to date.
    fn integrate(
        &self,
        known_size: u64,
        sign: &mut SignCheckpoint<'_>,
    ) -> Result<Option<CheckpointRow>, StoreError>;
    /// Leaves `[start, end)`.
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<[u8; 32]>, StoreError>;
    /// The index of a leaf hash, if integrated.
    fn leaf_index(&self, leaf: &[u8; 32]) -> Result<Option<u64>, StoreError>;
    /// The latest checkpoint.
    fn checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError>;

    /// Publishes a status list token under `key` (e.g. a space id).
    fn put_status_list(&self, key: &str, token: &str) -> Result<(), StoreError>;
    /// Replaces the status list under `key` only if it is still `expected`
    /// (`None`: only if there is none yet); `false` if someone else changed it.
    fn swap_status_list(
        &self,
        key: &str,
        expected: Option<&str>,
        token: &str,
    ) -> Result<bool, StoreError>;
    /// A published status list token.
    fn status_list(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Stores a JSON document under (`kind`, `id`); `Conflict` if it exists
    /// and `overwrite` is false.
    fn put_object(
        &self,
        kind: &str,
        id: &str,
        body: &str,
        overwrite: bool,
    ) -> Result<(), StoreError>;
    /// A stored document.
    fn object(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError>;
    /// All documents of a kind, by id.
    fn objects(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Removes and returns a document, atomically (single-use codes).
    fn take_object(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError>;

    /// Records a use of an authorisation if fewer than `max` are recorded,
    /// atomically: `Some(use number)`, or `None` when the limit is reached.
    fn record_use(
        &self,
        authorization_id: &str,
        client_id: &str,
        max: u32,
        time: i64,
    ) -> Result<Option<u32>, StoreError>;
    /// Records a refused use attempt.
    fn record_refusal(
        &self,
        authorization_id: &str,
        client_id: &str,
        time: i64,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// The usage ledger (uses and refusals, in time order), optionally for one relying party.
    fn usage(&self, client_id: Option<&str>) -> Result<Vec<UsageRow>, StoreError>;
    /// How many records a space holds.
    fn record_count(&self, space_id: &str) -> Result<i64, StoreError>;
    /// Adds `amount` to what `space_id` has used of `kind` if the total stays
    /// within `limit`, atomically; `false` (and nothing added) otherwise.
    fn consume_quota(
        &self,
        space_id: &str,
        kind: &str,
        amount: i64,
        limit: i64,
    ) -> Result<bool, StoreError>;
}
