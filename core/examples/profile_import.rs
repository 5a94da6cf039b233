//! Imports 1,000 credentials as one batch, for a profiler:
//! `cargo build --profile bench -p satchel-core --example profile_import`
//! then `valgrind --tool=callgrind target/release/examples/profile_import`.

use std::sync::Arc;

use satchel_core::{
    sd_jwt::{issue, ClaimPath, IssueOptions},
    KeyStore, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet,
};
use serde_json::json;

const NOW: i64 = 1_800_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("satchel-profile-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let keystore: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let wallet = Wallet::open(&dir.join("w.db"), keystore)?;
    let space = wallet.create_space("bench", SpaceKind::Personal)?;
    let issuer = SoftwareKey::generate_es256()?;
    let paths: Vec<ClaimPath> = ["name", "id_number", "birthdate", "age_over_18"]
        .iter()
        .map(|p| ClaimPath::keys(&[p]))
        .collect();
    let tokens: Vec<String> = (0..n)
        .map(|i| {
            let c = json!({
                "iss": "https://issuer.example", "vct": "urn:satchel:id-card", "iat": NOW, "exp": NOW + 3600,
                "cnf": {"jwk": space.holder_key.to_value()},
                "name": format!("Person {i}"), "id_number": format!("4401{i:014}"), "birthdate": "1990-01-01", "age_over_18": true,
            });
            issue(&c.as_object().cloned().unwrap_or_default(), &paths, &IssueOptions::default(), &issuer)
        })
        .collect::<Result<_, _>>()?;
    let t = std::time::Instant::now();
    let results = wallet.import_credentials(&space.id, &tokens, Some(&issuer.public_jwk()), NOW)?;
    println!(
        "{} imported in {:?}",
        results.iter().filter(|r| r.is_ok()).count(),
        t.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
