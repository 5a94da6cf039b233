//! The wallet's authorisation, consent, provenance and enterprise calls.

use std::sync::Arc;

use satchel_core::{self as core, authz, delegation::DelegationScope as CoreScope};

use crate::{
    records::{claim_paths, dotted},
    relying::TrustRegistry,
    wallet_authz::*,
    Credential, SatchelError, Wallet,
};

fn member(m: core::Member) -> Member {
    Member {
        id: m.id,
        name: m.name,
        role: m.role.into(),
        jwk: m.key.to_value().to_string(),
    }
}

fn review(parsed: authz::ParsedRequest, matches: Vec<authz::QueryMatch>) -> RequestReview {
    let (trust, rp_name) = match parsed.trust {
        authz::RpTrust::Trusted { name } => (RpTrust::Trusted, Some(name)),
        authz::RpTrust::PurposeNotAllowed { name } => (RpTrust::PurposeNotAllowed, Some(name)),
        authz::RpTrust::Unknown => (RpTrust::Unknown, None),
    };
    let t = parsed.request.satchel;
    RequestReview {
        response_uri: parsed.request.response_uri,
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
        controller_name: t.controller.name,
        controller_contact: t.controller.contact,
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
    }
}

fn approval(choice: ApprovalChoice) -> Result<authz::Approval, SatchelError> {
    let selections = choice
        .selections
        .into_iter()
        .map(|s| {
            Ok(authz::Selection {
                query_id: s.query_id,
                credential_id: s.credential_id,
                claims: claim_paths(&s.claims)?,
            })
        })
        .collect::<Result<Vec<_>, SatchelError>>()?;
    Ok(authz::Approval {
        selections,
        max_uses: choice.max_uses,
        not_after: choice.not_after,
        accept_untrusted: choice.accept_untrusted,
    })
}

fn authorization(a: core::StoredAuthorization) -> Authorization {
    Authorization {
        state: a.state.into(),
        uses: a.uses.len() as u32,
        id: a.id,
        client_id: a.client_id,
        rp_name: a.rp_name,
        purpose: a.purpose,
        not_before: a.not_before,
        not_after: a.not_after,
        max_uses: a.max_uses,
    }
}

#[uniffi::export]
impl Wallet {
    /// Checks a request (signature, registry, expiry) and matches it
    /// against the space, for the consent screen.
    pub async fn review_request(
        &self,
        space_id: String,
        request: String,
        registry: Arc<TrustRegistry>,
    ) -> Result<RequestReview, SatchelError> {
        self.with(move |w| {
            let now = core::unix_now();
            let parsed = authz::parse_request(&request, &registry.inner, now)?;
            let matches = w.match_request(&space_id, &parsed, now)?;
            Ok(review(parsed, matches))
        })
        .await
    }

    /// Approves a request: presentations, signed authorisation and consent
    /// record in one transaction. The choice may narrow uses and window;
    /// `accept_untrusted` is needed for a relying party the registry does
    /// not vouch for. Cancelling the call before it commits leaves no trace.
    pub async fn approve(
        &self,
        space_id: String,
        request: String,
        registry: Arc<TrustRegistry>,
        choice: ApprovalChoice,
    ) -> Result<Approved, SatchelError> {
        let approval = approval(choice)?;
        self.with(move |w| {
            let now = core::unix_now();
            let parsed = authz::parse_request(&request, &registry.inner, now)?;
            let a = w.approve(&space_id, &parsed, &approval, now)?;
            Ok(Approved {
                response_json: a.response.to_json(),
                authorization_id: a.authorization_id,
                consent_record: a.consent_record,
            })
        })
        .await
    }

    /// Refuses a request; returns the signed refusal record.
    pub async fn deny(
        &self,
        space_id: String,
        request: String,
        registry: Arc<TrustRegistry>,
    ) -> Result<String, SatchelError> {
        self.with(move |w| {
            let now = core::unix_now();
            let parsed = authz::parse_request(&request, &registry.inner, now)?;
            Ok(w.deny(&space_id, &parsed, now)?)
        })
        .await
    }

    /// Withdraws an authorisation (one tap); publish the returned status list.
    pub async fn withdraw(&self, authorization_id: String) -> Result<Withdrawal, SatchelError> {
        self.with(move |w| {
            let r = w.withdraw(&authorization_id, core::unix_now())?;
            Ok(Withdrawal {
                revocation: r.revocation,
                status_list_token: r.status_list_token,
                status_uri: r.status_uri,
            })
        })
        .await
    }

    /// The authorisations granted from a space.
    pub async fn authorizations(
        &self,
        space_id: String,
    ) -> Result<Vec<Authorization>, SatchelError> {
        self.with(move |w| {
            Ok(w.authorizations(&space_id)?
                .into_iter()
                .map(authorization)
                .collect())
        })
        .await
    }

