use satchel_core::net::HttpsTransport;
use std::sync::Arc;

use satchel_core::{
    client::{HttpRequest, Transport},
    issuance::CredentialOffer,
    registry::Registry,
    status_list::{StatusList, StatusReference},
    KeyStore, Signer, SoftwareKeyStore, SpaceKind, Wallet, WalletError,
};
use satchel_server::embedded::EmbeddedServer;
use serde_json::{json, Value};

fn http(
    server: &EmbeddedServer,
    method: &str,
    path: &str,
    headers: Vec<(&str, String)>,
    body: &[u8],
) -> (u16, Value) {
    let r = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: method.into(),
            url: format!("{}{path}", server.url),
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            body: body.to_vec(),
        })
        .unwrap();
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn offer(server: &EmbeddedServer, issuer: &str, subject: &str) -> (u16, Value) {
    http(
        server,
        "POST",
        &format!("/v1/admin/issuers/{issuer}/offers"),
        vec![("Authorization", format!("Bearer {}", server.admin_token))],
        json!({"subject": subject}).to_string().as_bytes(),
    )
}

fn registry(server: &EmbeddedServer) -> Registry {
    let token = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "GET".into(),
            url: format!("{}/v1/registry", server.url),
            headers: vec![],
            body: vec![],
        })
        .unwrap();
    let (_, key) = http(server, "GET", "/v1/registry/key", vec![], b"");
    let op = satchel_core::Jwk::from_value(&key)
        .unwrap()
        .verifying_key()
        .unwrap();
    Registry::verify(
        std::str::from_utf8(&token.body).unwrap(),
        &op,
        satchel_core::unix_now(),
    )
    .unwrap()
}

#[test]
fn openid4vci_pre_authorized_flow_issues_a_bound_credential_and_revokes_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let reg = registry(&server);
    assert_eq!(reg.issuers.len(), 4, "the four demo issuers are registered");

    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let wallet = Wallet::open(&dir.path().join("w.db"), ks).unwrap();
    let space = wallet.create_space("me", SpaceKind::Personal).unwrap();
    let (status, o) = offer(&server, "public-security", "citizen-1");
    assert_eq!(status, 200);
    let parsed = CredentialOffer::parse(o["credential_offer_uri"].as_str().unwrap()).unwrap();
    let now = satchel_core::unix_now();
    let card = wallet
        .receive_credential(
            &space.id,
            &parsed,
            &HttpsTransport::new().unwrap(),
            &reg,
            now,
        )
        .unwrap();
    assert_eq!(card.claims["name"], "王小明");
    assert!(card.vct.ends_with("/vct/resident-id-card"));
    assert_eq!(
        card.claims["cnf"]["jwk"],
        space.holder_key.to_value(),
        "bound to the holder key"
    );
    let trace: Vec<_> = wallet
        .trace(&card.id, None)
        .unwrap()
        .iter()
        .map(|e| e.activity)
        .collect();
    assert_eq!(
        trace[..2],
        [
            satchel_core::provenance::Activity::Issue,
            satchel_core::provenance::Activity::Import
        ]
    );

    // The pre-authorised code is single use.
    assert!(
        matches!(wallet.receive_credential(&space.id, &parsed, &HttpsTransport::new().unwrap(), &reg, now), Err(WalletError::IssuerRefused(m)) if m.contains("invalid_grant"))
    );
    // An issuer missing from the registry is refused before any request.
    assert!(matches!(
        wallet.receive_credential(
            &space.id,
            &parsed,
            &HttpsTransport::new().unwrap(),
            &Registry::default(),
            now
        ),
        Err(WalletError::UnknownIssuer(_))
    ));

    // Revocation shows in the issuer's status list.
    let status_ref = StatusReference::from_claim(&card.claims["status"]).unwrap();
    let (code, _) = http(
        &server,
        "POST",
        "/v1/admin/issuers/public-security/revoke",
        vec![("Authorization", format!("Bearer {}", server.admin_token))],
        json!({"idx": status_ref.idx}).to_string().as_bytes(),
    );
    assert_eq!(code, 204);
    let list = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "GET".into(),
            url: status_ref.uri.clone(),
            headers: vec![],
            body: vec![],
        })
        .unwrap();
    let issuer_key = reg
        .issuers
        .iter()
        .find(|i| i.id.ends_with("/public-security"))
        .unwrap()
        .keys[0]
        .verifying_key()
        .unwrap();
    let l = StatusList::from_token(
        std::str::from_utf8(&list.body).unwrap(),
        &issuer_key,
        &status_ref.uri,
        now,
    )
    .unwrap();
    assert_eq!(l.get(status_ref.idx).unwrap(), 1);
}

