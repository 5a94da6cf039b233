//! Data-use authorisations: the relying party's signed request (OpenID4VP
//! 1.0 request object with a DCQL query and Satchel's terms), the holder's
//! signed grant, the relying party's verification, metering of uses and the
//! holder's withdrawal.
//!
//! ```text
//! RP: AuthorizationRequest::sign ──► holder: parse_request (registry check)
//!     ──► Wallet::match_request / approve ──► AuthorizationResponse
//! RP: verify_response ──► UsageLedger::register / record_use
//! holder: Wallet::withdraw ──► status list update ──► RP's next use refused
//! ```

mod dcql;
pub mod exchange;
mod grant;
mod meter;
mod party;
mod request;
mod verify;

pub use dcql::{Candidate, ClaimQuery, CredentialQuery, DcqlQuery, QueryMatch};
pub(crate) use grant::sign_withdrawal;
pub use grant::{Approval, Authorization, AuthorizationResponse, Grant, Selection, Withdrawal};
pub use meter::{UsageLedger, UseReceipt};
pub use party::{RelyingParty, DEFAULT_JURISDICTION, DEFAULT_REQUEST_TTL, DEFAULT_RETENTION_DAYS};
pub use request::{parse_request, AuthorizationRequest, ParsedRequest, RpTrust};
pub(crate) use verify::disclosed_within_grants;
pub use verify::{verify_response, StatusCache, StatusSource, VerifiedAuthorization};

use serde::{Deserialize, Serialize};

use crate::{jws::JoseError, sd_jwt::SdJwtError, status_list::StatusListError, JwkError};

/// `typ` of an authorisation request object (RFC 9101 / OpenID4VP).
pub const REQUEST_TYP: &str = "oauth-authz-req+jwt";
/// `typ` of a holder-signed data-use authorisation.
pub const AUTHORIZATION_TYP: &str = "satchel-authz+jwt";
/// `typ` of a holder-signed withdrawal.
pub const WITHDRAWAL_TYP: &str = "satchel-withdrawal+jwt";
/// `typ` of a relying party's signed use receipt.
pub const USE_TYP: &str = "satchel-use+jwt";

/// DPV purposes Satchel accepts (`dpv:` prefix optional).
pub const DPV_PURPOSES: &[&str] = &[
    "IdentityVerification",
    "ServiceProvision",
    "FraudPreventionAndDetection",
    "LegalCompliance",
    "AccountManagement",
    "CustomerCare",
    "CreditChecking",
    "EnforceSecurity",
    "ServiceRegistration",
    "Personalisation",
    "Marketing",
    "ResearchAndDevelopment",
    "PublicBenefit",
    "HumanResourceManagement",
];

/// DPV legal bases Satchel accepts (PIPL art. 13 maps onto these).
pub const DPV_LEGAL_BASES: &[&str] = &[
    "Consent",
    "Contract",
    "LegalObligation",
    "VitalInterest",
    "PublicTask",
    "LegitimateInterest",
];

/// Normalises a DPV term: strips `dpv:`, checks it is one of `known`.
pub fn dpv_term(term: &str, known: &[&str]) -> Option<String> {
    let t = term.strip_prefix("dpv:").unwrap_or(term);
    known.contains(&t).then(|| t.to_owned())
}

/// Claim names that carry sensitive personal information (PIPL art. 28:
/// identity numbers, biometrics, health, financial accounts, whereabouts,
/// and what identifies a person's birth and home). A wallet asks a separate
/// consent for each such field (art. 29).
pub const SENSITIVE_CLAIMS: &[&str] = &[
    "id_number",
    "birthdate",
    "address",
    "biometrics",
    "health",
    "bank_account",
    "location",
];

/// Whether the claim at a dotted `path` is sensitive personal information
/// (its last segment is one of [`SENSITIVE_CLAIMS`]).
pub fn is_sensitive_claim(path: &str) -> bool {
    SENSITIVE_CLAIMS.contains(&path.rsplit('.').next().unwrap_or(path))
}

/// PIPL separate-consent flags (art. 23, 29, 39).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiplFlags {
    /// Sensitive personal information (art. 28–29), e.g. ID numbers.
    #[serde(default)]
    pub sensitive: bool,
    /// Provision to a third party (art. 23).
    #[serde(default)]
    pub third_party: bool,
    /// Cross-border transfer (art. 39).
    #[serde(default)]
    pub cross_border: bool,
}