    /// Marks authorisations whose window has ended as expired; returns their ids.
    pub async fn expire_authorizations(
        &self,
        space_id: String,
    ) -> Result<Vec<String>, SatchelError> {
        self.with(move |w| Ok(w.expire_authorizations(&space_id, core::unix_now())?))
            .await
    }

    /// Keeps a relying party's signed use receipt; `false` if already kept.
    pub async fn record_use_receipt(
        &self,
        authorization_id: String,
        receipt: String,
    ) -> Result<bool, SatchelError> {
        self.with(move |w| Ok(w.record_use_receipt(&authorization_id, &receipt)?))
            .await
    }

    /// Verifies the space's consent log; returns the number of records.
    pub async fn verify_consent_log(&self, space_id: String) -> Result<u32, SatchelError> {
        self.with(move |w| Ok(w.verify_consent_log(&space_id)?.len() as u32))
            .await
    }

    /// The consent log as ISO/IEC TS 27560-profile JSON.
    pub async fn export_consent_log(&self, space_id: String) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.export_consent_log(&space_id)?.to_string()))
            .await
    }

    /// Kantara Consent Receipts 1.1 (JSON) for the consents given.
    pub async fn consent_receipts(&self, space_id: String) -> Result<Vec<String>, SatchelError> {
        self.with(move |w| {
            Ok(w.consent_receipts(&space_id)?
                .iter()
                .map(ToString::to_string)
                .collect())
        })
        .await
    }

    /// "Where did my credential go?": its provenance events in order.
    pub async fn trace(&self, credential_id: String) -> Result<Vec<ProvenanceEvent>, SatchelError> {
        self.with(move |w| {
            Ok(w.trace(&credential_id, None)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
        .await
    }

    /// The trace as W3C PROV-JSON.
    pub async fn trace_prov_json(&self, credential_id: String) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.trace_prov_json(&credential_id, None)?.to_string()))
            .await
    }

    /// Adds a member to an enterprise space.
    pub async fn add_member(
        &self,
        space_id: String,
        name: String,
        role: MemberRole,
        jwk: String,
    ) -> Result<Member, SatchelError> {
        let key = crate::jwk(&jwk)?;
        self.with(move |w| {
            Ok(member(w.add_member(
                &space_id,
                &name,
                role.into(),
                &key,
                core::unix_now(),
            )?))
        })
        .await
    }

    /// The members of an enterprise space, oldest first.
    pub async fn members(&self, space_id: String) -> Result<Vec<Member>, SatchelError> {
        self.with(move |w| Ok(w.members(&space_id)?.into_iter().map(member).collect()))
            .await
    }

    /// Delegates presenting licences to an agent member.
    pub async fn delegate(
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
        self.with(move |w| {
            let d = w.delegate(&space_id, &member_id, &scope, core::unix_now())?;
            Ok(Delegation {
                id: d.id,
                token: d.token,
            })
        })
        .await
    }

    /// Revokes a delegation; returns the status list token to publish.
    pub async fn revoke_delegation(&self, delegation_id: String) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.revoke_delegation(&delegation_id, core::unix_now())?))
            .await
    }

    /// Agent side: stores a company licence with its delegation, verified
    /// with the licence issuer's keys from `registry`.
    pub async fn import_delegated_credential_from(
        &self,
        space_id: String,
        licence: String,
        delegation: String,
        registry: Arc<TrustRegistry>,
    ) -> Result<Credential, SatchelError> {
        self.with(move |w| {
            Ok(w.import_delegated_credential_from(
                &space_id,
                &licence,
                &delegation,
                &registry.inner,
                core::unix_now(),
            )?
            .into())
        })
        .await
    }

    /// Stores a company licence this agent may present under `delegation`
    /// (`licence_issuer_jwk`: the licence issuer's key, or null for a
    /// trusted issuer).
    pub async fn import_delegated_credential(
        &self,
        space_id: String,
        licence: String,
        delegation: String,
        licence_issuer_jwk: Option<String>,
    ) -> Result<Credential, SatchelError> {
        let key = licence_issuer_jwk.as_deref().map(crate::jwk).transpose()?;
        self.with(move |w| {
            Ok(w.import_delegated_credential(
                &space_id,
                &licence,
                &delegation,
                key.as_ref(),
                core::unix_now(),
            )?
            .into())
        })
        .await
    }

    /// Enterprise side: records an agent's action (the authorisation it
    /// signed under `delegation_id`) in the company's provenance.
    pub async fn record_agent_action(
        &self,
        delegation_id: String,
        authorization: String,
    ) -> Result<(), SatchelError> {
        self.with(move |w| {
            Ok(w.record_agent_action(&delegation_id, &authorization, core::unix_now())?)
        })
        .await
    }

    /// Where the space's status list is published.
    pub async fn status_uri(&self, space_id: String) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.status_uri(&space_id))).await
    }

    /// The space's status list token (for publishing).
    pub async fn status_list_token(&self, space_id: String) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.status_list_token(&space_id, core::unix_now())?))
            .await
    }
}
