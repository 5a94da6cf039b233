use std::sync::Arc;

use satchel_core::{
    authz::{
        parse_request, verify_response, Approval, AuthorizationResponse, AuthzError, Selection,
    },
    delegation::DelegationScope,
    provenance::Activity,
    registry::RegisteredIssuer,
    sd_jwt::{issue, ClaimPath, IssueOptions},
    KeyStore, MemberRole, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet, WalletError,
};
use serde_json::json;

use crate::fixture::*;

const LICENCE_VCT: &str = "urn:satchel:vct:business-licence";
const SAMR: &str = "https://samr.example";

struct Enterprise {
    w: World,
    company: satchel_core::Space,
    agent_wallet: Wallet,
    agent: satchel_core::Space,
    delegation: satchel_core::StoredDelegation,
    licence_issuer: SoftwareKey,
}

fn setup(scope_purposes: &[&str]) -> Enterprise {
    let mut w = World::new();
    let company = w
        .wallet
        .create_space("广州某某科技有限公司", SpaceKind::Enterprise)
        .unwrap();
    let licence_issuer = SoftwareKey::generate_es256().unwrap();
    w.registry.issuers.push(RegisteredIssuer {
        id: SAMR.into(),
        name: "市场监督管理局".into(),
        keys: vec![licence_issuer.public_jwk()],
        credential_types: vec![LICENCE_VCT.into()],
    });
    let claims = json!({
        "iss": SAMR, "vct": LICENCE_VCT, "iat": NOW - 100, "exp": NOW + 365 * 86400,
        "cnf": {"jwk": company.holder_key.to_value()},
        "company_name": "广州某某科技有限公司", "uscc": "91440101MA5XXXXXXX", "legal_representative": "李四",
    });
    let paths = ["company_name", "uscc", "legal_representative"].map(|p| ClaimPath::keys(&[p]));
    let licence = issue(
        claims.as_object().unwrap(),
        &paths,
        &IssueOptions::default(),
        &licence_issuer,
    )
    .unwrap();
    w.wallet
        .import_credential(
            &company.id,
            &licence,
            Some(&licence_issuer.public_jwk()),
            NOW,
        )
        .unwrap();

    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let agent_wallet = Wallet::open(&w._dir.path().join("agent.db"), ks).unwrap();
    let agent = agent_wallet
        .create_space("经办人 张三", SpaceKind::Personal)
        .unwrap();
    let member = w
        .wallet
        .add_member(
            &company.id,
            "张三",
            MemberRole::Agent,
            &agent.holder_key,
            NOW,
        )
        .unwrap();
    let scope = DelegationScope {
        credential_types: vec![LICENCE_VCT.into()],
        purposes: scope_purposes.iter().map(|p| p.to_string()).collect(),
        audiences: vec![BANK.into()],
        not_before: NOW,
        not_after: NOW + 7 * 86400,
    };
    let delegation = w
        .wallet
        .delegate(&company.id, &member.id, &scope, NOW)
        .unwrap();
    agent_wallet
        .import_delegated_credential(
            &agent.id,
            &licence,
            &delegation.token,
            Some(&licence_issuer.public_jwk()),
            NOW,
        )
        .unwrap();
    Enterprise {
        w,
        company,
        agent_wallet,
        agent,
        delegation,
        licence_issuer,
    }
}

fn licence_request(purpose: &str) -> satchel_core::authz::AuthorizationRequest {
    let mut r = bank_request(BANK, purpose, LICENCE_VCT);
    r.dcql_query.credentials[0].id = "licence".into();
    r.dcql_query.credentials[0].claims = ["company_name", "uscc"]
        .iter()
        .map(|c| satchel_core::authz::ClaimQuery {
            id: Some((*c).into()),
            path: json!([c]),
        })
        .collect();
    r.dcql_query.credentials[0].claim_sets = None;
    r
}

fn agent_approves(
    e: &Enterprise,
    purpose: &str,
    now: i64,
) -> Result<(String, AuthorizationResponse), WalletError> {
    let req = licence_request(purpose);
    let jws = req.sign(e.w.bank.as_ref()).unwrap();
    let parsed = parse_request(&jws, &e.w.registry, now).unwrap();
    let licence = &e
        .agent_wallet
        .credentials(&e.agent.id, &Default::default())
        .unwrap()[0];
    let approval = Approval {
        selections: vec![Selection {
            query_id: "licence".into(),
            credential_id: licence.id.clone(),
            claims: paths(&["company_name", "uscc"]),
        }],
        ..Default::default()
    };
    Ok((
        jws,
        e.agent_wallet
            .approve(&e.agent.id, &parsed, &approval, now)?
            .response,
    ))
}

