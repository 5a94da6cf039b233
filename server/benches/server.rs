//! Server benchmarks on SQLite: log append throughput (queue + integrate +
//! sign), proof generation on a 100,000-leaf log, sync push and pull.

use std::{hint::black_box, sync::Arc};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use satchel_core::{b64, note::NoteSigner, tlog::leaf_hash};
use satchel_server::{
    service::Service,
    store::{sqlite::SqliteStore, DeviceRow, PushRecord, SpaceRow, Store},
};

fn service(dir: &std::path::Path, name: &str) -> Service<SqliteStore> {
    let store = SqliteStore::open(&dir.join(name)).unwrap();
    Service::new(
        Arc::new(store),
        NoteSigner::generate("bench/log").unwrap(),
        "http://x",
        satchel_core::SoftwareKey::generate_ed25519().unwrap(),
    )
    .unwrap()
}

fn leaves(n: usize, salt: u32) -> Vec<String> {
    (0..n as u32)
        .map(|i| b64::encode(leaf_hash(&[salt.to_le_bytes(), i.to_le_bytes()].concat())))
        .collect()
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();

    let mut g = c.benchmark_group("log");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    let svc = service(dir.path(), "append.db");
    let mut round = 0;
    g.bench_function(
        "append_10000_leaves_batches_of_500_integrate_and_sign",
        |b| {
            b.iter_batched(
                || {
                    round += 1;
                    (0..20)
                        .map(|k| leaves(500, round * 100 + k))
                        .collect::<Vec<_>>()
                },
                |batches| {
                    for batch in &batches {
                        svc.queue_leaves(batch).unwrap();
                    }
                    svc.integrate().unwrap().unwrap()
                },
                BatchSize::PerIteration,
            )
        },
    );
    g.finish();

    // A 100,000-leaf log for proofs.
    let big = service(dir.path(), "big.db");
    for k in 0..200 {
        big.queue_leaves(&leaves(500, 1_000_000 + k)).unwrap();
    }
    big.integrate().unwrap();
    let size = big.log_size();
    let mut g = c.benchmark_group("proofs_100k");
    g.bench_function("inclusion_proof", |b| {
        b.iter(|| big.inclusion_proof(black_box(54_321), size).unwrap())
    });
    g.bench_function("consistency_proof", |b| {
        b.iter(|| big.consistency_proof(black_box(77_777), size).unwrap())
    });
    g.finish();

    // Sync: 100-record batches of 1 KiB ciphertexts.
    let store = Arc::new(SqliteStore::open(&dir.path().join("sync.db")).unwrap());
    store
        .create_space(
            &SpaceRow {
                id: "s".into(),
                jwk: "{}".into(),
                created_at: 0,
            },
            &DeviceRow {
                id: "d".into(),
                space_id: "s".into(),
                jwk: "{}".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let ct = b64::encode(vec![7u8; 1024]);
    // 2,000 records to pull from, whatever the push benchmark adds.
    let seed: Vec<PushRecord> = (0..2000)
        .map(|i| PushRecord {
            id: format!("seed{i}"),
            content_hash: format!("s{i}"),
            ciphertext: ct.clone(),
            base_cursor: None,
        })
        .collect();
    for chunk in seed.chunks(500) {
        store.push("s", chunk).unwrap();
    }
    let mut n = 0u64;
    let mut g = c.benchmark_group("sync");
    g.throughput(Throughput::Elements(100));
    g.bench_function("push_100_records", |b| {
        b.iter(|| {
            let recs: Vec<PushRecord> = (0..100)
                .map(|_| {
                    n += 1;
                    PushRecord {
                        id: format!("r{n}"),
                        content_hash: format!("h{n}"),
                        ciphertext: ct.clone(),
                        base_cursor: None,
                    }
                })
                .collect();
            store.push("s", &recs).unwrap()
        })
    });
    g.bench_function("pull_100_records", |b| {
        b.iter(|| assert_eq!(store.pull("s", black_box(1000), 100).unwrap().len(), 100))
    });
    g.finish();
}

criterion_group!(server, benches);
criterion_main!(server);
