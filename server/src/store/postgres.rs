//! The PostgreSQL backend, for operators running several stateless server
//! instances over one database. Log integration takes a row lock on
//! `log_state`, so however many instances integrate, one history is signed.

use std::sync::Mutex;

use postgres::{Client, NoTls};

use super::{
    CheckpointRow, DeviceRow, PushRecord, PushResult, PushStatus, RecordRow, SignCheckpoint,
    SpaceRow, Store, StoreError, UsageRow,
};

/// Numbered schema migrations: applying `MIGRATIONS[i]` brings the database
/// to version `i + 1` (table `schema_version`). Append; never edit one that
/// has shipped. Version 1 uses `IF NOT EXISTS`, so databases made before
/// versions were recorded migrate too.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3];

const V1: &str = "
CREATE TABLE IF NOT EXISTS spaces (id TEXT PRIMARY KEY, jwk TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), jwk TEXT NOT NULL, wrapped_key TEXT
);
CREATE TABLE IF NOT EXISTS nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at BIGINT NOT NULL, PRIMARY KEY (key_id, nonce));
CREATE INDEX IF NOT EXISTS nonces_by_time ON nonces(seen_at);
CREATE TABLE IF NOT EXISTS records (
    space_id TEXT NOT NULL REFERENCES spaces(id), id TEXT NOT NULL, content_hash TEXT NOT NULL,
    ciphertext TEXT NOT NULL, cursor BIGINT NOT NULL, PRIMARY KEY (space_id, id)
);
CREATE INDEX IF NOT EXISTS records_by_cursor ON records(space_id, cursor);
CREATE TABLE IF NOT EXISTS cursors (space_id TEXT PRIMARY KEY, last BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS pending_leaves (seq BIGSERIAL PRIMARY KEY, hash BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS leaves (idx BIGINT PRIMARY KEY, hash BYTEA NOT NULL);
CREATE INDEX IF NOT EXISTS leaves_by_hash ON leaves(hash);
CREATE TABLE IF NOT EXISTS checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log_state (id INT PRIMARY KEY, size BIGINT NOT NULL);
INSERT INTO log_state (id, size) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS status_lists (key TEXT PRIMARY KEY, token TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS usage (
    seq BIGSERIAL PRIMARY KEY, authz_id TEXT NOT NULL, client_id TEXT NOT NULL,
    time BIGINT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_authz ON usage(authz_id, kind);
CREATE TABLE IF NOT EXISTS usage_locks (authz_id TEXT PRIMARY KEY);
";

/// Per-space quotas (log leaves).
const V2: &str = "
CREATE TABLE quotas (space_id TEXT NOT NULL, kind TEXT NOT NULL, used BIGINT NOT NULL, PRIMARY KEY (space_id, kind));
";

/// Device certificates and removal (several devices per space).
const V3: &str = "
ALTER TABLE devices ADD COLUMN certificates TEXT;
ALTER TABLE devices ADD COLUMN removed_at BIGINT;
ALTER TABLE devices ADD COLUMN seq BIGSERIAL;
";

const DEVICE_INSERT: &str =
    "INSERT INTO devices (id, space_id, jwk, wrapped_key, certificates) VALUES ($1, $2, $3, $4, $5)";
const DEVICE_COLUMNS: &str = "id, space_id, jwk, wrapped_key, certificates, removed_at";

fn device_row(r: &postgres::Row) -> DeviceRow {
    DeviceRow {
        id: r.get(0),
        space_id: r.get(1),
        jwk: r.get(2),
        wrapped_key: r.get(3),
        certificates: r.get(4),
        removed_at: r.get(5),
    }
}

/// The PostgreSQL store: a small pool of connections.
pub struct PostgresStore {
    url: String,
    pool: Mutex<Vec<Client>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

fn pg(e: postgres::Error) -> StoreError {
    if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict
    } else {
        StoreError::Backend(e.to_string())
    }
}

fn hash_of(v: Vec<u8>) -> Result<[u8; 32], StoreError> {
    v.try_into()
        .map_err(|_| StoreError::Backend("stored leaf is not 32 bytes".into()))
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and creates the schema.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut client = Client::connect(url, NoTls).map_err(pg)?;
        // Migrations run under an advisory lock, so instances starting
        // together apply each one once.
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute("SELECT pg_advisory_xact_lock(4242)", &[])
            .map_err(pg)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (id INT PRIMARY KEY, version INT NOT NULL);
             INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;",
        )
        .map_err(pg)?;
        let version: i32 = tx
            .query_one("SELECT version FROM schema_version WHERE id = 1", &[])
            .map_err(pg)?
            .get(0);
        let known = MIGRATIONS.len() as i32;
        if version > known {
            return Err(StoreError::Backend(format!(
                "database schema version {version} is newer than this server's ({known})"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql).map_err(pg)?;
            tx.execute(
                "UPDATE schema_version SET version = $1 WHERE id = 1",
                &[&(i as i32 + 1)],
            )
            .map_err(pg)?;
        }
        tx.commit().map_err(pg)?;
        Ok(PostgresStore {
            url: url.into(),
            pool: Mutex::new(vec![client]),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut client = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => Client::connect(&self.url, NoTls).map_err(pg)?,
        };
        let out = f(&mut client);
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 8 && !client.is_closed() {
            pool.push(client);
        }
        out
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closing a client blocks on its connection; the store may be dropped
        // on an async thread, so close them on a thread of their own.
        let clients = std::mem::take(self.pool.get_mut().unwrap_or_else(|p| p.into_inner()));
        if !clients.is_empty() {
            let _ = std::thread::spawn(move || drop(clients)).join();
        }
    }
}

impl Store for PostgresStore {
    fn create_space(&self, space: &SpaceRow, device: &DeviceRow) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(pg)?;
            tx.execute(
                "INSERT INTO spaces (id, jwk, created_at) VALUES ($1, $2, $3)",
                &[&space.id, &space.jwk, &space.created_at],
            )
            .map_err(pg)?;
            tx.execute(
                DEVICE_INSERT,
                &[
                    &device.id,
                    &device.space_id,
                    &device.jwk,
                    &device.wrapped_key,
                    &device.certificates,
                ],
            )
            .map_err(pg)?;
            tx.commit().map_err(pg)
        })
    }

    fn space(&self, id: &str) -> Result<Option<SpaceRow>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT id, jwk, created_at FROM spaces WHERE id = $1",
                &[&id],
            )
            .map_err(pg)?
            .map(|r| SpaceRow {
                id: r.get(0),
                jwk: r.get(1),
                created_at: r.get(2),
            }))
        })
    }

    fn add_device(&self, d: &DeviceRow) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                DEVICE_INSERT,
                &[&d.id, &d.space_id, &d.jwk, &d.wrapped_key, &d.certificates],
            )
            .map_err(pg)
            .map(|_| ())
        })
    }

    fn device(&self, id: &str) -> Result<Option<DeviceRow>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1"),
                &[&id],
            )
            .map_err(pg)?
            .as_ref()
            .map(device_row))
        })
    }

    fn devices(&self, space_id: &str) -> Result<Vec<DeviceRow>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE space_id = $1 ORDER BY seq"),
                &[&space_id],
            )
            .map_err(pg)?
            .iter()
            .map(device_row)
            .collect())
        })
    }

    fn remove_device(&self, space_id: &str, id: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE devices SET removed_at = $3 WHERE space_id = $1 AND id = $2 AND removed_at IS NULL",
                &[&space_id, &id, &now],
            )
            .map_err(pg)?
                == 1)
        })
    }

    fn set_wrapped_key(&self, id: &str, wrapped_key: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE devices SET wrapped_key = $2 WHERE id = $1",
                &[&id, &wrapped_key],
            )
            .map_err(pg)
            .map(|_| ())
        })
    }

    fn use_nonce(
        &self,
        key_id: &str,
        nonce: &str,
        now: i64,
        prune_before: i64,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM nonces WHERE seen_at < $1", &[&prune_before]).map_err(pg)?;
            let n = c
                .execute("INSERT INTO nonces (key_id, nonce, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", &[&key_id, &nonce, &now])
                .map_err(pg)?;
            Ok(n == 1)
        })
    }

    fn push(&self, space_id: &str, records: &[PushRecord]) -> Result<Vec<PushResult>, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(pg)?;
            tx.execute("INSERT INTO cursors (space_id, last) VALUES ($1, 0) ON CONFLICT DO NOTHING", &[&space_id]).map_err(pg)?;
            let mut last: i64 = tx.query_one("SELECT last FROM cursors WHERE space_id = $1 FOR UPDATE", &[&space_id]).map_err(pg)?.get(0);
            let mut out = Vec::with_capacity(records.len());
            for rec in records {
                let existing = tx
                    .query_opt("SELECT content_hash, cursor FROM records WHERE space_id = $1 AND id = $2", &[&space_id, &rec.id])
                    .map_err(pg)?
                    .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)));
                match &existing {
                    Some((hash, cursor)) if *hash == rec.content_hash => {
                        out.push(PushResult { id: rec.id.clone(), status: PushStatus::Duplicate, cursor: *cursor });
                        continue;
                    }
                    Some((_, cursor)) if rec.base_cursor != Some(*cursor) => {
                        out.push(PushResult { id: rec.id.clone(), status: PushStatus::Conflict, cursor: *cursor });
                        continue;
                    }
                    _ => {}
                }
                last += 1;
                tx.execute(
                    "INSERT INTO records (space_id, id, content_hash, ciphertext, cursor) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (space_id, id) DO UPDATE SET content_hash = excluded.content_hash,
                         ciphertext = excluded.ciphertext, cursor = excluded.cursor",
                    &[&space_id, &rec.id, &rec.content_hash, &rec.ciphertext, &last],
                )
                .map_err(pg)?;
                out.push(PushResult { id: rec.id.clone(), status: PushStatus::Stored, cursor: last });
            }
            tx.execute("UPDATE cursors SET last = $2 WHERE space_id = $1", &[&space_id, &last]).map_err(pg)?;
            tx.commit().map_err(pg)?;
            Ok(out)
        })
    }

    fn pull(
        &self,
        space_id: &str,
        cursor: i64,
        limit: usize,
    ) -> Result<Vec<RecordRow>, StoreError> {
        self.with(|c| {
            let rows = c
                .query(
                    "SELECT id, content_hash, ciphertext, cursor FROM records WHERE space_id = $1 AND cursor > $2 ORDER BY cursor LIMIT $3",
                    &[&space_id, &cursor, &(limit as i64)],
                )
                .map_err(pg)?;
            Ok(rows.iter().map(|r| RecordRow { id: r.get(0), content_hash: r.get(1), ciphertext: r.get(2), cursor: r.get(3) }).collect())
        })
    }

    fn queue_leaves(&self, leaves: &[[u8; 32]]) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(pg)?;
            let stmt = tx
                .prepare("INSERT INTO pending_leaves (hash) VALUES ($1)")
                .map_err(pg)?;
            for l in leaves {
                tx.execute(&stmt, &[&&l[..]]).map_err(pg)?;
            }
            tx.commit().map_err(pg)
        })
    }

    fn integrate(
        &self,
        known_size: u64,
        sign: &mut SignCheckpoint<'_>,
    ) -> Result<Option<CheckpointRow>, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(pg)?;
            let size = tx
                .query_one("SELECT size FROM log_state WHERE id = 1 FOR UPDATE", &[])
                .map_err(pg)?
                .get::<_, i64>(0) as u64;
            let mut new_leaves = Vec::new();
            for r in tx
                .query(
                    "SELECT hash FROM leaves WHERE idx >= $1 ORDER BY idx",
                    &[&(known_size as i64)],
                )
                .map_err(pg)?
            {
                new_leaves.push(hash_of(r.get(0))?);
            }
            let pending = tx
                .query(
                    "SELECT seq, hash FROM pending_leaves ORDER BY seq FOR UPDATE SKIP LOCKED",
                    &[],
                )
                .map_err(pg)?;
            if pending.is_empty() && new_leaves.is_empty() {
                return Ok(None);
            }
            let mut idx = size;
            let stmt = tx
                .prepare("INSERT INTO leaves (idx, hash) VALUES ($1, $2)")
                .map_err(pg)?;
            let mut taken: Vec<i64> = Vec::with_capacity(pending.len());
            for r in &pending {
                let h: Vec<u8> = r.get(1);
                tx.execute(&stmt, &[&(idx as i64), &h]).map_err(pg)?;
                new_leaves.push(hash_of(h)?);
                taken.push(r.get(0));
                idx += 1;
            }
            if !taken.is_empty() {
                tx.execute("DELETE FROM pending_leaves WHERE seq = ANY($1)", &[&taken])
                    .map_err(pg)?;
                tx.execute(
                    "UPDATE log_state SET size = $1 WHERE id = 1",
                    &[&(idx as i64)],
                )
                .map_err(pg)?;
            }
            let note = sign(&new_leaves, idx)?;
            if !taken.is_empty() {
                tx.execute(
                    "INSERT INTO checkpoints (size, note) VALUES ($1, $2)",
                    &[&(idx as i64), &note],
                )
                .map_err(pg)?;
            }
            tx.commit().map_err(pg)?;
            Ok(Some(CheckpointRow { size: idx, note }))
        })
    }

    fn leaves(&self, start: u64, end: u64) -> Result<Vec<[u8; 32]>, StoreError> {
        self.with(|c| {
            c.query(
                "SELECT hash FROM leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&(start as i64), &(end as i64)],
            )
            .map_err(pg)?
            .into_iter()
            .map(|r| hash_of(r.get(0)))
            .collect()
        })
    }

    fn leaf_index(&self, leaf: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT idx FROM leaves WHERE hash = $1 ORDER BY idx LIMIT 1",
                &[&&leaf[..]],
            )
            .map_err(pg)?
            .map(|r| r.get::<_, i64>(0) as u64))
        })
    }

    fn checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )
            .map_err(pg)?
            .map(|r| CheckpointRow {
                size: r.get::<_, i64>(0) as u64,
                note: r.get(1),
            }))
        })
    }

    fn put_status_list(&self, key: &str, token: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO status_lists (key, token) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET token = excluded.token",
                &[&key, &token],
            )
            .map_err(pg)
            .map(|_| ())
        })
    }

    fn status_list(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(
                c.query_opt("SELECT token FROM status_lists WHERE key = $1", &[&key])
                    .map_err(pg)?
                    .map(|r| r.get(0)),
            )
        })
    }

    fn put_object(
        &self,
        kind: &str,
        id: &str,
        body: &str,
        overwrite: bool,
    ) -> Result<(), StoreError> {
        let sql = if overwrite {
            "INSERT INTO objects (kind, id, body) VALUES ($1, $2, $3) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body"
        } else {
            "INSERT INTO objects (kind, id, body) VALUES ($1, $2, $3)"
        };
        self.with(|c| c.execute(sql, &[&kind, &id, &body]).map_err(pg).map(|_| ()))
    }

    fn object(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT body FROM objects WHERE kind = $1 AND id = $2",
                &[&kind, &id],
            )
            .map_err(pg)?
            .map(|r| r.get(0)))
        })
    }

    fn objects(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT id, body FROM objects WHERE kind = $1 ORDER BY id",
                &[&kind],
            )
            .map_err(pg)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }

    fn take_object(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "DELETE FROM objects WHERE kind = $1 AND id = $2 RETURNING body",
                &[&kind, &id],
            )
            .map_err(pg)?
            .map(|r| r.get(0)))
        })
    }

    fn record_use(
        &self,
        authorization_id: &str,
        client_id: &str,
        max: u32,
        time: i64,
    ) -> Result<Option<u32>, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(pg)?;
            // Serialise uses of one authorisation across instances.
            tx.execute("INSERT INTO usage_locks (authz_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&authorization_id]).map_err(pg)?;
            tx.query_one("SELECT authz_id FROM usage_locks WHERE authz_id = $1 FOR UPDATE", &[&authorization_id]).map_err(pg)?;
            let used: i64 = tx
                .query_one("SELECT COUNT(*) FROM usage WHERE authz_id = $1 AND kind = 'use'", &[&authorization_id])
                .map_err(pg)?
                .get(0);
            if used >= max as i64 {
                return Ok(None);
            }
            let n = (used + 1).to_string();
            tx.execute(
                "INSERT INTO usage (authz_id, client_id, time, kind, detail) VALUES ($1, $2, $3, 'use', $4)",
                &[&authorization_id, &client_id, &time, &n],
            )
            .map_err(pg)?;
            tx.commit().map_err(pg)?;
            Ok(Some(used as u32 + 1))
        })
    }

    fn record_count(&self, space_id: &str) -> Result<i64, StoreError> {
        self.with(|c| {
            Ok(c.query_one(
                "SELECT COUNT(*) FROM records WHERE space_id = $1",
                &[&space_id],
            )
            .map_err(pg)?
            .get(0))
        })
    }

    fn consume_quota(
        &self,
        space_id: &str,
        kind: &str,
        amount: i64,
        limit: i64,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO quotas (space_id, kind, used) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
                &[&space_id, &kind],
            )
            .map_err(pg)?;
            // One conditional UPDATE: the row lock makes it atomic across instances.
            let n = c
                .execute(
                    "UPDATE quotas SET used = used + $3 WHERE space_id = $1 AND kind = $2 AND used + $3 <= $4",
                    &[&space_id, &kind, &amount, &limit],
                )
                .map_err(pg)?;
            Ok(n == 1)
        })
    }

    fn record_refusal(
        &self,
        authorization_id: &str,
        client_id: &str,
        time: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO usage (authz_id, client_id, time, kind, detail) VALUES ($1, $2, $3, 'refusal', $4)",
                &[&authorization_id, &client_id, &time, &reason],
            )
            .map_err(pg)
            .map(|_| ())
        })
    }

    fn usage(&self, client_id: Option<&str>) -> Result<Vec<UsageRow>, StoreError> {
        self.with(|c| {
            let rows = c
                .query(
                    "SELECT authz_id, client_id, time, kind, detail FROM usage WHERE $1::TEXT IS NULL OR client_id = $1 ORDER BY seq",
                    &[&client_id],
                )
                .map_err(pg)?;
            Ok(rows
                .iter()
                .map(|r| UsageRow { authorization_id: r.get(0), client_id: r.get(1), time: r.get(2), kind: r.get(3), detail: r.get(4) })
                .collect())
        })
    }

    fn swap_status_list(
        &self,
        key: &str,
        expected: Option<&str>,
        token: &str,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = match expected {
                None => c
                    .execute("INSERT INTO status_lists (key, token) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", &[&key, &token])
                    .map_err(pg)?,
                Some(old) => c
                    .execute("UPDATE status_lists SET token = $3 WHERE key = $1 AND token = $2", &[&key, &old, &token])
                    .map_err(pg)?,
            };
            Ok(n == 1)
        })
    }
}
