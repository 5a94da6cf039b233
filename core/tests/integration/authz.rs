use std::collections::BTreeMap;

use satchel_core::{
    authz::{
        parse_request, verify_response, Approval, Authorization, AuthorizationResponse, AuthzError,
        RpTrust, Selection, UsageLedger,
    },
    b64, jws,
    provenance::Activity,
    registry::Registry,
    sd_jwt::{self, KeyBinding},
    AuthorizationState, KeyStoreSigner, Signer, SoftwareKey, WalletError,
};

use crate::fixture::*;

fn approve_name_and_age(w: &World) -> (String, satchel_core::wallet::Approved) {
    let (jws, parsed) = w.parse(&w.request());
    let approval = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: w.id_card.id.clone(),
            claims: paths(&["name", "age_over_18"]),
        }],
        max_uses: Some(2),
        ..Default::default()
    };
    (
        jws,
        w.wallet
            .approve(&w.citizen.id, &parsed, &approval, NOW)
            .unwrap(),
    )
}

fn authz_error(e: WalletError) -> AuthzError {
    match e {
        WalletError::Authz(a) => a,
        other => panic!("expected an authorisation error, got {other:?}"),
    }
}

#[test]
fn request_approve_verify_use_until_exhausted() {
    let w = World::new();
    let (_, parsed) = w.parse(&w.request());
    assert_eq!(
        parsed.trust,
        RpTrust::Trusted {
            name: "Example Bank".into()
        }
    );

    let matches = w.wallet.match_request(&w.citizen.id, &parsed, NOW).unwrap();
    assert_eq!(matches[0].required, paths(&["name", "age_over_18"]));
    assert_eq!(matches[0].optional, paths(&["id_number"]));
    assert_eq!(matches[0].candidates[0].credential_id, w.id_card.id);
    assert!(matches[0].candidates[0].missing.is_empty());

    let (jws, approved) = approve_name_and_age(&w);
    assert_eq!(approved.response.state.as_deref(), Some("s-1"));
    let v = verify_response(&approved.response, &jws, &w.registry, &w.status, NOW + 10).unwrap();
    assert_eq!(v.id, approved.authorization_id);
    assert_eq!(v.max_uses, 2);
    let claims = &v.claims["id_card"];
    assert_eq!(claims["name"], "王小明");
    assert_eq!(claims["age_over_18"], true);
    assert!(
        claims.get("id_number").is_none(),
        "id_number was not approved"
    );

    w.ledger.register(&v).unwrap();
    let first = w
        .ledger
        .record_use(&v.id, "IdentityVerification", NOW + 20, &w.status)
        .unwrap();
    assert_eq!((first.seq, first.remaining), (1, 1));
    let second = w
        .ledger
        .record_use(&v.id, "dpv:IdentityVerification", NOW + 30, &w.status)
        .unwrap();
    assert_eq!(second.remaining, 0);
    assert_eq!(
        w.ledger
            .record_use(&v.id, "IdentityVerification", NOW + 40, &w.status)
            .unwrap_err(),
        AuthzError::UsesExhausted(2)
    );
    assert_eq!(w.ledger.uses(&v.id).unwrap().len(), 2);
    assert_eq!(
        w.ledger.refusals().unwrap().len(),
        1,
        "the refused attempt is on record"
    );

    // The holder keeps the receipts; the trace tells the whole story.
    assert!(w.wallet.record_use_receipt(&v.id, &first.jws).unwrap());
    assert!(w.wallet.record_use_receipt(&v.id, &second.jws).unwrap());
    assert!(
        !w.wallet.record_use_receipt(&v.id, &second.jws).unwrap(),
        "idempotent"
    );
    let trace: Vec<Activity> = w
        .wallet
        .trace(&w.id_card.id, None)
        .unwrap()
        .iter()
        .map(|e| e.activity)
        .collect();
    assert_eq!(
        trace,
        [
            Activity::Issue,
            Activity::Import,
            Activity::Present,
            Activity::Authorize,
            Activity::Use,
            Activity::Use
        ]
    );
    let prov = w.wallet.trace_prov_json(&w.id_card.id, None).unwrap();
    assert!(prov["wasGeneratedBy"].as_object().unwrap().len() >= 3);
    assert!(
        !prov.to_string().contains(ID_NUMBER),
        "no claim values in provenance"
    );

    let log = w.wallet.verify_consent_log(&w.citizen.id).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, "dpv:ConsentGiven");
    assert_eq!(log[0].authorization_id.as_deref(), Some(v.id.as_str()));
}

