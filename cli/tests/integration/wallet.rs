use std::process::Command;

use crate::{ok, rejected, write};

#[test]
fn wallet_init_import_list_show_present_delete() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let init: serde_json::Value =
        serde_json::from_str(&ok(d, &["wallet", "init", "--wallet", "w.db"])).unwrap();
    write(d, "holder.pub", &init["holder_jwk"].to_string());
    write(d, "issuer.jwk", &ok(d, &["jwk", "generate"]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    write(
        d,
        "claims.json",
        &format!(
            r#"{{"iss": "https://i", "vct": "urn:licence", "exp": {}, "name": "Bob", "class": "C1"}}"#,
            now + 3600
        ),
    );
    write(
        d,
        "cred.sd-jwt",
        &ok(
            d,
            &[
                "sd-jwt",
                "issue",
                "--issuer-key",
                "issuer.jwk",
                "--claims",
                "claims.json",
                "--holder-jwk",
                "holder.pub",
                "--sd",
                "name",
                "--sd",
                "class",
            ],
        ),
    );
    let id = ok(
        d,
        &[
            "wallet",
            "import",
            "--wallet",
            "w.db",
            "--issuer-jwk",
            "issuer.jwk",
            "cred.sd-jwt",
        ],
    );
    let id = id.trim();
    let list = ok(d, &["wallet", "list", "--wallet", "w.db"]);
    assert!(list.contains(id) && list.contains("urn:licence") && list.contains("valid"));
    assert!(ok(
        d,
        &["wallet", "list", "--wallet", "w.db", "--status", "expired"]
    )
    .is_empty());
    assert!(ok(d, &["wallet", "show", "--wallet", "w.db", id]).contains("\"Bob\""));
    let p = ok(
        d,
        &[
            "wallet",
            "present",
            "--wallet",
            "w.db",
            id,
            "--disclose",
            "class",
            "--aud",
            "https://rp",
            "--nonce",
            "x",
        ],
    );
    write(d, "p.sd-jwt", &p);
    let v = ok(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "issuer.jwk",
            "--typ",
            "dc+sd-jwt",
            "--aud",
            "https://rp",
            "--nonce",
            "x",
            "p.sd-jwt",
        ],
    );
    assert!(v.contains("C1") && !v.contains("Bob"));

    // The database and the key store hold no claim in plaintext.
    for f in ["w.db", "w.keys"] {
        let bytes = std::fs::read(d.join(f)).unwrap();
        assert!(!bytes.windows(3).any(|w| w == b"Bob"), "{f}");
    }
    // Wrong passphrase: refused.
    let out = Command::new(env!("CARGO_BIN_EXE_satchel"))
        .current_dir(d)
        .env("SATCHEL_PASSPHRASE", "wrong")
        .args(["wallet", "list", "--wallet", "w.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("passphrase"));

    // Tampered credential: refused, nothing stored.
    let token = std::fs::read_to_string(d.join("cred.sd-jwt")).unwrap();
    write(d, "bad.sd-jwt", &token.replacen('~', "~x", 1));
    rejected(
        d,
        &[
            "wallet",
            "import",
            "--wallet",
            "w.db",
            "--issuer-jwk",
            "issuer.jwk",
            "bad.sd-jwt",
        ],
    );
    rejected(d, &["wallet", "import", "--wallet", "w.db", "cred.sd-jwt"]);
    assert_eq!(
        ok(d, &["wallet", "list", "--wallet", "w.db"])
            .lines()
            .count(),
        1
    );

    ok(d, &["wallet", "delete", "--wallet", "w.db", id]);
    rejected(d, &["wallet", "show", "--wallet", "w.db", id]);
    rejected(d, &["wallet", "init", "--wallet", "w.db"]);
    rejected(d, &["wallet", "list", "--wallet", "nowhere.db"]);
}

/// An init killed after the files were made but before the first space:
/// running init again finishes it; other commands say there is no space.
#[test]
fn an_interrupted_init_can_be_finished() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys =
        satchel_core::SoftwareKeyStore::open(&d.join("w.keys"), "correct horse battery staple")
            .unwrap();
    drop(satchel_core::Wallet::open(&d.join("w.db"), std::sync::Arc::new(keys)).unwrap());
    let reason = rejected(d, &["wallet", "list", "--wallet", "w.db"]);
    assert!(reason.contains("no space"), "{reason}");
    let init: serde_json::Value =
        serde_json::from_str(&ok(d, &["wallet", "init", "--wallet", "w.db"])).unwrap();
    assert!(init["space"].is_string());
    assert_eq!(
        ok(d, &["wallet", "spaces", "--wallet", "w.db"])
            .lines()
            .count(),
        1
    );
    rejected(d, &["wallet", "init", "--wallet", "w.db"]);
}
