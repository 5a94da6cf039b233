//! The story's steps 1–8 with the command line against a server running in
//! its own right (here on port 0 in this process; anywhere in practice).

use satchel_core::{
    client::{HttpRequest, Transport},
    net::HttpsTransport,
};
use satchel_server::embedded::EmbeddedServer;

use crate::{ok, rejected, write};

fn log_key(server: &str) -> String {
    let answer = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "GET".into(),
            url: format!("{server}/v1/log/key"),
            headers: vec![],
            body: vec![],
        })
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    v["verifier_key"].as_str().unwrap().to_owned()
}

#[test]
fn story_steps_one_to_eight_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 1. A server (started elsewhere: the CLI knows only its URL).
    let server = EmbeddedServer::start(&d.join("server")).unwrap();
    let url = server.url.as_str();
    let admin = server.admin_token.as_str();
    let at = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["--server".into(), url.into()]);
        all
    };
    let run = |args: Vec<String>| ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());

    // 2. A space, registered with the server.
    let space = ok(
        d,
        &["space", "create", "--wallet", "w.db", "--name", "个人空间"],
    )
    .trim()
    .to_owned();
    let registered = run(at(&[
        "space", "register", "--wallet", "w.db", "--space", &space,
    ]));
    assert!(
        registered.starts_with(&format!("registered space {space} on {url}")),
        "{registered}"
    );

    // 3. The ID card through OpenID4VCI.
    let offer = run(at(&[
        "operator",
        "offer",
        "--issuer",
        "public-security",
        "--subject",
        "citizen-1",
        "--admin-token",
        admin,
    ]));
    let received = run(at(&[
        "credential",
        "receive",
        "--wallet",
        "w.db",
        "--space",
        &space,
        "--offer",
        offer.trim(),
    ]));
    let fields: Vec<&str> = received.trim().split('\t').collect();
    let (card, vct) = (fields[0], fields[1]);
    assert!(vct.ends_with("/vct/resident-id-card"), "{received}");

    // 4. A bank, registered by the operator, asks.
    write(d, "bank.jwk", &ok(d, &["jwk", "generate"]));
    let bank = "https://bank.example";
    run(at(&[
        "operator",
        "relying-party",
        "--client-id",
        bank,
        "--name",
        "Example Bank",
        "--jwk",
        "bank.jwk",
        "--purpose",
        "IdentityVerification",
        "--admin-token",
        admin,
    ]));
    let request = ok(
        d,
        &[
            "authz",
            "request",
            "--rp-key",
            "bank.jwk",
            "--client-id",
            bank,
            "--vct",
            vct,
            "--claim",
            "name",
            "--optional-claim",
            "id_number",
            "--purpose",
            "IdentityVerification",
            "--max-uses",
            "2",
        ],
    );
    write(d, "req.jwt", &request);

    // 5. The citizen approves the name only, against the server's registry.
    let response = ok(
        d,
        &[
            "authz",
            "approve",
            "--wallet",
            "w.db",
            "--registry",
            url,
            "--request",
            "req.jwt",
            "--space",
            &space,
            "--credential",
            card,
            "--disclose",
            "name",
        ],
    );
    write(d, "resp.json", &response);

    // 6. The bank verifies and uses.
    let verified: serde_json::Value = serde_json::from_str(&ok(
        d,
        &[
            "authz",
            "verify",
            "--registry",
            url,
            "--rp-key",
            "bank.jwk",
            "--ledger",
            "bank.db",
            "--request",
            "req.jwt",
            "--response",
            "resp.json",
        ],
    ))
    .unwrap();
    let authorization = verified["authorization"].as_str().unwrap().to_owned();
    assert!(verified["claims"]["credential"].get("id_number").is_none());
    let use_args = [
        "authz",
        "use",
        "--rp-key",
        "bank.jwk",
        "--client-id",
        bank,
        "--ledger",
        "bank.db",
        "--purpose",
        "IdentityVerification",
        "--fetch-status",
        &authorization,
    ];
    assert!(ok(d, &use_args).starts_with("ey"), "a signed use receipt");

    // 7. Withdrawal, published; the bank's next use is refused.
    ok(
        d,
        &["authz", "withdraw", "--wallet", "w.db", &authorization],
    );
    let published = run(at(&[
        "status", "publish", "--wallet", "w.db", "--space", &space,
    ]));
    assert!(
        published.starts_with(&format!("published {url}/status/{space}")),
        "{published}"
    );
    assert!(rejected(d, &use_args).contains("withdrawn"));

    // 8. The consent log anchored; proofs checked.
    let key = log_key(url);
    let anchored = run(at(&[
        "log",
        "anchor",
        "--wallet",
        "w.db",
        "--space",
        &space,
        "--log-key",
        &key,
    ]));
    assert!(
        anchored.starts_with("anchored 2 new, 2 in all"),
        "{anchored}"
    );
    let again = run(at(&[
        "log",
        "anchor",
        "--wallet",
        "w.db",
        "--space",
        &space,
        "--log-key",
        &key,
    ]));
    assert!(again.starts_with("anchored 0 new, 2 in all"), "{again}");
    server.stop();
}

#[test]
fn server_commands_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let space = ok(d, &["space", "create", "--wallet", "w.db", "--name", "s"])
        .trim()
        .to_owned();
    let nobody = "http://127.0.0.1:9";
    let cases: [(&[&str], &str, &str); 4] = [
        // Nobody listens there.
        (&["space", "register", "--space", &space], nobody, "connect"),
        // Plain http to another host is refused before anything is sent.
        (
            &["status", "publish", "--space", &space],
            "http://satchel.example",
            "https",
        ),
        (
            &["log", "anchor", "--log-key", "nonsense"],
            nobody,
            "--log-key",
        ),
        (
            &["credential", "receive", "--space", &space, "--offer", "{}"],
            nobody,
            "",
        ),
    ];
    for (args, server, says) in cases {
        let mut all = args.to_vec();
        all.extend(["--wallet", "w.db", "--server", server]);
        let reason = rejected(d, &all);
        assert!(reason.contains(says), "{all:?}: {reason}");
    }
}