#[test]
fn withdrawal_refuses_the_next_use() {
    let w = World::new();
    let (jws, approved) = approve_name_and_age(&w);
    let v = verify_response(&approved.response, &jws, &w.registry, &w.status, NOW + 10).unwrap();
    w.ledger.register(&v).unwrap();
    w.ledger
        .record_use(&v.id, "IdentityVerification", NOW + 20, &w.status)
        .unwrap();

    let withdrawal = w.wallet.withdraw(&v.id, NOW + 30).unwrap();
    assert_eq!(
        w.wallet.authorization(&v.id).unwrap().state,
        AuthorizationState::Withdrawn
    );
    assert!(w.wallet.withdraw(&v.id, NOW + 31).is_err(), "only once");
    // The server publishes the list; the bank's next use is refused.
    w.status
        .publish(&withdrawal.status_uri, &withdrawal.status_list_token);
    assert_eq!(
        w.ledger
            .record_use(&v.id, "IdentityVerification", NOW + 40, &w.status)
            .unwrap_err(),
        AuthzError::Withdrawn
    );
    assert_eq!(
        verify_response(&approved.response, &jws, &w.registry, &w.status, NOW + 40).unwrap_err(),
        AuthzError::Withdrawn
    );

    // The revocation is holder-signed.
    let h = jws::decode(&withdrawal.revocation).unwrap();
    h.verify(&w.citizen.holder_key.verifying_key().unwrap())
        .unwrap();
    let states: Vec<String> = w
        .wallet
        .verify_consent_log(&w.citizen.id)
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(states, ["dpv:ConsentGiven", "dpv:ConsentWithdrawn"]);
    let trace = w.wallet.trace(&w.id_card.id, None).unwrap();
    assert_eq!(trace.last().unwrap().activity, Activity::Withdraw);
    assert_eq!(
        trace.last().unwrap().invalidated.as_deref(),
        Some(format!("authorization:{}", v.id).as_str())
    );
}

#[test]
fn uses_outside_window_for_another_purpose_or_unknown_are_refused() {
    let w = World::new();
    let (jws, approved) = approve_name_and_age(&w);
    let v = verify_response(&approved.response, &jws, &w.registry, &w.status, NOW + 10).unwrap();
    w.ledger.register(&v).unwrap();
    let l = &w.ledger;
    assert_eq!(
        l.record_use(&v.id, "Marketing", NOW + 20, &w.status)
            .unwrap_err(),
        AuthzError::PurposeMismatch
    );
    assert_eq!(
        l.record_use(&v.id, "NotADpvTerm", NOW + 20, &w.status)
            .unwrap_err(),
        AuthzError::PurposeMismatch
    );
    assert_eq!(
        l.record_use(&v.id, "IdentityVerification", NOW - 1, &w.status)
            .unwrap_err(),
        AuthzError::OutsideWindow
    );
    assert_eq!(
        l.record_use(&v.id, "IdentityVerification", NOW + 30 * 86400, &w.status)
            .unwrap_err(),
        AuthzError::OutsideWindow
    );
    assert!(matches!(
        l.record_use("nope", "IdentityVerification", NOW, &w.status),
        Err(AuthzError::UnknownAuthorization(_))
    ));
    assert_eq!(l.refusals().unwrap().len(), 4);
    // A ledger of another relying party will not take it.
    let other = UsageLedger::open(None, "https://other.example", w.bank.clone()).unwrap();
    assert!(other.register(&v).is_err());
    // Verification after the window also fails.
    assert_eq!(
        verify_response(
            &approved.response,
            &jws,
            &w.registry,
            &w.status,
            NOW + 30 * 86400
        )
        .unwrap_err(),
        AuthzError::OutsideWindow
    );
    // The holder marks it expired with a ConsentExpired record.
    assert_eq!(
        w.wallet
            .expire_authorizations(&w.citizen.id, NOW + 30 * 86400)
            .unwrap(),
        vec![v.id.clone()]
    );
    assert_eq!(
        w.wallet.verify_consent_log(&w.citizen.id).unwrap()[1].state,
        "dpv:ConsentExpired"
    );
}

