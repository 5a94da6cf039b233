//! The wallet's authorisation, consent, provenance and enterprise calls.

use std::sync::Arc;

use satchel_core::{self as core, authz, delegation::DelegationScope as CoreScope};

use crate::{authz::TrustRegistry, records::claim_paths, SatchelError, Wallet};

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
    /// Controller name and contact.
    pub controller: String,
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
    /// `active`, `withdrawn` or `expired`.
    pub state: String,
    /// Window.
    pub not_before: i64,
    /// Window.
    pub not_after: i64,
    /// Maximum uses.
    pub max_uses: u32,
    /// Uses receipted so far.
    pub uses: u32,
}

/// A provenance event.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProvenanceEvent {
    /// Event id.
    pub id: String,
    /// Unix seconds.
    pub time: i64,
    /// `issue`, `import`, `present`, `authorize`, `use`, `withdraw`, …
    pub activity: String,
    /// Agents as `role:id`.
    pub agents: Vec<String>,
    /// Short description.
    pub note: Option<String>,
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

fn dotted(paths: &[core::sd_jwt::ClaimPath]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            p.0.iter()
                .map(|e| match e {
                    core::sd_jwt::PathElement::Key(k) => k.clone(),
                    core::sd_jwt::PathElement::Index(i) => i.to_string(),
                    core::sd_jwt::PathElement::AllElements => "*".into(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

fn lower<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[uniffi::export]
impl Wallet {
    /// Checks a request (signature, registry, expiry) and matches it
    /// against the space, for the consent screen.
    pub fn review_request(
        &self,
        space_id: String,
        request: String,
        registry: Arc<TrustRegistry>,
    ) -> Result<RequestReview, SatchelError> {
        let now = core::unix_now();
        let parsed = authz::parse_request(&request, &registry.inner, now)?;
        let matches = self.inner.match_request(&space_id, &parsed, now)?;
        let (trust, rp_name) = match parsed.trust {
            authz::RpTrust::Trusted { name } => (RpTrust::Trusted, Some(name)),
            authz::RpTrust::PurposeNotAllowed { name } => (RpTrust::PurposeNotAllowed, Some(name)),
            authz::RpTrust::Unknown => (RpTrust::Unknown, None),
        };
        let t = parsed.request.satchel;
        Ok(RequestReview {
            client_id: parsed.request.client_id,
            rp_name,
            trust,
            purpose: t.purpose,
            legal_basis: t.legal_basis,
            not_before: t.not_before,
            not_after: t.not_after,
            max_uses: t.max_uses,
            retention_days: t.retention_days,
            onward_transfer: t.onward_transfer,
            sensitive: t.pipl.sensitive,
            third_party: t.pipl.third_party,
            cross_border: t.pipl.cross_border,
            controller: format!("{} <{}>", t.controller.name, t.controller.contact),
            matches: matches
                .into_iter()
                .map(|m| QueryMatch {
                    query_id: m.query_id,
                    required: dotted(&m.required),
                    optional: dotted(&m.optional),
                    candidates: m
                        .candidates
                        .into_iter()
                        .map(|c| Candidate {
                            credential_id: c.credential_id,
                            vct: c.vct,
                            available: dotted(&c.available),
                            missing: dotted(&c.missing),
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    /// Approves a request: presentations, signed authorisation and consent
    /// record in one transaction. The choice may narrow uses and window;
    /// `accept_untrusted` is needed for a relying party the registry does
    /// not vouch for.
    pub fn approve(
        &self,
        space_id: String,
        request: String,
        registry: Arc<TrustRegistry>,
        choice: ApprovalChoice,
    ) -> Result<Approved, SatchelError> {
        let now = core::unix_now();
        let parsed = authz::parse_request(&request, &registry.inner, now)?;
        let ApprovalChoice {
            selections,
            max_uses,
            not_after,
            accept_untrusted,
        } = choice;
        let selections = selections
            .into_iter()
            .map(|s| {
                Ok(authz::Selection {
                    query_id: s.query_id,
                    credential_id: s.credential_id,
                    claims: claim_paths(&s.claims)?,
                })
            })
            .collect::<Result<Vec<_>, SatchelError>>()?;
        let approval = authz::Approval {
            selections,
            max_uses,
            not_after,
            accept_untrusted,
        };
        let a = self.inner.approve(&space_id, &parsed, &approval, now)?;
        Ok(Approved {
            response_json: serde_json::to_string(&a.response).unwrap_or_default(),
            authorization_id: a.authorization_id,
            consent_record: a.consent_record,
        })
    }

    /// Refuses a request; returns the signed refusal record.
    pub fn deny(
        &self,
        space_id: String,
        request: String,
        registry: Arc<TrustRegistry>,
    ) -> Result<String, SatchelError> {
        let now = core::unix_now();
        let parsed = authz::parse_request(&request, &registry.inner, now)?;
        Ok(self.inner.deny(&space_id, &parsed, now)?)
    }

    /// Withdraws an authorisation (one tap); publish the returned status list.
    pub fn withdraw(&self, authorization_id: String) -> Result<Withdrawal, SatchelError> {
        let w = self.inner.withdraw(&authorization_id, core::unix_now())?;
        Ok(Withdrawal {
            revocation: w.revocation,
            status_list_token: w.status_list_token,
            status_uri: w.status_uri,
        })
    }

    /// The authorisations granted from a space.
    pub fn authorizations(&self, space_id: String) -> Result<Vec<Authorization>, SatchelError> {
        Ok(self
            .inner
            .authorizations(&space_id)?
            .into_iter()
            .map(|a| Authorization {
                state: lower(&a.state),
                uses: a.uses.len() as u32,
                id: a.id,
                client_id: a.client_id,
                rp_name: a.rp_name,
                purpose: a.purpose,
                not_before: a.not_before,
                not_after: a.not_after,
                max_uses: a.max_uses,
            })
            .collect())
    }

    /// Keeps a relying party's signed use receipt; `false` if already kept.
    pub fn record_use_receipt(
        &self,
        authorization_id: String,
        receipt: String,
    ) -> Result<bool, SatchelError> {
        Ok(self.inner.record_use_receipt(&authorization_id, &receipt)?)
    }

    /// Verifies the space's consent log; returns the number of records.
    pub fn verify_consent_log(&self, space_id: String) -> Result<u32, SatchelError> {
        Ok(self.inner.verify_consent_log(&space_id)?.len() as u32)
    }

    /// The consent log as ISO/IEC TS 27560-profile JSON.
    pub fn export_consent_log(&self, space_id: String) -> Result<String, SatchelError> {
        Ok(self.inner.export_consent_log(&space_id)?.to_string())
    }

    /// Kantara Consent Receipts 1.1 (JSON) for the consents given.
    pub fn consent_receipts(&self, space_id: String) -> Result<Vec<String>, SatchelError> {
        Ok(self
            .inner
            .consent_receipts(&space_id)?
            .iter()
            .map(ToString::to_string)
            .collect())
    }

    /// "Where did my credential go?": its provenance events in order.
    pub fn trace(&self, credential_id: String) -> Result<Vec<ProvenanceEvent>, SatchelError> {
        Ok(self
            .inner
            .trace(&credential_id, None)?
            .into_iter()
            .map(|e| ProvenanceEvent {
                activity: lower(&e.activity),
                agents: e
                    .agents
                    .iter()
                    .map(|a| format!("{}:{}", lower(&a.role), a.id))
                    .collect(),
                id: e.id,
                time: e.time,
                note: e.note,
            })
            .collect())
    }

    /// The trace as W3C PROV-JSON.
    pub fn trace_prov_json(&self, credential_id: String) -> Result<String, SatchelError> {
        Ok(self
            .inner
            .trace_prov_json(&credential_id, None)?
            .to_string())
    }

    /// Adds a member to an enterprise space.
    pub fn add_member(
        &self,
        space_id: String,
        name: String,
        role: MemberRole,
        jwk: String,
    ) -> Result<Member, SatchelError> {
        let role_core = match role {
            MemberRole::LegalRepresentative => core::MemberRole::LegalRepresentative,
            MemberRole::Administrator => core::MemberRole::Administrator,
            MemberRole::Agent => core::MemberRole::Agent,
        };
        let m = self.inner.add_member(
            &space_id,
            &name,
            role_core,
            &core::Jwk::from_json(&jwk)?,
            core::unix_now(),
        )?;
        Ok(Member {
            id: m.id,
            name: m.name,
            role,
            jwk: m.key.to_value().to_string(),
        })
    }

    /// Delegates presenting licences to an agent member.
    pub fn delegate(
        &self,
        space_id: String,
        member_id: String,
        scope: DelegationScope,
    ) -> Result<Delegation, SatchelError> {
        let scope = CoreScope {
            credential_types: scope.credential_types,
            purposes: scope.purposes,
            audiences: scope.audiences,
            not_before: scope.not_before,
            not_after: scope.not_after,
        };
        let d = self
            .inner
            .delegate(&space_id, &member_id, &scope, core::unix_now())?;
        Ok(Delegation {
            id: d.id,
            token: d.token,
        })
    }

    /// Revokes a delegation; returns the status list token to publish.
    pub fn revoke_delegation(&self, delegation_id: String) -> Result<String, SatchelError> {
        Ok(self
            .inner
            .revoke_delegation(&delegation_id, core::unix_now())?)
    }

    /// Agent side: stores a company licence with its delegation.
    pub fn import_delegated_credential(
        &self,
        space_id: String,
        licence: String,
        delegation: String,
        licence_issuer_jwk: Option<String>,
    ) -> Result<crate::Credential, SatchelError> {
        let key = licence_issuer_jwk
            .as_deref()
            .map(core::Jwk::from_json)
            .transpose()?;
        Ok(self
            .inner
            .import_delegated_credential(
                &space_id,
                &licence,
                &delegation,
                key.as_ref(),
                core::unix_now(),
            )?
            .into())
    }

    /// Enterprise side: records an agent's action (the authorisation it
    /// signed under `delegation_id`) in the company's provenance.
    pub fn record_agent_action(
        &self,
        delegation_id: String,
        authorization: String,
    ) -> Result<(), SatchelError> {
        Ok(self
            .inner
            .record_agent_action(&delegation_id, &authorization, core::unix_now())?)
    }

    /// Where the space's status list is published.
    pub fn status_uri(&self, space_id: String) -> String {
        self.inner.status_uri(&space_id)
    }

    /// The space's status list token (for publishing).
    pub fn status_list_token(&self, space_id: String) -> Result<String, SatchelError> {
        Ok(self.inner.status_list_token(&space_id, core::unix_now())?)
    }
}
