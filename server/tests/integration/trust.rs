use satchel_core::net::HttpsTransport;
use std::sync::Arc;

use satchel_core::{
    authz::{
        self, Approval, AuthorizationRequest, ClaimQuery, Controller, CredentialQuery, DcqlQuery,
        PiplFlags, Selection, StatusCache, Terms,
    },
    client::{ClientError, HttpRequest, ServerClient, Transport},
    registry::{RegisteredIssuer, RegisteredRelyingParty, Registry},
    sd_jwt::{issue, ClaimPath, IssueOptions},
    KeyStore, KeyStoreSigner, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet,
};
use satchel_server::embedded::EmbeddedServer;
use serde_json::{json, Value};

use crate::{assert_problem, raw};

const BANK: &str = "https://bank.example";

fn admin_put_rp(
    server: &EmbeddedServer,
    rp: &RegisteredRelyingParty,
    token: Option<&str>,
) -> (u16, Value) {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    if let Some(t) = token {
        headers.push(("Authorization".into(), format!("Bearer {t}")));
    }
    let r = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "PUT".into(),
            url: format!(
                "{}/v1/admin/relying-parties/{}",
                server.url,
                urlencode(&rp.client_id)
            ),
            headers,
            body: serde_json::to_vec(rp).unwrap(),
        })
        .unwrap();
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn admin_get(server: &EmbeddedServer, path: &str) -> Value {
    let r = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "GET".into(),
            url: format!("{}{path}", server.url),
            headers: vec![(
                "Authorization".into(),
                format!("Bearer {}", server.admin_token),
            )],
            body: vec![],
        })
        .unwrap();
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn bank_rp(key: &SoftwareKey) -> RegisteredRelyingParty {
    RegisteredRelyingParty {
        client_id: BANK.into(),
        name: "Bank".into(),
        keys: vec![key.public_jwk()],
        allowed_purposes: vec!["IdentityVerification".into()],
    }
}

fn request(client_id: &str, key: &SoftwareKey) -> String {
    relayable(client_id, key, "http://unused", "state-not-relayed-000")
}

fn relayable(client_id: &str, key: &SoftwareKey, server: &str, state: &str) -> String {
    let now = satchel_core::unix_now();
    AuthorizationRequest {
        client_id: client_id.into(),
        response_uri: format!("{server}/r/{state}/response"),
        nonce: "nonce-0123456789".into(),
        state: Some(state.into()),
        iat: now,
        exp: now + 600,
        dcql_query: DcqlQuery {
            credentials: vec![CredentialQuery {
                id: "id".into(),
                format: "dc+sd-jwt".into(),
                meta: Some(json!({"vct_values": ["urn:id"]})),
                claims: vec![ClaimQuery {
                    id: None,
                    path: json!(["name"]),
                }],
                claim_sets: None,
            }],
        },
        satchel: Terms {
            purpose: "IdentityVerification".into(),
            legal_basis: "Consent".into(),
            not_before: now - 10,
            not_after: now + 86400,
            max_uses: 2,
            retention_days: 1,
            onward_transfer: false,
            pipl: PiplFlags::default(),
            controller: Controller {
                name: "Bank".into(),
                contact: String::new(),
            },
            jurisdiction: "CN".into(),
        },
    }
    .sign(key)
    .unwrap()
}

#[test]
fn registry_is_signed_and_only_the_operator_changes_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let bank = SoftwareKey::generate_es256().unwrap();
    assert_problem(
        &admin_put_rp(&server, &bank_rp(&bank), None),
        401,
        "unauthenticated",
    );
    assert_problem(
        &admin_put_rp(
            &server,
            &bank_rp(&bank),
            Some("wrong-token-of-the-same-len"),
        ),
        401,
        "unauthenticated",
    );
    assert_eq!(
        admin_put_rp(&server, &bank_rp(&bank), Some(&server.admin_token)).0,
        204
    );
    let mut no_keys = bank_rp(&bank);
    no_keys.keys.clear();
    assert_problem(
        &admin_put_rp(&server, &no_keys, Some(&server.admin_token)),
        400,
        "bad_request",
    );

    let token = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "GET".into(),
            url: format!("{}/v1/registry", server.url),
            headers: vec![],
            body: vec![],
        })
        .unwrap();
    let (_, key) = raw(&server, "GET", "/v1/registry/key", None, b"");
    let operator = satchel_core::Jwk::from_value(&key)
        .unwrap()
        .verifying_key()
        .unwrap();
    let reg = Registry::verify(
        std::str::from_utf8(&token.body).unwrap(),
        &operator,
        satchel_core::unix_now(),
    )
    .unwrap();
    assert_eq!(reg.relying_parties[0].client_id, BANK);
    let other = SoftwareKey::generate_ed25519()
        .unwrap()
        .public_jwk()
        .verifying_key()
        .unwrap();
    assert!(Registry::verify(
        std::str::from_utf8(&token.body).unwrap(),
        &other,
        satchel_core::unix_now()
    )
    .is_err());
}

