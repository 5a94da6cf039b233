//! `satchel demo`: the story end to end on the reference server embedded on
//! loopback with an SQLite file (BRIEF steps 1–8, 10, 12): demo issuers and
//! a signed registry; a citizen's wallet; an ID card received through
//! OpenID4VCI; a bank's signed request relayed by the server; approval of a
//! subset; verification and metered use; withdrawal through a published
//! status list; the consent log anchored in the transparency log; an
//! enterprise delegation; the provenance trace.

use std::sync::Arc;

use satchel_core::{
    authz::{
        self, Approval, AuthorizationRequest, AuthorizationResponse, Controller, CredentialQuery,
        Selection, Terms,
    },
    b64,
    client::{HttpRequest, ServerClient, Transport},
    delegation::DelegationScope,
    issuance::CredentialOffer,
    net::HttpsTransport,
    registry::{RegisteredRelyingParty, Registry},
    sd_jwt::ClaimPath,
    unix_now, Jwk, KeyStore, KeyStoreSigner, MemberRole, SoftwareKey, SoftwareKeyStore, SpaceKind,
    Wallet,
};
use satchel_server::embedded::EmbeddedServer;
use serde_json::{json, Value};

use crate::{CmdResult, Failure};

const BANK: &str = "https://bank.demo.satchel.app";

fn step(n: &str, text: &str) {
    println!("[{n}] {text}");
}

fn check(ok: bool, what: &str) -> CmdResult {
    if ok {
        Ok(())
    } else {
        Err(Failure(format!("demo check failed: {what}")))
    }
}

