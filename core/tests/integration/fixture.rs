//! A small world: a demo ID-card issuer, a bank, a registry, a citizen's
//! wallet holding an ID card.

use std::sync::Arc;

use satchel_core::{
    authz::{
        AuthorizationRequest, ClaimQuery, Controller, CredentialQuery, DcqlQuery, ParsedRequest,
        PiplFlags, StatusCache, Terms, UsageLedger,
    },
    registry::{RegisteredIssuer, RegisteredRelyingParty, Registry},
    sd_jwt::{issue, ClaimPath, IssueOptions},
    Credential, KeyStore, Signer, SoftwareKey, SoftwareKeyStore, Space, SpaceKind, Wallet,
};
use serde_json::json;

pub const NOW: i64 = 1_800_000_000;
pub const BANK: &str = "https://bank.example";
pub const ID_VCT: &str = "urn:satchel:vct:resident-id-card";
pub const ID_ISSUER: &str = "https://gdga.example";
pub const ID_NUMBER: &str = "440106199003071234";

pub struct World {
    pub _dir: tempfile::TempDir,
    pub keystore: Arc<dyn KeyStore>,
    pub wallet: Wallet,
    pub citizen: Space,
    pub id_card: Credential,
    pub issuer: SoftwareKey,
    pub bank: Arc<SoftwareKey>,
    pub registry: Registry,
    pub status: StatusCache,
    pub ledger: UsageLedger,
}

pub fn id_card_claims(holder: &satchel_core::Jwk) -> serde_json::Map<String, serde_json::Value> {
    json!({
        "iss": ID_ISSUER, "vct": ID_VCT, "iat": NOW - 1000, "exp": NOW + 365 * 86400,
        "cnf": {"jwk": holder.to_value()},
        "name": "王小明", "id_number": ID_NUMBER, "age_over_18": true, "birthdate": "1990-03-07",
    })
    .as_object()
    .unwrap()
    .clone()
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let keystore: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
        let wallet = Wallet::open(&dir.path().join("citizen.db"), keystore.clone()).unwrap();
        let citizen = wallet
            .create_space("个人空间", SpaceKind::Personal)
            .unwrap();
        let issuer = SoftwareKey::generate_es256().unwrap();
        let paths =
            ["name", "id_number", "age_over_18", "birthdate"].map(|p| ClaimPath::keys(&[p]));
        let token = issue(
            &id_card_claims(&citizen.holder_key),
            &paths,
            &IssueOptions::default(),
            &issuer,
        )
        .unwrap();
        let id_card = wallet
            .import_credential(&citizen.id, &token, Some(&issuer.public_jwk()), NOW)
            .unwrap();
        let bank = Arc::new(SoftwareKey::generate_es256().unwrap());
        let registry = Registry {
            issuers: vec![RegisteredIssuer {
                id: ID_ISSUER.into(),
                name: "广州市公安局".into(),
                keys: vec![issuer.public_jwk()],
                credential_types: vec![ID_VCT.into()],
            }],
            relying_parties: vec![RegisteredRelyingParty {
                client_id: BANK.into(),
                name: "Example Bank".into(),
                keys: vec![bank.public_jwk()],
                allowed_purposes: vec!["IdentityVerification".into(), "CreditChecking".into()],
            }],
        };
        let ledger = UsageLedger::open(None, BANK, bank.clone()).unwrap();
        World {
            _dir: dir,
            keystore,
            wallet,
            citizen,
            id_card,
            issuer,
            bank,
            registry,
            status: StatusCache::new(),
            ledger,
        }
    }

    /// The bank's standard request: name, id_number, age_over_18 for
    /// identity verification, 3 uses over 30 days.
    pub fn request(&self) -> AuthorizationRequest {
        bank_request(BANK, "IdentityVerification", ID_VCT)
    }

    pub fn parse(&self, request: &AuthorizationRequest) -> (String, ParsedRequest) {
        let jws = request.sign(self.bank.as_ref()).unwrap();
        let parsed = satchel_core::authz::parse_request(&jws, &self.registry, NOW).unwrap();
        (jws, parsed)
    }
}

pub fn bank_request(client_id: &str, purpose: &str, vct: &str) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: client_id.into(),
        response_uri: format!("{client_id}/response"),
        nonce: "nonce-0123456789".into(),
        state: Some("s-1".into()),
        iat: NOW,
        exp: NOW + 600,
        dcql_query: DcqlQuery {
            credentials: vec![CredentialQuery {
                id: "id_card".into(),
                format: "dc+sd-jwt".into(),
                meta: Some(json!({"vct_values": [vct]})),
                claims: ["name", "id_number", "age_over_18"]
                    .iter()
                    .map(|c| ClaimQuery {
                        id: Some((*c).into()),
                        path: json!([c]),
                    })
                    .collect(),
                claim_sets: Some(vec![
                    vec!["name".into(), "age_over_18".into()],
                    vec!["name".into(), "id_number".into(), "age_over_18".into()],
                ]),
            }],
        },
        satchel: Terms {
            purpose: purpose.into(),
            legal_basis: "Consent".into(),
            not_before: NOW,
            not_after: NOW + 30 * 86400,
            max_uses: 3,
            retention_days: 30,
            onward_transfer: false,
            pipl: PiplFlags {
                sensitive: true,
                third_party: false,
                cross_border: false,
            },
            controller: Controller {
                name: "Example Bank".into(),
                contact: "privacy@bank.example".into(),
            },
            jurisdiction: "CN".into(),
        },
    }
}

pub fn paths(p: &[&str]) -> Vec<ClaimPath> {
    p.iter()
        .map(|x| ClaimPath::parse_dotted(x).unwrap())
        .collect()
}