#[test]
fn issuer_endpoints_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let admin = || vec![("Authorization", format!("Bearer {}", server.admin_token))];
    assert_eq!(offer(&server, "public-security", "nobody").0, 404);
    assert_eq!(offer(&server, "tax-bureau", "citizen-1").0, 404);
    assert_eq!(
        http(
            &server,
            "POST",
            "/v1/admin/issuers/public-security/offers",
            vec![],
            b"{}"
        )
        .0,
        401
    );
    assert_eq!(
        http(
            &server,
            "POST",
            "/v1/admin/issuers/public-security/revoke",
            admin(),
            br#"{"idx": 999999}"#
        )
        .0,
        400
    );

    let form = |body: &str| {
        http(
            &server,
            "POST",
            "/issuers/public-security/token",
            vec![("Content-Type", "application/x-www-form-urlencoded".into())],
            body.as_bytes(),
        )
    };
    let (s, e) = form("grant_type=password&pre-authorized_code=x");
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, e) = form("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=unknown");
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(form("garbage").1["error"], "invalid_request");

    // A code for one issuer cannot be used at another.
    let (_, o) = offer(&server, "transport", "citizen-1");
    let code = o["credential_offer"]["grants"]
        ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, e) = form(&format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={code}"));
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));

    // Credential endpoint: no token, wrong configuration, missing or bad
    // proof. Each access token is good for one attempt.
    let fresh = || {
        let (_, o) = offer(&server, "public-security", "citizen-2");
        let code = o["credential_offer"]["grants"]
            ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, t) = form(&format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={code}"));
        t["access_token"].as_str().unwrap().to_owned()
    };
    let cred = |auth: Option<&str>, body: Value| {
        let mut h = vec![("Content-Type", "application/json".to_owned())];
        if let Some(a) = auth {
            h.push(("Authorization", format!("Bearer {a}")));
        }
        http(
            &server,
            "POST",
            "/issuers/public-security/credential",
            h,
            body.to_string().as_bytes(),
        )
    };
    assert_eq!(
        cred(
            None,
            json!({"credential_configuration_id": "resident_id_card"})
        )
        .1["error"],
        "invalid_token"
    );
    assert_eq!(
        cred(
            Some(&fresh()),
            json!({"credential_configuration_id": "driving_licence"})
        )
        .1["error"],
        "unknown_credential_configuration"
    );
    assert_eq!(
        cred(
            Some(&fresh()),
            json!({"credential_configuration_id": "resident_id_card"})
        )
        .1["error"],
        "invalid_proof"
    );
    let key = satchel_core::SoftwareKey::generate_es256().unwrap();
    let (_, n) = http(
        &server,
        "POST",
        "/issuers/public-security/nonce",
        vec![],
        b"",
    );
    let nonce = n["c_nonce"].as_str().unwrap().to_owned();
    let proof = |aud: &str, nonce: &str, typ: &str| {
        let mut h = satchel_core::jws::header_with_typ(typ);
        h.insert("jwk".into(), key.public_jwk().to_value());
        satchel_core::jws::sign(
            h,
            &json!({"aud": aud, "iat": satchel_core::unix_now(), "nonce": nonce}),
            &key,
        )
        .unwrap()
    };
    let issuer_id = format!("{}/issuers/public-security", server.url);
    for p in [
        proof("https://elsewhere", &nonce, "openid4vci-proof+jwt"),
        proof(&issuer_id, "unknown-nonce", "openid4vci-proof+jwt"),
        proof(&issuer_id, &nonce, "jwt"),
    ] {
        assert_eq!(
            cred(
                Some(&fresh()),
                json!({"credential_configuration_id": "resident_id_card", "proofs": {"jwt": [p]}})
            )
            .1["error"],
            "invalid_proof"
        );
    }
    let good = proof(&issuer_id, &nonce, "openid4vci-proof+jwt");
    let token = fresh();
    let (s, ok) = cred(
        Some(&token),
        json!({"credential_configuration_id": "resident_id_card", "proofs": {"jwt": [good.clone()]}}),
    );
    assert_eq!(s, 200, "{ok}");
    // The nonce and the token are spent.
    assert_eq!(
        cred(
            Some(&token),
            json!({"credential_configuration_id": "resident_id_card", "proofs": {"jwt": [good]}})
        )
        .1["error"],
        "invalid_token"
    );
    // Metadata.
    let (s, m) = http(
        &server,
        "GET",
        "/.well-known/openid-credential-issuer/issuers/public-security",
        vec![],
        b"",
    );
    assert_eq!(
        (s, m["credential_issuer"].as_str()),
        (200, Some(issuer_id.as_str()))
    );
    let (_, j) = http(
        &server,
        "GET",
        "/.well-known/jwt-vc-issuer/issuers/public-security",
        vec![],
        b"",
    );
    assert_eq!(j["jwks"]["keys"].as_array().unwrap().len(), 1);
    assert_eq!(
        http(
            &server,
            "GET",
            "/.well-known/jwt-vc-issuer/issuers/nobody",
            vec![],
            b""
        )
        .0,
        404
    );
}