#[test]
fn request_checks_on_the_holder_side() {
    let w = World::new();
    // Unregistered relying party: reported, and approval needs the user's say-so.
    let stranger = SoftwareKey::generate_es256().unwrap();
    let req = bank_request("https://unknown.example", "IdentityVerification", ID_VCT);
    let parsed = parse_request(&req.sign(&stranger).unwrap(), &w.registry, NOW).unwrap();
    assert_eq!(parsed.trust, RpTrust::Unknown);
    let mut approval = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: w.id_card.id.clone(),
            claims: paths(&["name"]),
        }],
        ..Default::default()
    };
    assert_eq!(
        authz_error(
            w.wallet
                .approve(&w.citizen.id, &parsed, &approval, NOW)
                .unwrap_err()
        ),
        AuthzError::UntrustedRelyingParty
    );
    approval.accept_untrusted = true;
    w.wallet
        .approve(&w.citizen.id, &parsed, &approval, NOW)
        .unwrap();

    // A registered client_id signed with someone else's key is refused outright.
    let forged = w.request().sign(&stranger).unwrap();
    assert!(matches!(
        parse_request(&forged, &w.registry, NOW),
        Err(AuthzError::UntrustedKey(_))
    ));
    // A purpose the registry does not allow this bank.
    let req = bank_request(BANK, "Marketing", ID_VCT);
    let parsed = parse_request(&req.sign(w.bank.as_ref()).unwrap(), &w.registry, NOW).unwrap();
    assert_eq!(
        parsed.trust,
        RpTrust::PurposeNotAllowed {
            name: "Example Bank".into()
        }
    );
    // Expired, unknown terms, tampered, wrong typ, garbage.
    let (jws, _) = w.parse(&w.request());
    assert_eq!(
        parse_request(&jws, &w.registry, NOW + 600).unwrap_err(),
        AuthzError::RequestExpired
    );
    let mut bad = w.request();
    bad.satchel.purpose = "Gossip".into();
    assert!(matches!(
        bad.sign(w.bank.as_ref()),
        Err(AuthzError::UnknownTerm(_))
    ));
    let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&b64::decode(&parts[1]).unwrap()).unwrap();
    payload["satchel"]["max_uses"] = 1000.into();
    parts[1] = b64::encode(payload.to_string());
    assert!(matches!(
        parse_request(&parts.join("."), &w.registry, NOW),
        Err(AuthzError::UntrustedKey(_))
    ));
    let wrong_typ = jws::sign(jws::header_with_typ("jwt"), &payload, w.bank.as_ref()).unwrap();
    assert_eq!(
        parse_request(&wrong_typ, &w.registry, NOW).unwrap_err(),
        AuthzError::WrongTyp("oauth-authz-req+jwt")
    );
    assert!(parse_request("garbage", &w.registry, NOW).is_err());
    assert!(parse_request(&"a".repeat(70_000), &w.registry, NOW).is_err());
}

#[test]
fn the_holder_cannot_grant_more_than_asked() {
    let w = World::new();
    let (_, parsed) = w.parse(&w.request());
    let sel = |claims: &[&str]| Selection {
        query_id: "id_card".into(),
        credential_id: w.id_card.id.clone(),
        claims: paths(claims),
    };
    let try_approve = |a: Approval| {
        authz_error(
            w.wallet
                .approve(&w.citizen.id, &parsed, &a, NOW)
                .unwrap_err(),
        )
    };
    assert!(matches!(
        try_approve(Approval {
            selections: vec![sel(&["birthdate"])],
            ..Default::default()
        }),
        AuthzError::NotRequested(_)
    ));
    assert!(matches!(
        try_approve(Approval {
            selections: vec![sel(&["name"])],
            max_uses: Some(4),
            ..Default::default()
        }),
        AuthzError::NotRequested(_)
    ));
    assert!(matches!(
        try_approve(Approval {
            selections: vec![sel(&["name"])],
            not_after: Some(NOW + 31 * 86400),
            ..Default::default()
        }),
        AuthzError::NotRequested(_)
    ));
    let bad_query = Selection {
        query_id: "passport".into(),
        ..sel(&["name"])
    };
    assert!(matches!(
        try_approve(Approval {
            selections: vec![bad_query],
            ..Default::default()
        }),
        AuthzError::NotRequested(_)
    ));
    assert!(w
        .wallet
        .approve(
            &w.citizen.id,
            &parsed,
            &Approval {
                selections: vec![sel(&["name"]), sel(&["name"])],
                ..Default::default()
            },
            NOW
        )
        .is_err());
    assert!(w
        .wallet
        .approve(&w.citizen.id, &parsed, &Approval::default(), NOW)
        .is_err());
    assert!(
        w.wallet
            .verify_consent_log(&w.citizen.id)
            .unwrap()
            .is_empty(),
        "nothing was logged"
    );
}

