//! Snapshots of every serialised format, built from fixed inputs.

use satchel_core::{
    authz::{Authorization, Grant, PiplFlags},
    consent::{ConsentEvent, ConsentRecord, ControllerRef},
    provenance::{to_prov_json, Activity, AgentRole, ProvAgent, ProvenanceEvent},
    status_list::{StatusList, StatusReference},
    Jwk,
};
use serde_json::json;

use crate::fixture::{bank_request, BANK, ID_VCT, NOW};

fn holder() -> Jwk {
    Jwk::from_json(r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#).unwrap()
}

#[test]
fn authorization_request_payload() {
    insta::assert_json_snapshot!(bank_request(BANK, "IdentityVerification", ID_VCT));
}

#[test]
fn authorization_payload() {
    let a = Authorization {
        jti: "0b6c7e3e-1a2b-4c5d-8e9f-000000000001".into(),
        iss: Authorization::holder_urn(&holder().thumbprint()),
        aud: BANK.into(),
        iat: NOW,
        nbf: NOW,
        exp: NOW + 86400,
        request_hash: "dGVzdA".into(),
        nonce: "nonce-0123456789".into(),
        purpose: "IdentityVerification".into(),
        legal_basis: "Consent".into(),
        grants: vec![Grant {
            query_id: "id_card".into(),
            vct: ID_VCT.into(),
            credential_issuer: Some("https://gdga.example".into()),
            claims: vec![json!(["name"]), json!(["age_over_18"])],
        }],
        max_uses: 3,
        onward_transfer: false,
        retention_days: 30,
        pipl: PiplFlags {
            sensitive: true,
            third_party: false,
            cross_border: false,
        },
        status: StatusReference {
            idx: 7,
            uri: "https://satchel.example/status/space-1".into(),
        }
        .to_claim(),
    };
    insta::assert_json_snapshot!(a);
}

fn consent() -> ConsentRecord {
    ConsentRecord {
        record_id: "rec-1".into(),
        seq: 1,
        prev: None,
        principal: Authorization::holder_urn(&holder().thumbprint()),
        controller: ControllerRef {
            id: BANK.into(),
            name: "Example Bank".into(),
            contact: "privacy@bank.example".into(),
        },
        purposes: vec!["IdentityVerification".into()],
        data_categories: vec![format!("{ID_VCT}#name"), format!("{ID_VCT}#age_over_18")],
        recipients: vec![BANK.into()],
        legal_basis: "Consent".into(),
        jurisdiction: "CN".into(),
        event_time: NOW,
        not_before: Some(NOW),
        not_after: Some(NOW + 86400),
        withdrawal_method: satchel_core::consent::WITHDRAWAL_METHOD.into(),
        event_type: ConsentEvent::Given,
        state: "dpv:ConsentGiven".into(),
        authorization_id: Some("authz-1".into()),
        request_hash: Some("dGVzdA".into()),
        pipl: PiplFlags {
            sensitive: true,
            third_party: false,
            cross_border: false,
        },
        onward_transfer: false,
        retention_days: Some(30),
        max_uses: Some(3),
    }
}

#[test]
fn consent_record_payload_27560_and_kantara() {
    insta::assert_json_snapshot!("consent_record", consent());
    insta::assert_json_snapshot!("consent_27560", consent().to_27560());
    insta::assert_json_snapshot!("consent_kantara", consent().to_kantara(&holder()));
}

#[test]
fn provenance_prov_json() {
    let events = vec![
        ProvenanceEvent {
            id: "ev-1".into(),
            time: NOW,
            activity: Activity::Import,
            credentials: vec!["cred-1".into()],
            generated: None,
            invalidated: None,
            agents: vec![ProvAgent {
                id: "urn:satchel:holder:h".into(),
                role: AgentRole::Holder,
                name: None,
            }],
            on_behalf_of: None,
            note: None,
        },
        ProvenanceEvent {
            id: "ev-2".into(),
            time: NOW + 60,
            activity: Activity::Authorize,
            credentials: vec!["cred-1".into()],
            generated: Some("authorization:authz-1".into()),
            invalidated: None,
            agents: vec![ProvAgent {
                id: BANK.into(),
                role: AgentRole::RelyingParty,
                name: Some("Example Bank".into()),
            }],
            on_behalf_of: None,
            note: Some("IdentityVerification".into()),
        },
        ProvenanceEvent {
            id: "ev-3".into(),
            time: NOW + 120,
            activity: Activity::Withdraw,
            credentials: vec!["cred-1".into()],
            generated: None,
            invalidated: Some("authorization:authz-1".into()),
            agents: vec![ProvAgent {
                id: "urn:satchel:holder:h".into(),
                role: AgentRole::Holder,
                name: None,
            }],
            on_behalf_of: None,
            note: None,
        },
    ];
    insta::assert_json_snapshot!(events);
    insta::assert_json_snapshot!("prov_json", to_prov_json(&events));
}

#[test]
fn status_list_claims() {
    let mut l = StatusList::new(1, 16).unwrap();
    l.set(3, 1).unwrap();
    insta::assert_json_snapshot!(json!({
        "status_list": {"bits": l.bits(), "lst": l.encode_lst()},
        "reference": StatusReference { idx: 3, uri: "https://satchel.example/status/space-1".into() }.to_claim(),
    }));
}

#[test]
fn delegation_credential_payload() {
    let enterprise = satchel_core::SoftwareKey::from_private_jwk(
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#,
    )
    .unwrap();
    let scope = satchel_core::delegation::DelegationScope {
        credential_types: vec!["urn:satchel:vct:business-licence".into()],
        purposes: vec!["IdentityVerification".into()],
        audiences: vec![BANK.into()],
        not_before: NOW,
        not_after: NOW + 7 * 86400,
    };
    let status = StatusReference {
        idx: 0,
        uri: "https://satchel.example/status/company".into(),
    };
    let token = satchel_core::delegation::issue_delegation(
        &enterprise,
        "广州某某科技有限公司",
        "张三",
        &holder(),
        &scope,
        Some(&status),
        NOW,
    )
    .unwrap();
    let jwt = satchel_core::jws::decode(token.split('~').next().unwrap()).unwrap();
    insta::assert_json_snapshot!(jwt.payload_object().unwrap());
}
