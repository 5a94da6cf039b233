//! `satchel demo`: the story's local steps (BRIEF 1–8, 10, 12; the server,
//! device sync and export arrive with later work): demo issuers and a
//! registry, a citizen's wallet, an ID card as an SD-JWT VC, a bank's signed
//! request, approval of a subset, verification and metered use, withdrawal
//! through a status list, the consent log, an enterprise delegation, and the
//! provenance trace.

use std::sync::Arc;

use satchel_core::{
    authz::{
        self, Approval, AuthorizationRequest, ClaimQuery, Controller, CredentialQuery, DcqlQuery,
        PiplFlags, Selection, StatusCache, Terms, UsageLedger,
    },
    b64,
    delegation::DelegationScope,
    registry::{RegisteredIssuer, RegisteredRelyingParty, Registry},
    sd_jwt::{self, ClaimPath, IssueOptions},
    unix_now, KeyAlgorithm, KeyStore, MemberRole, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind,
    Wallet,
};
use serde_json::json;

use crate::{CmdResult, Failure};

const BANK: &str = "https://bank.demo.satchel.app";
const GDGA: &str = "https://gdga.demo.satchel.app";
const SAMR: &str = "https://samr.demo.satchel.app";
const ID_VCT: &str = "https://credentials.demo.satchel.app/resident-id-card";
const LICENCE_VCT: &str = "https://credentials.demo.satchel.app/business-licence";

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

fn paths(p: &[&str]) -> Vec<ClaimPath> {
    p.iter().map(|x| ClaimPath::keys(&[x])).collect()
}

fn bank_request(
    now: i64,
    vct: &str,
    query: &str,
    claims: &[&str],
    optional: &[&str],
) -> AuthorizationRequest {
    let all: Vec<ClaimQuery> = claims
        .iter()
        .chain(optional)
        .map(|c| ClaimQuery {
            id: Some((*c).into()),
            path: json!([c]),
        })
        .collect();
    let claim_sets = (!optional.is_empty()).then(|| {
        vec![
            claims.iter().map(|c| c.to_string()).collect(),
            claims
                .iter()
                .chain(optional)
                .map(|c| c.to_string())
                .collect(),
        ]
    });
    AuthorizationRequest {
        client_id: BANK.into(),
        response_uri: format!("{BANK}/openid4vp/response"),
        nonce: b64::encode(b64::random_bytes::<16>()),
        state: None,
        iat: now,
        exp: now + 600,
        dcql_query: DcqlQuery {
            credentials: vec![CredentialQuery {
                id: query.into(),
                format: sd_jwt::VC_TYP.into(),
                meta: Some(json!({"vct_values": [vct]})),
                claims: all,
                claim_sets,
            }],
        },
        satchel: Terms {
            purpose: "IdentityVerification".into(),
            legal_basis: "Consent".into(),
            not_before: now,
            not_after: now + 30 * 86400,
            max_uses: 3,
            retention_days: 30,
            onward_transfer: false,
            pipl: PiplFlags {
                sensitive: true,
                third_party: false,
                cross_border: false,
            },
            controller: Controller {
                name: "示例银行 Example Bank".into(),
                contact: "privacy@bank.demo.satchel.app".into(),
            },
            jurisdiction: "CN".into(),
        },
    }
}