#[test]
fn concurrent_revocations_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(EmbeddedServer::start(dir.path()).unwrap());
    let threads: Vec<_> = (0..8usize)
        .map(|i| {
            let server = server.clone();
            std::thread::spawn(move || {
                let body = json!({"idx": 100 + i}).to_string();
                http(
                    &server,
                    "POST",
                    "/v1/admin/issuers/transport/revoke",
                    vec![("Authorization", format!("Bearer {}", server.admin_token))],
                    body.as_bytes(),
                )
                .0
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 204);
    }
    let reg = registry(&server);
    let key = reg
        .issuers
        .iter()
        .find(|i| i.id.ends_with("/transport"))
        .unwrap()
        .keys[0]
        .verifying_key()
        .unwrap();
    let uri = format!("{}/issuers/transport/status", server.url);
    let r = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: "GET".into(),
            url: uri.clone(),
            headers: vec![],
            body: vec![],
        })
        .unwrap();
    let list = StatusList::from_token(
        std::str::from_utf8(&r.body).unwrap(),
        &key,
        &uri,
        satchel_core::unix_now(),
    )
    .unwrap();
    for i in 0..8 {
        assert_eq!(list.get(100 + i).unwrap(), 1, "revocation {i} kept");
    }
}

#[test]
fn expired_codes_nonces_and_requests_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let store = satchel_server::store::sqlite::SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let mut service = satchel_server::service::Service::new(
        Arc::new(store),
        satchel_core::note::NoteSigner::generate("sweep/log").unwrap(),
        "http://x",
        satchel_core::SoftwareKey::generate_ed25519().unwrap(),
    )
    .unwrap();
    service.demo = true;
    let now = satchel_core::unix_now();
    service.c_nonce("public-security", now - 10_000).unwrap();
    service.c_nonce("public-security", now).unwrap();
    service
        .credential_offer("transport", "citizen-1", now - 10_000)
        .unwrap();
    assert_eq!(service.sweep(now).unwrap(), 1, "the old code");
    assert_eq!(service.sweep(now).unwrap(), 0);
    // Nonces are stateless: asking for them writes nothing.
    for _ in 0..100 {
        service.c_nonce("public-security", now).unwrap();
    }
    assert!(
        satchel_server::store::Store::objects(service.store.as_ref(), "c_nonce")
            .unwrap()
            .is_empty()
    );
}
