//! The `satchel-server` binary: secrets never printed, unusable key files
//! stop it.

use std::process::Command;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_satchel-server"))
}

#[test]
fn help_does_not_print_secret_environment_values() {
    let out = server()
        .arg("--help")
        .env(
            "SATCHEL_DB",
            "postgres://satchel:hunter2@db.internal/satchel",
        )
        .env("SATCHEL_ADMIN_TOKEN", "token-hunter2")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn a_torn_log_key_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("log.key");
    std::fs::write(&key, "PRIVATE+KEY+torn").unwrap();
    let out = server()
        .arg("--db")
        .arg(format!("sqlite:{}", dir.path().join("s.db").display()))
        .arg("--log-key-file")
        .arg(&key)
        .arg("--operator-key-file")
        .arg(dir.path().join("operator.jwk"))
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing"), "{err}");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), "PRIVATE+KEY+torn");
}

#[test]
fn without_demo_the_server_holds_no_issuer_key() {
    use satchel_server::{embedded::EmbeddedServer, http::Limits, Database};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("satchel.db");
    let server = EmbeddedServer::start_configured(
        dir.path(),
        Database::Sqlite(db.clone()),
        Limits::default(),
        false,
    )
    .unwrap();
    let get = |path: &str| crate::raw(&server, "GET", path, None, b"").0;
    assert_eq!(
        get("/issuers/public-security/.well-known/openid-credential-issuer"),
        404
    );
    assert_eq!(
        get("/.well-known/openid-credential-issuer/issuers/public-security"),
        404
    );
    let offer = crate::raw(
        &server,
        "POST",
        "/v1/admin/issuers/public-security/offers",
        Some(format!("Bearer {}", server.admin_token)),
        br#"{"subject": "citizen-1"}"#,
    );
    assert_eq!(offer.0, 404, "{:?}", offer.1);
    server.stop();
    // No private key anywhere in the database.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let keys: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM objects WHERE kind = 'issuer_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keys, 0);
    let mut file = std::fs::read(&db).unwrap();
    file.extend(std::fs::read(dir.path().join("satchel.db-wal")).unwrap_or_default());
    assert!(
        !file.windows(5).any(|w| w == b"\"d\":\""),
        "a private JWK is stored"
    );
}