#[test]
fn metering_counts_uses_and_refuses_over_use_other_purposes_and_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let bank = Arc::new(SoftwareKey::generate_es256().unwrap());
    assert_eq!(
        admin_put_rp(&server, &bank_rp(&bank), Some(&server.admin_token)).0,
        204
    );
    let rp = ServerClient::new(
        &server.url,
        BANK,
        bank.clone(),
        Arc::new(HttpsTransport::new().unwrap()),
    );

    // A citizen whose space is registered with the server (so the server can read withdrawals).
    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let wallet = Wallet::open(&dir.path().join("w.db"), ks.clone()).unwrap();
    wallet
        .set_status_base(&format!("{}/status", server.url))
        .unwrap();
    let space = wallet.create_space("me", SpaceKind::Personal).unwrap();
    let space_signer = KeyStoreSigner::new(ks, &space.holder_key_alias).unwrap();
    let phone = ServerClient::new(
        &server.url,
        "phone",
        Arc::new(SoftwareKey::generate_es256().unwrap()),
        Arc::new(HttpsTransport::new().unwrap()),
    );
    phone.register_space(&space.id, &space_signer).unwrap();
    let issuer = SoftwareKey::generate_es256().unwrap();
    let now = satchel_core::unix_now();
    let claims = json!({"iss": "https://i", "vct": "urn:id", "iat": now, "exp": now + 3600, "cnf": {"jwk": space.holder_key.to_value()}, "name": "A"});
    let token = issue(
        claims.as_object().unwrap(),
        &[ClaimPath::keys(&["name"])],
        &IssueOptions::default(),
        &issuer,
    )
    .unwrap();
    let cred = wallet
        .import_credential(&space.id, &token, Some(&issuer.public_jwk()), now)
        .unwrap();
    let registry = Registry {
        issuers: vec![RegisteredIssuer {
            id: "https://i".into(),
            name: "I".into(),
            keys: vec![issuer.public_jwk()],
            credential_types: vec![],
        }],
        relying_parties: vec![bank_rp(&bank)],
    };
    let req = request(BANK, &bank);
    let parsed = authz::parse_request(&req, &registry, now).unwrap();
    let approval = Approval {
        selections: vec![Selection {
            query_id: "id".into(),
            credential_id: cred.id,
            claims: vec![ClaimPath::keys(&["name"])],
        }],
        ..Default::default()
    };
    let approved = wallet.approve(&space.id, &parsed, &approval, now).unwrap();
    let v = authz::verify_response(
        &approved.response,
        &req,
        &registry,
        &StatusCache::new(),
        now,
    )
    .unwrap();

    let reg = rp
        .call(
            "POST",
            "/v1/authorizations",
            Some(&json!({"authorization": v.authorization})),
        )
        .unwrap();
    assert_eq!(reg["authorization_id"], v.id);
    let use_ = |purpose: &str| {
        rp.call(
            "POST",
            "/v1/uses",
            Some(&json!({"authorization_id": v.id, "purpose": purpose})),
        )
    };
    assert_eq!(use_("IdentityVerification").unwrap()["remaining"], 1);
    assert!(matches!(
        use_("Marketing"),
        Err(ClientError::Server { status: 403, .. })
    ));
    assert_eq!(use_("IdentityVerification").unwrap()["remaining"], 0);
    assert!(matches!(
        use_("IdentityVerification"),
        Err(ClientError::Server { status: 403, .. })
    ));

    // Another relying party cannot meter this authorisation.
    let thief_key = Arc::new(SoftwareKey::generate_es256().unwrap());
    let mut thief_rp = bank_rp(&thief_key);
    thief_rp.client_id = "https://thief.example".into();
    assert_eq!(
        admin_put_rp(&server, &thief_rp, Some(&server.admin_token)).0,
        204
    );
    let thief = ServerClient::new(
        &server.url,
        "https://thief.example",
        thief_key,
        Arc::new(HttpsTransport::new().unwrap()),
    );
    assert!(matches!(
        thief.call(
            "POST",
            "/v1/uses",
            Some(&json!({"authorization_id": v.id, "purpose": "IdentityVerification"}))
        ),
        Err(ClientError::Server { status: 403, .. })
    ));
    assert!(matches!(
        thief.call(
            "POST",
            "/v1/authorizations",
            Some(&json!({"authorization": v.authorization}))
        ),
        Err(ClientError::Server { status: 403, .. })
    ));
    // An authorisation signed by a made-up key (no space here) is not
    // metered, and the attempt is flagged for the auditor.
    let payload = |token: &str| -> authz::Authorization {
        let jwt = satchel_core::jws::decode(token).unwrap();
        serde_json::from_value(serde_json::Value::Object(jwt.payload_object().unwrap())).unwrap()
    };
    let forger = SoftwareKey::generate_es256().unwrap();
    let mut forged = payload(&v.authorization);
    forged.jti = "forged-1".into();
    forged.iss = authz::Authorization::holder_urn(&forger.public_jwk().thumbprint());
    assert!(matches!(
        rp.call(
            "POST",
            "/v1/authorizations",
            Some(&json!({"authorization": forged.sign(&forger).unwrap()}))
        ),
        Err(ClientError::Server { status: 403, .. })
    ));
    // Another relying party cannot take over a registered authorisation id,
    // even with an authorisation of its own from a space registered here.
    let mut shadow = payload(&v.authorization);
    shadow.aud = "https://thief.example".into();
    assert!(matches!(
        thief.call(
            "POST",
            "/v1/authorizations",
            Some(&json!({"authorization": shadow.sign(&space_signer).unwrap()}))
        ),
        Err(ClientError::Server { status: 409, .. })
    ));
    // The bank registering its own again is idempotent.
    assert_eq!(
        rp.call(
            "POST",
            "/v1/authorizations",
            Some(&json!({"authorization": v.authorization}))
        )
        .unwrap()["authorization_id"],
        v.id
    );

    // Unregistered relying parties are not authenticated at all.
    let nobody = ServerClient::new(
        &server.url,
        "https://nobody",
        Arc::new(SoftwareKey::generate_es256().unwrap()),
        Arc::new(HttpsTransport::new().unwrap()),
    );
    assert!(matches!(
        nobody.call(
            "POST",
            "/v1/uses",
            Some(&json!({"authorization_id": v.id, "purpose": "x"}))
        ),
        Err(ClientError::Server { status: 401, .. })
    ));

    // After a withdrawal published on the server, a fresh authorisation's use is refused.
    let req2 = request(BANK, &bank);
    let parsed2 = authz::parse_request(&req2, &registry, now).unwrap();
    let cred2 = wallet.credentials(&space.id, &Default::default()).unwrap()[0]
        .id
        .clone();
    let approval2 = Approval {
        selections: vec![Selection {
            query_id: "id".into(),
            credential_id: cred2,
            claims: vec![ClaimPath::keys(&["name"])],
        }],
        ..Default::default()
    };
    let approved2 = wallet
        .approve(&space.id, &parsed2, &approval2, now)
        .unwrap();
    rp.call(
        "POST",
        "/v1/authorizations",
        Some(&json!({"authorization": approved2.response.satchel_authorization})),
    )
    .unwrap();
    let w = wallet.withdraw(&approved2.authorization_id, now).unwrap();
    phone
        .publish_status_list(&space.id, &w.status_list_token)
        .unwrap();
    match rp.call("POST", "/v1/uses", Some(&json!({"authorization_id": approved2.authorization_id, "purpose": "IdentityVerification"}))) {
        Err(ClientError::Server { status: 403, detail, .. }) => assert!(detail.contains("withdrawal"), "{detail}"),
        other => panic!("{other:?}"),
    }

    // The auditor sees uses and anomalies.
    let audit = admin_get(
        &server,
        &format!("/v1/admin/audit?client_id={}", urlencode(BANK)),
    );
    assert_eq!(audit["uses"].as_array().unwrap().len(), 2);
    let reasons: Vec<String> = audit["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["detail"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("number of uses")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("purpose")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("not signed by a space")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("withdrawal")),
        "{reasons:?}"
    );
    assert_problem(
        &raw(&server, "GET", "/v1/admin/audit", None, b""),
        401,
        "unauthenticated",
    );
    let _ = space_signer.public_jwk();
}

