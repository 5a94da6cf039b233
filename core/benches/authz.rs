//! Authorisation benchmarks: the approve flow (request verified →
//! presentation + authorisation + consent record committed), verification
//! of a response by the relying party, and verification of a 10,000-record
//! consent log.

use std::{hint::black_box, sync::Arc};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use satchel_core::{
    authz::{
        parse_request, verify_response, Approval, AuthorizationRequest, ClaimQuery, Controller,
        CredentialQuery, DcqlQuery, PiplFlags, Selection, StatusCache, Terms,
    },
    consent::{verify_log_on, ConsentEvent, ConsentRecord, ControllerRef},
    registry::{RegisteredIssuer, RegisteredRelyingParty, Registry},
    sd_jwt::{issue, ClaimPath, IssueOptions},
    KeyStore, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet,
};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const BANK: &str = "https://bank.example";

fn request() -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: BANK.into(),
        response_uri: format!("{BANK}/response"),
        nonce: "nonce-0123456789".into(),
        state: None,
        iat: NOW,
        exp: NOW + 600,
        dcql_query: DcqlQuery {
            credentials: vec![CredentialQuery {
                id: "id_card".into(),
                format: "dc+sd-jwt".into(),
                meta: Some(json!({"vct_values": ["urn:id"]})),
                claims: ["claim_0", "claim_1", "claim_2"]
                    .iter()
                    .map(|c| ClaimQuery {
                        id: None,
                        path: json!([c]),
                    })
                    .collect(),
                claim_sets: None,
            }],
        },
        satchel: Terms {
            purpose: "IdentityVerification".into(),
            legal_basis: "Consent".into(),
            not_before: NOW,
            not_after: NOW + 86400,
            max_uses: 3,
            retention_days: 30,
            onward_transfer: false,
            pipl: PiplFlags::default(),
            controller: Controller {
                name: "Bank".into(),
                contact: String::new(),
            },
            jurisdiction: "CN".into(),
        },
    }
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let wallet = Wallet::open(&dir.path().join("w.db"), ks).unwrap();
    let space = wallet.create_space("bench", SpaceKind::Personal).unwrap();
    let issuer = SoftwareKey::generate_es256().unwrap();
    let bank = SoftwareKey::generate_es256().unwrap();
    let mut claims = json!({"iss": "https://issuer", "vct": "urn:id", "iat": NOW, "exp": NOW + 86400, "cnf": {"jwk": space.holder_key.to_value()}});
    for i in 0..10 {
        claims[format!("claim_{i}")] = json!(format!("value {i}"));
    }
    let paths: Vec<ClaimPath> = (0..10)
        .map(|i| ClaimPath::keys(&[format!("claim_{i}")]))
        .collect();
    let token = issue(
        claims.as_object().unwrap(),
        &paths,
        &IssueOptions::default(),
        &issuer,
    )
    .unwrap();
    let cred = wallet
        .import_credential(&space.id, &token, Some(&issuer.public_jwk()), NOW)
        .unwrap();
    let registry = Registry {
        issuers: vec![RegisteredIssuer {
            id: "https://issuer".into(),
            name: "I".into(),
            keys: vec![issuer.public_jwk()],
            credential_types: vec![],
        }],
        relying_parties: vec![RegisteredRelyingParty {
            client_id: BANK.into(),
            name: "Bank".into(),
            keys: vec![bank.public_jwk()],
            allowed_purposes: vec![],
        }],
    };
    let request_jws = request().sign(&bank).unwrap();
    let approval = Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: cred.id.clone(),
            claims: paths[..3].to_vec(),
        }],
        ..Default::default()
    };
    let status = StatusCache::new();

    let mut g = c.benchmark_group("authz");
    g.bench_function("approve_flow_parse_present_sign_commit", |b| {
        b.iter(|| {
            let parsed = parse_request(black_box(&request_jws), &registry, NOW).unwrap();
            wallet.approve(&space.id, &parsed, &approval, NOW).unwrap()
        })
    });
    let parsed = parse_request(&request_jws, &registry, NOW).unwrap();
    let approved = wallet.approve(&space.id, &parsed, &approval, NOW).unwrap();
    g.throughput(Throughput::Elements(1));
    // What a relying party does with one response.
    let verify_one = || {
        verify_response(
            black_box(&approved.response),
            &request_jws,
            &registry,
            &status,
            NOW + 1,
        )
        .unwrap()
    };
    g.bench_function("verify_response_authorization_and_presentation", |b| {
        b.iter(verify_one)
    });
    g.finish();

    // A relying party verifying many responses, on one thread and on two
    // (each thread takes half), interleaved in the same run.
    let mut g = c.benchmark_group("relying_party");
    g.sample_size(10);
    const RESPONSES: usize = 400;
    for threads in [1usize, 2] {
        g.throughput(Throughput::Elements(RESPONSES as u64));
        g.bench_function(
            format!("verify_{RESPONSES}_responses_{threads}_threads"),
            |b| {
                b.iter(|| {
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = (0..threads)
                            .map(|_| {
                                scope.spawn(|| {
                                    for _ in 0..RESPONSES / threads {
                                        verify_one();
                                    }
                                })
                            })
                            .collect();
                        handles.into_iter().for_each(|h| h.join().unwrap());
                    })
                })
            },
        );
    }
    g.finish();

    // A 10,000-record consent log.
    let key = SoftwareKey::generate_es256().unwrap();
    let mut log: Vec<String> = Vec::with_capacity(10_000);
    for i in 1..=10_000u64 {
        let r = ConsentRecord {
            record_id: format!("r{i}"),
            seq: 0,
            prev: None,
            principal: "urn:satchel:holder:x".into(),
            controller: ControllerRef {
                id: BANK.into(),
                name: "Bank".into(),
                contact: String::new(),
            },
            purposes: vec!["IdentityVerification".into()],
            data_categories: vec!["urn:id#claim_0".into(), "urn:id#claim_1".into()],
            recipients: vec![BANK.into()],
            legal_basis: "Consent".into(),
            jurisdiction: "CN".into(),
            event_time: NOW + i as i64,
            not_before: Some(NOW),
            not_after: Some(NOW + 86400),
            withdrawal_method: "tap".into(),
            event_type: ConsentEvent::Given,
            state: String::new(),
            authorization_id: Some(format!("a{i}")),
            request_hash: None,
            pipl: PiplFlags::default(),
            onward_transfer: false,
            retention_days: Some(30),
            max_uses: Some(3),
        };
        log.push(r.sign(log.last().map(String::as_str), i, &key).unwrap().1);
    }
    let vk = key.public_jwk().verifying_key().unwrap();
    let mut g = c.benchmark_group("consent_log");
    g.sample_size(10);
    // One thread and two, interleaved in the same run.
    for threads in [1, 2] {
        g.bench_function(format!("verify_10000_records_{threads}_threads"), |b| {
            b.iter(|| {
                assert_eq!(
                    verify_log_on(black_box(&log), &vk, threads).unwrap().len(),
                    10_000
                )
            })
        });
    }
    g.finish();
}

criterion_group!(authz, benches);
criterion_main!(authz);
