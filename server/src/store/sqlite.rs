//! The embedded SQLite backend (rusqlite; WAL; one connection behind a
//! mutex, which is also the log lock).

use std::{
    path::Path,
    sync::{Mutex, MutexGuard},
};

use rusqlite::{params, Connection, OptionalExtension};

use super::{
    CheckpointRow, DeviceRow, PushRecord, PushResult, PushStatus, RecordRow, SignCheckpoint,
    SpaceRow, Store, StoreError, UsageRow,
};

/// Numbered schema migrations: applying `MIGRATIONS[i]` brings the database
/// to version `i + 1` (`PRAGMA user_version`). Append; never edit one that
/// has shipped. Version 1 uses `IF NOT EXISTS`, so databases made before
/// versions were recorded migrate too.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3];

const V1: &str = "
CREATE TABLE IF NOT EXISTS spaces (id TEXT PRIMARY KEY, jwk TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), jwk TEXT NOT NULL, wrapped_key TEXT
);
CREATE TABLE IF NOT EXISTS nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
CREATE INDEX IF NOT EXISTS nonces_by_time ON nonces(seen_at);
CREATE TABLE IF NOT EXISTS records (
    space_id TEXT NOT NULL REFERENCES spaces(id), id TEXT NOT NULL, content_hash TEXT NOT NULL,
    ciphertext TEXT NOT NULL, cursor INTEGER NOT NULL, PRIMARY KEY (space_id, id)
);
CREATE INDEX IF NOT EXISTS records_by_cursor ON records(space_id, cursor);
CREATE TABLE IF NOT EXISTS cursors (space_id TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending_leaves (seq INTEGER PRIMARY KEY AUTOINCREMENT, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS leaves (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS leaves_by_hash ON leaves(hash);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS status_lists (key TEXT PRIMARY KEY, token TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS usage (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, authz_id TEXT NOT NULL, client_id TEXT NOT NULL,
    time INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_authz ON usage(authz_id, kind);
";

/// Per-space quotas (log leaves).
const V2: &str = "
CREATE TABLE quotas (space_id TEXT NOT NULL, kind TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (space_id, kind));
";

/// Device certificates and removal (several devices per space).
const V3: &str = "
ALTER TABLE devices ADD COLUMN certificates TEXT;
ALTER TABLE devices ADD COLUMN removed_at INTEGER;
ALTER TABLE devices ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE devices SET seq = rowid;
";

const DEVICE_INSERT: &str =
    "INSERT INTO devices (id, space_id, jwk, wrapped_key, certificates, seq)
     VALUES (?1, ?2, ?3, ?4, ?5, (SELECT COALESCE(MAX(seq), 0) + 1 FROM devices))";
const DEVICE_COLUMNS: &str = "id, space_id, jwk, wrapped_key, certificates, removed_at";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get(0)?,
        space_id: r.get(1)?,
        jwk: r.get(2)?,
        wrapped_key: r.get(3)?,
        certificates: r.get(4)?,
        removed_at: r.get(5)?,
    })
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::Backend(format!(
            "database schema version {version} is newer than this server's ({known})"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// The SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Backend(e.to_string()))?;
        }
        // Owner-only: the database holds the log's history and, with
        // --demo, issuer keys; SQLite gives -wal and -shm the same mode.
        satchel_core::private_file::ensure_private(path)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A stable plan per cached statement: no re-prepare each time a
        // bound value could change the plan (as the wallet does).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn hash_of(v: Vec<u8>) -> Result<[u8; 32], StoreError> {
    v.try_into()
        .map_err(|_| StoreError::Backend("stored leaf is not 32 bytes".into()))
}

impl Store for SqliteStore {
    fn create_space(&self, space: &SpaceRow, device: &DeviceRow) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO spaces (id, jwk, created_at) VALUES (?1, ?2, ?3)",
            params![space.id, space.jwk, space.created_at],
        )?;
        tx.execute(
            DEVICE_INSERT,
            params![
                device.id,
                device.space_id,
                device.jwk,
                device.wrapped_key,
                device.certificates
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn space(&self, id: &str) -> Result<Option<SpaceRow>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT id, jwk, created_at FROM spaces WHERE id = ?1",
                [id],
                |r| {
                    Ok(SpaceRow {
                        id: r.get(0)?,
                        jwk: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn add_device(&self, d: &DeviceRow) -> Result<(), StoreError> {
        self.lock().execute(
            DEVICE_INSERT,
            params![d.id, d.space_id, d.jwk, d.wrapped_key, d.certificates],
        )?;
        Ok(())
    }

    fn device(&self, id: &str) -> Result<Option<DeviceRow>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
                [id],
                device_row,
            )
            .optional()?)
    }

    fn devices(&self, space_id: &str) -> Result<Vec<DeviceRow>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE space_id = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map([space_id], device_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn remove_device(&self, space_id: &str, id: &str, now: i64) -> Result<bool, StoreError> {
        Ok(self.lock().execute(
            "UPDATE devices SET removed_at = ?3 WHERE space_id = ?1 AND id = ?2 AND removed_at IS NULL",
            params![space_id, id, now],
        )? == 1)
    }

    fn set_wrapped_key(&self, id: &str, wrapped_key: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE devices SET wrapped_key = ?2 WHERE id = ?1",
            params![id, wrapped_key],
        )?;
        Ok(())
    }

    fn use_nonce(
        &self,
        key_id: &str,
        nonce: &str,
        now: i64,
        prune_before: i64,
    ) -> Result<bool, StoreError> {
        let conn = self.lock();
        conn.execute("DELETE FROM nonces WHERE seen_at < ?1", [prune_before])?;
        let n = conn.execute(
            "INSERT OR IGNORE INTO nonces (key_id, nonce, seen_at) VALUES (?1, ?2, ?3)",
            params![key_id, nonce, now],
        )?;
        Ok(n == 1)
    }

    fn push(&self, space_id: &str, records: &[PushRecord]) -> Result<Vec<PushResult>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut last: i64 = tx
            .query_row(
                "SELECT last FROM cursors WHERE space_id = ?1",
                [space_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let mut out = Vec::with_capacity(records.len());
        for rec in records {
            let existing: Option<(String, i64)> = tx
                .query_row(
                    "SELECT content_hash, cursor FROM records WHERE space_id = ?1 AND id = ?2",
                    params![space_id, rec.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let status = match &existing {
                Some((hash, cursor)) if *hash == rec.content_hash => {
                    out.push(PushResult {
                        id: rec.id.clone(),
                        status: PushStatus::Duplicate,
                        cursor: *cursor,
                    });
                    continue;
                }
                Some((_, cursor)) if rec.base_cursor != Some(*cursor) => {
                    out.push(PushResult {
                        id: rec.id.clone(),
                        status: PushStatus::Conflict,
                        cursor: *cursor,
                    });
                    continue;
                }
                _ => PushStatus::Stored,
            };
            last += 1;
            tx.execute(
                "INSERT INTO records (space_id, id, content_hash, ciphertext, cursor) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (space_id, id) DO UPDATE SET content_hash = excluded.content_hash,
                     ciphertext = excluded.ciphertext, cursor = excluded.cursor",
                params![space_id, rec.id, rec.content_hash, rec.ciphertext, last],
            )?;
            out.push(PushResult {
                id: rec.id.clone(),
                status,
                cursor: last,
            });
        }
        tx.execute(
            "INSERT INTO cursors (space_id, last) VALUES (?1, ?2) ON CONFLICT (space_id) DO UPDATE SET last = excluded.last",
            params![space_id, last],
        )?;
        tx.commit()?;
        Ok(out)
    }

    fn pull(
        &self,
        space_id: &str,
        cursor: i64,
        limit: usize,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, content_hash, ciphertext, cursor FROM records WHERE space_id = ?1 AND cursor > ?2 ORDER BY cursor LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![space_id, cursor, limit as i64], |r| {
            Ok(RecordRow {
                id: r.get(0)?,
                content_hash: r.get(1)?,
                ciphertext: r.get(2)?,
                cursor: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn queue_leaves(&self, leaves: &[[u8; 32]]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("INSERT INTO pending_leaves (hash) VALUES (?1)")?;
            for l in leaves {
                stmt.execute([&l[..]])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn integrate(
        &self,
        known_size: u64,
        sign: &mut SignCheckpoint<'_>,
    ) -> Result<Option<CheckpointRow>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let size: u64 =
            tx.query_row("SELECT COUNT(*) FROM leaves", [], |r| r.get::<_, i64>(0))? as u64;
        let mut catch_up = Vec::new();
        {
            let mut stmt =
                tx.prepare_cached("SELECT hash FROM leaves WHERE idx >= ?1 ORDER BY idx")?;
            for h in stmt.query_map([known_size as i64], |r| r.get::<_, Vec<u8>>(0))? {
                catch_up.push(hash_of(h?)?);
            }
        }
        let pending: Vec<(i64, Vec<u8>)> = {
            let mut stmt =
                tx.prepare_cached("SELECT seq, hash FROM pending_leaves ORDER BY seq")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        if pending.is_empty() && catch_up.is_empty() {
            return Ok(None);
        }
        let mut idx = size;
        {
            let mut ins = tx.prepare_cached("INSERT INTO leaves (idx, hash) VALUES (?1, ?2)")?;
            for (_, h) in &pending {
                ins.execute(params![idx as i64, h])?;
                catch_up.push(hash_of(h.clone())?);
                idx += 1;
            }
        }
        {
            let mut del = tx.prepare_cached("DELETE FROM pending_leaves WHERE seq = ?1")?;
            for (seq, _) in &pending {
                del.execute([seq])?;
            }
        }
        let note = sign(&catch_up, idx)?;
        if !pending.is_empty() {
            tx.execute(
                "INSERT INTO checkpoints (size, note) VALUES (?1, ?2)",
                params![idx as i64, note],
            )?;
        }
        tx.commit()?;
        Ok(Some(CheckpointRow { size: idx, note }))
    }

    fn leaves(&self, start: u64, end: u64) -> Result<Vec<[u8; 32]>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT hash FROM leaves WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")?;
        let rows = stmt.query_map([start as i64, end as i64], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| hash_of(r?)).collect()
    }

    fn leaf_index(&self, leaf: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT idx FROM leaves WHERE hash = ?1 ORDER BY idx LIMIT 1",
                [&leaf[..]],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|i| i as u64))
    }

    fn checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| {
                    Ok(CheckpointRow {
                        size: r.get::<_, i64>(0)? as u64,
                        note: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    fn put_status_list(&self, key: &str, token: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO status_lists (key, token) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET token = excluded.token",
            params![key, token],
        )?;
        Ok(())
    }

    fn status_list(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT token FROM status_lists WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn put_object(
        &self,
        kind: &str,
        id: &str,
        body: &str,
        overwrite: bool,
    ) -> Result<(), StoreError> {
        let sql = if overwrite {
            "INSERT INTO objects (kind, id, body) VALUES (?1, ?2, ?3) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body"
        } else {
            "INSERT INTO objects (kind, id, body) VALUES (?1, ?2, ?3)"
        };
        self.lock().execute(sql, params![kind, id, body])?;
        Ok(())
    }

    fn object(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT body FROM objects WHERE kind = ?1 AND id = ?2",
                [kind, id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn objects(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare_cached("SELECT id, body FROM objects WHERE kind = ?1 ORDER BY id")?;
        let rows = stmt.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn take_object(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let body: Option<String> = tx
            .query_row(
                "SELECT body FROM objects WHERE kind = ?1 AND id = ?2",
                [kind, id],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute(
            "DELETE FROM objects WHERE kind = ?1 AND id = ?2",
            [kind, id],
        )?;
        tx.commit()?;
        Ok(body)
    }

    fn record_use(
        &self,
        authorization_id: &str,
        client_id: &str,
        max: u32,
        time: i64,
    ) -> Result<Option<u32>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let used: u32 = tx.query_row(
            "SELECT COUNT(*) FROM usage WHERE authz_id = ?1 AND kind = 'use'",
            [authorization_id],
            |r| r.get(0),
        )?;
        if used >= max {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO usage (authz_id, client_id, time, kind, detail) VALUES (?1, ?2, ?3, 'use', ?4)",
            params![authorization_id, client_id, time, (used + 1).to_string()],
        )?;
        tx.commit()?;
        Ok(Some(used + 1))
    }

    fn record_refusal(
        &self,
        authorization_id: &str,
        client_id: &str,
        time: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO usage (authz_id, client_id, time, kind, detail) VALUES (?1, ?2, ?3, 'refusal', ?4)",
            params![authorization_id, client_id, time, reason],
        )?;
        Ok(())
    }

    fn record_count(&self, space_id: &str) -> Result<i64, StoreError> {
        Ok(self.lock().query_row(
            "SELECT COUNT(*) FROM records WHERE space_id = ?1",
            [space_id],
            |r| r.get(0),
        )?)
    }

    fn consume_quota(
        &self,
        space_id: &str,
        kind: &str,
        amount: i64,
        limit: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO quotas (space_id, kind, used) VALUES (?1, ?2, 0)",
            params![space_id, kind],
        )?;
        let n = tx.execute(
            "UPDATE quotas SET used = used + ?3 WHERE space_id = ?1 AND kind = ?2 AND used + ?3 <= ?4",
            params![space_id, kind, amount, limit],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    fn usage(&self, client_id: Option<&str>) -> Result<Vec<UsageRow>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT authz_id, client_id, time, kind, detail FROM usage WHERE ?1 IS NULL OR client_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([client_id], |r| {
            Ok(UsageRow {
                authorization_id: r.get(0)?,
                client_id: r.get(1)?,
                time: r.get(2)?,
                kind: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn swap_status_list(
        &self,
        key: &str,
        expected: Option<&str>,
        token: &str,
    ) -> Result<bool, StoreError> {
        let conn = self.lock();
        let n = match expected {
            None => conn.execute("INSERT INTO status_lists (key, token) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING", params![key, token])?,
            Some(old) => conn.execute("UPDATE status_lists SET token = ?3 WHERE key = ?1 AND token = ?2", params![key, old, token])?,
        };
        Ok(n == 1)
    }
}