/// The data controller as named in a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    /// Display name.
    pub name: String,
    /// How to reach it (PIPL art. 17).
    #[serde(default)]
    pub contact: String,
}

/// Satchel's terms carried in a request (claim `satchel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// DPV purpose term.
    pub purpose: String,
    /// DPV legal basis.
    pub legal_basis: String,
    /// Requested start of validity, Unix seconds.
    pub not_before: i64,
    /// Requested end of validity, Unix seconds.
    pub not_after: i64,
    /// Maximum number of uses.
    pub max_uses: u32,
    /// How long the relying party keeps the data, in days.
    pub retention_days: u32,
    /// Whether onward transfer is asked.
    #[serde(default)]
    pub onward_transfer: bool,
    /// PIPL separate-consent flags.
    #[serde(default)]
    pub pipl: PiplFlags,
    /// The controller.
    pub controller: Controller,
    /// Jurisdiction, e.g. `CN`.
    #[serde(default = "default_jurisdiction")]
    pub jurisdiction: String,
}

fn default_jurisdiction() -> String {
    DEFAULT_JURISDICTION.into()
}

/// Why an authorisation step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthzError {
    /// Malformed input (JSON, fields, DCQL).
    #[error("malformed: {0}")]
    Malformed(String),
    /// A signature or JOSE check failed.
    #[error("signature rejected: {0}")]
    Jose(#[from] JoseError),
    /// A key was unusable.
    #[error("key rejected: {0}")]
    Key(#[from] JwkError),
    /// A presentation was refused.
    #[error("presentation rejected: {0}")]
    Presentation(#[from] SdJwtError),
    /// A status list was refused.
    #[error("status list: {0}")]
    StatusList(#[from] StatusListError),
    /// The `typ` is not the one this object needs.
    #[error("wrong typ, expected {0}")]
    WrongTyp(&'static str),
    /// An unknown DPV purpose or legal basis.
    #[error("unknown DPV term {0}")]
    UnknownTerm(String),
    /// The relying party is registered but the request is signed by another key.
    #[error("request is not signed by a key registered for {0}")]
    UntrustedKey(String),
    /// The relying party is not registered (or not allowed this purpose) and
    /// the user did not accept that.
    #[error("relying party is not trusted for this request")]
    UntrustedRelyingParty,
    /// The request object has expired.
    #[error("request expired")]
    RequestExpired,
    /// The holder tried to grant something that was not asked for.
    #[error("not requested: {0}")]
    NotRequested(String),
    /// A presented claim was not granted.
    #[error("claim {0} was disclosed but not granted")]
    NotGranted(String),
    /// Response and authorisation do not belong together or to this request.
    #[error("mismatch: {0}")]
    Mismatch(&'static str),
    /// Before `nbf` or after `exp` of the authorisation.
    #[error("outside the authorised window")]
    OutsideWindow,
    /// The authorisation has been withdrawn.
    #[error("authorisation withdrawn")]
    Withdrawn,
    /// The issuer has revoked (or suspended) the presented credential.
    #[error("the credential has been revoked by its issuer")]
    CredentialRevoked,
    /// Every authorised use has been made.
    #[error("all {0} authorised uses have been made")]
    UsesExhausted(u32),
    /// A use for a purpose other than the authorised one.
    #[error("use for another purpose than authorised")]
    PurposeMismatch,
    /// No such authorisation.
    #[error("unknown authorisation {0}")]
    UnknownAuthorization(String),
    /// A delegation does not cover this presentation.
    #[error("delegation does not cover this: {0}")]
    DelegationScope(&'static str),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(String),
}

impl From<rusqlite::Error> for AuthzError {
    fn from(e: rusqlite::Error) -> Self {
        AuthzError::Storage(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::is_sensitive_claim;

    #[test]
    fn sensitive_claims_by_their_last_segment() {
        assert!(is_sensitive_claim("id_number"));
        assert!(is_sensitive_claim("holder.address"));
        assert!(!is_sensitive_claim("name"));
        assert!(!is_sensitive_claim("address.country_code"));
        assert!(!is_sensitive_claim(""));
    }
}