#[test]
fn deny_appends_a_signed_refusal() {
    let w = World::new();
    let (_, parsed) = w.parse(&w.request());
    let refusal = w.wallet.deny(&w.citizen.id, &parsed, NOW).unwrap();
    jws::decode(&refusal)
        .unwrap()
        .verify(&w.citizen.holder_key.verifying_key().unwrap())
        .unwrap();
    let log = w.wallet.verify_consent_log(&w.citizen.id).unwrap();
    assert_eq!(log[0].state, "dpv:ConsentRefused");
    assert!(log[0]
        .data_categories
        .contains(&format!("{ID_VCT}#id_number")));
}

/// Re-signs a modified authorisation with the citizen's key, as a
/// malicious or buggy wallet could, to check the verifier's own rules.
fn forge(
    w: &World,
    response: &AuthorizationResponse,
    edit: impl FnOnce(&mut Authorization),
) -> AuthorizationResponse {
    let jwt = jws::decode(&response.satchel_authorization).unwrap();
    let mut a: Authorization =
        serde_json::from_value(serde_json::Value::Object(jwt.payload_object().unwrap())).unwrap();
    edit(&mut a);
    let signer = KeyStoreSigner::new(w.keystore.clone(), &w.citizen.holder_key_alias).unwrap();
    AuthorizationResponse {
        satchel_authorization: a.sign(&signer).unwrap(),
        ..response.clone()
    }
}

#[test]
fn verifier_refuses_tampered_or_mismatched_responses() {
    let w = World::new();
    let (jws, approved) = approve_name_and_age(&w);
    let r = &approved.response;
    let verify = |resp: &AuthorizationResponse| {
        verify_response(resp, &jws, &w.registry, &w.status, NOW + 10)
    };
    verify(r).unwrap();

    // Tampered authorisation payload (signature breaks).
    let mut t = r.clone();
    let mut parts: Vec<String> = t
        .satchel_authorization
        .split('.')
        .map(str::to_owned)
        .collect();
    let mut p: serde_json::Value =
        serde_json::from_slice(&b64::decode(&parts[1]).unwrap()).unwrap();
    p["max_uses"] = 3.into();
    parts[1] = b64::encode(p.to_string());
    t.satchel_authorization = parts.join(".");
    assert!(matches!(verify(&t).unwrap_err(), AuthzError::Jose(_)));

    // Re-signed with extras the request did not ask for.
    assert!(matches!(
        verify(&forge(&w, r, |a| a.max_uses = 10)).unwrap_err(),
        AuthzError::NotRequested(_)
    ));
    assert!(matches!(
        verify(&forge(&w, r, |a| a.exp = NOW + 365 * 86400)).unwrap_err(),
        AuthzError::NotRequested(_)
    ));
    assert!(matches!(
        verify(&forge(&w, r, |a| a.purpose = "Marketing".into())).unwrap_err(),
        AuthzError::NotRequested(_)
    ));
    assert!(matches!(
        verify(&forge(&w, r, |a| a.onward_transfer = true)).unwrap_err(),
        AuthzError::NotRequested(_)
    ));
    assert!(matches!(
        verify(&forge(&w, r, |a| a.grants[0]
            .claims
            .push(serde_json::json!(["birthdate"]))))
        .unwrap_err(),
        AuthzError::NotRequested(_)
    ));
    assert_eq!(
        verify(&forge(&w, r, |a| a.aud = "https://other".into())).unwrap_err(),
        AuthzError::Mismatch("authorisation audience")
    );
    assert_eq!(
        verify(&forge(&w, r, |a| a.nonce = "other-nonce-123".into())).unwrap_err(),
        AuthzError::Mismatch("authorisation nonce")
    );
    assert_eq!(
        verify(&forge(&w, r, |a| a.request_hash = b64::sha256_b64(b"x"))).unwrap_err(),
        AuthzError::Mismatch("authorisation answers another request")
    );
    assert_eq!(
        verify(&forge(&w, r, |a| a.iss = "urn:satchel:holder:someone".into())).unwrap_err(),
        AuthzError::Mismatch("authorisation issuer is not its signing key")
    );

    // The same response against another request of the same bank.
    let mut other_req = w.request();
    other_req.nonce = "another-nonce-456".into();
    let other_jws = other_req.sign(w.bank.as_ref()).unwrap();
    assert!(verify_response(r, &other_jws, &w.registry, &w.status, NOW + 10).is_err());

    // A presentation disclosing more than was granted (id_number).
    let signer = KeyStoreSigner::new(w.keystore.clone(), &w.citizen.holder_key_alias).unwrap();
    let over = sd_jwt::present(
        &w.id_card.token,
        &paths(&["name", "age_over_18", "id_number"]),
        Some(KeyBinding {
            audience: BANK,
            nonce: "nonce-0123456789",
            issued_at: NOW,
            signer: &signer,
        }),
    )
    .unwrap();
    let mut t = r.clone();
    t.vp_token.insert("id_card".into(), vec![over]);
    assert!(matches!(verify(&t).unwrap_err(), AuthzError::NotGranted(_)));

    // An authorisation signed by someone else than the credential's holder.
    let thief = SoftwareKey::generate_es256().unwrap();
    let jwt = jws::decode(&r.satchel_authorization).unwrap();
    let mut a: Authorization =
        serde_json::from_value(serde_json::Value::Object(jwt.payload_object().unwrap())).unwrap();
    a.iss = Authorization::holder_urn(&thief.public_jwk().thumbprint());
    let t = AuthorizationResponse {
        satchel_authorization: a.sign(&thief).unwrap(),
        ..r.clone()
    };
    assert_eq!(
        verify(&t).unwrap_err(),
        AuthzError::Mismatch("credential holder did not sign the authorisation")
    );

    // Presentations that do not match the grants.
    let mut t = r.clone();
    t.vp_token = BTreeMap::new();
    assert!(matches!(verify(&t).unwrap_err(), AuthzError::Mismatch(_)));
    let mut t = r.clone();
    t.vp_token
        .get_mut("id_card")
        .unwrap()
        .push(r.vp_token["id_card"][0].clone());
    assert!(matches!(verify(&t).unwrap_err(), AuthzError::Mismatch(_)));

    // The issuer is not in the registry.
    let empty = Registry::default();
    assert!(verify_response(r, &jws, &empty, &w.status, NOW + 10).is_err());
}

