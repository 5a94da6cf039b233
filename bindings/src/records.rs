//! Plain records crossing the FFI, converted from core types.

use satchel_core::{
    self as core,
    sd_jwt::{ClaimPath, VerifiedSdJwt},
};

use crate::SatchelError;

/// Parses dotted claim paths (`address.street`, `nationalities.0`, `nationalities.*`).
pub(crate) fn claim_paths(dotted: &[String]) -> Result<Vec<ClaimPath>, SatchelError> {
    ClaimPath::parse_dotted_list(dotted)
        .map_err(|_| crate::error::invalid("a claim path is empty or has an empty segment"))
}

/// Renders claim paths in their dotted form.
pub(crate) fn dotted(paths: &[ClaimPath]) -> Vec<String> {
    paths.iter().map(ClaimPath::to_dotted).collect()
}

/// Whose space it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SpaceKind {
    /// A citizen's personal space.
    Personal,
    /// A company's space.
    Enterprise,
}

impl From<SpaceKind> for core::SpaceKind {
    fn from(k: SpaceKind) -> Self {
        match k {
            SpaceKind::Personal => core::SpaceKind::Personal,
            SpaceKind::Enterprise => core::SpaceKind::Enterprise,
        }
    }
}

impl From<core::SpaceKind> for SpaceKind {
    fn from(k: core::SpaceKind) -> Self {
        match k {
            core::SpaceKind::Personal => SpaceKind::Personal,
            core::SpaceKind::Enterprise => SpaceKind::Enterprise,
        }
    }
}

/// A digital space.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Space {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Personal or enterprise.
    pub kind: SpaceKind,
    /// The holder public key as JWK JSON (issuers bind credentials to it).
    pub holder_jwk: String,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}

impl From<core::Space> for Space {
    fn from(s: core::Space) -> Self {
        Space {
            id: s.id,
            name: s.name,
            kind: s.kind.into(),
            holder_jwk: s.holder_key.to_value().to_string(),
            created_at: s.created_at,
        }
    }
}

/// Where a credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CredentialStatus {
    /// Usable.
    Valid,
    /// Past its expiry.
    Expired,
    /// Before its start.
    NotYetValid,
    /// Revoked by its issuer.
    Revoked,
}

impl From<core::CredentialStatus> for CredentialStatus {
    fn from(s: core::CredentialStatus) -> Self {
        match s {
            core::CredentialStatus::Valid => CredentialStatus::Valid,
            core::CredentialStatus::Expired => CredentialStatus::Expired,
            core::CredentialStatus::NotYetValid => CredentialStatus::NotYetValid,
            core::CredentialStatus::Revoked => CredentialStatus::Revoked,
        }
    }
}

impl From<CredentialStatus> for core::CredentialStatus {
    fn from(s: CredentialStatus) -> Self {
        match s {
            CredentialStatus::Valid => core::CredentialStatus::Valid,
            CredentialStatus::Expired => core::CredentialStatus::Expired,
            CredentialStatus::NotYetValid => core::CredentialStatus::NotYetValid,
            CredentialStatus::Revoked => core::CredentialStatus::Revoked,
        }
    }
}

/// A stored credential (an SD-JWT VC).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Credential {
    /// Id.
    pub id: String,
    /// The space holding it.
    pub space_id: String,
    /// Credential type (`vct`).
    pub vct: String,
    /// Issuer (`iss`).
    pub issuer: Option<String>,
    /// Issued at, Unix seconds.
    pub issued_at: Option<i64>,
    /// Expires at, Unix seconds.
    pub expires_at: Option<i64>,
    /// The user's label.
    pub label: Option<String>,
    /// Status now.
    pub status: CredentialStatus,
    /// All claims as a JSON object.
    pub claims_json: String,
}

impl Credential {
    pub(crate) fn from_core(c: core::Credential, now: i64) -> Self {
        Credential {
            status: c.status(now).into(),
            id: c.id,
            space_id: c.space_id,
            vct: c.vct,
            issuer: c.issuer,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            label: c.label,
            claims_json: serde_json::Value::Object(c.claims).to_string(),
        }
    }
}

impl From<core::Credential> for Credential {
    fn from(c: core::Credential) -> Self {
        Credential::from_core(c, core::unix_now())
    }
}

/// Which credentials to list; `null`/`nil` fields match everything.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct CredentialFilter {
    /// Only this type.
    #[uniffi(default = None)]
    pub vct: Option<String>,
    /// Only this issuer.
    #[uniffi(default = None)]
    pub issuer: Option<String>,
    /// Only this status.
    #[uniffi(default = None)]
    pub status: Option<CredentialStatus>,
    /// Only those expiring before this time (Unix seconds).
    #[uniffi(default = None)]
    pub expires_before: Option<i64>,
}

impl CredentialFilter {
    pub(crate) fn into_core(self, now: i64) -> core::CredentialFilter {
        core::CredentialFilter {
            vct: self.vct,
            issuer: self.issuer,
            status: self.status.map(Into::into),
            expires_before: self.expires_before,
            now,
        }
    }
}

/// What a verifier learns from a valid presentation.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerifiedPresentation {
    /// The disclosed claims (and the always-visible ones) as a JSON object.
    pub claims_json: String,
    /// Whether a key-binding JWT was checked.
    pub key_bound: bool,
    /// The holder key (`cnf.jwk`) as JWK JSON, if any.
    pub holder_jwk: Option<String>,
}

impl From<VerifiedSdJwt> for VerifiedPresentation {
    fn from(v: VerifiedSdJwt) -> Self {
        VerifiedPresentation {
            claims_json: serde_json::Value::Object(v.claims).to_string(),
            key_bound: v.key_bound,
            holder_jwk: v.holder_key.map(|k| k.to_value().to_string()),
        }
    }
}

/// What importing one credential of a batch gave: the credential, or why
/// it was refused.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportOutcome {
    /// The stored credential, if it verified.
    pub credential: Option<Credential>,
    /// Why it was refused, in words, if it did not.
    pub error: Option<String>,
}