pub(crate) fn run() -> CmdResult {
    let dir = std::env::temp_dir().join(format!("satchel-demo-{}", b64::new_id()));
    std::fs::create_dir_all(&dir)?;
    let result = story(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn http(
    net: &HttpsTransport,
    method: &str,
    url: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), Failure> {
    let r = net.send(HttpRequest {
        method: method.into(),
        url: url.into(),
        headers,
        body,
    })?;
    Ok((r.status, r.body))
}

fn admin(
    net: &HttpsTransport,
    server: &EmbeddedServer,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<Value, Failure> {
    let headers = vec![
        (
            "Authorization".into(),
            format!("Bearer {}", server.admin_token),
        ),
        ("Content-Type".into(), "application/json".into()),
    ];
    let (status, body) = http(
        net,
        method,
        &format!("{}{path}", server.url),
        headers,
        body.to_string().into_bytes(),
    )?;
    if status >= 400 {
        return Err(Failure(format!("operator call {path} failed ({status})")));
    }
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn paths(p: &[&str]) -> Vec<ClaimPath> {
    p.iter().map(|x| ClaimPath::keys(&[x])).collect()
}

fn bank_request(
    server: &str,
    now: i64,
    vct: &str,
    query: &str,
    claims: &[&str],
    optional: &[&str],
) -> AuthorizationRequest {
    let query =
        CredentialQuery::sd_jwt_vc(query, &[vct.to_owned()], &paths(claims), &paths(optional));
    let controller = Controller {
        name: "示例银行 Example Bank".into(),
        contact: "privacy@bank.demo.satchel.app".into(),
    };
    let mut terms = Terms::new("IdentityVerification", now, now + 30 * 86400, 3, controller);
    terms.pipl.sensitive = true;
    // The relay keys the response by the request's state.
    let state = b64::encode(b64::random_bytes::<18>());
    let mut request = AuthorizationRequest::new(
        BANK,
        &format!("{server}/r/{state}/response"),
        vec![query],
        terms,
        now,
    );
    request.state = Some(state);
    request
}

/// The bank relays its request through the server; the wallet fetches it by link.
fn relay(net: &HttpsTransport, bank: &ServerClient, request: &str) -> Result<String, Failure> {
    let relayed = bank.call("POST", "/v1/requests", Some(&json!({"request": request})))?;
    let uri = relayed["request_uri"]
        .as_str()
        .ok_or(Failure("no request_uri".into()))?;
    println!(
        "    relayed: {}",
        relayed["qr"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(90)
            .collect::<String>()
            + "…"
    );
    let (status, body) = http(net, "GET", uri, vec![], vec![])?;
    check(status == 200, "the wallet fetched the request")?;
    String::from_utf8(body).map_err(|_| Failure("request is not text".into()))
}

/// The wallet posts its response (direct_post); the bank collects it.
fn respond(
    net: &HttpsTransport,
    response: &AuthorizationResponse,
    request: &AuthorizationRequest,
    bank: &ServerClient,
) -> Result<Vec<AuthorizationResponse>, Failure> {
    let (status, _) = http(
        net,
        "POST",
        &request.response_uri,
        vec![("Content-Type".into(), "application/json".into())],
        serde_json::to_vec(response)?,
    )?;
    check(status == 200, "the response was posted")?;
    let id = request.state.clone().unwrap_or_default();
    let collected = bank.call("GET", &format!("/v1/requests/{id}/response"), None)?;
    // Anyone who saw the QR code could have posted: the bank verifies each.
    Ok(collected["responses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| serde_json::from_value(r.clone()).ok())
        .collect())
}

fn story(dir: &std::path::Path) -> CmdResult {
    let now = unix_now();
    println!("Satchel demo: the story on the reference server (embedded, SQLite)\n");

    // 1. The server, its demo issuers, and a registry the device verifies.
    let server = EmbeddedServer::start(&dir.join("server")).map_err(Failure)?;
    // The built-in network stack, as against any server.
    let net = HttpsTransport::new()?;
    let transport: Arc<dyn Transport> = Arc::new(net.clone());
    let bank = authz::RelyingParty::new(
        BANK,
        Arc::new(SoftwareKey::generate_es256()?),
        Some(&dir.join("bank-ledger.db")),
    )?;
    admin(
        &net,
        &server,
        "PUT",
        &format!(
            "/v1/admin/relying-parties/{}",
            "https%3A%2F%2Fbank.demo.satchel.app"
        ),
        &serde_json::to_value(RegisteredRelyingParty {
            client_id: BANK.into(),
            name: "示例银行 Example Bank".into(),
            keys: vec![bank.public_jwk()],
            allowed_purposes: vec!["IdentityVerification".into()],
        })?,
    )?;
    let (_, op) = http(
        &net,
        "GET",
        &format!("{}/v1/registry/key", server.url),
        vec![],
        vec![],
    )?;
    let operator = Jwk::from_value(&serde_json::from_slice(&op)?)?.verifying_key()?;
    let (_, reg) = http(
        &net,
        "GET",
        &format!("{}/v1/registry", server.url),
        vec![],
        vec![],
    )?;
    let registry = Registry::verify(
        std::str::from_utf8(&reg).unwrap_or_default(),
        &operator,
        now,
    )?;
    step(
        "1",
        &format!(
            "Server on {} (SQLite); signed registry verified: {} issuers ({}), {} relying party",
            server.url,
            registry.issuers.len(),
            registry
                .issuers
                .iter()
                .map(|i| i.name.split(' ').next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("、"),
            registry.relying_parties.len()
        ),
    );

    // 2. The citizen's space, registered with the server.
    let keystore: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let db = dir.join("citizen.db");
    let wallet = Wallet::open(&db, keystore.clone())?;
    wallet.set_status_base(&format!("{}/status", server.url))?;
    let space = wallet.create_space("王小明的个人空间", SpaceKind::Personal)?;
    let phone = ServerClient::new(
        &server.url,
        "citizen-phone-a",
        Arc::new(KeyStoreSigner::get_or_create(keystore.clone(), "device")?),
        transport.clone(),
    );
    wallet.register_space(&space.id, &phone)?;
    step(
        "2",
        &format!(
            "Personal space created and registered; holder key ES256 {} ({})",
            space.holder_key.thumbprint(),
            if keystore.is_hardware_backed(&space.holder_key_alias)? {
                "hardware-backed"
            } else {
                "software key store"
            }
        ),
    );

    // 3. The ID card through OpenID4VCI.
    let offer = admin(
        &net,
        &server,
        "POST",
        "/v1/admin/issuers/public-security/offers",
        &json!({"subject": "citizen-1"}),
    )?;
    let offer = CredentialOffer::parse(offer["credential_offer_uri"].as_str().unwrap_or_default())?;
    let card = wallet.receive_credential(&space.id, &offer, &net, &registry, now)?;
    let mut file = std::fs::read(&db)?;
    file.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    let leaked = ["王小明", "440106199003071234"]
        .iter()
        .any(|s| file.windows(s.len()).any(|w| w == s.as_bytes()));
    step("3", &format!("ID card received through OpenID4VCI (pre-authorised code, proof JWT), verified and stored encrypted; wallet file scanned: {}",
        if leaked { "PLAINTEXT FOUND" } else { "no claim in plaintext" }));
    check(!leaked, "no plaintext in the wallet file")?;

    // 4. The bank's signed request, relayed by the server.
    let bank_server = ServerClient::new(&server.url, BANK, bank.key(), transport.clone());
    let request = bank_request(
        &server.url,
        now,
        &card.vct,
        "id_card",
        &["name", "age_over_18"],
        &["id_number"],
    );
    step(
        "4",
        "Bank asks: name, age_over_18 (id_number optional), IdentityVerification, 30 days, 3 uses",
    );
    let request_jws = relay(&net, &bank_server, &bank.sign_request(&request)?)?;

    // 5. Review and approve a subset.
    let parsed = authz::parse_request(&request_jws, &registry, now)?;
    let trust = match &parsed.trust {
        authz::RpTrust::Trusted { name } => format!("trusted: {name}"),
        other => format!("{other:?}"),
    };
    let approval = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: card.id.clone(),
            claims: paths(&["name", "age_over_18"]),
        }],
        max_uses: Some(2),
        ..Default::default()
    };
    let approved = wallet.approve(&space.id, &parsed, &approval, now)?;
    step("5", &format!("Citizen reviews ({trust}), approves name + age_over_18 only, 2 uses; authorisation signed, consent record appended, response posted"));

    // 6. Verify, meter on the server.
    let responses = respond(&net, &approved.response, &request, &bank_server)?;
    let v = responses
        .iter()
        .find_map(|r| {
            bank.verify_response(&request_jws, &r.to_json(), &registry, now)
                .ok()
        })
        .ok_or_else(|| Failure("no response verified".into()))?;
    let seen: Vec<&String> = v.claims["id_card"]
        .keys()
        .filter(|k| ["name", "id_number", "age_over_18", "birthdate"].contains(&k.as_str()))
        .collect();
    step("6", &format!("Bank verifies presentation + authorisation; it sees {seen:?}; uses are metered by the server"));
    check(
        v.claims["id_card"].get("id_number").is_none(),
        "id_number not disclosed",
    )?;
    bank_server.call(
        "POST",
        "/v1/authorizations",
        Some(&json!({"authorization": v.authorization})),
    )?;
    // The bank also keeps its own ledger and hands signed receipts to the citizen.
    for _ in 0..2 {
        let r = bank_server.call(
            "POST",
            "/v1/uses",
            Some(&json!({"authorization_id": v.id, "purpose": "IdentityVerification"})),
        )?;
        let receipt = bank.record_use(&v.id, "IdentityVerification", now)?;
        wallet.record_use_receipt(&v.id, &receipt.jws)?;
        println!(
            "    use {} recorded by the server ({} left); signed receipt kept by the citizen",
            r["seq"], r["remaining"]
        );
    }
    match bank_server.call(
        "POST",
        "/v1/uses",
        Some(&json!({"authorization_id": v.id, "purpose": "IdentityVerification"})),
    ) {
        Err(e) => println!("    a third use is refused: {e}"),
        Ok(_) => return Err(Failure("a use beyond the limit was accepted".into())),
    }

    // 7. Withdraw; the server publishes it; the next use is refused.
    let request2 = bank_request(&server.url, now, &card.vct, "id_card", &["name"], &[]);
    let request2_jws = bank.sign_request(&request2)?;
    let parsed2 = authz::parse_request(&request2_jws, &registry, now)?;
    let approval2 = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: card.id.clone(),
            claims: paths(&["name"]),
        }],
        ..Default::default()
    };
    let approved2 = wallet.approve(&space.id, &parsed2, &approval2, now)?;
    bank_server.call(
        "POST",
        "/v1/authorizations",
        Some(&json!({"authorization": approved2.response.satchel_authorization})),
    )?;
    let withdrawal = wallet.withdraw(&approved2.authorization_id, now)?;
    wallet.publish_status_list(&space.id, &phone)?;
    step(
        "7",
        &format!(
            "Citizen withdraws a second authorisation in one tap; status list published at {}",
            withdrawal.status_uri
        ),
    );
    match bank_server.call("POST", "/v1/uses", Some(&json!({"authorization_id": approved2.authorization_id, "purpose": "IdentityVerification"}))) {
        Err(e) => println!("    the bank's next use is refused: {e}"),
        Ok(_) => return Err(Failure("a withdrawn authorisation was used".into())),
    }
    let audit = admin(&net, &server, "GET", "/v1/admin/audit", &Value::Null)?;
    println!(
        "    supervision: {} uses, {} flagged attempts",
        audit["uses"].as_array().map_or(0, Vec::len),
        audit["anomalies"].as_array().map_or(0, Vec::len)
    );

    // 8. Anchor the consent log.
    let verifier = phone.log_key()?;
    let report = wallet.anchor_consent_log(&space.id, &phone, &verifier)?;
    let states: Vec<String> = wallet
        .verify_consent_log(&space.id)?
        .into_iter()
        .map(|r| r.state)
        .collect();
    step("8", &format!(
        "Consent log ({}) anchored as salted hashes: inclusion of all {} records proven under checkpoint size {}; consistency checked",
        states.join(" → "), report.anchored_total, report.checkpoint_size
    ));

    // 9. A second device joins the space; it syncs end-to-end encrypted,
    // and a withdrawal made on it reaches the bank.
    let request3 = bank_request(&server.url, now, &card.vct, "id_card", &["name"], &[]);
    let parsed3 = authz::parse_request(&bank.sign_request(&request3)?, &registry, now)?;
    let approved3 = wallet.approve(
        &space.id,
        &parsed3,
        &Approval {
            selections: vec![Selection {
                query_id: "id_card".into(),
                credential_id: card.id.clone(),
                claims: paths(&["name"]),
            }],
            ..Default::default()
        },
        now,
    )?;
    bank_server.call(
        "POST",
        "/v1/authorizations",
        Some(&json!({"authorization": approved3.response.satchel_authorization})),
    )?;
    let tablet_ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let tablet = Wallet::open(&dir.join("tablet.db"), tablet_ks.clone())?;
    let tablet_net = ServerClient::for_device(&server.url, tablet_ks, transport.clone())?;
    let enrol_uri =
        tablet.request_enrolment(&tablet_net, satchel_core::client::DEVICE_KEY_ALIAS)?;
    let code = wallet.approve_enrolment(&space.id, &enrol_uri, &phone)?;
    let shown = tablet.enrolment_offer(&tablet_net)?;
    check(shown.code == code, "the same code on both screens")?;
    tablet.complete_enrolment(&tablet_net, &shown.code)?;
    let synced = tablet.sync_space(&space.id, &tablet_net, &|_| {})?;
    let on_tablet = tablet.credentials(&space.id, &Default::default())?;
    let server_db = std::fs::read(dir.join("server").join("satchel.db")).unwrap_or_default();
    let leaked = ["王小明", "440106199003071234"]
        .iter()
        .any(|s| server_db.windows(s.len()).any(|w| w == s.as_bytes()));
    step("9", &format!(
        "A tablet joins: enrolment QR ({} chars) → phone approves → both screens show {code}; {} records synced end-to-end encrypted, {} credential(s) visible (presentable only on the phone); server database scanned: {}",
        enrol_uri.len(), synced.pulled, on_tablet.len(),
        if leaked { "PLAINTEXT FOUND" } else { "no claim in plaintext" }
    ));
    check(
        !leaked && !on_tablet.is_empty(),
        "synced without plaintext on the server",
    )?;
    tablet.withdraw(&approved3.authorization_id, now)?;
    tablet.publish_status_list(&space.id, &tablet_net)?;
    match bank_server.call("POST", "/v1/uses", Some(&json!({"authorization_id": approved3.authorization_id, "purpose": "IdentityVerification"}))) {
        Err(e) => println!("    withdrawn on the tablet (its status list signed by its own key, certified by the space key); the bank's next use is refused: {e}"),
        Ok(_) => return Err(Failure("a use withdrawn on the tablet was accepted".into())),
    }
    tablet.sync_space(&space.id, &tablet_net, &|_| {})?;
    wallet.sync_space(&space.id, &phone, &|_| {})?;
    let chains = wallet.consent_chains(&space.id)?.len();
    let records = wallet.verify_consent_log(&space.id)?.len();
    println!("    the phone learns it at its next sync; consent log: {records} records in {chains} device chains, all verified");

    // 10. Enterprise delegation.
    let company_ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let company_wallet = Wallet::open(&dir.join("company.db"), company_ks)?;
    let company = company_wallet.create_space("广州某某科技有限公司", SpaceKind::Enterprise)?;
    let offer = admin(
        &net,
        &server,
        "POST",
        "/v1/admin/issuers/market-regulation/offers",
        &json!({"subject": "company-1"}),
    )?;
    let offer = CredentialOffer::parse(offer["credential_offer_uri"].as_str().unwrap_or_default())?;
    let licence = company_wallet.receive_credential(&company.id, &offer, &net, &registry, now)?;
    let agent_ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let agent_wallet = Wallet::open(&dir.join("agent.db"), agent_ks)?;
    let agent = agent_wallet.create_space("经办人 张三", SpaceKind::Personal)?;
    let member = company_wallet.add_member(
        &company.id,
        "张三",
        MemberRole::Agent,
        &agent.holder_key,
        now,
    )?;
    let scope = DelegationScope {
        credential_types: vec![licence.vct.clone()],
        purposes: vec!["IdentityVerification".into()],
        audiences: vec![BANK.into()],
        not_before: now,
        not_after: now + 7 * 86400,
    };
    let delegation = company_wallet.delegate(&company.id, &member.id, &scope, now)?;
    let licence_key = registry
        .issuers
        .iter()
        .find(|i| Some(&i.id) == licence.issuer.as_ref())
        .and_then(|i| i.keys.first().cloned());
    let held = agent_wallet.import_delegated_credential(
        &agent.id,
        &licence.token,
        &delegation.token,
        licence_key.as_ref(),
        now,
    )?;
    let lic_request = bank_request(
        &server.url,
        now,
        &licence.vct,
        "licence",
        &["company_name", "uscc"],
        &[],
    );
    let lic_jws = bank.sign_request(&lic_request)?;
    let parsed = authz::parse_request(&lic_jws, &registry, now)?;
    let approval = Approval {
        selections: vec![Selection {
            query_id: "licence".into(),
            credential_id: held.id,
            claims: paths(&["company_name", "uscc"]),
        }],
        ..Default::default()
    };
    let agent_approved = agent_wallet.approve(&agent.id, &parsed, &approval, now)?;
    let v = bank.verify_response(&lic_jws, &agent_approved.response.to_json(), &registry, now)?;
    company_wallet.record_agent_action(
        &delegation.id,
        &agent_approved.response.satchel_authorization,
        now,
    )?;
    step("10", &format!(
        "Business licence received; agent 张三 delegated for 7 days; the bank verifies licence + delegation chain: {} via enterprise key {}",
        v.claims["licence"]["company_name"].as_str().unwrap_or_default(),
        v.delegated_by.get("licence").map(|k| k.thumbprint()).unwrap_or_default()
    ));

    // 11. Portability: the whole space as one file, into a fresh wallet.
    let export = wallet.export_space(&space.id, "王小明的导出口令 2026")?;
    let fresh_ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let fresh = Wallet::open(&dir.join("new-wallet.db"), fresh_ks)?;
    let imported = fresh.import_space(&export, "王小明的导出口令 2026")?;
    let tampered = {
        let mut t = export.clone();
        let mid = t.len() / 2;
        t[mid] ^= 0x01;
        Wallet::open(
            &dir.join("other-wallet.db"),
            Arc::new(SoftwareKeyStore::in_memory()),
        )?
        .import_space(&t, "王小明的导出口令 2026")
        .is_err()
    };
    step("11", &format!(
        "Space exported as one file ({} KiB, Argon2id + AES-256-GCM, manifest signed) and imported into a fresh wallet: {} credential(s), {} authorisations, {} consent records verified; {} to re-issue to the new device; a tampered copy is refused: {}",
        export.len() / 1024, imported.credentials, imported.authorizations, imported.consent_records,
        imported.to_reissue.len(), tampered
    ));
    check(tampered, "a tampered export is refused")?;

    // 12. Where did my ID card go?
    let trace = wallet.trace(&card.id, None)?;
    let activities: Vec<String> = trace
        .iter()
        .map(|e| e.activity.as_str().to_owned())
        .collect();
    let prov = wallet.trace_prov_json(&card.id, None)?;
    step(
        "12",
        &format!(
            "Where did my ID card go? {} (PROV-JSON: {} bytes)",
            activities.join(" → "),
            prov.to_string().len()
        ),
    );
    check(
        activities.first().map(String::as_str) == Some("issue")
            && activities.last().map(String::as_str) == Some("withdraw"),
        "trace from issue to withdrawal",
    )?;

    server.stop();
    println!("\nDone: steps 1–12 ran end to end.");
    Ok(())
}
