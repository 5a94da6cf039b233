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

/// One structured line per request; no token, key or body in the logs.
#[test]
fn json_logs_carry_requests_but_no_secrets() {
    use std::io::Read;

    use satchel_core::{client::ServerClient, net::HttpsTransport, SoftwareKey};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = server()
        .arg("--db")
        .arg(format!("sqlite:{}", dir.path().join("s.db").display()))
        .arg("--log-key-file")
        .arg(dir.path().join("log.key"))
        .arg("--operator-key-file")
        .arg(dir.path().join("operator.jwk"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics}")])
        .args(["--public-url", &url, "--log-format", "json"])
        .args(["--admin-token", "token-hunter2"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let space_key = SoftwareKey::generate_es256().unwrap();
    let device = ServerClient::new(
        &url,
        "log-phone",
        std::sync::Arc::new(SoftwareKey::generate_es256().unwrap()),
        std::sync::Arc::new(HttpsTransport::new().unwrap()),
    );
    device.register_space("log-space", &space_key).unwrap();
    let _ = device.call("GET", "/v1/spaces/other-space/records?after=0", None);
    let _ = child.kill();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let _ = child.wait();
    let requests: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["fields"]["message"] == "request")
        .collect();
    assert!(requests.len() >= 2, "{logs}");
    let register = requests
        .iter()
        .find(|r| r["fields"]["route"] == "/v1/spaces" && r["fields"]["method"] == "POST")
        .unwrap_or_else(|| panic!("{logs}"));
    assert_eq!(register["fields"]["status"], 201);
    assert!(register["fields"]["request_id"].is_string());
    // Route templates, not paths; no signatures, tokens or keys.
    assert!(!logs.contains("other-space"), "{logs}");
    for secret in ["Satchel ey", "token-hunter2", "\"d\":", "satchel-req+jwt"] {
        assert!(!logs.contains(secret), "{secret} in {logs}");
    }
}
