//! Runs one SD-JWT VC verification many times, for a profiler:
//! `cargo build --profile bench -p satchel-core --example profile_verify`
//! then `valgrind --tool=callgrind target/release/examples/profile_verify 200`.

use satchel_core::{
    sd_jwt::{issue, present, verify, ClaimPath, IssueOptions, KeyBinding, VerifyOptions},
    Signer, SoftwareKey,
};
use serde_json::{json, Value};

const NOW: i64 = 1_800_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let issuer = SoftwareKey::generate_es256()?;
    let holder = SoftwareKey::generate_es256()?;
    let mut c = json!({
        "iss": "https://issuer.example", "vct": "urn:satchel:id-card", "iat": NOW - 10, "exp": NOW + 3600,
        "cnf": {"jwk": holder.public_jwk().to_value()},
    });
    for i in 0..10 {
        c[format!("claim_{i}")] = json!(format!("value number {i}"));
    }
    let claims = c.as_object().cloned().unwrap_or_default();
    let paths: Vec<ClaimPath> = (0..10)
        .map(|i| ClaimPath::keys(&[format!("claim_{i}")]))
        .collect();
    let token = issue(&claims, &paths, &IssueOptions::default(), &issuer)?;
    let kb = || KeyBinding {
        audience: "https://bank.example",
        nonce: "n-1",
        issued_at: NOW,
        signer: &holder,
    };
    let presentation = present(&token, &paths[..3], Some(kb()))?;
    let key = issuer.public_jwk().verifying_key()?;
    let options = VerifyOptions::vc(NOW).with_key_binding("https://bank.example", "n-1");
    let mut n = 0;
    let mode = std::env::args().nth(2).unwrap_or_default();
    if matches!(mode.as_str(), "issue" | "present" | "sign") {
        for _ in 0..rounds {
            n += match mode.as_str() {
                "issue" => {
                    issue(&claims, &paths, &IssueOptions::default(), &issuer).map_or(0, |t| t.len())
                }
                "present" => present(&token, &paths[..3], Some(kb())).map_or(0, |t| t.len()),
                _ => issuer.sign(presentation.as_bytes()).map_or(0, |s| s.len()),
            };
        }
        println!("{n}");
        return Ok(());
    }
    if mode != "time" {
        for _ in 0..rounds {
            n += verify(&presentation, &key, &options)?.disclosure_count;
        }
        println!("{n} {}", Value::from(presentation.len()));
        return Ok(());
    }
    // The two signatures of this presentation, verified raw: the ceiling.
    let issuer_jwt = presentation.split('~').next().unwrap_or_default();
    let kb_jwt = presentation.rsplit('~').next().unwrap_or_default();
    let raw = |jwt: &str| {
        let (input, sig) = jwt.rsplit_once('.').unwrap_or_default();
        (
            input.to_owned(),
            satchel_core::b64::decode(sig).unwrap_or_default(),
        )
    };
    let (i_in, i_sig) = raw(issuer_jwt);
    let (k_in, k_sig) = raw(kb_jwt);
    let hkey = holder.public_jwk().verifying_key()?;
    let mut best = (f64::MAX, f64::MAX);
    for _ in 0..7 {
        let t = std::time::Instant::now();
        for _ in 0..rounds {
            n += verify(&presentation, &key, &options)?.disclosure_count;
        }
        let v = t.elapsed().as_nanos() as f64 / rounds as f64;
        let t = std::time::Instant::now();
        for _ in 0..rounds {
            n += usize::from(key.verify(i_in.as_bytes(), &i_sig))
                + usize::from(hkey.verify(k_in.as_bytes(), &k_sig));
        }
        let c = t.elapsed().as_nanos() as f64 / rounds as f64;
        best = (best.0.min(v), best.1.min(c));
        println!(
            "verify {:.1} µs  two raw verifies {:.1} µs  ratio {:.3}",
            v / 1e3,
            c / 1e3,
            c / v
        );
    }
    // Where the time outside the signatures goes, piece by piece.
    let time = |name: &str, f: &mut dyn FnMut() -> usize| {
        let mut best = f64::MAX;
        let mut sink = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            for _ in 0..rounds {
                sink += f();
            }
            best = best.min(t.elapsed().as_nanos() as f64 / rounds as f64);
        }
        println!("  {name}: {:.2} µs ({sink})", best / 1e3);
    };
    let parts: Vec<&str> = presentation.split('~').collect();
    let payload_b64 = issuer_jwt.split('.').nth(1).unwrap_or_default();
    let payload = satchel_core::b64::decode(payload_b64).unwrap_or_default();
    let sd_input = &presentation[..presentation.rfind('~').unwrap_or(0) + 1];
    time("b64 decode issuer payload", &mut || {
        satchel_core::b64::decode(payload_b64).map_or(0, |v| v.len())
    });
    time("parse issuer payload to Map", &mut || {
        serde_json::from_slice::<serde_json::Map<String, Value>>(&payload).map_or(0, |m| m.len())
    });
    time("3 disclosures parse", &mut || {
        parts[1..4]
            .iter()
            .map(|d| satchel_core::sd_jwt::Disclosure::parse(d).map_or(0, |d| d.digest.len()))
            .sum()
    });
    time("sd_hash", &mut || {
        satchel_core::b64::sha256_b64(sd_input.as_bytes()).len()
    });
    time("jws decode kb", &mut || {
        satchel_core::jws::decode(kb_jwt).map_or(0, |j| j.payload.len())
    });
    time("jws decode issuer", &mut || {
        satchel_core::jws::decode(issuer_jwt).map_or(0, |j| j.payload.len())
    });
    let msg = i_in.as_bytes();
    time("raw P-256 sign (issuer signing input)", &mut || {
        issuer.sign(msg).map_or(0, |s| s.len())
    });
    time("issue (10 disclosable)", &mut || {
        issue(&claims, &paths, &IssueOptions::default(), &issuer).map_or(0, |t| t.len())
    });
    time("present (3 of 10 + KB)", &mut || {
        present(&token, &paths[..3], Some(kb())).map_or(0, |t| t.len())
    });
    println!(
        "best: verify {:.1} µs, ceiling {:.1} µs, {:.1} % of ceiling, {:.1} µs outside ({n})",
        best.0 / 1e3,
        best.1 / 1e3,
        100.0 * best.1 / best.0,
        (best.0 - best.1) / 1e3
    );
    Ok(())
}