#[test]
fn agent_presents_the_licence_under_a_delegation() {
    let e = setup(&["IdentityVerification"]);
    let (jws, response) = agent_approves(&e, "IdentityVerification", NOW + 10).unwrap();
    assert!(response.satchel_delegations.contains_key("licence"));
    let v = verify_response(&response, &jws, &e.w.registry, &e.w.status, NOW + 20).unwrap();
    assert_eq!(v.claims["licence"]["uscc"], "91440101MA5XXXXXXX");
    assert!(v.claims["licence"].get("legal_representative").is_none());
    assert_eq!(
        v.delegated_by["licence"].thumbprint(),
        e.company.holder_key.thumbprint()
    );
    assert_eq!(v.holder_key.thumbprint(), e.agent.holder_key.thumbprint());

    // The enterprise's log and provenance record the delegation.
    let log = e.w.wallet.verify_consent_log(&e.company.id).unwrap();
    assert_eq!(
        log[0].event_type,
        satchel_core::consent::ConsentEvent::Delegated
    );
    let events = e.w.wallet.provenance(&e.company.id).unwrap();
    let delegate = events
        .iter()
        .find(|ev| ev.activity == Activity::Delegate)
        .unwrap();
    assert!(delegate.on_behalf_of.is_some());
    // The agent's trace shows it acts on behalf of the company.
    let licence = &e
        .agent_wallet
        .credentials(&e.agent.id, &Default::default())
        .unwrap()[0];
    let trace = e.agent_wallet.trace(&licence.id, None).unwrap();
    assert!(trace
        .iter()
        .any(|ev| ev.activity == Activity::Import && ev.on_behalf_of.is_some()));
    let _ = &e.licence_issuer;
}

#[test]
fn delegation_outside_its_scope_is_refused() {
    let e = setup(&["IdentityVerification"]);
    // Another purpose: the agent's wallet refuses before presenting.
    let err = agent_approves(&e, "CreditChecking", NOW + 10).unwrap_err();
    assert_eq!(
        err,
        WalletError::Authz(AuthzError::DelegationScope("purpose"))
    );
    // Another audience: a request from a bank not named in the delegation.
    let other = SoftwareKey::generate_es256().unwrap();
    let mut req = licence_request("IdentityVerification");
    req.client_id = "https://other-bank.example".into();
    let parsed = parse_request(&req.sign(&other).unwrap(), &e.w.registry, NOW).unwrap();
    let licence = &e
        .agent_wallet
        .credentials(&e.agent.id, &Default::default())
        .unwrap()[0];
    let approval = Approval {
        selections: vec![Selection {
            query_id: "licence".into(),
            credential_id: licence.id.clone(),
            claims: paths(&["uscc"]),
        }],
        accept_untrusted: true,
        ..Default::default()
    };
    assert_eq!(
        e.agent_wallet
            .approve(&e.agent.id, &parsed, &approval, NOW)
            .unwrap_err(),
        WalletError::Authz(AuthzError::DelegationScope("audience"))
    );
    // After the 7 days: the delegation has expired.
    let (jws, response) = agent_approves(&e, "IdentityVerification", NOW + 10).unwrap();
    let late = NOW + 8 * 86400;
    assert!(verify_response(&response, &jws, &e.w.registry, &e.w.status, late).is_err());
}

#[test]
fn revoked_delegation_is_refused_by_the_verifier() {
    let e = setup(&["IdentityVerification"]);
    let (jws, response) = agent_approves(&e, "IdentityVerification", NOW + 10).unwrap();
    let token =
        e.w.wallet
            .revoke_delegation(&e.delegation.id, NOW + 15)
            .unwrap();
    e.w.status
        .publish(&e.w.wallet.status_uri(&e.company.id), &token);
    assert_eq!(
        verify_response(&response, &jws, &e.w.registry, &e.w.status, NOW + 20).unwrap_err(),
        AuthzError::Withdrawn
    );
}

#[test]
fn licence_without_delegation_cannot_be_presented_by_the_agent() {
    let e = setup(&["IdentityVerification"]);
    let (jws, mut response) = agent_approves(&e, "IdentityVerification", NOW + 10).unwrap();
    response.satchel_delegations.clear();
    assert!(verify_response(&response, &jws, &e.w.registry, &e.w.status, NOW + 20).is_err());
    // A delegation for someone else's key is not imported.
    let stranger: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let sw = Wallet::open(&e.w._dir.path().join("stranger.db"), stranger).unwrap();
    let s = sw.create_space("x", SpaceKind::Personal).unwrap();
    let licence =
        &e.w.wallet
            .credentials(&e.company.id, &Default::default())
            .unwrap()[0];
    assert_eq!(
        sw.import_delegated_credential(
            &s.id,
            &licence.token,
            &e.delegation.token,
            Some(&e.licence_issuer.public_jwk()),
            NOW
        )
        .unwrap_err(),
        WalletError::HolderMismatch
    );
    // Only agents can be delegated to; only enterprise spaces delegate.
    let admin =
        e.w.wallet
            .add_member(
                &e.company.id,
                "王五",
                MemberRole::Administrator,
                &s.holder_key,
                NOW,
            )
            .unwrap();
    assert!(e
        .w
        .wallet
        .delegate(&e.company.id, &admin.id, &e.delegation.scope, NOW)
        .is_err());
    assert!(e
        .w
        .wallet
        .add_member(&e.w.citizen.id, "x", MemberRole::Agent, &s.holder_key, NOW)
        .is_err());
}
