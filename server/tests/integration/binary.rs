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
