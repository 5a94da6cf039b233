//! Wallet benchmarks: import 1,000 credentials one by one and as one
//! batch; open the wallet and list 1,000.

use std::{hint::black_box, sync::Arc};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use satchel_core::{
    sd_jwt::{issue, ClaimPath, IssueOptions},
    CredentialFilter, KeyStore, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet,
};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const N: usize = 1000;

fn tokens(issuer: &SoftwareKey, holder: &satchel_core::Jwk) -> Vec<String> {
    let paths: Vec<ClaimPath> = ["name", "id_number", "birthdate", "age_over_18"]
        .iter()
        .map(|p| ClaimPath::keys(&[p]))
        .collect();
    (0..N)
        .map(|i| {
            let c = json!({
                "iss": "https://issuer.example", "vct": "urn:satchel:id-card", "iat": NOW, "exp": NOW + 3600,
                "cnf": {"jwk": holder.to_value()},
                "name": format!("Person {i}"), "id_number": format!("4401{i:014}"), "birthdate": "1990-01-01", "age_over_18": true,
            });
            issue(c.as_object().unwrap(), &paths, &IssueOptions::default(), issuer).unwrap()
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let issuer = SoftwareKey::generate_es256().unwrap();
    let issuer_jwk = issuer.public_jwk();
    let keystore: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let dir = tempfile::tempdir().unwrap();

    // A wallet with a space whose holder key the tokens are bound to.
    let setup = |name: &str| {
        let path = dir.path().join(name);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(path.with_extension("db-wal"));
        let w = Wallet::open(&path, keystore.clone()).unwrap();
        let space = w.create_space("bench", SpaceKind::Personal).unwrap();
        (w, space, path)
    };
    let (w, space, full_path) = setup("full.db");
    let toks = tokens(&issuer, &space.holder_key);
    for t in &toks {
        w.import_credential(&space.id, t, Some(&issuer_jwk), NOW)
            .unwrap();
    }
    drop(w);

    // A fresh file and space for each round; tokens are issued outside the timing.
    let fresh = |name: &str| {
        let (w, s, _) = setup(name);
        let ts = tokens(&issuer, &s.holder_key);
        (w, s, ts)
    };
    let mut g = c.benchmark_group("wallet");
    g.sample_size(10);
    g.bench_function("import_1000_credentials", |b| {
        b.iter_batched(
            || fresh("import.db"),
            |(w, s, ts)| {
                for t in &ts {
                    w.import_credential(&s.id, t, Some(&issuer_jwk), NOW)
                        .unwrap();
                }
            },
            BatchSize::PerIteration,
        )
    });
    // The same 1,000 as one batch (verified on both cores, one transaction),
    // in the same run as the single imports above.
    g.bench_function("import_1000_credentials_one_batch", |b| {
        b.iter_batched(
            || fresh("batch.db"),
            |(w, s, ts)| {
                let results = w
                    .import_credentials(&s.id, &ts, Some(&issuer_jwk), NOW)
                    .unwrap();
                assert!(results.iter().all(Result::is_ok));
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("open_and_list_1000_credentials", |b| {
        b.iter(|| {
            let w = Wallet::open(&full_path, keystore.clone()).unwrap();
            let list = w
                .credentials(
                    &space.id,
                    &CredentialFilter {
                        now: NOW,
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(black_box(list).len(), N);
        })
    });
    g.finish();
}

criterion_group!(wallet, benches);
criterion_main!(wallet);
