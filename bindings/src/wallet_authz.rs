//! The wallet's authorisation, consent, provenance and enterprise records.

use satchel_core as core;

/// How far the holder can trust who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RpTrust {
    /// Registered, with a registered key, for an allowed purpose.
    Trusted,
    /// Registered, but this purpose is not allowed to it.
    PurposeNotAllowed,
    /// Not registered: show a warning; approving needs `accept_untrusted`.
    Unknown,
}

/// A credential that can answer a query.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Candidate {
    /// Credential id.
    pub credential_id: String,
    /// Its type.
    pub vct: String,
    /// Asked-for claims it has (dotted).
    pub available: Vec<String>,
    /// Asked-for claims it lacks (dotted).
    pub missing: Vec<String>,
}

/// One credential query of a request, matched against the space.
#[derive(Debug, Clone, uniffi::Record)]
pub struct QueryMatch {
    /// Query id.
    pub query_id: String,
    /// Required claims (dotted).
    pub required: Vec<String>,
    /// Optional claims (dotted).
    pub optional: Vec<String>,
    /// Credentials that can answer it.
    pub candidates: Vec<Candidate>,
}

/// Everything the user needs to decide on a request.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RequestReview {
    /// Where the response goes (`direct_post`): pass it to `postResponse`.
    pub response_uri: String,
    /// Who asks (`client_id`).
    pub client_id: String,
    /// Registered name, if registered.
    pub rp_name: Option<String>,
    /// Trust verdict.
    pub trust: RpTrust,
    /// DPV purpose.
    pub purpose: String,
    /// DPV legal basis.
    pub legal_basis: String,
    /// Requested window.
    pub not_before: i64,
    /// Requested window.
    pub not_after: i64,
    /// Requested maximum uses.
    pub max_uses: u32,
    /// Retention in days.
    pub retention_days: u32,
    /// Onward transfer asked.
    pub onward_transfer: bool,
    /// PIPL separate consent: sensitive data.
    pub sensitive: bool,
    /// PIPL separate consent: third-party provision.
    pub third_party: bool,
    /// PIPL separate consent: cross-border transfer.
    pub cross_border: bool,
    /// Controller (data handler) name.
    pub controller_name: String,
    /// How to reach the controller (PIPL art. 17).
    pub controller_contact: String,
    /// Matches per credential query.
    pub matches: Vec<QueryMatch>,
}

/// What the user picked for one query.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Selection {
    /// Query id.
    pub query_id: String,
    /// Credential id.
    pub credential_id: String,
    /// Claims to disclose (dotted).
    pub claims: Vec<String>,
}

/// The user's decision on a request.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ApprovalChoice {
    /// One selection per credential query answered.
    pub selections: Vec<Selection>,
    /// Fewer uses than asked, if the user chose so.
    #[uniffi(default = None)]
    pub max_uses: Option<u32>,
    /// An earlier end than asked, if the user chose so.
    #[uniffi(default = None)]
    pub not_after: Option<i64>,
    /// The user saw the relying party is not (fully) trusted and goes on.
    #[uniffi(default = false)]
    pub accept_untrusted: bool,
}

/// The outcome of an approval.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Approved {
    /// JSON to post to the request's `response_uri`.
    pub response_json: String,
    /// Authorisation id.
    pub authorization_id: String,
    /// The signed consent record.
    pub consent_record: String,
}

/// The outcome of a withdrawal.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Withdrawal {
    /// Holder-signed withdrawal.
    pub revocation: String,
    /// Status list token to publish.
    pub status_list_token: String,
    /// Where it is published.
    pub status_uri: String,
}

/// An authorisation as the wallet keeps it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Authorization {
    /// Id.
    pub id: String,
    /// Relying party.
    pub client_id: String,
    /// Registered name.
    pub rp_name: Option<String>,
    /// DPV purpose.
    pub purpose: String,
    /// Active, withdrawn or expired.
    pub state: AuthorizationState,
    /// Window.
    pub not_before: i64,
    /// Window.
    pub not_after: i64,
    /// Maximum uses.
    pub max_uses: u32,
    /// Uses receipted so far.
    pub uses: u32,
}

/// Where an authorisation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AuthorizationState {
    /// Usable within its window and count.
    Active,
    /// Withdrawn by the holder.
    Withdrawn,
    /// Its window ended.
    Expired,
}

impl From<core::AuthorizationState> for AuthorizationState {
    fn from(s: core::AuthorizationState) -> Self {
        match s {
            core::AuthorizationState::Active => AuthorizationState::Active,
            core::AuthorizationState::Withdrawn => AuthorizationState::Withdrawn,
            core::AuthorizationState::Expired => AuthorizationState::Expired,
        }
    }
}

