//! What the async boundary costs: one wallet read called directly on core,
//! and the same read through the FFI crate's async method (blocking pool
//! hop and wake-up), interleaved in one run. `cargo xtask bench-ffi` adds
//! the JVM side (JNA and uniffi's future polling).

use std::{
    future::Future,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Wake},
};

use criterion::{criterion_group, criterion_main, Criterion};
use satchel_core::{runtime, sd_jwt, Jwk, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind};

/// The smallest executor: poll, park until woken (as a foreign executor does).
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

fn id_card(issuer: &SoftwareKey, holder: &Jwk) -> String {
    let now = satchel_core::unix_now();
    let claims = serde_json::json!({"iss": "https://i", "vct": "urn:id", "exp": now + 86400, "name": "张三"});
    sd_jwt::issue_vc(
        &claims.to_string(),
        &[sd_jwt::ClaimPath::keys(&["name"])],
        Some(holder),
        issuer,
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let issuer = SoftwareKey::generate_es256().unwrap();
    let issuer_jwk = issuer.public_jwk();

    // The same content in two wallets: one driven directly, one through the FFI crate.
    let core_wallet = satchel_core::Wallet::open(
        &dir.path().join("core.db"),
        Arc::new(SoftwareKeyStore::in_memory()),
    )
    .unwrap();
    let space = core_wallet.create_space("s", SpaceKind::Personal).unwrap();
    let cred = core_wallet
        .import_credential(
            &space.id,
            &id_card(&issuer, &space.holder_key),
            Some(&issuer_jwk),
            satchel_core::unix_now(),
        )
        .unwrap();

    let ffi_path = dir.path().join("ffi.db").to_string_lossy().into_owned();
    let ffi_wallet = block_on(satchel_ffi::Wallet::open(
        ffi_path,
        satchel_ffi::in_memory_key_store(),
    ))
    .unwrap();
    let ffi_space =
        block_on(ffi_wallet.create_space("s".into(), satchel_ffi::SpaceKind::Personal)).unwrap();
    let ffi_cred = block_on(ffi_wallet.import_credential(
        ffi_space.id.clone(),
        id_card(&issuer, &Jwk::from_json(&ffi_space.holder_jwk).unwrap()),
        Some(issuer_jwk.to_value().to_string()),
    ))
    .unwrap();

    let mut g = c.benchmark_group("async_call");
    g.bench_function("core: credential (direct)", |b| {
        b.iter(|| core_wallet.credential(&cred.id).unwrap())
    });
    g.bench_function("ffi: credential (async, blocking pool)", |b| {
        b.iter(|| block_on(ffi_wallet.credential(ffi_cred.id.clone())).unwrap())
    });
    g.bench_function("hop only: run_blocking(no-op)", |b| {
        b.iter(|| block_on(runtime::run_blocking(|| Ok::<_, runtime::RuntimeError>(()))).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