fn story(dir: &std::path::Path) -> CmdResult {
    let now = unix_now();
    println!("Satchel demo: the story's local steps\n");

    // 1. Issuers, a bank, and the registry that vouches for them.
    let gdga = SoftwareKey::generate(KeyAlgorithm::Es256)?;
    let samr = SoftwareKey::generate(KeyAlgorithm::Es256)?;
    let bank = Arc::new(SoftwareKey::generate(KeyAlgorithm::Es256)?);
    let registry = Registry {
        issuers: vec![
            RegisteredIssuer {
                id: GDGA.into(),
                name: "广州市公安局 (ID cards)".into(),
                keys: vec![gdga.public_jwk()],
                credential_types: vec![ID_VCT.into()],
            },
            RegisteredIssuer {
                id: SAMR.into(),
                name: "市场监督管理局 (business licences)".into(),
                keys: vec![samr.public_jwk()],
                credential_types: vec![LICENCE_VCT.into()],
            },
        ],
        relying_parties: vec![RegisteredRelyingParty {
            client_id: BANK.into(),
            name: "示例银行 Example Bank".into(),
            keys: vec![bank.public_jwk()],
            allowed_purposes: vec!["IdentityVerification".into()],
        }],
    };
    step("1", "Demo issuers (public security → ID card; market regulation → business licence) and a registry of trusted issuers and relying parties");

    // 2. The citizen's personal space.
    let keystore: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let db = dir.join("citizen.db");
    let wallet = Wallet::open(&db, keystore.clone())?;
    let space = wallet.create_space("王小明的个人空间", SpaceKind::Personal)?;
    let hw = keystore.is_hardware_backed(&space.holder_key_alias)?;
    step(
        "2",
        &format!(
            "Personal space created; holder key ES256 {} ({})",
            space.holder_key.thumbprint(),
            if hw {
                "hardware-backed"
            } else {
                "software key store"
            }
        ),
    );

    // 3. The ID card.
    let claims = json!({
        "iss": GDGA, "vct": ID_VCT, "iat": now, "exp": now + 10 * 365 * 86400,
        "cnf": {"jwk": space.holder_key.to_value()},
        "name": "王小明", "id_number": "440106199003071234", "birthdate": "1990-03-07", "age_over_18": true,
        "address": {"province": "广东省", "city": "广州市", "street": "天河路 1 号"},
    });
    let disclosable = ["name", "id_number", "birthdate", "age_over_18", "address"];
    let token = sd_jwt::issue(
        claims.as_object().ok_or(Failure("claims".into()))?,
        &paths(&disclosable),
        &IssueOptions::default(),
        &gdga,
    )?;
    wallet.add_trusted_issuer(GDGA, &gdga.public_jwk())?;
    let card = wallet.import_credential(&space.id, &token, None, now)?;
    let mut file = std::fs::read(&db)?;
    file.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    let leaked = ["王小明", "440106199003071234"]
        .iter()
        .any(|s| file.windows(s.len()).any(|w| w == s.as_bytes()));
    step("3", &format!("ID card issued as an SD-JWT VC ({} bytes), verified and stored encrypted; wallet file scanned: {}",
        token.len(), if leaked { "PLAINTEXT FOUND" } else { "no claim in plaintext" }));
    check(!leaked, "no plaintext in the wallet file")?;

    // 4. The bank's signed request.
    let request = bank_request(
        now,
        ID_VCT,
        "id_card",
        &["name", "age_over_18"],
        &["id_number"],
    )
    .sign(bank.as_ref())?;
    step("4", "Bank sends a signed request: name, age_over_18 (id_number optional), purpose IdentityVerification, 30 days, 3 uses");

    // 5. Review and approve a subset.
    let parsed = authz::parse_request(&request, &registry, now)?;
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
    step("5", &format!("Citizen reviews ({trust}), approves name + age_over_18 only, 2 uses: authorisation {} signed, consent record appended", approved.authorization_id));

    // 6. Verify, use, meter.
    let status = StatusCache::new();
    let v = authz::verify_response(&approved.response, &request, &registry, &status, now)?;
    let seen: Vec<&String> = v.claims["id_card"]
        .keys()
        .filter(|k| ["name", "id_number", "age_over_18", "birthdate"].contains(&k.as_str()))
        .collect();
    step(
        "6",
        &format!("Bank verifies presentation + authorisation; it sees {seen:?}"),
    );
    check(
        v.claims["id_card"].get("id_number").is_none(),
        "id_number not disclosed",
    )?;
    let ledger = UsageLedger::open(Some(&dir.join("bank-ledger.db")), BANK, bank.clone())?;
    ledger.register(&v)?;
    for _ in 0..2 {
        let r = ledger.record_use(&v.id, "IdentityVerification", now + 60, &status)?;
        wallet.record_use_receipt(&v.id, &r.jws)?;
        println!(
            "    use {} recorded ({} left); receipt kept by the citizen",
            r.seq, r.remaining
        );
    }
    match ledger.record_use(&v.id, "IdentityVerification", now + 60, &status) {
        Err(e) => println!("    a third use is refused: {e}"),
        Ok(_) => return Err(Failure("a use beyond the limit was accepted".into())),
    }

    // 7. Withdraw.
    let withdrawal = wallet.withdraw(&approved.authorization_id, now + 120)?;
    status.publish(&withdrawal.status_uri, &withdrawal.status_list_token);
    step(
        "7",
        &format!(
            "Citizen withdraws in one tap; status list published at {}",
            withdrawal.status_uri
        ),
    );
    match authz::verify_response(&approved.response, &request, &registry, &status, now + 130) {
        Err(e) => println!("    the bank's next verification is refused: {e}"),
        Ok(_) => return Err(Failure("a withdrawn authorisation was accepted".into())),
    }

    // 8. The consent log.
    let log = wallet.verify_consent_log(&space.id)?;
    let states: Vec<&str> = log.iter().map(|r| r.state.as_str()).collect();
    step(
        "8",
        &format!(
            "Consent log verified: {} records, signed and hash-chained: {}",
            log.len(),
            states.join(" → ")
        ),
    );

    // 10. Enterprise delegation.
    let company_ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let company_wallet = Wallet::open(&dir.join("company.db"), company_ks)?;
    let company = company_wallet.create_space("广州某某科技有限公司", SpaceKind::Enterprise)?;
    let lic_claims = json!({
        "iss": SAMR, "vct": LICENCE_VCT, "iat": now, "exp": now + 5 * 365 * 86400,
        "cnf": {"jwk": company.holder_key.to_value()},
        "company_name": "广州某某科技有限公司", "uscc": "91440101MA5CXXXX0X", "legal_representative": "李四",
    });
    let licence = sd_jwt::issue(
        lic_claims.as_object().ok_or(Failure("claims".into()))?,
        &paths(&["company_name", "uscc", "legal_representative"]),
        &IssueOptions::default(),
        &samr,
    )?;
    company_wallet.import_credential(&company.id, &licence, Some(&samr.public_jwk()), now)?;
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
        credential_types: vec![LICENCE_VCT.into()],
        purposes: vec!["IdentityVerification".into()],
        audiences: vec![BANK.into()],
        not_before: now,
        not_after: now + 7 * 86400,
    };
    let delegation = company_wallet.delegate(&company.id, &member.id, &scope, now)?;
    let held = agent_wallet.import_delegated_credential(
        &agent.id,
        &licence,
        &delegation.token,
        Some(&samr.public_jwk()),
        now,
    )?;
    let lic_request = bank_request(now, LICENCE_VCT, "licence", &["company_name", "uscc"], &[])
        .sign(bank.as_ref())?;
    let parsed = authz::parse_request(&lic_request, &registry, now)?;
    let approval = Approval {
        selections: vec![Selection {
            query_id: "licence".into(),
            credential_id: held.id,
            claims: paths(&["company_name", "uscc"]),
        }],
        ..Default::default()
    };
    let agent_approved = agent_wallet.approve(&agent.id, &parsed, &approval, now)?;
    let v = authz::verify_response(
        &agent_approved.response,
        &lic_request,
        &registry,
        &status,
        now,
    )?;
    step("10", &format!(
        "Legal representative delegates agent 张三 (7 days, IdentityVerification, to the bank); the bank verifies licence + delegation chain: {} via enterprise key {}",
        v.claims["licence"]["company_name"].as_str().unwrap_or_default(),
        v.delegated_by.get("licence").map(|k| k.thumbprint()).unwrap_or_default()
    ));

    // 12. Where did my ID card go?
    let trace = wallet.trace(&card.id, None)?;
    let activities: Vec<String> = trace
        .iter()
        .map(|e| {
            serde_json::to_value(e.activity)
                .ok()
                .and_then(|a| a.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
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

    println!("\nDone: steps 1–8, 10 and 12 ran end to end (server anchoring, sync and export come with the server).");
    Ok(())
}
