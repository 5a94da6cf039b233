use std::process::Command;

use serde_json::Value;

use crate::{ok, rejected, write};

fn run_with_stderr(d: &std::path::Path, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_satchel"))
        .current_dir(d)
        .env("SATCHEL_PASSPHRASE", "correct horse battery staple")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn request_approve_verify_use_withdraw_refused_then_log_and_trace() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let init: Value =
        serde_json::from_str(&ok(d, &["wallet", "init", "--wallet", "w.db"])).unwrap();
    write(d, "holder.pub", &init["holder_jwk"].to_string());
    write(d, "issuer.jwk", &ok(d, &["jwk", "generate"]));
    write(d, "rp.jwk", &ok(d, &["jwk", "generate"]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    write(
        d,
        "claims.json",
        &format!(
            r#"{{"iss": "https://gdga.example", "vct": "urn:id", "iat": {now}, "exp": {}, "name": "Alice", "id_number": "X-123-SECRET", "age_over_18": true}}"#,
            now + 86400
        ),
    );
    write(
        d,
        "id.sd-jwt",
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
                "id_number",
                "--sd",
                "age_over_18",
            ],
        ),
    );
    let cred = ok(
        d,
        &[
            "wallet",
            "import",
            "--wallet",
            "w.db",
            "--issuer-jwk",
            "issuer.jwk",
            "id.sd-jwt",
        ],
    )
    .trim()
    .to_owned();
    let issuer_pub: Value = serde_json::from_str(&ok(d, &["jwk", "public", "issuer.jwk"])).unwrap();
    let rp_pub: Value = serde_json::from_str(&ok(d, &["jwk", "public", "rp.jwk"])).unwrap();
    write(d, "registry.json", &serde_json::json!({
        "issuers": [{"id": "https://gdga.example", "name": "GDGA", "keys": [issuer_pub]}],
        "relying_parties": [{"client_id": "https://bank", "name": "Bank", "keys": [rp_pub], "allowed_purposes": ["IdentityVerification"]}],
    }).to_string());

    write(
        d,
        "request.jwt",
        &ok(
            d,
            &[
                "authz",
                "request",
                "--rp-key",
                "rp.jwk",
                "--client-id",
                "https://bank",
                "--vct",
                "urn:id",
                "--claim",
                "name",
                "--claim",
                "age_over_18",
                "--optional-claim",
                "id_number",
                "--purpose",
                "IdentityVerification",
                "--max-uses",
                "2",
                "--sensitive",
            ],
        ),
    );
    // Asking to disclose something not requested: refused.
    rejected(
        d,
        &[
            "authz",
            "approve",
            "--wallet",
            "w.db",
            "--registry",
            "registry.json",
            "--request",
            "request.jwt",
            "--credential",
            &cred,
            "--disclose",
            "birthdate",
        ],
    );
    let (response, stderr) = run_with_stderr(
        d,
        &[
            "authz",
            "approve",
            "--wallet",
            "w.db",
            "--registry",
            "registry.json",
            "--request",
            "request.jwt",
            "--credential",
            &cred,
            "--disclose",
            "name",
            "--disclose",
            "age_over_18",
        ],
    );
    let authz_id = stderr
        .trim()
        .strip_prefix("authorization ")
        .unwrap()
        .to_owned();
    write(d, "response.json", &response);

    let verified = ok(
        d,
        &[
            "authz",
            "verify",
            "--registry",
            "registry.json",
            "--rp-key",
            "rp.jwk",
            "--ledger",
            "rp.db",
            "--request",
            "request.jwt",
            "--response",
            "response.json",
        ],
    );
    assert!(verified.contains("Alice") && !verified.contains("X-123-SECRET"));
    let use_args = [
        "authz",
        "use",
        "--rp-key",
        "rp.jwk",
        "--client-id",
        "https://bank",
        "--ledger",
        "rp.db",
        "--purpose",
        "IdentityVerification",
    ];
    let mut first = use_args.to_vec();
    first.push(&authz_id);
    ok(d, &first);
    let mut other_purpose = first.clone();
    other_purpose[9] = "Marketing";
    assert!(rejected(d, &other_purpose).contains("purpose"));

    let withdrawal: Value = serde_json::from_str(&ok(
        d,
        &["authz", "withdraw", "--wallet", "w.db", &authz_id],
    ))
    .unwrap();
    write(
        d,
        "status.jwt",
        withdrawal["status_list_token"].as_str().unwrap(),
    );
    let uri = withdrawal["status_uri"].as_str().unwrap().to_owned();
    let mut after = use_args.to_vec();
    after.extend([
        "--status-token",
        "status.jwt",
        "--status-uri",
        &uri,
        &authz_id,
    ]);
    assert!(rejected(d, &after).contains("withdrawn"));
    assert!(ok(d, &["authz", "list", "--wallet", "w.db"]).contains("withdrawn"));

    assert!(ok(d, &["log", "verify", "--wallet", "w.db"]).contains("ok: 2 records"));
    let kantara: Value = serde_json::from_str(&ok(
        d,
        &["log", "export", "--wallet", "w.db", "--format", "kantara"],
    ))
    .unwrap();
    assert_eq!(kantara.as_array().unwrap().len(), 1);
    assert!(ok(d, &["log", "export", "--wallet", "w.db"]).contains("dpv:ConsentWithdrawn"));
    rejected(d, &["log", "export", "--wallet", "w.db", "--format", "xml"]);
    let trace = ok(d, &["trace", "--wallet", "w.db", &cred]);
    for activity in ["issue", "import", "present", "authorize", "withdraw"] {
        assert!(
            trace.contains(&format!("\t{activity}\t")),
            "{activity} in {trace}"
        );
    }
    assert!(ok(d, &["trace", "--wallet", "w.db", "--prov", &cred]).contains("wasInvalidatedBy"));
    assert!(!std::fs::read(d.join("w.db"))
        .unwrap()
        .windows(12)
        .any(|w| w == b"X-123-SECRET"));
}
