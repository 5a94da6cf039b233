//! One conformance suite, run against every `Store` backend: SQLite always,
//! PostgreSQL in a throwaway cluster (installed from Debian if missing).

use satchel_core::net::HttpsTransport;
use std::sync::Arc;

use satchel_core::{
    note::{Checkpoint, NoteSigner},
    tlog::{self, leaf_hash},
};
use satchel_server::{
    service::Service,
    store::{
        postgres::PostgresStore, sqlite::SqliteStore, DeviceRow, PushRecord, PushStatus, SpaceRow,
        Store, StoreError,
    },
};

fn space(id: &str) -> (SpaceRow, DeviceRow) {
    (
        SpaceRow {
            id: id.into(),
            jwk: "{}".into(),
            created_at: 1,
        },
        DeviceRow {
            id: format!("{id}-d"),
            space_id: id.into(),
            jwk: "{}".into(),
            wrapped_key: None,
            ..Default::default()
        },
    )
}

fn rec(id: &str, hash: &str, base: Option<i64>) -> PushRecord {
    PushRecord {
        id: id.into(),
        content_hash: hash.into(),
        ciphertext: format!("ct-{hash}"),
        base_cursor: base,
    }
}

fn spaces_devices_nonces(s: &dyn Store) {
    let (sp, dev) = space("c1");
    s.create_space(&sp, &dev).unwrap();
    assert_eq!(s.create_space(&sp, &dev), Err(StoreError::Conflict));
    assert_eq!(s.space("c1").unwrap().unwrap().id, "c1");
    assert!(s.space("nope").unwrap().is_none());
    let d2 = DeviceRow {
        id: "c1-d2".into(),
        space_id: "c1".into(),
        jwk: "{}".into(),
        wrapped_key: Some("w".into()),
        ..Default::default()
    };
    s.add_device(&d2).unwrap();
    assert_eq!(s.add_device(&d2), Err(StoreError::Conflict));
    assert_eq!(
        s.device("c1-d2").unwrap().unwrap().wrapped_key.as_deref(),
        Some("w")
    );
    let ids: Vec<String> = s.devices("c1").unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(ids, ["c1-d", "c1-d2"]);
    s.set_wrapped_key("c1-d2", "w2").unwrap();
    assert_eq!(
        s.device("c1-d2").unwrap().unwrap().wrapped_key.as_deref(),
        Some("w2")
    );
    assert!(s.remove_device("c1", "c1-d2", 50).unwrap());
    assert!(!s.remove_device("c1", "c1-d2", 51).unwrap(), "once");
    assert!(
        !s.remove_device("other", "c1-d", 51).unwrap(),
        "only in its space"
    );
    assert_eq!(s.device("c1-d2").unwrap().unwrap().removed_at, Some(50));
    assert!(s.use_nonce("c1-d", "n1", 100, 0).unwrap());
    assert!(!s.use_nonce("c1-d", "n1", 101, 0).unwrap(), "replay");
    assert!(
        s.use_nonce("c1-d2", "n1", 101, 0).unwrap(),
        "nonces are per key"
    );
    assert!(
        s.use_nonce("c1-d", "n1", 1000, 500).unwrap(),
        "pruned after the window"
    );
}

fn push_pull(s: &dyn Store) {
    let (sp, dev) = space("c2");
    s.create_space(&sp, &dev).unwrap();
    let r = s
        .push("c2", &[rec("a", "h1", None), rec("b", "h2", None)])
        .unwrap();
    assert_eq!(
        (r[0].status, r[0].cursor, r[1].cursor),
        (PushStatus::Stored, 1, 2)
    );
    assert_eq!(s.record_count("c2").unwrap(), 2);
    assert_eq!(
        s.push("c2", &[rec("a", "h1", None)]).unwrap()[0].status,
        PushStatus::Duplicate
    );
    assert_eq!(
        s.push("c2", &[rec("a", "h9", None)]).unwrap()[0].status,
        PushStatus::Conflict
    );
    assert_eq!(
        s.push("c2", &[rec("a", "h9", Some(2))]).unwrap()[0].status,
        PushStatus::Conflict,
        "stale base"
    );
    let r = s.push("c2", &[rec("a", "h9", Some(1))]).unwrap();
    assert_eq!((r[0].status, r[0].cursor), (PushStatus::Stored, 3));
    let all = s.pull("c2", 0, 10).unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert_eq!(s.pull("c2", 2, 10).unwrap().len(), 1);
    assert_eq!(s.pull("c2", 0, 1).unwrap().len(), 1);
    assert!(s.pull("other", 0, 10).unwrap().is_empty());
}