#[test]
fn relay_request_and_direct_post_response() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let bank = Arc::new(SoftwareKey::generate_es256().unwrap());
    assert_eq!(
        admin_put_rp(&server, &bank_rp(&bank), Some(&server.admin_token)).0,
        204
    );
    let rp = ServerClient::new(
        &server.url,
        BANK,
        bank.clone(),
        Arc::new(HttpsTransport::new().unwrap()),
    );
    // Not relayable: no matching state / a response_uri elsewhere.
    assert!(matches!(
        rp.call(
            "POST",
            "/v1/requests",
            Some(&json!({"request": request(BANK, &bank)}))
        ),
        Err(ClientError::Server { status: 400, .. })
    ));
    let req = relayable(BANK, &bank, &server.url, "relay-id-0123456789abcdef");
    let relayed = rp
        .call("POST", "/v1/requests", Some(&json!({"request": req})))
        .unwrap();
    assert!(matches!(
        rp.call("POST", "/v1/requests", Some(&json!({"request": req}))),
        Err(ClientError::Server { status: 409, .. })
    ));
    let id = relayed["id"].as_str().unwrap().to_owned();
    let uri = relayed["request_uri"].as_str().unwrap().to_owned();
    assert!(relayed["qr"]
        .as_str()
        .unwrap()
        .starts_with("openid4vp://?client_id=https%3A%2F%2Fbank.example&request_uri="));
    // The wallet fetches the request by its link.
    let fetched = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "GET".into(),
            url: uri,
            headers: vec![],
            body: vec![],
        })
        .unwrap();
    assert_eq!(
        fetched.header("content-type"),
        Some("application/oauth-authz-req+jwt")
    );
    assert_eq!(String::from_utf8(fetched.body).unwrap(), req);
    // Nothing yet.
    assert!(matches!(
        rp.call("GET", &format!("/v1/requests/{id}/response"), None),
        Err(ClientError::Server { status: 404, .. })
    ));
    let body = json!({"vp_token": {"id": ["x~"]}, "satchel_authorization": "a.b.c"}).to_string();
    assert_eq!(
        raw(
            &server,
            "POST",
            &format!("/r/{id}/response"),
            None,
            body.as_bytes()
        )
        .0,
        200
    );
    // Anyone who saw the QR code can post too: the first answer does not
    // win; up to 8 are kept for the relying party to verify.
    let intruder =
        json!({"vp_token": {"id": ["y~"]}, "satchel_authorization": "bogus.x.y"}).to_string();
    for _ in 0..7 {
        assert_eq!(
            raw(
                &server,
                "POST",
                &format!("/r/{id}/response"),
                None,
                intruder.as_bytes()
            )
            .0,
            200
        );
    }
    assert_problem(
        &raw(
            &server,
            "POST",
            &format!("/r/{id}/response"),
            None,
            body.as_bytes(),
        ),
        409,
        "conflict",
    );
    assert_problem(
        &raw(
            &server,
            "POST",
            "/r/unknown/response",
            None,
            body.as_bytes(),
        ),
        404,
        "not_found",
    );
    let taken = rp
        .call("GET", &format!("/v1/requests/{id}/response"), None)
        .unwrap();
    assert_eq!(taken["responses"].as_array().unwrap().len(), 8);
    assert_eq!(taken["responses"][0]["satchel_authorization"], "a.b.c");
    // Collected once: personal data does not stay on the server.
    assert!(matches!(
        rp.call("GET", &format!("/v1/requests/{id}/response"), None),
        Err(ClientError::Server { status: 404, .. })
    ));
    // Someone else's request or response: refused.
    let other_key = Arc::new(SoftwareKey::generate_es256().unwrap());
    let mut other_rp = bank_rp(&other_key);
    other_rp.client_id = "https://other.example".into();
    assert_eq!(
        admin_put_rp(&server, &other_rp, Some(&server.admin_token)).0,
        204
    );
    let other = ServerClient::new(
        &server.url,
        "https://other.example",
        other_key,
        Arc::new(HttpsTransport::new().unwrap()),
    );
    assert!(matches!(
        other.call("GET", &format!("/v1/requests/{id}/response"), None),
        Err(ClientError::Server { status: 403, .. })
    ));
    assert!(matches!(
        other.call("POST", "/v1/requests", Some(&json!({"request": req}))),
        Err(ClientError::Server { status: 403, .. })
    ));
    assert!(matches!(
        rp.call("POST", "/v1/requests", Some(&json!({"request": "garbage"}))),
        Err(ClientError::Server { status: 400, .. })
    ));
    assert_problem(
        &raw(
            &server,
            "POST",
            &format!("/r/{id}/response"),
            None,
            b"{not json",
        ),
        400,
        "bad_request",
    );
    assert_problem(&raw(&server, "GET", "/r/nope", None, b""), 404, "not_found");
}

#[test]
fn a_relying_party_may_sign_with_any_registered_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let (old, new) = (
        SoftwareKey::generate_es256().unwrap(),
        Arc::new(SoftwareKey::generate_es256().unwrap()),
    );
    let mut rp = bank_rp(&old);
    rp.keys.push(new.public_jwk());
    assert_eq!(admin_put_rp(&server, &rp, Some(&server.admin_token)).0, 204);
    let client = ServerClient::new(
        &server.url,
        BANK,
        new,
        Arc::new(HttpsTransport::new().unwrap()),
    );
    match client.call("GET", "/v1/requests/none-such-request-id/response", None) {
        Err(ClientError::Server { status: 404, .. }) => {}
        other => panic!("authenticated with the second key should reach the handler: {other:?}"),
    }
}
