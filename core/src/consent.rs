//! The consent log: an append-only list of signed consent records per
//! space. Each record carries the mandatory fields of ISO/IEC TS 27560 as
//! mapped by the W3C DPV guide, its DPV consent state and PIPL flags, and
//! the hash of the record before it, so a changed, dropped, inserted or
//! reordered record breaks the chain. Exports: a 27560-profile JSON document
//! and Kantara Consent Receipt 1.1 receipts.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{authz::PiplFlags, b64, jws, rfc3339, Signer, VerifyingKey};

/// The `typ` of a signed consent record.
pub const CONSENT_TYP: &str = "satchel-consent+jwt";
/// How a consent is withdrawn (PIPL art. 15: as easy as giving it).
pub const WITHDRAWAL_METHOD: &str = "One tap in the Satchel wallet (Wallet.withdraw); the withdrawal is published in the holder's status list";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentEvent {
    /// Consent given (an authorisation was signed).
    Given,
    /// A request was refused.
    Refused,
    /// Consent withdrawn.
    Withdrawn,
    /// The authorised window ended.
    Expired,
    /// An enterprise delegated presenting its licences to an agent.
    Delegated,
}

impl ConsentEvent {
    /// The DPV consent state after this event.
    pub fn dpv_state(self) -> &'static str {
        match self {
            ConsentEvent::Given | ConsentEvent::Delegated => "dpv:ConsentGiven",
            ConsentEvent::Refused => "dpv:ConsentRefused",
            ConsentEvent::Withdrawn => "dpv:ConsentWithdrawn",
            ConsentEvent::Expired => "dpv:ConsentExpired",
        }
    }
}

/// The party consent is given to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerRef {
    /// `client_id` (or agent id for delegations).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Contact.
    #[serde(default)]
    pub contact: String,
}

/// One consent record (payload of a `satchel-consent+jwt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// 27560 record identifier.
    pub record_id: String,
    /// Position in the space's log, from 1.
    pub seq: u64,
    /// base64url SHA-256 of the previous signed record; `None` for the first.
    pub prev: Option<String>,
    /// The PII principal, pseudonymous: `urn:satchel:holder:<thumbprint>`.
    pub principal: String,
    /// The controller.
    pub controller: ControllerRef,
    /// DPV purposes.
    pub purposes: Vec<String>,
    /// Personal data categories (claim paths and credential types).
    pub data_categories: Vec<String>,
    /// Recipients.
    pub recipients: Vec<String>,
    /// DPV legal basis.
    pub legal_basis: String,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// When, Unix seconds.
    pub event_time: i64,
    /// Consent valid from.
    pub not_before: Option<i64>,
    /// Consent valid until.
    pub not_after: Option<i64>,
    /// How to withdraw.
    pub withdrawal_method: String,
    /// What happened.
    pub event_type: ConsentEvent,
    /// The DPV consent state.
    pub state: String,
    /// The authorisation (or delegation) this is about.
    pub authorization_id: Option<String>,
    /// The request answered, if any.
    pub request_hash: Option<String>,
    /// PIPL separate-consent flags.
    pub pipl: PiplFlags,
    /// Onward transfer allowed.
    pub onward_transfer: bool,
    /// Retention in days.
    pub retention_days: Option<u32>,
    /// Maximum uses.
    pub max_uses: Option<u32>,
}

/// Why a consent log failed verification; `index` is 0-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentLogError {
    /// A record's signature or format is wrong (changed record).
    #[error("record {index} is not validly signed")]
    BadSignature {
        /// Position.
        index: usize,
    },
    /// A record is not where its sequence number says (dropped, inserted or reordered).
    #[error("record {index} has sequence number {found}, expected {expected}")]
    OutOfSequence {
        /// Position.
        index: usize,
        /// Expected `seq`.
        expected: u64,
        /// Found `seq`.
        found: u64,
    },
    /// A record does not chain to the one before it.
    #[error("record {index} does not chain to the record before it")]
    BrokenChain {
        /// Position.
        index: usize,
    },
}