fn status_lists(s: &dyn Store) {
    assert!(s.status_list("k").unwrap().is_none());
    s.put_status_list("k", "t1").unwrap();
    s.put_status_list("k", "t2").unwrap();
    assert_eq!(s.status_list("k").unwrap().as_deref(), Some("t2"));
}

fn objects_and_usage(s: &dyn Store) {
    s.put_object("rp", "a", "{1}", false).unwrap();
    assert_eq!(
        s.put_object("rp", "a", "{2}", false),
        Err(StoreError::Conflict)
    );
    s.put_object("rp", "a", "{3}", true).unwrap();
    s.put_object("rp", "b", "{4}", false).unwrap();
    s.put_object("other", "a", "{5}", false).unwrap();
    assert_eq!(s.object("rp", "a").unwrap().as_deref(), Some("{3}"));
    assert_eq!(
        s.objects("rp").unwrap(),
        vec![
            ("a".to_owned(), "{3}".to_owned()),
            ("b".to_owned(), "{4}".to_owned())
        ]
    );
    assert_eq!(s.take_object("rp", "b").unwrap().as_deref(), Some("{4}"));
    assert_eq!(s.take_object("rp", "b").unwrap(), None, "single use");

    assert_eq!(s.record_use("z1", "https://rp", 2, 10).unwrap(), Some(1));
    assert_eq!(s.record_use("z1", "https://rp", 2, 11).unwrap(), Some(2));
    assert_eq!(s.record_use("z1", "https://rp", 2, 12).unwrap(), None);
    s.record_refusal("z1", "https://rp", 12, "over the limit")
        .unwrap();
    s.record_use("z2", "https://other", 5, 13).unwrap();
    let rows = s.usage(Some("https://rp")).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
        ["use", "use", "refusal"]
    );
    assert_eq!(s.usage(None).unwrap().len(), 4);
}

/// Rows a version-1 server wrote.
const VERSION_ONE_DATA: &str = "
INSERT INTO spaces (id, jwk, created_at) VALUES ('old-space', '{}', 1);
INSERT INTO objects (kind, id, body) VALUES ('rp', 'old-rp', '{}');
";

fn migrated_from_version_one(s: &dyn Store) {
    assert!(s.space("old-space").unwrap().is_some(), "data kept");
    assert_eq!(s.object("rp", "old-rp").unwrap().as_deref(), Some("{}"));
    // Version 2's table is there and works.
    assert!(s.consume_quota("old-space", "leaves", 1, 1).unwrap());
    assert!(!s.consume_quota("old-space", "leaves", 1, 1).unwrap());
}

#[test]
fn sqlite_migrates_from_an_older_schema_and_refuses_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(satchel_server::store::sqlite::MIGRATIONS[0])
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(VERSION_ONE_DATA).unwrap();
    }
    {
        // The version-1 server's view: no quotas table yet.
        let conn = rusqlite::Connection::open(&path).unwrap();
        assert!(conn.prepare("SELECT * FROM quotas").is_err());
    }
    let s = SqliteStore::open(&path).unwrap();
    migrated_from_version_one(&s);
    drop(s);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        version,
        satchel_server::store::sqlite::MIGRATIONS.len() as i64
    );
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(
        SqliteStore::open(&path).is_err(),
        "a newer schema is refused"
    );
}

