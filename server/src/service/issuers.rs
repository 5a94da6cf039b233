//! Demo issuers with the OpenID4VCI 1.0 pre-authorised code flow (§3.5):
//! credential offer, issuer and authorisation-server metadata, token (§6),
//! nonce (§7), credential (§8) with a proof JWT (Appendix F.1), issuing
//! SD-JWT VCs from seeded test records; `/.well-known/jwt-vc-issuer`; and
//! revocation through each issuer's Token Status List.
//!
//! Demo issuer keys are kept in the database: these issuers exist to make
//! the story runnable, not to issue real credentials.

use satchel_core::{
    b64, jws,
    registry::RegisteredIssuer,
    sd_jwt::{self, ClaimPath, IssueOptions},
    status_list::{StatusList, StatusReference, INVALID},
    Jwk, Signer, SoftwareKey,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{Service, ServiceError};
use crate::store::{Store, StoreError};

/// Pre-authorised codes and access tokens live this long.
const CODE_TTL: i64 = 600;
/// Entries in each issuer's status list.
const STATUS_ENTRIES: usize = 4096;
/// The grant type of the pre-authorised code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// One demo issuer.
pub struct DemoIssuer {
    /// Path name, e.g. `public-security`.
    pub name: &'static str,
    /// Display name.
    pub display: &'static str,
    /// Credential configuration id.
    pub config_id: &'static str,
    /// Last path segment of the `vct`.
    pub vct: &'static str,
    /// Claims that are selectively disclosable.
    disclosable: &'static [&'static str],
    /// Seeded records: (subject, claims JSON).
    records: fn() -> Vec<(&'static str, Value)>,
}

fn id_cards() -> Vec<(&'static str, Value)> {
    vec![
        (
            "citizen-1",
            json!({"name": "王小明", "id_number": "440106199003071234", "birthdate": "1990-03-07", "age_over_18": true, "nationality": "CN", "address": {"province": "广东省", "city": "广州市", "street": "天河路 1 号"}}),
        ),
        (
            "citizen-2",
            json!({"name": "李华", "id_number": "440305200801011234", "birthdate": "2008-01-01", "age_over_18": false, "nationality": "CN", "address": {"province": "广东省", "city": "深圳市", "street": "深南大道 2 号"}}),
        ),
    ]
}

fn driving_licences() -> Vec<(&'static str, Value)> {
    vec![(
        "citizen-1",
        json!({"name": "王小明", "licence_number": "440106199003071234", "vehicle_classes": ["C1"], "valid_until": "2032-03-07"}),
    )]
}

fn business_licences() -> Vec<(&'static str, Value)> {
    vec![(
        "company-1",
        json!({"company_name": "广州某某科技有限公司", "uscc": "91440101MA5CXXXX0X", "legal_representative": "李四", "registered_capital": "1000000 CNY", "business_scope": "软件开发"}),
    )]
}

fn contributions() -> Vec<(&'static str, Value)> {
    vec![(
        "citizen-1",
        json!({"name": "王小明", "id_number": "440106199003071234", "insured_city": "广州市", "months_contributed": 96, "status": "active"}),
    )]
}

/// The four demo issuers of the story.
pub const DEMO_ISSUERS: [DemoIssuer; 4] = [
    DemoIssuer {
        name: "public-security",
        display: "公安局 (public security)",
        config_id: "resident_id_card",
        vct: "resident-id-card",
        disclosable: &[
            "name",
            "id_number",
            "birthdate",
            "age_over_18",
            "nationality",
            "address",
        ],
        records: id_cards,
    },
    DemoIssuer {
        name: "transport",
        display: "交通运输局 (transport)",
        config_id: "driving_licence",
        vct: "driving-licence",
        disclosable: &["name", "licence_number", "vehicle_classes", "valid_until"],
        records: driving_licences,
    },
    DemoIssuer {
        name: "market-regulation",
        display: "市场监督管理局 (market regulation)",
        config_id: "business_licence",
        vct: "business-licence",
        disclosable: &[
            "company_name",
            "uscc",
            "legal_representative",
            "registered_capital",
            "business_scope",
        ],
        records: business_licences,
    },
    DemoIssuer {
        name: "social-insurance",
        display: "社会保险局 (social insurance)",
        config_id: "contribution_record",
        vct: "social-insurance-contribution-record",
        disclosable: &[
            "name",
            "id_number",
            "insured_city",
            "months_contributed",
            "status",
        ],
        records: contributions,
    },
];

/// The `openid-credential-offer://` URI carrying `offer` by value
/// (OpenID4VCI §4.1.1), for a QR code or a link.
pub fn offer_uri(offer: &Value) -> String {
    format!(
        "openid-credential-offer://?credential_offer={}",
        satchel_core::issuance::percent_encode(&offer.to_string())
    )
}

fn find_demo(name: &str) -> Result<&'static DemoIssuer, ServiceError> {
    DEMO_ISSUERS
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| ServiceError::NotFound("no such issuer".into()))
}

