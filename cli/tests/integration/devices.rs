//! Story steps 9 and 11 with the command line: two wallet files and a
//! running server — a second device joins by comparing one code, syncs,
//! a lost device is removed; a space exported to one file and imported.

use std::process::Command;

use satchel_server::embedded::EmbeddedServer;

use crate::{ok, rejected};

/// Runs with the export passphrase set; exit 0 expected.
fn with_export_pass(dir: &std::path::Path, args: &[&str], pass: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_satchel"))
        .current_dir(dir)
        .env("SATCHEL_PASSPHRASE", "correct horse battery staple")
        .env("SATCHEL_EXPORT_PASSPHRASE", pass)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn two_wallets_join_sync_remove_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = EmbeddedServer::start(&d.join("server")).unwrap();
    let url = server.url.as_str();
    let with = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["--server".into(), url.into()]);
        all
    };
    let run = |args: Vec<String>| ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let refuse =
        |args: Vec<String>| rejected(d, &args.iter().map(String::as_str).collect::<Vec<_>>());

    // Phone A: a space with a credential, registered.
    let space = ok(
        d,
        &["space", "create", "--wallet", "a.db", "--name", "family"],
    )
    .trim()
    .to_owned();
    run(with(&[
        "space", "register", "--wallet", "a.db", "--space", &space,
    ]));
    let offer = run(with(&[
        "operator",
        "offer",
        "--issuer",
        "public-security",
        "--subject",
        "citizen-1",
        "--admin-token",
        &server.admin_token,
    ]));
    run(with(&[
        "credential",
        "receive",
        "--wallet",
        "a.db",
        "--space",
        &space,
        "--offer",
        offer.trim(),
    ]));

    // Tablet B asks to join; A approves; B completes with A's code.
    let request = run(with(&["device", "request", "--wallet", "b.db"]));
    let request = request.trim();
    assert!(request.starts_with("satchel-enrol:") && !request.contains('\n'));
    // Completing before approval, or approving garbage: one-line refusals.
    let early = refuse(with(&[
        "device",
        "complete",
        "--wallet",
        "b.db",
        "--confirm",
        "123 456",
    ]));
    assert!(early.contains("not approved"), "{early}");
    refuse(with(&[
        "device",
        "approve",
        "--wallet",
        "a.db",
        "--space",
        &space,
        "--request",
        "satchel-enrol:xyz",
    ]));
    let code = run(with(&[
        "device",
        "approve",
        "--wallet",
        "a.db",
        "--space",
        &space,
        "--request",
        request,
    ]));
    let code = code.trim();
    assert_eq!(code.len(), 7, "{code}");
    refuse(with(&[
        "device",
        "complete",
        "--wallet",
        "b.db",
        "--confirm",
        "000 000x",
    ]));
    let joined = run(with(&[
        "device",
        "complete",
        "--wallet",
        "b.db",
        "--confirm",
        code,
    ]));
    assert_eq!(joined.trim(), space);
    // B sees A's credential after the sync `complete` ran.
    let listed = ok(d, &["wallet", "list", "--wallet", "b.db"]);
    assert!(listed.contains("resident-id-card"), "{listed}");
    let synced = run(with(&["sync", "--wallet", "b.db", "--space", &space]));
    assert!(synced.starts_with("pulled "), "{synced}");

    // Both devices listed; A removes B; B is refused from then on.
    let devices = run(with(&[
        "device", "list", "--wallet", "a.db", "--space", &space,
    ]));
    assert_eq!(devices.lines().count(), 2, "{devices}");
    assert!(devices.lines().next().unwrap().ends_with("this device"));
    let b_id = devices
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_owned();
    run(with(&[
        "device", "remove", "--wallet", "a.db", "--space", &space, "--device", &b_id,
    ]));
    let refused = refuse(with(&["sync", "--wallet", "b.db", "--space", &space]));
    assert!(refused.contains("removed"), "{refused}");

    // Step 11: export A's space, import it into a fresh wallet C.
    let (code_x, out, err) = with_export_pass(
        d,
        &[
            "space",
            "export",
            "--wallet",
            "a.db",
            "--space",
            &space,
            "--out",
            "family.satchel",
        ],
        "a long export passphrase",
    );
    assert_eq!(code_x, 0, "{err}");
    assert!(out.starts_with("exported space"));
    let (code_w, _, err) = with_export_pass(
        d,
        &[
            "space",
            "import",
            "--wallet",
            "c.db",
            "--file",
            "family.satchel",
        ],
        "the wrong passphrase",
    );
    assert_eq!((code_w, err.trim().lines().count()), (1, 1), "{err}");
    let (code_i, out, err) = with_export_pass(
        d,
        &[
            "space",
            "import",
            "--wallet",
            "c.db",
            "--file",
            "family.satchel",
        ],
        "a long export passphrase",
    );
    assert_eq!(code_i, 0, "{err}");
    assert!(
        out.starts_with(&format!("imported space {space} (1 credentials")),
        "{out}"
    );
    // A file larger than any export is refused before it is read.
    std::fs::File::create(d.join("huge.satchel"))
        .unwrap()
        .set_len(257 << 20)
        .unwrap();
    let (huge, _, err) = with_export_pass(
        d,
        &[
            "space",
            "import",
            "--wallet",
            "c.db",
            "--file",
            "huge.satchel",
        ],
        "a long export passphrase",
    );
    assert_eq!(huge, 1);
    assert!(err.contains("larger than any"), "{err}");
    // The export file is never overwritten.
    let (again, _, _) = with_export_pass(
        d,
        &[
            "space",
            "export",
            "--wallet",
            "a.db",
            "--space",
            &space,
            "--out",
            "family.satchel",
        ],
        "a long export passphrase",
    );
    assert_eq!(again, 1);
}