fn quotas(s: &dyn Store) {
    assert_eq!(s.record_count("q-space").unwrap(), 0);
    assert!(s.consume_quota("q-space", "leaves", 60, 100).unwrap());
    assert!(s.consume_quota("q-space", "leaves", 40, 100).unwrap());
    assert!(!s.consume_quota("q-space", "leaves", 1, 100).unwrap());
    // Per space and per kind.
    assert!(s.consume_quota("q-space", "records", 100, 100).unwrap());
    assert!(s.consume_quota("other-space", "leaves", 100, 100).unwrap());
    assert!(!s.consume_quota("other-space", "leaves", 1, 100).unwrap());
}

fn concurrent_uses_never_exceed_the_limit<S: Store>(s: Arc<S>) {
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..5)
                    .filter(|_| s.record_use("race", "https://rp", 10, 1).unwrap().is_some())
                    .count()
            })
        })
        .collect();
    let ok: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(ok, 10);
}

/// Two service instances over one database integrate concurrently: every
/// checkpoint either signs is consistent with every other.
fn one_history<S: Store>(a: S, b: S) {
    let signer = NoteSigner::generate("conformance/log").unwrap();
    let key = signer.encode();
    let sa = Arc::new(
        Service::new(
            Arc::new(a),
            NoteSigner::parse(&key).unwrap(),
            "http://x",
            satchel_core::SoftwareKey::generate_ed25519().unwrap(),
        )
        .unwrap(),
    );
    let sb = Arc::new(
        Service::new(
            Arc::new(b),
            NoteSigner::parse(&key).unwrap(),
            "http://x",
            satchel_core::SoftwareKey::generate_ed25519().unwrap(),
        )
        .unwrap(),
    );
    let v = signer.verifier();
    let mut threads = Vec::new();
    for (t, svc) in [sa.clone(), sb.clone(), sa.clone(), sb.clone()]
        .into_iter()
        .enumerate()
    {
        threads.push(std::thread::spawn(move || {
            let mut notes = Vec::new();
            for round in 0..10u32 {
                let leaves: Vec<String> = (0..5u32)
                    .map(|i| satchel_core::b64::encode(leaf_hash(&[t as u8, round as u8, i as u8])))
                    .collect();
                svc.queue_leaves(&leaves).unwrap();
                if let Some(c) = svc.integrate().unwrap() {
                    notes.push(c.note);
                }
            }
            notes
        }));
    }
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    for t in threads {
        for n in t.join().unwrap() {
            checkpoints.push(Checkpoint::verify(&n, &v).unwrap());
        }
    }
    sa.integrate().unwrap();
    sb.integrate().unwrap();
    assert_eq!(sa.log_size(), 200);
    assert_eq!(sb.log_size(), 200);
    let final_a = Checkpoint::verify(&sa.checkpoint().unwrap().note, &v).unwrap();
    for c in &checkpoints {
        let proof = sb.consistency_proof(c.size, final_a.size).unwrap();
        tlog::verify_consistency(c.size, final_a.size, &c.root, &final_a.root, &proof).unwrap();
    }
    // The same size never has two roots.
    for c in &checkpoints {
        assert!(checkpoints
            .iter()
            .filter(|d| d.size == c.size)
            .all(|d| d.root == c.root));
    }
}

#[test]
fn sqlite_backend_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("c.db")).unwrap();
    spaces_devices_nonces(&s);
    push_pull(&s);
    status_lists(&s);
    objects_and_usage(&s);
    quotas(&s);
    concurrent_uses_never_exceed_the_limit(Arc::new(s));
    let path = dir.path().join("log.db");
    one_history(
        SqliteStore::open(&path).unwrap(),
        SqliteStore::open(&path).unwrap(),
    );
}