#[derive(Serialize, Deserialize)]
struct Grant {
    issuer: String,
    subject: String,
    exp: i64,
}

fn bad(m: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRequest(m.to_string())
}

/// An OAuth-style error (RFC 6749 §5.2 / OpenID4VCI §8.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `error` code, e.g. `invalid_grant`.
    pub error: &'static str,
    /// Description.
    pub description: String,
}

impl<S: Store> Service<S> {
    /// The issuer identifier of a demo issuer.
    pub fn issuer_id(&self, name: &str) -> String {
        format!("{}/issuers/{name}", self.public_url)
    }

    fn issuer_key(&self, name: &str) -> Result<SoftwareKey, ServiceError> {
        // Issuer private keys exist only on a demo server.
        self.demo_issuer(name)?;
        let stored = match self.store.object("issuer_key", name)? {
            Some(k) => k,
            None => {
                let k = SoftwareKey::generate_es256()
                    .map_err(|e| ServiceError::Storage(e.to_string()))?;
                match self
                    .store
                    .put_object("issuer_key", name, &k.to_private_jwk(), false)
                {
                    Ok(()) | Err(StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
                self.store
                    .object("issuer_key", name)?
                    .ok_or_else(|| ServiceError::Storage("issuer key".into()))?
            }
        };
        SoftwareKey::from_private_jwk(&stored).map_err(|e| ServiceError::Storage(e.to_string()))
    }

    /// A demo issuer, when this server runs with demo data (`--demo`).
    fn demo_issuer(&self, name: &str) -> Result<&'static DemoIssuer, ServiceError> {
        if !self.demo {
            return Err(ServiceError::NotFound("no such issuer".into()));
        }
        find_demo(name)
    }

    /// With demo data on: creates the demo issuers' keys, registers them as
    /// trusted issuers and publishes their (empty) status lists.
    pub fn seed_demo_issuers(&self, now: i64) -> Result<(), ServiceError> {
        if !self.demo {
            return Ok(());
        }
        for d in &DEMO_ISSUERS {
            let key = self.issuer_key(d.name)?;
            if self
                .store
                .status_list(&format!("issuer/{}", d.name))?
                .is_none()
            {
                let list = StatusList::new(1, STATUS_ENTRIES).map_err(bad)?;
                let token = list
                    .to_token(&self.issuer_status_uri(d.name), now, Some(300), &key)
                    .map_err(bad)?;
                self.store
                    .put_status_list(&format!("issuer/{}", d.name), &token)?;
            }
            self.put_issuer(&RegisteredIssuer {
                id: self.issuer_id(d.name),
                name: d.display.into(),
                keys: vec![key.public_jwk()],
                credential_types: vec![self.vct(d)],
            })?;
        }
        Ok(())
    }

    fn vct(&self, d: &DemoIssuer) -> String {
        format!("{}/vct/{}", self.public_url, d.vct)
    }

    /// Credential issuer metadata (OpenID4VCI §12.2).
    pub fn issuer_metadata(&self, name: &str) -> Result<Value, ServiceError> {
        let d = self.demo_issuer(name)?;
        let id = self.issuer_id(name);
        Ok(json!({
            "credential_issuer": id,
            "authorization_servers": [id],
            "credential_endpoint": format!("{id}/credential"),
            "nonce_endpoint": format!("{id}/nonce"),
            "display": [{"name": d.display, "locale": "zh-CN"}],
            "credential_configurations_supported": {
                d.config_id: {
                    "format": "dc+sd-jwt",
                    "vct": self.vct(d),
                    "cryptographic_binding_methods_supported": ["jwk"],
                    "credential_signing_alg_values_supported": ["ES256"],
                    "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256", "EdDSA"]}},
                }
            }
        }))
    }

    /// OAuth authorisation server metadata (RFC 8414) of a demo issuer.
    pub fn authorization_server_metadata(&self, name: &str) -> Result<Value, ServiceError> {
        self.demo_issuer(name)?;
        let id = self.issuer_id(name);
        Ok(json!({
            "issuer": id,
            "token_endpoint": format!("{id}/token"),
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "pre-authorized_grant_anonymous_access_supported": true,
        }))
    }

    /// JWT VC issuer metadata (`/.well-known/jwt-vc-issuer`).
    pub fn jwt_vc_issuer(&self, name: &str) -> Result<Value, ServiceError> {
        self.demo_issuer(name)?;
        Ok(
            json!({"issuer": self.issuer_id(name), "jwks": {"keys": [self.issuer_key(name)?.public_jwk().to_value()]}}),
        )
    }

    /// Operator: a credential offer with a pre-authorised code for a seeded subject.
    pub fn credential_offer(
        &self,
        name: &str,
        subject: &str,
        now: i64,
    ) -> Result<Value, ServiceError> {
        let d = self.demo_issuer(name)?;
        if !(d.records)().iter().any(|(s, _)| *s == subject) {
            return Err(ServiceError::NotFound(format!(
                "no {} record for {subject}",
                d.config_id
            )));
        }
        let code = b64::encode(b64::random_bytes::<24>());
        let grant = Grant {
            issuer: name.into(),
            subject: subject.into(),
            exp: now + CODE_TTL,
        };
        self.store.put_object(
            "preauth",
            &code,
            &serde_json::to_string(&grant).map_err(bad)?,
            false,
        )?;
        Ok(json!({
            "credential_issuer": self.issuer_id(name),
            "credential_configuration_ids": [d.config_id],
            "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": code}},
        }))
    }

    /// Token endpoint: exchanges a pre-authorised code (single use) for an access token.
    pub fn token(
        &self,
        name: &str,
        grant_type: &str,
        code: &str,
        now: i64,
    ) -> Result<Value, OAuthError> {
        let err = |error, d: &str| OAuthError {
            error,
            description: d.into(),
        };
        if grant_type != PRE_AUTHORIZED_GRANT {
            return Err(err(
                "unsupported_grant_type",
                "only the pre-authorized code grant",
            ));
        }
        let g: Grant = self
            .store
            .take_object("preauth", code)
            .map_err(|_| err("server_error", "storage"))?
            .and_then(|b| serde_json::from_str(&b).ok())
            .ok_or_else(|| err("invalid_grant", "unknown or used pre-authorized code"))?;
        if g.issuer != name || now >= g.exp {
            return Err(err(
                "invalid_grant",
                "pre-authorized code expired or for another issuer",
            ));
        }
        let token = b64::encode(b64::random_bytes::<24>());
        let access = Grant {
            exp: now + CODE_TTL,
            ..g
        };
        self.store
            .put_object(
                "access",
                &token,
                &serde_json::to_string(&access).unwrap_or_default(),
                false,
            )
            .map_err(|_| err("server_error", "storage"))?;
        Ok(json!({"access_token": token, "token_type": "Bearer", "expires_in": CODE_TTL}))
    }

    /// Nonce endpoint: a fresh `c_nonce`. Nonces are stateless (an HMAC
    /// over issuer, expiry and randomness under a key kept in the store),
    /// so this anonymous endpoint writes nothing per request. A proof can
    /// be replayed only within its nonce's lifetime and only with a fresh
    /// access token, and every access token gives one credential.
    pub fn c_nonce(&self, name: &str, now: i64) -> Result<Value, ServiceError> {
        self.demo_issuer(name)?;
        let exp = now + CODE_TTL;
        let salt = b64::encode(b64::random_bytes::<12>());
        let tag = self.nonce_tag(name, exp, &salt)?;
        Ok(json!({"c_nonce": format!("{exp}.{salt}.{tag}")}))
    }

    /// The shared secret of the nonce MAC: created once in the store, so
    /// every server instance over that store accepts every other's nonces.
    fn nonce_key(&self) -> Result<ring::hmac::Key, ServiceError> {
        if let Some(k) = self.nonce_key.get() {
            return Ok(k.clone());
        }
        // Read first; create only when missing (create-only, so racing
        // instances agree on the first one written).
        let stored = match self.store.object("secret", "c_nonce")? {
            Some(s) => s,
            None => {
                let fresh = b64::encode(b64::random_bytes::<32>());
                match self.store.put_object("secret", "c_nonce", &fresh, false) {
                    Ok(()) | Err(StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
                self.store
                    .object("secret", "c_nonce")?
                    .ok_or_else(|| ServiceError::Storage("nonce key missing".into()))?
            }
        };
        let raw = b64::decode(&stored)
            .ok_or_else(|| ServiceError::Storage("nonce key unreadable".into()))?;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &raw);
        Ok(self.nonce_key.get_or_init(|| key).clone())
    }

    fn nonce_tag(&self, name: &str, exp: i64, salt: &str) -> Result<String, ServiceError> {
        let tag = ring::hmac::sign(
            &self.nonce_key()?,
            format!("c_nonce\n{name}\n{exp}\n{salt}").as_bytes(),
        );
        Ok(b64::encode(&tag.as_ref()[..16]))
    }

    /// Checks a `c_nonce` this server gave for `name` and that has not expired.
    fn check_c_nonce(&self, name: &str, nonce: &str, now: i64) -> Result<(), String> {
        let mut parts = nonce.splitn(3, '.');
        let (Some(exp), Some(salt), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("unknown c_nonce".into());
        };
        let exp: i64 = exp.parse().map_err(|_| "unknown c_nonce")?;
        let expected = self.nonce_tag(name, exp, salt).map_err(|e| e.to_string())?;
        if !satchel_core::constant_time_eq(expected.as_bytes(), tag.as_bytes()) {
            return Err("unknown c_nonce, or for another issuer".into());
        }
        if now >= exp {
            return Err("c_nonce expired".into());
        }
        Ok(())
    }

    /// Credential endpoint: consumes the access token (one credential per
    /// token), checks the proof JWT, issues the SD-JWT VC bound to its key.
    pub fn issue_credential(
        &self,
        name: &str,
        access_token: &str,
        body: &Value,
        now: i64,
    ) -> Result<Value, OAuthError> {
        let err = |error, d: String| OAuthError {
            error,
            description: d,
        };
        let d = self
            .demo_issuer(name)
            .map_err(|e| err("invalid_request", e.to_string()))?;
        let grant: Grant = self
            .store
            .take_object("access", access_token)
            .map_err(|_| err("server_error", "storage".into()))?
            .and_then(|b| serde_json::from_str(&b).ok())
            .filter(|g: &Grant| g.issuer == name && now < g.exp)
            .ok_or_else(|| err("invalid_token", "unknown or expired access token".into()))?;
        let config = body
            .get("credential_configuration_id")
            .and_then(Value::as_str);
        if config != Some(d.config_id) {
            return Err(err(
                "unknown_credential_configuration",
                format!("this issuer issues {}", d.config_id),
            ));
        }
        let proof = body
            .pointer("/proofs/jwt/0")
            .or_else(|| body.pointer("/proof/jwt"))
            .and_then(Value::as_str)
            .ok_or_else(|| err("invalid_proof", "a jwt proof is required".into()))?;
        let holder = self
            .check_proof(name, proof, now)
            .map_err(|m| err("invalid_proof", m))?;

        let (_, record) = (d.records)()
            .into_iter()
            .find(|(s, _)| *s == grant.subject)
            .ok_or_else(|| err("invalid_request", "no record".into()))?;
        let key = self
            .issuer_key(name)
            .map_err(|e| err("server_error", e.to_string()))?;
        let idx = self
            .next_status_index(name)
            .map_err(|e| err("server_error", e.to_string()))?;
        let mut claims: Map<String, Value> = record.as_object().cloned().unwrap_or_default();
        claims.insert("iss".into(), Value::from(self.issuer_id(name)));
        claims.insert("vct".into(), Value::from(self.vct(d)));
        claims.insert("iat".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(now + 5 * 365 * 86_400));
        claims.insert("cnf".into(), json!({"jwk": holder.to_value()}));
        claims.insert(
            "status".into(),
            StatusReference {
                idx,
                uri: self.issuer_status_uri(name),
            }
            .to_claim(),
        );
        let paths: Vec<ClaimPath> = d
            .disclosable
            .iter()
            .map(|c| ClaimPath::keys(&[c]))
            .collect();
        let credential = sd_jwt::issue(&claims, &paths, &IssueOptions::default(), &key)
            .map_err(|e| err("server_error", e.to_string()))?;
        Ok(json!({"credentials": [{"credential": credential}]}))
    }

    /// Verifies a proof JWT (OpenID4VCI Appendix F.1); returns the holder key.
    fn check_proof(&self, name: &str, proof: &str, now: i64) -> Result<Jwk, String> {
        let jwt = jws::decode(proof).map_err(|e| e.to_string())?;
        if !jwt.header.typ_is("openid4vci-proof+jwt") {
            return Err("proof typ must be openid4vci-proof+jwt".into());
        }
        let header: Value = serde_json::from_slice(
            &b64::decode(proof.split('.').next().unwrap_or_default()).unwrap_or_default(),
        )
        .unwrap_or_default();
        let key = Jwk::from_value(header.get("jwk").ok_or("proof without jwk header")?)
            .map_err(|e| e.to_string())?;
        jwt.verify(&key.verifying_key().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let p = jwt.payload_object().map_err(|e| e.to_string())?;
        if p.get("aud").and_then(Value::as_str) != Some(self.issuer_id(name).as_str()) {
            return Err("proof audience is not this issuer".into());
        }
        let iat = p
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or("proof without iat")?;
        if (now - iat).abs() > 300 {
            return Err("proof iat too far from now".into());
        }
        let nonce = p
            .get("nonce")
            .and_then(Value::as_str)
            .ok_or("proof without nonce")?;
        self.check_c_nonce(name, nonce, now)?;
        Ok(key)
    }

    fn issuer_status_uri(&self, name: &str) -> String {
        format!("{}/status", self.issuer_id(name))
    }

    fn next_status_index(&self, name: &str) -> Result<usize, ServiceError> {
        // A counter per issuer: claim the first free index with a single-use object.
        for idx in 0..STATUS_ENTRIES {
            match self
                .store
                .put_object(&format!("status_idx_{name}"), &idx.to_string(), "1", false)
            {
                Ok(()) => return Ok(idx),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Storage("issuer status list is full".into()))
    }

    /// Operator: revokes the credential at `idx` and republishes the list
    /// (compare-and-swap, so concurrent revocations are never lost).
    pub fn revoke(&self, name: &str, idx: usize, now: i64) -> Result<(), ServiceError> {
        self.demo_issuer(name)?;
        let key = self.issuer_key(name)?;
        let uri = self.issuer_status_uri(name);
        let vk = key.public_jwk().verifying_key().map_err(bad)?;
        for _ in 0..16 {
            let current = self.store.status_list(&format!("issuer/{name}"))?;
            let mut list = match &current {
                Some(t) => StatusList::from_token(t, &vk, &uri, now).map_err(bad)?,
                None => StatusList::new(1, STATUS_ENTRIES).map_err(bad)?,
            };
            list.set(idx, INVALID).map_err(bad)?;
            let token = list.to_token(&uri, now, Some(300), &key).map_err(bad)?;
            if self
                .store
                .swap_status_list(&format!("issuer/{name}"), current.as_deref(), &token)?
            {
                return Ok(());
            }
        }
        Err(ServiceError::Conflict(
            "too many concurrent revocations: retry".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::sqlite::SqliteStore;

    #[test]
    fn nonces_are_bound_to_issuer_and_time_and_cannot_be_forged() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("n.db")).unwrap();
        let mut service = Service::new(
            Arc::new(store),
            satchel_core::note::NoteSigner::generate("n/log").unwrap(),
            "http://x",
            SoftwareKey::generate_ed25519().unwrap(),
        )
        .unwrap();
        service.demo = true;
        let now = 1_800_000_000;
        let nonce = service.c_nonce("public-security", now).unwrap()["c_nonce"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            service.check_c_nonce("public-security", &nonce, now),
            Ok(())
        );
        assert!(service.check_c_nonce("transport", &nonce, now).is_err());
        assert!(service
            .check_c_nonce("public-security", &nonce, now + CODE_TTL)
            .is_err());
        let (exp, rest) = nonce.split_once('.').unwrap();
        let later = format!("{}.{rest}", exp.parse::<i64>().unwrap() + 3600);
        assert!(service
            .check_c_nonce("public-security", &later, now)
            .is_err());
        for junk in ["", "x", "1.2", "a.b.c", "99999999999999999999.a.b"] {
            assert!(service.check_c_nonce("public-security", junk, now).is_err());
        }
    }
}
