use serde_json::Value;

use crate::{ok, rejected, satchel, write};

const NOW: &str = "1800000000";

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "issuer.jwk", &ok(d, &["jwk", "generate"]));
    write(d, "issuer.pub", &ok(d, &["jwk", "public", "issuer.jwk"]));
    write(
        d,
        "holder.jwk",
        &ok(d, &["jwk", "generate", "--alg", "EdDSA"]),
    );
    write(d, "holder.pub", &ok(d, &["jwk", "public", "holder.jwk"]));
    write(
        d,
        "claims.json",
        r#"{"iss": "https://issuer.example", "vct": "urn:id", "iat": 1799999000, "exp": 1800003600,
            "name": "Alice", "id_number": "X123", "address": {"city": "Guangzhou", "street": "1 Rd"}}"#,
    );
    let token = ok(
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
            "address.street",
        ],
    );
    write(d, "issued.sd-jwt", &token);
    let p = ok(
        d,
        &[
            "sd-jwt",
            "present",
            "--token",
            "issued.sd-jwt",
            "--disclose",
            "name",
            "--holder-key",
            "holder.jwk",
            "--aud",
            "https://bank",
            "--nonce",
            "n1",
            "--iat",
            NOW,
        ],
    );
    write(d, "presented.sd-jwt", &p);
    dir
}

#[test]
fn issue_present_verify() {
    let dir = setup();
    let d = dir.path();
    let out = ok(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "issuer.pub",
            "--typ",
            "dc+sd-jwt",
            "--aud",
            "https://bank",
            "--nonce",
            "n1",
            "--now",
            NOW,
            "presented.sd-jwt",
        ],
    );
    let claims: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(claims["name"], "Alice");
    assert!(claims.get("id_number").is_none());
    assert_eq!(claims["address"], serde_json::json!({"city": "Guangzhou"}));
    // Without --aud/--nonce key binding is not required (and any typ is accepted).
    ok(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "issuer.pub",
            "--now",
            NOW,
            "presented.sd-jwt",
        ],
    );
    ok(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "issuer.pub",
            "--now",
            NOW,
            "issued.sd-jwt",
        ],
    );
    // A private JWK works as the issuer key file too (public members only are used).
    ok(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "issuer.jwk",
            "--now",
            NOW,
            "issued.sd-jwt",
        ],
    );
}

#[test]
fn rejections_exit_1_with_one_line() {
    let dir = setup();
    let d = dir.path();
    let base = |extra: &[&str]| {
        let mut a = vec!["sd-jwt", "verify", "--issuer-jwk", "issuer.pub"];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let args = base(extra);
        rejected(d, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert!(run(&[
        "--aud",
        "https://bank",
        "--nonce",
        "n2",
        "--now",
        NOW,
        "presented.sd-jwt"
    ])
    .contains("nonce"));
    assert!(run(&[
        "--aud",
        "https://evil",
        "--nonce",
        "n1",
        "--now",
        NOW,
        "presented.sd-jwt"
    ])
    .contains("audience"));
    assert!(run(&[
        "--aud",
        "https://bank",
        "--nonce",
        "n1",
        "--now",
        "1800001000",
        "presented.sd-jwt"
    ])
    .contains("iat"));
    assert!(run(&[
        "--aud",
        "https://bank",
        "--nonce",
        "n1",
        "--now",
        NOW,
        "issued.sd-jwt"
    ])
    .contains("key binding"));
    assert!(run(&["--typ", "example+sd-jwt", "--now", NOW, "issued.sd-jwt"]).contains("typ"));
    assert!(run(&["--now", "1800003600", "issued.sd-jwt"]).contains("expired"));
    assert!(run(&["--now", "1799998000", "issued.sd-jwt"]).contains("not yet valid"));
    write(d, "other.jwk", &ok(d, &["jwk", "generate"]));
    rejected(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "other.jwk",
            "--now",
            NOW,
            "issued.sd-jwt",
        ],
    );
    let token = std::fs::read_to_string(d.join("presented.sd-jwt")).unwrap();
    write(d, "truncated.sd-jwt", &token[..token.len() / 2]);
    rejected(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "issuer.pub",
            "--now",
            NOW,
            "truncated.sd-jwt",
        ],
    );
    rejected(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "issuer.pub",
            "--now",
            NOW,
            "missing-file",
        ],
    );
    write(d, "bad.jwk", "{\"kty\": \"oct\"}");
    rejected(
        d,
        &[
            "sd-jwt",
            "verify",
            "--issuer-jwk",
            "bad.jwk",
            "--now",
            NOW,
            "issued.sd-jwt",
        ],
    );
    // Usage errors are exit 2.
    assert_eq!(
        satchel(d, &["sd-jwt", "verify", "--aud", "x", "issued.sd-jwt"]).code,
        2
    );
}

#[test]
fn thumbprint_matches_rfc7638() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // RFC 8037 appendix A.3.
    write(
        d,
        "k.jwk",
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    );
    assert_eq!(
        ok(d, &["jwk", "thumbprint", "k.jwk"]).trim(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}