/// What happened in a provenance event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ProvenanceActivity {
    /// The issuer issued the credential.
    Issue,
    /// The credential entered the wallet.
    Import,
    /// A presentation was made from the credential.
    Present,
    /// A data-use authorisation was signed.
    Authorize,
    /// A request was refused.
    Refuse,
    /// The relying party used the data (receipted).
    Use,
    /// An enterprise delegated presenting a licence to an agent.
    Delegate,
    /// An authorisation (or delegation) was withdrawn.
    Withdraw,
    /// An authorisation's window ended.
    Expire,
    /// The credential was deleted.
    Delete,
}

impl From<core::provenance::Activity> for ProvenanceActivity {
    fn from(a: core::provenance::Activity) -> Self {
        use core::provenance::Activity as A;
        match a {
            A::Issue => Self::Issue,
            A::Import => Self::Import,
            A::Present => Self::Present,
            A::Authorize => Self::Authorize,
            A::Refuse => Self::Refuse,
            A::Use => Self::Use,
            A::Delegate => Self::Delegate,
            A::Withdraw => Self::Withdraw,
            A::Expire => Self::Expire,
            A::Delete => Self::Delete,
        }
    }
}

/// The part an agent plays in a provenance event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AgentRole {
    /// Credential issuer.
    Issuer,
    /// The citizen or company holding the credential.
    Holder,
    /// The wallet software.
    Wallet,
    /// The relying party.
    RelyingParty,
    /// A staff member acting for a company.
    Agent,
}

impl From<core::provenance::AgentRole> for AgentRole {
    fn from(r: core::provenance::AgentRole) -> Self {
        use core::provenance::AgentRole as R;
        match r {
            R::Issuer => Self::Issuer,
            R::Holder => Self::Holder,
            R::Wallet => Self::Wallet,
            R::RelyingParty => Self::RelyingParty,
            R::Agent => Self::Agent,
        }
    }
}

/// An agent taking part in a provenance event.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProvenanceAgent {
    /// Identifier (URL, URN).
    pub id: String,
    /// Its part.
    pub role: AgentRole,
    /// Display name, when known.
    pub name: Option<String>,
}

/// A provenance event.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProvenanceEvent {
    /// Event id.
    pub id: String,
    /// Unix seconds.
    pub time: i64,
    /// What happened.
    pub activity: ProvenanceActivity,
    /// Who took part.
    pub agents: Vec<ProvenanceAgent>,
    /// Short description.
    pub note: Option<String>,
}

impl From<core::provenance::ProvenanceEvent> for ProvenanceEvent {
    fn from(e: core::provenance::ProvenanceEvent) -> Self {
        ProvenanceEvent {
            activity: e.activity.into(),
            agents: e
                .agents
                .into_iter()
                .map(|a| ProvenanceAgent {
                    id: a.id,
                    role: a.role.into(),
                    name: a.name,
                })
                .collect(),
            id: e.id,
            time: e.time,
            note: e.note,
        }
    }
}

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MemberRole {
    /// 法定代表人.
    LegalRepresentative,
    /// Administrator.
    Administrator,
    /// 经办人: may present under a delegation.
    Agent,
}

impl From<MemberRole> for core::MemberRole {
    fn from(r: MemberRole) -> Self {
        match r {
            MemberRole::LegalRepresentative => core::MemberRole::LegalRepresentative,
            MemberRole::Administrator => core::MemberRole::Administrator,
            MemberRole::Agent => core::MemberRole::Agent,
        }
    }
}

impl From<core::MemberRole> for MemberRole {
    fn from(r: core::MemberRole) -> Self {
        match r {
            core::MemberRole::LegalRepresentative => MemberRole::LegalRepresentative,
            core::MemberRole::Administrator => MemberRole::Administrator,
            core::MemberRole::Agent => MemberRole::Agent,
        }
    }
}

/// A member of an enterprise space.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Member {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: MemberRole,
    /// Their key (JWK JSON).
    pub jwk: String,
}

/// What an agent may do.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DelegationScope {
    /// Licence types.
    pub credential_types: Vec<String>,
    /// DPV purposes.
    pub purposes: Vec<String>,
    /// Relying parties.
    pub audiences: Vec<String>,
    /// Window start.
    pub not_before: i64,
    /// Window end.
    pub not_after: i64,
}

/// An issued delegation.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Delegation {
    /// Id.
    pub id: String,
    /// The delegation credential to hand to the agent.
    pub token: String,
}
