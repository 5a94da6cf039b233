//! What the wallet stores: spaces and credentials. Each is serialised to
//! JSON and sealed; nothing here is ever written in plaintext.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Jwk;

/// Whose space it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceKind {
    /// A citizen's personal digital space.
    Personal,
    /// A company's (legal person's) digital space.
    Enterprise,
}

/// A digital space: a set of credentials under one holder key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Space {
    /// Random id.
    pub id: String,
    /// A name the user chose.
    pub name: String,
    /// Personal or enterprise.
    pub kind: SpaceKind,
    /// Key store alias of the holder key: the space key, on the device that
    /// made the space; empty on the space's other devices, which never hold
    /// it (ADR 0008).
    pub holder_key_alias: String,
    /// The space key, public (credentials issued to the space's first
    /// device are bound to it through `cnf.jwk`; it is the root of every
    /// device certificate).
    pub holder_key: Jwk,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
    /// On a device enrolled later: this device's identity in the space.
    #[serde(default)]
    pub device: Option<SpaceDevice>,
}

/// How a device that does not hold the space key signs for the space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceDevice {
    /// The device id (also the name of its consent chain).
    pub device_id: String,
    /// Key store alias of the device key.
    pub key_alias: String,
    /// The device key, public.
    pub key: Jwk,
    /// Its certificate chain, leaf first, ending at the space key.
    pub chain: Vec<String>,
}

impl Space {
    /// Whether this device holds the space key.
    pub fn holds_space_key(&self) -> bool {
        self.device.is_none()
    }

    /// The key this device signs with for the space.
    pub fn signing_key(&self) -> &Jwk {
        self.device.as_ref().map_or(&self.holder_key, |d| &d.key)
    }

    /// The certificate chain to put beside this device's signatures
    /// (empty when it signs with the space key).
    pub fn chain(&self) -> &[String] {
        self.device.as_ref().map_or(&[], |d| d.chain.as_slice())
    }

    /// The consent chain this device appends to: `""` for the space key's.
    pub fn consent_chain(&self) -> &str {
        self.device.as_ref().map_or("", |d| d.device_id.as_str())
    }
}

/// Where a credential stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Within its validity window and not revoked.
    Valid,
    /// Past `exp`.
    Expired,
    /// Before `nbf`.
    NotYetValid,
    /// Revoked by its issuer.
    Revoked,
}

/// A stored SD-JWT VC. Its `Debug` output leaves out claims and token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// Random id.
    pub id: String,
    /// The space holding it.
    pub space_id: String,
    /// The credential type (`vct`).
    pub vct: String,
    /// The issuer (`iss`), if stated.
    pub issuer: Option<String>,
    /// The issuer key that verified it.
    pub issuer_key: Jwk,
    /// `iat`, if stated.
    pub issued_at: Option<i64>,
    /// `nbf`, if stated.
    pub valid_from: Option<i64>,
    /// `exp`, if stated.
    pub expires_at: Option<i64>,
    /// When it entered this wallet.
    pub imported_at: i64,
    /// A label the user chose.
    pub label: Option<String>,
    /// Revoked by its issuer (as last seen).
    pub revoked: bool,
    /// All claims, every disclosure resolved.
    pub claims: Map<String, Value>,
    /// The SD-JWT as issued (issuer JWT and all disclosures).
    pub token: String,
    /// For a licence held by an agent: the delegation credential that lets
    /// this space's key present it.
    #[serde(default)]
    pub delegation: Option<String>,
    /// The delegation's verified claims (scope, delegator), if any.
    #[serde(default)]
    pub delegation_claims: Option<Map<String, Value>>,
    /// When the label was last set (hybrid logical clock): the later label
    /// wins when devices merge.
    #[serde(default)]
    pub label_clock: Option<crate::wallet::sync::Hlc>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Claims are personal data: logs and panics must not carry them.
        f.debug_struct("Credential")
            .field("id", &self.id)
            .field("space_id", &self.space_id)
            .field("vct", &self.vct)
            .field("issuer", &self.issuer)
            .field("expires_at", &self.expires_at)
            .field("claims", &format_args!("<{} claims>", self.claims.len()))
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// The key the credential is bound to (`cnf.jwk`), if any.
    pub fn bound_key(&self) -> Option<Jwk> {
        self.claims
            .get("cnf")
            .and_then(|c| c.get("jwk"))
            .and_then(|j| Jwk::from_value(j).ok())
    }

    /// The status at `now` (seconds since the Unix epoch).
    pub fn status(&self, now: i64) -> CredentialStatus {
        if self.revoked {
            CredentialStatus::Revoked
        } else if self.expires_at.is_some_and(|e| now >= e) {
            CredentialStatus::Expired
        } else if self.valid_from.is_some_and(|n| now < n) {
            CredentialStatus::NotYetValid
        } else {
            CredentialStatus::Valid
        }
    }
}

