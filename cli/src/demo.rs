//! `satchel demo`: the local part of the story (BRIEF steps 1–3, 5–6 without
//! the server yet): a demo issuer, a wallet, an ID card issued as an SD-JWT
//! VC, stored encrypted, presented with three fields, verified by a bank.

use std::sync::Arc;

use satchel_core::{
    b64,
    sd_jwt::{self, ClaimPath, IssueOptions, VerifyOptions},
    unix_now, KeyAlgorithm, KeyStore, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet,
};
use serde_json::json;

use crate::{CmdResult, Failure};

fn step(n: u32, text: &str) {
    println!("[{n}] {text}");
}

pub(crate) fn run() -> CmdResult {
    let dir = std::env::temp_dir().join(format!("satchel-demo-{}", b64::new_id()));
    std::fs::create_dir_all(&dir)?;
    let result = story(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn story(dir: &std::path::Path) -> CmdResult {
    let now = unix_now();
    println!("Satchel demo: the local part of the story\n");

    let issuer = SoftwareKey::generate(KeyAlgorithm::Es256)?;
    let issuer_id = "https://gdga.demo.satchel.app";
    step(
        1,
        &format!(
            "Issuer ready: public security bureau ({issuer_id}), key {}",
            issuer.public_jwk().thumbprint()
        ),
    );

    let keystore: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let db = dir.join("wallet.db");
    let wallet = Wallet::open(&db, keystore.clone())?;
    let space = wallet.create_space("王小明的个人空间", SpaceKind::Personal)?;
    let hw = keystore.is_hardware_backed(&space.holder_key_alias)?;
    step(
        2,
        &format!(
            "Citizen's personal space {} created; holder key ES256 {} ({})",
            space.id,
            space.holder_key.thumbprint(),
            if hw {
                "hardware-backed"
            } else {
                "software key store"
            }
        ),
    );

    let claims = json!({
        "iss": issuer_id,
        "vct": "https://credentials.demo.satchel.app/resident-id-card",
        "iat": now,
        "exp": now + 10 * 365 * 86400,
        "cnf": {"jwk": space.holder_key.to_value()},
        "name": "王小明",
        "id_number": "440106199003071234",
        "birthdate": "1990-03-07",
        "age_over_18": true,
        "address": {"province": "广东省", "city": "广州市", "street": "天河路 1 号"},
        "nationality": "CN",
    });
    let disclosable = [
        "name",
        "id_number",
        "birthdate",
        "age_over_18",
        "address",
        "address.street",
        "nationality",
    ]
    .map(|p| ClaimPath::parse_dotted(p).map_err(Failure::from))
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let token = sd_jwt::issue(
        claims.as_object().ok_or(Failure("claims".into()))?,
        &disclosable,
        &IssueOptions::default(),
        &issuer,
    )?;
    let credential =
        wallet.import_credential(&space.id, &token, Some(&issuer.public_jwk()), now)?;
    step(3, &format!(
        "ID card issued as SD-JWT VC ({} disclosures, {} bytes), verified and stored encrypted as {}",
        token.matches('~').count() - 1,
        token.len(),
        credential.id
    ));
    let mut file = std::fs::read(&db)?;
    file.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    let leaked = ["王小明", "440106199003071234"]
        .iter()
        .any(|s| file.windows(s.len()).any(|w| w == s.as_bytes()));
    println!(
        "    wallet file scanned: {}",
        if leaked {
            "PLAINTEXT FOUND"
        } else {
            "no claim value in plaintext"
        }
    );
    if leaked {
        return Err(Failure("the wallet file holds a claim in plaintext".into()));
    }

    let bank = "https://bank.demo.satchel.app";
    let nonce = b64::encode(b64::random_bytes::<16>());
    step(
        4,
        &format!("Bank {bank} asks for: name, id_number, age_over_18 (nonce {nonce})"),
    );

    let asked = ["name", "id_number", "age_over_18"].map(|p| ClaimPath::keys(&[p]));
    let presentation = wallet.present(&credential.id, &asked, bank, &nonce, now)?;
    step(
        5,
        &format!(
            "Citizen approves; presentation with {} disclosures and a key-binding JWT ({} bytes)",
            presentation.matches('~').count() - 1,
            presentation.len()
        ),
    );

    let options = VerifyOptions::vc(now).with_key_binding(bank, &nonce);
    let verified = sd_jwt::verify(
        &presentation,
        &issuer.public_jwk().verifying_key()?,
        &options,
    )?;
    let shown: Vec<&str> = ["name", "id_number", "age_over_18", "birthdate", "address"]
        .into_iter()
        .filter(|k| verified.claims.contains_key(*k))
        .collect();
    step(
        6,
        &format!(
            "Bank verified issuer signature, disclosures and key binding; it sees: {}",
            shown.join(", ")
        ),
    );
    if shown != ["name", "id_number", "age_over_18"] {
        return Err(Failure(
            "the bank saw other fields than were approved".into(),
        ));
    }
    match sd_jwt::verify(
        &presentation,
        &issuer.public_jwk().verifying_key()?,
        &VerifyOptions::vc(now).with_key_binding(bank, "replayed"),
    ) {
        Err(e) => println!("    a replay with another nonce is refused: {e}"),
        Ok(_) => return Err(Failure("a replayed presentation was accepted".into())),
    }
    println!("\nDone: the story's local steps ran end to end.");
    Ok(())
}