#[test]
fn postgres_backend_conformance_and_two_instances() {
    let cluster = match satchel_testkit::TestPostgres::get() {
        Ok(c) => c,
        Err(reason) => {
            println!("skipping the PostgreSQL suite: {reason}");
            return;
        }
    };
    let url = cluster.database("conformance").unwrap();
    let s = PostgresStore::open(&url).unwrap();
    spaces_devices_nonces(&s);
    push_pull(&s);
    status_lists(&s);
    objects_and_usage(&s);
    quotas(&s);
    concurrent_uses_never_exceed_the_limit(Arc::new(s));
    // From an older schema: version 1 applied by hand, then opened.
    let old = cluster.database("oldschema").unwrap();
    {
        let mut c = postgres::Client::connect(&old, postgres::NoTls).unwrap();
        c.batch_execute(satchel_server::store::postgres::MIGRATIONS[0])
            .unwrap();
        c.batch_execute(
            "CREATE TABLE schema_version (id INT PRIMARY KEY, version INT NOT NULL);
             INSERT INTO schema_version VALUES (1, 1);",
        )
        .unwrap();
        c.batch_execute(VERSION_ONE_DATA).unwrap();
        assert!(c.query("SELECT * FROM quotas", &[]).is_err());
    }
    let s = PostgresStore::open(&old).unwrap();
    migrated_from_version_one(&s);
    drop(s);
    {
        let mut c = postgres::Client::connect(&old, postgres::NoTls).unwrap();
        c.execute("UPDATE schema_version SET version = 99", &[])
            .unwrap();
    }
    assert!(
        PostgresStore::open(&old).is_err(),
        "a newer schema is refused"
    );
    let log = cluster.database("onehistory").unwrap();
    one_history(
        PostgresStore::open(&log).unwrap(),
        PostgresStore::open(&log).unwrap(),
    );

    // Two stateless server instances over one database, driven by the SDK.
    let dir = tempfile::tempdir().unwrap();
    let db = cluster.database("servers").unwrap();
    let one = satchel_server::embedded::EmbeddedServer::start_with(
        dir.path(),
        satchel_server::Database::Postgres(db.clone()),
    )
    .unwrap();
    let two = satchel_server::embedded::EmbeddedServer::start_with(
        dir.path(),
        satchel_server::Database::Postgres(db),
    )
    .unwrap();
    let (_, a) = crate::space(&one, "pg-space");
    let on_two = crate::device(&two, "pg-space-dev1");
    let (status, key) = crate::raw(&one, "GET", "/v1/log/key", None, b"");
    assert_eq!(status, 200);
    let v = satchel_core::note::NoteVerifier::parse(key["verifier_key"].as_str().unwrap()).unwrap();
    let l1: Vec<[u8; 32]> = (0..20u8).map(|i| leaf_hash(&[i])).collect();
    a.client.append_leaves(&l1).unwrap();
    // The same device, talking to the other instance (same key, new client).
    let b = satchel_core::client::ServerClient::new(
        &two.url,
        "pg-space-dev1",
        a.key.clone(),
        Arc::new(HttpsTransport::new().unwrap()),
    );
    let c1 = b.checkpoint(&v).unwrap();
    assert_eq!(c1.size, 20);
    let l2: Vec<[u8; 32]> = (20..40u8).map(|i| leaf_hash(&[i])).collect();
    b.append_leaves(&l2).unwrap();
    let c2 = a.client.checkpoint(&v).unwrap();
    assert_eq!(c2.size, 40);
    a.client.verify_consistency(&c1, &c2).unwrap();
    b.verify_inclusion(&l1[3], 3, &c2).unwrap();
    a.client.call("POST", "/v1/spaces/pg-space/records", Some(&serde_json::json!({"records": [{"id": "r", "content_hash": satchel_core::b64::sha256_b64(b"x"), "ciphertext": satchel_core::b64::encode("x")}]}))).unwrap();
    assert_eq!(
        b.call("GET", "/v1/spaces/pg-space/records", None).unwrap()["records"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let _ = on_two;
    one.stop();
    two.stop();
}
