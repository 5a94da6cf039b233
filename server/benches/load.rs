//! A load run against the real server on loopback: concurrent clients, each
//! a registered device, mixing signed pushes, pulls, log appends and public
//! checkpoint reads. Prints throughput, p50/p99 latency and errors.

use satchel_core::net::HttpsTransport;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use satchel_core::{b64, client::ServerClient, tlog::leaf_hash, SoftwareKey};
use satchel_server::embedded::EmbeddedServer;
use serde_json::json;

const CLIENTS: usize = 16;
const REQUESTS_PER_CLIENT: usize = 250;

fn main() {
    // `cargo bench` passes --bench; under `cargo test` run a short smoke version.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = !std::env::args().any(|a| a == "--bench");
    let per_client = if quick { 5 } else { REQUESTS_PER_CLIENT };
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let url = server.url.clone();
    let start = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let url = url.clone();
            std::thread::spawn(move || {
                let key = Arc::new(SoftwareKey::generate_es256().unwrap());
                let client = ServerClient::new(&url, &format!("load-dev-{c}"), key.clone(), Arc::new(HttpsTransport::new().unwrap()));
                client.register_space(&format!("load-space-{c}"), &SoftwareKey::generate_es256().unwrap()).unwrap();
                let (mut lat, mut errors) = (Vec::with_capacity(per_client), 0usize);
                for i in 0..per_client {
                    let t = Instant::now();
                    let r = match i % 4 {
                        0 => {
                            let ct = b64::encode(format!("ciphertext {c} {i}"));
                            let body = json!({"records": [{"id": format!("r{i}"), "content_hash": b64::sha256_b64(format!("ciphertext {c} {i}").as_bytes()), "ciphertext": ct}]});
                            client.call("POST", &format!("/v1/spaces/load-space-{c}/records"), Some(&body)).map(|_| ())
                        }
                        1 => client.call("GET", &format!("/v1/spaces/load-space-{c}/records?after=0&limit=50"), None).map(|_| ()),
                        2 => {
                            let leaf = b64::encode(leaf_hash(format!("{c}-{i}").as_bytes()));
                            client.call("POST", "/v1/log/leaves", Some(&json!({"leaves": [leaf]}))).map(|_| ())
                        }
                        _ => client.call("GET", "/v1/log/checkpoint", None).map(|_| ()),
                    };
                    lat.push(t.elapsed());
                    if r.is_err() {
                        errors += 1;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all: Vec<Duration> = Vec::new();
    let mut errors = 0;
    for t in threads {
        let (l, e) = t.join().unwrap();
        all.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "load: {CLIENTS} clients × {per_client} requests: {} requests in {:.2} s = {:.0} req/s; p50 {:.2} ms, p99 {:.2} ms; errors {errors}",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
    server.stop();
    assert_eq!(errors, 0, "the load run had errors");
}