#[test]
fn tampered_receipts_and_status_lists_are_refused() {
    let w = World::new();
    let (jws, approved) = approve_name_and_age(&w);
    let v = verify_response(&approved.response, &jws, &w.registry, &w.status, NOW + 10).unwrap();
    w.ledger.register(&v).unwrap();
    let receipt = w
        .ledger
        .record_use(&v.id, "IdentityVerification", NOW + 20, &w.status)
        .unwrap();

    // A receipt with a changed payload, or signed by someone else, is refused.
    let mut parts: Vec<String> = receipt.jws.split('.').map(str::to_owned).collect();
    let mut p: serde_json::Value =
        serde_json::from_slice(&b64::decode(&parts[1]).unwrap()).unwrap();
    p["seq"] = 7.into();
    parts[1] = b64::encode(p.to_string());
    assert!(w
        .wallet
        .record_use_receipt(&v.id, &parts.join("."))
        .is_err());
    let impostor = SoftwareKey::generate_es256().unwrap();
    let forged = jws::sign(jws::header_with_typ("satchel-use+jwt"), &p, &impostor).unwrap();
    assert!(w.wallet.record_use_receipt(&v.id, &forged).is_err());
    // A genuine receipt for another authorisation is refused too.
    let (jws2, approved2) = approve_name_and_age(&w);
    let v2 = verify_response(&approved2.response, &jws2, &w.registry, &w.status, NOW + 10).unwrap();
    assert!(matches!(
        w.wallet.record_use_receipt(&v2.id, &receipt.jws),
        Err(WalletError::Authz(AuthzError::Mismatch(_)))
    ));
    assert!(w.wallet.record_use_receipt(&v.id, &receipt.jws).unwrap());

    // A status list not signed by the holder is refused, not read as "valid".
    let withdrawal = w.wallet.withdraw(&v.id, NOW + 30).unwrap();
    let list = satchel_core::status_list::StatusList::new(1, 1024).unwrap();
    let fake = list
        .to_token(&withdrawal.status_uri, NOW + 31, None, &impostor)
        .unwrap();
    w.status.publish(&withdrawal.status_uri, &fake);
    assert!(matches!(
        w.ledger
            .record_use(&v.id, "IdentityVerification", NOW + 40, &w.status),
        Err(AuthzError::StatusList(_))
    ));
}

