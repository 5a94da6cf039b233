//! Story steps 9 and 11 timed on loopback: 10,000 records synced from
//! device A through the server to device B, and the export and import of a
//! space with 1,000 credentials. Prints the median of three runs of each.
//! Under `cargo test` it runs a small smoke version.

use std::{sync::Arc, time::Instant};

use satchel_core::{
    client::{ServerClient, DEVICE_KEY_ALIAS},
    net::HttpsTransport,
    sd_jwt::{self, ClaimPath, IssueOptions},
    KeyStore, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet,
};
use satchel_server::embedded::EmbeddedServer;
use serde_json::json;

struct Device {
    wallet: Wallet,
    client: ServerClient,
}

fn device(dir: &std::path::Path, name: &str, url: &str) -> Device {
    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    Device {
        wallet: Wallet::open(&dir.join(format!("{name}.db")), ks.clone()).unwrap(),
        client: ServerClient::for_device(url, ks, Arc::new(HttpsTransport::new().unwrap()))
            .unwrap(),
    }
}

/// A space on A holding `n` credentials, and a device B (not enrolled yet).
fn setup(dir: &std::path::Path, url: &str, n: usize) -> (Device, Device, String) {
    let a = device(dir, "a", url);
    let b = device(dir, "b", url);
    let space = a.wallet.create_space("bench", SpaceKind::Personal).unwrap();
    a.wallet.register_space(&space.id, &a.client).unwrap();
    let issuer = SoftwareKey::generate_es256().unwrap();
    let now = satchel_core::unix_now();
    for i in 0..n {
        let claims = json!({
            "iss": "https://issuer.example", "vct": "urn:bench", "iat": now,
            "name": format!("holder {i}"), "cnf": {"jwk": space.holder_key.to_value()},
        });
        let token = sd_jwt::issue(
            claims.as_object().unwrap(),
            &[ClaimPath::keys(&["name"])],
            &IssueOptions::default(),
            &issuer,
        )
        .unwrap();
        a.wallet
            .import_credential(&space.id, &token, Some(&issuer.public_jwk()), now)
            .unwrap();
    }
    (a, b, space.id)
}

fn enrol(a: &Device, b: &Device, space: &str) {
    let uri = b
        .wallet
        .request_enrolment(&b.client, DEVICE_KEY_ALIAS)
        .unwrap();
    let code = a.wallet.approve_enrolment(space, &uri, &a.client).unwrap();
    b.wallet.complete_enrolment(&b.client, &code).unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = !std::env::args().any(|a| a == "--bench");
    let (records, credentials, runs) = if quick {
        (50, 20, 1)
    } else {
        (10_000, 1_000, 3)
    };
    let none = |_: satchel_core::wallet::sync::SyncProgress| {};

    // Sync: every credential is 3 records (the credential and its two
    // provenance events). A pushes them all, then B pulls them all.
    let (mut pushes, mut pulls, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    let mut synced = 0;
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
        let (a, b, space) = setup(dir.path(), &server.url, records / 3);
        let t = Instant::now();
        a.wallet.sync_space(&space, &a.client, &none).unwrap();
        let pushed = t.elapsed().as_secs_f64();
        enrol(&a, &b, &space);
        let t = Instant::now();
        let r = b.wallet.sync_space(&space, &b.client, &none).unwrap();
        let pulled = t.elapsed().as_secs_f64();
        synced = r.pulled;
        pushes.push(pushed);
        pulls.push(pulled);
        whole.push(pushed + pulled);
        server.stop();
    }
    println!(
        "sync: {synced} records from A through the server to B in {:.0} ms (A pushes in {:.0} ms, B pulls in {:.0} ms; medians of {runs})",
        median(whole) * 1000.0,
        median(pushes) * 1000.0,
        median(pulls) * 1000.0
    );

    // Export and import of a space with `credentials` credentials.
    let (mut exports, mut imports) = (Vec::new(), Vec::new());
    let mut size = 0;
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
        let (a, _, space) = setup(dir.path(), &server.url, credentials);
        let t = Instant::now();
        let file = a
            .wallet
            .export_space(&space, "a long export passphrase")
            .unwrap();
        exports.push(t.elapsed().as_secs_f64());
        size = file.len();
        let fresh = device(dir.path(), "fresh", &server.url);
        let t = Instant::now();
        let report = fresh
            .wallet
            .import_space(&file, "a long export passphrase")
            .unwrap();
        imports.push(t.elapsed().as_secs_f64());
        assert_eq!(report.credentials, credentials);
        server.stop();
    }
    println!(
        "portability: {credentials} credentials exported in {:.0} ms ({} KiB), imported and verified in {:.0} ms (medians of {runs}; each includes one Argon2id derivation, 19 MiB, 2 passes)",
        median(exports) * 1000.0,
        size / 1024,
        median(imports) * 1000.0
    );
}