impl ConsentRecord {
    /// A record of `event` at `now` by `principal` towards `controller`
    /// (also the recipient), legal basis consent, jurisdiction CN, with the
    /// withdrawal method set and everything else empty: fill in the rest
    /// with struct update syntax.
    pub fn new(
        principal: String,
        controller: ControllerRef,
        event: ConsentEvent,
        now: i64,
    ) -> Self {
        ConsentRecord {
            record_id: b64::new_id(),
            seq: 0,
            prev: None,
            principal,
            recipients: vec![controller.id.clone()],
            controller,
            purposes: Vec::new(),
            data_categories: Vec::new(),
            legal_basis: "Consent".into(),
            jurisdiction: "CN".into(),
            event_time: now,
            not_before: None,
            not_after: None,
            withdrawal_method: WITHDRAWAL_METHOD.into(),
            event_type: event,
            state: event.dpv_state().into(),
            authorization_id: None,
            request_hash: None,
            pipl: PiplFlags::default(),
            onward_transfer: false,
            retention_days: None,
            max_uses: None,
        }
    }

    /// Signs this record as entry `seq` after `prev_jws` (the previous signed record).
    pub fn sign(
        self,
        prev_jws: Option<&str>,
        seq: u64,
        signer: &dyn Signer,
    ) -> Result<(ConsentRecord, String), jws::JoseError> {
        self.sign_chained(prev_jws, seq, signer, &[])
    }

    /// [`ConsentRecord::sign`] by a device of the space: its certificate
    /// chain goes in the header (ADR 0008).
    pub fn sign_chained(
        mut self,
        prev_jws: Option<&str>,
        seq: u64,
        signer: &dyn Signer,
        chain: &[String],
    ) -> Result<(ConsentRecord, String), jws::JoseError> {
        self.seq = seq;
        self.prev = prev_jws.map(|p| b64::sha256_b64(p.as_bytes()));
        self.state = self.event_type.dpv_state().into();
        let payload = serde_json::to_value(&self).unwrap_or_default();
        let token = jws::sign(
            crate::device::header_for(CONSENT_TYP, chain),
            &payload,
            signer,
        )?;
        Ok((self, token))
    }

    /// The 27560 / DPV-guide rendering of this record.
    pub fn to_27560(&self) -> Value {
        json!({
            "recordID": self.record_id,
            "piiPrincipal": self.principal,
            "dataController": {"id": self.controller.id, "name": self.controller.name, "contact": self.controller.contact},
            "purpose": self.purposes.iter().map(|p| format!("dpv:{}", p.trim_start_matches("dpv:"))).collect::<Vec<_>>(),
            "personalDataCategory": self.data_categories,
            "recipient": self.recipients,
            "legalBasis": format!("dpv:{}", self.legal_basis.trim_start_matches("dpv:")),
            "jurisdiction": self.jurisdiction,
            "eventTime": rfc3339(self.event_time),
            "validity": {
                "notBefore": self.not_before.map(rfc3339),
                "notAfter": self.not_after.map(rfc3339),
            },
            "withdrawalMethod": self.withdrawal_method,
            "eventType": self.event_type,
            "consentState": self.state,
            "piplSeparateConsent": self.pipl,
            "onwardTransfer": self.onward_transfer,
            "retentionDays": self.retention_days,
            "maxUses": self.max_uses,
            "authorization": self.authorization_id,
            "sequence": self.seq,
            "previousRecordHash": self.prev,
        })
    }