/// A credential with a status reference and a nested address, for the
/// issuer-side checks below.
fn special_card(w: &World, status_uri: &str) -> satchel_core::Credential {
    use satchel_core::sd_jwt::{issue, ClaimPath, IssueOptions};
    let mut claims = id_card_claims(&w.citizen.holder_key);
    claims.insert(
        "status".into(),
        satchel_core::status_list::StatusReference {
            idx: 3,
            uri: status_uri.into(),
        }
        .to_claim(),
    );
    claims.insert(
        "address".into(),
        serde_json::json!({"street": "1 Road", "city": "Guangzhou"}),
    );
    let paths = [ClaimPath::keys(&["name"]), ClaimPath::keys(&["address"])];
    let token = issue(&claims, &paths, &IssueOptions::default(), &w.issuer).unwrap();
    w.wallet
        .import_credential(&w.citizen.id, &token, Some(&w.issuer.public_jwk()), NOW)
        .unwrap()
}

#[test]
fn issuer_revocation_and_registered_types_are_enforced() {
    let mut w = World::new();
    let uri = "https://gdga.example/status/1";
    let card = special_card(&w, uri);
    let (jws, parsed) = w.parse(&w.request());
    let approval = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: card.id.clone(),
            claims: paths(&["name"]),
        }],
        ..Default::default()
    };
    let approved = w
        .wallet
        .approve(&w.citizen.id, &parsed, &approval, NOW)
        .unwrap();
    verify_response(&approved.response, &jws, &w.registry, &w.status, NOW + 1).unwrap();
    // The issuer revokes the credential: the next verification refuses it.
    let mut list = satchel_core::status_list::StatusList::new(1, 16).unwrap();
    list.set(3, 1).unwrap();
    w.status
        .publish(uri, &list.to_token(uri, NOW, None, &w.issuer).unwrap());
    assert_eq!(
        verify_response(&approved.response, &jws, &w.registry, &w.status, NOW + 2).unwrap_err(),
        AuthzError::CredentialRevoked
    );
    // An issuer only vouched for for another credential type is refused.
    w.status = satchel_core::authz::StatusCache::new();
    w.registry.issuers[0].credential_types = vec!["urn:satchel:vct:driving-licence".into()];
    assert_eq!(
        verify_response(&approved.response, &jws, &w.registry, &w.status, NOW + 2).unwrap_err(),
        AuthzError::Mismatch("the issuer is not registered for this credential type")
    );
}

#[test]
fn a_parent_disclosure_may_not_reveal_more_than_the_granted_child() {
    let w = World::new();
    let card = special_card(&w, "https://gdga.example/status/1");
    let mut request = w.request();
    request.dcql_query.credentials[0]
        .claims
        .push(satchel_core::authz::ClaimQuery {
            id: Some("city".into()),
            path: serde_json::json!(["address", "city"]),
        });
    request.dcql_query.credentials[0].claim_sets = None;
    let (jws, parsed) = w.parse(&request);
    // The holder grants only address.city, but the credential can only
    // disclose the whole address object (street included).
    let approval = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: card.id.clone(),
            claims: paths(&["address.city"]),
        }],
        ..Default::default()
    };
    // The wallet refuses to send more than approved…
    assert!(matches!(
        w.wallet.approve(&w.citizen.id, &parsed, &approval, NOW),
        Err(WalletError::InvalidInput(_))
    ));
    // …and a wallet that does is caught by the verifier.
    let signer = KeyStoreSigner::new(w.keystore.clone(), &w.citizen.holder_key_alias).unwrap();
    let whole = approve_name(&w, &parsed, &card.id);
    let leaky = sd_jwt::present(
        &card.token,
        &paths(&["address.city"]),
        Some(KeyBinding {
            audience: BANK,
            nonce: "nonce-0123456789",
            issued_at: NOW,
            signer: &signer,
        }),
    )
    .unwrap();
    let forged = forge(
        &w,
        &AuthorizationResponse {
            vp_token: [("id_card".to_owned(), vec![leaky])].into(),
            ..whole
        },
        |a| a.grants[0].claims = vec![serde_json::json!(["address", "city"])],
    );
    assert_eq!(
        verify_response(&forged, &jws, &w.registry, &w.status, NOW + 1).unwrap_err(),
        AuthzError::NotGranted("[\"address\"]".into())
    );
}

fn approve_name(
    w: &World,
    parsed: &satchel_core::authz::ParsedRequest,
    card: &str,
) -> AuthorizationResponse {
    let approval = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: card.into(),
            claims: paths(&["name"]),
        }],
        ..Default::default()
    };
    w.wallet
        .approve(&w.citizen.id, parsed, &approval, NOW)
        .unwrap()
        .response
}