/// Which credentials to list. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialFilter {
    /// Only this `vct`.
    pub vct: Option<String>,
    /// Only from this issuer.
    pub issuer: Option<String>,
    /// Only with this status at `now`.
    pub status: Option<CredentialStatus>,
    /// Only those expiring before this time.
    pub expires_before: Option<i64>,
    /// The time status is judged at; 0 means the system clock.
    pub now: i64,
}

impl CredentialFilter {
    pub(crate) fn matches(&self, c: &Credential, now: i64) -> bool {
        self.vct.as_ref().is_none_or(|v| *v == c.vct)
            && self
                .issuer
                .as_ref()
                .is_none_or(|i| c.issuer.as_ref() == Some(i))
            && self.status.is_none_or(|s| c.status(now) == s)
            && self
                .expires_before
                .is_none_or(|t| c.expires_at.is_some_and(|e| e < t))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TrustedIssuer {
    pub issuer: String,
    pub key: Jwk,
}

/// Where an authorisation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationState {
    /// Usable within its window and count.
    Active,
    /// Withdrawn by the holder.
    Withdrawn,
    /// Its window ended.
    Expired,
}

impl AuthorizationState {
    /// The stable name (as serialised): for logs, exports and display keys.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationState::Active => "active",
            AuthorizationState::Withdrawn => "withdrawn",
            AuthorizationState::Expired => "expired",
        }
    }
}

/// A use the relying party receipted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseRecord {
    /// 1 for the first use.
    pub seq: u32,
    /// When.
    pub time: i64,
    /// The relying party's signed receipt.
    pub receipt: String,
}

/// An authorisation the holder granted, as the wallet keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAuthorization {
    /// Id (`jti`).
    pub id: String,
    /// Space.
    pub space_id: String,
    /// Relying party.
    pub client_id: String,
    /// Registered name of the relying party, if it was registered.
    pub rp_name: Option<String>,
    /// Key that signed the request (and signs use receipts).
    pub rp_key: Jwk,
    /// DPV purpose.
    pub purpose: String,
    /// What was granted.
    pub grants: Vec<crate::authz::Grant>,
    /// Credentials presented.
    pub credential_ids: Vec<String>,
    /// Window.
    pub not_before: i64,
    /// Window.
    pub not_after: i64,
    /// Maximum uses.
    pub max_uses: u32,
    /// Index in the space's status list.
    pub status_idx: usize,
    /// State.
    pub state: AuthorizationState,
    /// The signed authorisation.
    pub jws: String,
    /// Receipted uses.
    pub uses: Vec<UseRecord>,
    /// Signed at.
    pub created_at: i64,
}

/// A member's role in an enterprise space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Legal representative (法定代表人).
    LegalRepresentative,
    /// Administrator.
    Administrator,
    /// Agent (经办人): may present licences under a delegation.
    Agent,
}

impl MemberRole {
    /// The stable name (as serialised): for logs, exports and display keys.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::LegalRepresentative => "legal_representative",
            MemberRole::Administrator => "administrator",
            MemberRole::Agent => "agent",
        }
    }
}

/// A member of an enterprise space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Id.
    pub id: String,
    /// Space.
    pub space_id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: MemberRole,
    /// The member's own key (their wallet's space key).
    pub key: Jwk,
    /// Added at.
    pub added_at: i64,
}

/// A delegation an enterprise issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDelegation {
    /// Id.
    pub id: String,
    /// Enterprise space.
    pub space_id: String,
    /// The agent.
    pub member_id: String,
    /// What the agent may do.
    pub scope: crate::delegation::DelegationScope,
    /// Index in the space's status list.
    pub status_idx: usize,
    /// Revoked.
    pub revoked: bool,
    /// The delegation credential (SD-JWT VC).
    pub token: String,
}
