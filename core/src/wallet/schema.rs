//! The wallet's SQLite schema: its version lives in `PRAGMA user_version`;
//! each numbered migration moves the file one version forward, in its own
//! transaction. Old files are upgraded on open; newer ones are refused.

use rusqlite::Connection;

use super::WalletError;

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = 5;

/// Version 1: metadata, spaces and credentials, each record sealed.
pub const V1: &str = "
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE spaces (id TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL REFERENCES spaces(id),
    sealed BLOB NOT NULL
);
";

/// Version 2: credentials keep their import order and are indexed by space;
/// trusted issuer keys get a table.
pub const V2: &str = "
ALTER TABLE credentials ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE credentials SET seq = rowid;
CREATE INDEX credentials_by_space ON credentials(space_id, seq);
CREATE TABLE trusted_issuers (id TEXT PRIMARY KEY, sealed BLOB NOT NULL);
";

/// Version 3: authorisations, delegations, the consent log, provenance,
/// enterprise members and each space's status list.
pub const V3: &str = "
CREATE TABLE authorizations (id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), sealed BLOB NOT NULL);
CREATE INDEX authorizations_by_space ON authorizations(space_id);
CREATE TABLE delegations (id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), sealed BLOB NOT NULL);
CREATE TABLE consent_log (
    space_id TEXT NOT NULL REFERENCES spaces(id),
    seq INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (space_id, seq)
);
CREATE TABLE provenance (
    id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL REFERENCES spaces(id),
    seq INTEGER NOT NULL,
    sealed BLOB NOT NULL
);
CREATE INDEX provenance_by_space ON provenance(space_id, seq);
CREATE TABLE members (id TEXT PRIMARY KEY, space_id TEXT NOT NULL REFERENCES spaces(id), sealed BLOB NOT NULL);
CREATE TABLE status_lists (space_id TEXT PRIMARY KEY REFERENCES spaces(id), sealed BLOB NOT NULL);
";

/// Version 4: each space's anchoring of its consent log in a server's
/// transparency log (salt, anchored leaf indices, last checkpoint).
pub const V4: &str = "
CREATE TABLE anchors (space_id TEXT PRIMARY KEY REFERENCES spaces(id), sealed BLOB NOT NULL);
";

/// Version 5: several devices per space (ADR 0008). The consent log holds
/// one chain per signing device (`""` is the space key's); sync keys per
/// epoch, the sync cursor, what was last pushed, deletion tombstones, and
/// the other devices' anchoring of the consent log.
pub const V5: &str = "
CREATE TABLE consent_log_v5 (
    space_id TEXT NOT NULL REFERENCES spaces(id),
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (space_id, chain, seq)
);
INSERT INTO consent_log_v5 (space_id, chain, seq, sealed) SELECT space_id, '', seq, sealed FROM consent_log;
DROP TABLE consent_log;
ALTER TABLE consent_log_v5 RENAME TO consent_log;
CREATE TABLE sync_keys (space_id TEXT NOT NULL REFERENCES spaces(id), epoch INTEGER NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (space_id, epoch));
CREATE TABLE sync_state (space_id TEXT PRIMARY KEY REFERENCES spaces(id), sealed BLOB NOT NULL);
CREATE TABLE sync_pushed (space_id TEXT NOT NULL REFERENCES spaces(id), record_id TEXT NOT NULL, mac BLOB, cursor INTEGER, PRIMARY KEY (space_id, record_id));
CREATE TABLE tombstones (space_id TEXT NOT NULL REFERENCES spaces(id), id TEXT NOT NULL, PRIMARY KEY (space_id, id));
CREATE TABLE peer_anchors (space_id TEXT NOT NULL REFERENCES spaces(id), device TEXT NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (space_id, device));
";

const MIGRATIONS: [&str; CURRENT_VERSION as usize] = [V1, V2, V3, V4, V5];

/// The file's schema version.
pub fn version(conn: &Connection) -> Result<i64, WalletError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the file up to [`CURRENT_VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<(), WalletError> {
    let from = version(conn)?;
    if from > CURRENT_VERSION {
        return Err(WalletError::NewerSchema(from));
    }
    for v in from..CURRENT_VERSION {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[v as usize])?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrades_a_version_1_file_keeping_its_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute("INSERT INTO spaces VALUES ('s1', x'01')", [])
            .unwrap();
        conn.execute("INSERT INTO credentials VALUES ('c1', 's1', x'02')", [])
            .unwrap();
        conn.execute("INSERT INTO credentials VALUES ('c2', 's1', x'03')", [])
            .unwrap();

        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), CURRENT_VERSION);
        let rows: Vec<(String, i64)> = conn
            .prepare("SELECT id, seq FROM credentials ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![("c1".into(), 1), ("c2".into(), 2)]);
        conn.execute("INSERT INTO trusted_issuers VALUES ('i', x'00')", [])
            .unwrap();
        // Running again is a no-op.
        migrate(&mut conn).unwrap();
    }

    #[test]
    fn version_5_keeps_the_consent_log_as_the_space_key_chain() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS[..4].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
        }
        conn.execute("INSERT INTO spaces VALUES ('s1', x'01')", [])
            .unwrap();
        conn.execute("INSERT INTO consent_log VALUES ('s1', 1, x'0a')", [])
            .unwrap();
        conn.execute("INSERT INTO consent_log VALUES ('s1', 2, x'0b')", [])
            .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(String, i64, Vec<u8>)> = conn
            .prepare("SELECT chain, seq, sealed FROM consent_log ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![("".into(), 1, vec![0x0a]), ("".into(), 2, vec![0x0b])]
        );
        // A device's chain may now reuse sequence numbers.
        conn.execute(
            "INSERT INTO consent_log VALUES ('s1', 'dev-b', 1, x'0c')",
            [],
        )
        .unwrap();
    }

    #[test]
    fn refuses_newer_files() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(WalletError::NewerSchema(_))
        ));
    }
}
