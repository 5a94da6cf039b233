//! SD-JWT VC benchmarks: verify (10 disclosable claims, 3 disclosed, ES256
//! key binding), issue, present; plus the raw P-256 verify they rest on.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use satchel_core::{
    sd_jwt::{issue, present, verify, ClaimPath, IssueOptions, KeyBinding, VerifyOptions},
    Signer, SoftwareKey,
};
use serde_json::{json, Map, Value};

const NOW: i64 = 1_800_000_000;

fn claims(holder: &SoftwareKey) -> Map<String, Value> {
    let mut c = json!({
        "iss": "https://issuer.example", "vct": "urn:satchel:id-card", "iat": NOW - 10, "exp": NOW + 3600,
        "cnf": {"jwk": holder.public_jwk().to_value()},
    });
    for i in 0..10 {
        c[format!("claim_{i}")] = json!(format!("value number {i}"));
    }
    c.as_object().unwrap().clone()
}

fn paths() -> Vec<ClaimPath> {
    (0..10)
        .map(|i| ClaimPath::keys(&[format!("claim_{i}")]))
        .collect()
}

fn benches(c: &mut Criterion) {
    let issuer = SoftwareKey::generate_es256().unwrap();
    let holder = SoftwareKey::generate_es256().unwrap();
    let claims = claims(&holder);
    let token = issue(&claims, &paths(), &IssueOptions::default(), &issuer).unwrap();
    let chosen: Vec<ClaimPath> = (0..3)
        .map(|i| ClaimPath::keys(&[format!("claim_{i}")]))
        .collect();
    let kb = || KeyBinding {
        audience: "https://bank.example",
        nonce: "n-1",
        issued_at: NOW,
        signer: &holder,
    };
    let presentation = present(&token, &chosen, Some(kb())).unwrap();
    let key = issuer.public_jwk().verifying_key().unwrap();
    let options = VerifyOptions::vc(NOW).with_key_binding("https://bank.example", "n-1");
    assert_eq!(
        verify(&presentation, &key, &options)
            .unwrap()
            .disclosure_count,
        3
    );

    let mut g = c.benchmark_group("sd_jwt");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_vc_10sd_3disclosed_es256_kb", |b| {
        b.iter(|| verify(black_box(&presentation), &key, &options).unwrap())
    });
    g.bench_function("issue_vc_10sd_es256", |b| {
        b.iter(|| {
            issue(
                black_box(&claims),
                &paths(),
                &IssueOptions::default(),
                &issuer,
            )
            .unwrap()
        })
    });
    g.bench_function("present_3_of_10_es256_kb", |b| {
        b.iter(|| present(black_box(&token), &chosen, Some(kb())).unwrap())
    });

    // The anchor: one raw P-256 verify on this machine (a presentation costs two).
    let msg = b"benchmark message of ordinary length for a JWS signing input";
    let sig = issuer.sign(msg).unwrap();
    g.bench_function("p256_verify_raw", |b| {
        b.iter(|| assert!(key.verify(black_box(msg), &sig)))
    });
    g.finish();
}

criterion_group!(sd_jwt, benches);
criterion_main!(sd_jwt);