    /// A Kantara Consent Receipt 1.1 for this record.
    pub fn to_kantara(&self, holder_key: &crate::Jwk) -> Value {
        json!({
            "version": "KI-CR-v1.1.0",
            "jurisdiction": self.jurisdiction,
            "consentTimestamp": self.event_time,
            "collectionMethod": "Satchel wallet: explicit approval of a signed request",
            "consentReceiptID": self.record_id,
            "publicKey": holder_key.to_value().to_string(),
            "language": "zh-CN",
            "piiPrincipalId": self.principal,
            "piiControllers": [{
                "piiController": self.controller.name,
                "contact": self.controller.contact,
                "address": "",
                "email": "",
                "phone": "",
                "piiControllerUrl": self.controller.id,
            }],
            "policyUrl": self.controller.id,
            "services": [{
                "service": self.controller.id,
                "purposes": self.purposes.iter().map(|p| json!({
                    "purpose": p,
                    "purposeCategory": [format!("dpv:{}", p.trim_start_matches("dpv:"))],
                    "consentType": "EXPLICIT",
                    "piiCategory": self.data_categories,
                    "primaryPurpose": true,
                    "termination": match self.not_after {
                        Some(t) => format!("{} or on withdrawal", rfc3339(t)),
                        None => "on withdrawal".into(),
                    },
                    "thirdPartyDisclosure": self.pipl.third_party || self.onward_transfer,
                })).collect::<Vec<_>>(),
            }],
            "sensitive": self.pipl.sensitive,
            "spiCat": if self.pipl.sensitive { self.data_categories.clone() } else { Vec::new() },
        })
    }
}

/// Verifies a whole log (signed records, oldest first) with the space key.
pub fn verify_log(
    records: &[String],
    key: &VerifyingKey,
) -> Result<Vec<ConsentRecord>, ConsentLogError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    verify_log_on(records, key, cores)
}

/// [`verify_log`] on at most `threads` threads. Each record's checks need
/// only itself and its predecessor's text, so a long log is verified in
/// order-preserving chunks; the first failing index is reported, as
/// sequentially.
pub fn verify_log_on(
    records: &[String],
    key: &VerifyingKey,
    threads: usize,
) -> Result<Vec<ConsentRecord>, ConsentLogError> {
    const PER_THREAD_MIN: usize = 64;
    let threads = threads.min(records.len() / PER_THREAD_MIN).max(1);
    if threads == 1 {
        return verify_range(records, 0..records.len(), key);
    }
    let chunk = records.len().div_ceil(threads);
    let parts: Vec<Result<Vec<ConsentRecord>, ConsentLogError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..records.len())
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(records.len());
                scope.spawn(move || verify_range(records, start..end, key))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or(Err(ConsentLogError::BadSignature { index: 0 }))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(records.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

fn verify_range(
    records: &[String],
    range: std::ops::Range<usize>,
    key: &VerifyingKey,
) -> Result<Vec<ConsentRecord>, ConsentLogError> {
    let mut out = Vec::with_capacity(range.len());
    for index in range {
        let token = &records[index];
        let jwt = jws::decode(token).map_err(|_| ConsentLogError::BadSignature { index })?;
        if !jwt.header.typ_is(CONSENT_TYP) || jwt.verify(key).is_err() {
            return Err(ConsentLogError::BadSignature { index });
        }
        let record: ConsentRecord = jwt
            .payload_as()
            .map_err(|_| ConsentLogError::BadSignature { index })?;
        let expected = index as u64 + 1;
        if record.seq != expected {
            return Err(ConsentLogError::OutOfSequence {
                index,
                expected,
                found: record.seq,
            });
        }
        let prev = index
            .checked_sub(1)
            .map(|i| b64::sha256_b64(records[i].as_bytes()));
        if record.prev != prev {
            return Err(ConsentLogError::BrokenChain { index });
        }
        out.push(record);
    }
    Ok(out)
}

/// The whole log as a 27560-profile JSON document.
pub fn export_27560(records: &[ConsentRecord], signed: &[String]) -> Value {
    json!({
        "profile": "ISO/IEC TS 27560 (W3C DPV mapping)",
        "@context": {"dpv": "https://w3id.org/dpv#"},
        "records": records.iter().zip(signed).map(|(r, s)| {
            let mut v = r.to_27560();
            v["signedRecord"] = Value::from(s.as_str());
            v
        }).collect::<Vec<_>>(),
    })
}
