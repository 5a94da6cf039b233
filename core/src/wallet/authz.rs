//! The holder's side of data-use authorisations: match a request against
//! the wallet, approve (presentations + signed authorisation + consent
//! record, one transaction), deny, withdraw, expire, and keep the relying
//! party's use receipts.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::{
    history, lock, AuthorizationState, Space, StoredAuthorization, UseRecord, Wallet, WalletChange,
    WalletError,
};
use crate::{
    authz::{
        Approval, Authorization, AuthorizationResponse, AuthzError, Grant, ParsedRequest,
        QueryMatch, RpTrust, Withdrawal, USE_TYP,
    },
    b64,
    consent::{ConsentEvent, ConsentRecord, ControllerRef},
    delegation, jws,
    provenance::{Activity, AgentRole, ProvAgent, ProvenanceEvent},
    sd_jwt::{self, ClaimPath, KeyBinding},
    status_list::{StatusReference, INVALID},
    CredentialFilter, CredentialStatus,
};

/// The outcome of an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    /// What to post to the request's `response_uri`.
    pub response: AuthorizationResponse,
    /// The authorisation's id.
    pub authorization_id: String,
    /// The signed consent record appended to the log.
    pub consent_record: String,
}

fn rp_agent(parsed: &ParsedRequest) -> ProvAgent {
    let name = match &parsed.trust {
        RpTrust::Trusted { name } | RpTrust::PurposeNotAllowed { name } => Some(name.clone()),
        RpTrust::Unknown => None,
    };
    ProvAgent {
        id: parsed.request.client_id.clone(),
        role: AgentRole::RelyingParty,
        name,
    }
}

/// A consent record about `parsed`, before signing.
fn consent_draft(
    space: &Space,
    parsed: &ParsedRequest,
    event: ConsentEvent,
    categories: Vec<String>,
    now: i64,
) -> ConsentRecord {
    let t = &parsed.request.satchel;
    let controller = ControllerRef {
        id: parsed.request.client_id.clone(),
        name: t.controller.name.clone(),
        contact: t.controller.contact.clone(),
    };
    ConsentRecord {
        purposes: vec![t.purpose.clone()],
        data_categories: categories,
        legal_basis: t.legal_basis.clone(),
        jurisdiction: t.jurisdiction.clone(),
        not_before: Some(t.not_before),
        not_after: Some(t.not_after),
        request_hash: Some(parsed.hash.clone()),
        pipl: t.pipl,
        onward_transfer: t.onward_transfer,
        retention_days: Some(t.retention_days),
        max_uses: Some(t.max_uses),
        ..ConsentRecord::new(history::holder_id(space), controller, event, now)
    }
}

fn category(vct: &str, path: &ClaimPath) -> String {
    format!(
        "{vct}#{}",
        path.0
            .iter()
            .map(|e| match e {
                sd_jwt::PathElement::Key(k) => k.clone(),
                sd_jwt::PathElement::Index(i) => i.to_string(),
                sd_jwt::PathElement::AllElements => "*".into(),
            })
            .collect::<Vec<_>>()
            .join(".")
    )
}

impl Wallet {
    /// For each credential query of the request: which credentials in the
    /// space can answer it, and which asked-for claims each has or lacks.
    pub fn match_request(
        &self,
        space_id: &str,
        parsed: &ParsedRequest,
        now: i64,
    ) -> Result<Vec<QueryMatch>, WalletError> {
        let credentials = self.credentials(
            space_id,
            &CredentialFilter {
                now,
                ..Default::default()
            },
        )?;
        Ok(parsed
            .request
            .dcql_query
            .credentials
            .iter()
            .map(|q| q.match_credentials(&credentials, now))
            .collect::<Result<_, _>>()?)
    }

    /// Approves a request with the user's selection: makes the presentations
    /// (bound to the request's nonce and audience), signs the data-use
    /// authorisation and appends a consent record, all committed together.
    pub fn approve(
        &self,
        space_id: &str,
        parsed: &ParsedRequest,
        approval: &Approval,
        now: i64,
    ) -> Result<Approved, WalletError> {
        let space = self.space(space_id)?;
        let req = &parsed.request;
        let terms = &req.satchel;
        if !matches!(parsed.trust, RpTrust::Trusted { .. }) && !approval.accept_untrusted {
            return Err(AuthzError::UntrustedRelyingParty.into());
        }
        if now >= req.exp {
            return Err(AuthzError::RequestExpired.into());
        }
        if approval.selections.is_empty() {
            return Err(WalletError::InvalidInput(
                "select at least one credential; to refuse, deny".into(),
            ));
        }
        let max_uses = approval.max_uses.unwrap_or(terms.max_uses);
        if max_uses == 0 || max_uses > terms.max_uses {
            return Err(AuthzError::NotRequested("more uses than asked".into()).into());
        }
        let not_after = approval.not_after.unwrap_or(terms.not_after);
        if not_after > terms.not_after || not_after <= now.max(terms.not_before) {
            return Err(AuthzError::NotRequested("a window outside the one asked".into()).into());
        }

        let signer = self.space_key_signer(&space)?;
        let mut seen = HashSet::new();
        let mut grants = Vec::new();
        let mut vp_token = BTreeMap::new();
        let mut delegations = BTreeMap::new();
        let mut credential_ids = Vec::new();
        let mut categories = Vec::new();
        let mut events = Vec::new();
        for sel in &approval.selections {
            if !seen.insert(sel.query_id.as_str()) {
                return Err(WalletError::InvalidInput(format!(
                    "query {} answered twice",
                    sel.query_id
                )));
            }
            let query = req.dcql_query.query(&sel.query_id).ok_or_else(|| {
                AuthzError::NotRequested(format!("credential query {}", sel.query_id))
            })?;
            let c = self.credential(&sel.credential_id)?;
            if c.space_id != space.id || c.status(now) != CredentialStatus::Valid {
                return Err(WalletError::InvalidInput(format!(
                    "credential {} is not usable here",
                    c.id
                )));
            }
            let vcts = query.vct_values();
            if !vcts.is_empty() && !vcts.contains(&c.vct) {
                return Err(AuthzError::NotRequested(format!("credential type {}", c.vct)).into());
            }
            if sel.claims.is_empty() {
                return Err(WalletError::InvalidInput(format!(
                    "no claim selected for {}",
                    sel.query_id
                )));
            }
            for p in &sel.claims {
                if !query.covers(p)? {
                    return Err(AuthzError::NotRequested(p.to_string()).into());
                }
            }
            if let Some(scope) = &c.delegation_claims {
                delegation::check_scope(scope, &c.vct, &terms.purpose, &req.client_id)?;
            }
            let kb = || KeyBinding {
                audience: &req.client_id,
                nonce: &req.nonce,
                issued_at: now,
                signer: &signer,
            };
            let presentation = sd_jwt::present(&c.token, &sel.claims, Some(kb()))?;
            // Never send more than the user approved: if the issuer made a
            // whole object disclosable, a nested claim cannot go alone.
            let vk = c.issuer_key.verifying_key().map_err(AuthzError::from)?;
            let own =
                sd_jwt::verify_disclosures(&presentation, &vk, &sd_jwt::VerifyOptions::vc(now))?;
            crate::authz::disclosed_within_grants(&own.disclosed, &sel.claims, &own.claims).map_err(|_| {
                WalletError::InvalidInput(format!(
                    "credential {} cannot disclose the chosen claims without revealing others: choose the whole object",
                    c.id
                ))
            })?;
            vp_token.insert(sel.query_id.clone(), vec![presentation]);
            if let Some(d) = &c.delegation {
                delegations.insert(sel.query_id.clone(), sd_jwt::present(d, &[], Some(kb()))?);
            }
            grants.push(Grant {
                query_id: sel.query_id.clone(),
                vct: c.vct.clone(),
                credential_issuer: c.issuer.clone(),
                claims: sel.claims.iter().map(ClaimPath::to_json).collect(),
            });
            categories.extend(sel.claims.iter().map(|p| category(&c.vct, p)));
            credential_ids.push(c.id.clone());
            let mut e = history::present_event(&space, &c, &sel.claims, &req.client_id, now);
            e.agents[1] = rp_agent(parsed);
            events.push(e);
        }

        let authz_id = b64::new_id();
        let status_uri = self.status_uri(&space.id);
        let approved = self.write(|tx| {
            let idx = self.allocate_status(tx, &space.id)?;
            let authz = Authorization {
                jti: authz_id.clone(),
                iss: history::holder_id(&space),
                aud: req.client_id.clone(),
                iat: now,
                nbf: terms.not_before,
                exp: not_after,
                request_hash: parsed.hash.clone(),
                nonce: req.nonce.clone(),
                purpose: terms.purpose.clone(),
                legal_basis: terms.legal_basis.clone(),
                grants: grants.clone(),
                max_uses,
                onward_transfer: terms.onward_transfer,
                retention_days: terms.retention_days,
                pipl: terms.pipl,
                status: StatusReference {
                    idx,
                    uri: status_uri.clone(),
                }
                .to_claim(),
            };
            let jws = authz.sign(&signer)?;
            let mut draft =
                consent_draft(&space, parsed, ConsentEvent::Given, categories.clone(), now);
            draft.authorization_id = Some(authz_id.clone());
            draft.not_after = Some(not_after);
            draft.max_uses = Some(max_uses);
            let (_, consent) = self.append_consent(tx, &space, &signer, draft)?;
            for e in &events {
                self.add_event(tx, &space.id, e)?;
            }
            self.add_event(
                tx,
                &space.id,
                &ProvenanceEvent {
                    id: b64::new_id(),
                    time: now,
                    activity: Activity::Authorize,
                    credentials: credential_ids.clone(),
                    generated: Some(format!("authorization:{authz_id}")),
                    invalidated: None,
                    agents: vec![history::holder_agent(&space), rp_agent(parsed)],
                    on_behalf_of: None,
                    note: Some(format!(
                        "{} for {}, at most {max_uses} uses",
                        terms.purpose, req.client_id
                    )),
                },
            )?;
            let stored = StoredAuthorization {
                id: authz_id.clone(),
                space_id: space.id.clone(),
                client_id: req.client_id.clone(),
                rp_name: rp_agent(parsed).name,
                rp_key: parsed.rp_key.clone(),
                purpose: terms.purpose.clone(),
                grants: grants.clone(),
                credential_ids: credential_ids.clone(),
                not_before: terms.not_before,
                not_after,
                max_uses,
                status_idx: idx,
                state: AuthorizationState::Active,
                jws: jws.clone(),
                uses: Vec::new(),
                created_at: now,
            };
            self.put_authorization(tx, &stored)?;
            Ok((jws, consent))
        })?;
        self.changed(&[
            WalletChange::AuthorizationChanged {
                space_id: space.id.clone(),
                authorization_id: authz_id.clone(),
                state: AuthorizationState::Active,
            },
            WalletChange::ConsentRecorded {
                space_id: space.id.clone(),
            },
        ]);
        let response = AuthorizationResponse {
            vp_token,
            satchel_authorization: approved.0,
            satchel_delegations: delegations,
            state: req.state.clone(),
        };
        Ok(Approved {
            response,
            authorization_id: authz_id,
            consent_record: approved.1,
        })
    }

    /// Refuses a request: appends a signed `ConsentRefused` record and
    /// returns it (the wallet may send it to the relying party).
    pub fn deny(
        &self,
        space_id: &str,
        parsed: &ParsedRequest,
        now: i64,
    ) -> Result<String, WalletError> {
        let space = self.space(space_id)?;
        let signer = self.signer(&space)?;
        let categories = parsed
            .request
            .dcql_query
            .credentials
            .iter()
            .flat_map(|q| {
                let vct = q
                    .vct_values()
                    .first()
                    .cloned()
                    .unwrap_or_else(|| q.id.clone());
                q.paths()
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |p| category(&vct, &p))
            })
            .collect();
        let draft = consent_draft(&space, parsed, ConsentEvent::Refused, categories, now);
        let token = self.write(|tx| {
            let (_, token) = self.append_consent(tx, &space, &signer, draft)?;
            self.add_event(
                tx,
                &space.id,
                &ProvenanceEvent {
                    id: b64::new_id(),
                    time: now,
                    activity: Activity::Refuse,
                    credentials: Vec::new(),
                    generated: None,
                    invalidated: None,
                    agents: vec![history::holder_agent(&space), rp_agent(parsed)],
                    on_behalf_of: None,
                    note: Some(format!(
                        "refused {} for {}",
                        parsed.request.satchel.purpose, parsed.request.client_id
                    )),
                },
            )?;
            Ok(token)
        })?;
        self.changed(&[WalletChange::ConsentRecorded { space_id: space.id }]);
        Ok(token)
    }

    /// Withdraws an authorisation: local state changes at once; the returned
    /// status list token is what the server publishes so verifiers see it.
    pub fn withdraw(&self, authorization_id: &str, now: i64) -> Result<Withdrawal, WalletError> {
        let current = self.authorization(authorization_id)?;
        let already = |a: &StoredAuthorization| {
            WalletError::InvalidInput(
                format!("authorisation is already {}", a.state.as_str()).to_lowercase(),
            )
        };
        if current.state != AuthorizationState::Active {
            return Err(already(&current));
        }
        let space = self.space(&current.space_id)?;
        let signer = self.signer(&space)?;
        let revocation =
            crate::authz::sign_withdrawal(&current.id, &current.client_id, now, &signer)?;
        let (token, a) = self.write(|tx| {
            // Re-read inside the transaction: a concurrent withdrawal or use
            // receipt is seen, never overwritten.
            let mut a = self.authorization_in(tx, authorization_id)?;
            if a.state != AuthorizationState::Active {
                return Err(already(&a));
            }
            let token = self.set_status(tx, &space, a.status_idx, INVALID, &signer, now)?;
            a.state = AuthorizationState::Withdrawn;
            self.put_authorization(tx, &a)?;
            self.log_state_change(
                tx,
                &space,
                &signer,
                &a,
                ConsentEvent::Withdrawn,
                Activity::Withdraw,
                now,
            )?;
            Ok((token, a))
        })?;
        self.changed(&[
            WalletChange::AuthorizationChanged {
                space_id: space.id.clone(),
                authorization_id: a.id.clone(),
                state: AuthorizationState::Withdrawn,
            },
            WalletChange::ConsentRecorded {
                space_id: space.id.clone(),
            },
        ]);
        Ok(Withdrawal {
            revocation,
            status_list_token: token,
            status_uri: self.status_uri(&space.id),
        })
    }

    /// Marks authorisations whose window has ended as expired (with a
    /// `ConsentExpired` record each); returns their ids.
    pub fn expire_authorizations(
        &self,
        space_id: &str,
        now: i64,
    ) -> Result<Vec<String>, WalletError> {
        let space = self.space(space_id)?;
        let due: Vec<StoredAuthorization> = self
            .authorizations(space_id)?
            .into_iter()
            .filter(|a| a.state == AuthorizationState::Active && a.not_after <= now)
            .collect();
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let signer = self.signer(&space)?;
        let expired = self.write(|tx| {
            let mut expired = Vec::new();
            for d in &due {
                // Re-read: one withdrawn meanwhile stays withdrawn.
                let mut a = self.authorization_in(tx, &d.id)?;
                if a.state != AuthorizationState::Active || a.not_after > now {
                    continue;
                }
                a.state = AuthorizationState::Expired;
                self.put_authorization(tx, &a)?;
                self.log_state_change(
                    tx,
                    &space,
                    &signer,
                    &a,
                    ConsentEvent::Expired,
                    Activity::Expire,
                    now,
                )?;
                expired.push(a.id);
            }
            Ok(expired)
        })?;
        if expired.is_empty() {
            return Ok(expired);
        }
        let mut changes: Vec<_> = expired
            .iter()
            .map(|id| WalletChange::AuthorizationChanged {
                space_id: space.id.clone(),
                authorization_id: id.clone(),
                state: AuthorizationState::Expired,
            })
            .collect();
        changes.push(WalletChange::ConsentRecorded {
            space_id: space.id.clone(),
        });
        self.changed(&changes);
        Ok(expired)
    }

    #[allow(clippy::too_many_arguments)]
    fn log_state_change(
        &self,
        tx: &Transaction<'_>,
        space: &Space,
        signer: &dyn crate::Signer,
        a: &StoredAuthorization,
        event: ConsentEvent,
        activity: Activity,
        now: i64,
    ) -> Result<(), WalletError> {
        let controller = ControllerRef {
            id: a.client_id.clone(),
            name: a.rp_name.clone().unwrap_or_default(),
            contact: String::new(),
        };
        let record = ConsentRecord {
            purposes: vec![a.purpose.clone()],
            data_categories: a
                .grants
                .iter()
                .flat_map(|g| {
                    g.claims
                        .iter()
                        .filter_map(|c| ClaimPath::from_json(c).ok())
                        .map(|p| category(&g.vct, &p))
                        .collect::<Vec<_>>()
                })
                .collect(),
            not_before: Some(a.not_before),
            not_after: Some(a.not_after),
            authorization_id: Some(a.id.clone()),
            max_uses: Some(a.max_uses),
            ..ConsentRecord::new(history::holder_id(space), controller, event, now)
        };
        self.append_consent(tx, space, signer, record)?;
        self.add_event(
            tx,
            &space.id,
            &ProvenanceEvent {
                id: b64::new_id(),
                time: now,
                activity,
                credentials: a.credential_ids.clone(),
                generated: None,
                invalidated: Some(format!("authorization:{}", a.id)),
                agents: vec![history::holder_agent(space)],
                on_behalf_of: None,
                note: Some(format!("{} for {}", a.purpose, a.client_id)),
            },
        )
    }

    /// Keeps a relying party's signed use receipt: checks its signature
    /// (the key that signed the request), that it is for this authorisation,
    /// and records the use in provenance. Returns `false` for a receipt
    /// already kept.
    pub fn record_use_receipt(
        &self,
        authorization_id: &str,
        receipt: &str,
    ) -> Result<bool, WalletError> {
        let a = self.authorization(authorization_id)?;
        let jwt = jws::decode(receipt.trim()).map_err(AuthzError::from)?;
        if !jwt.header.typ_is(USE_TYP) {
            return Err(AuthzError::WrongTyp(USE_TYP).into());
        }
        jwt.verify(&a.rp_key.verifying_key().map_err(AuthzError::from)?)
            .map_err(AuthzError::from)?;
        let p = jwt.payload_object().map_err(AuthzError::from)?;
        let seq = p.get("seq").and_then(Value::as_u64).unwrap_or(0) as u32;
        let time = p.get("iat").and_then(Value::as_i64).unwrap_or(0);
        if p.get("authorization").and_then(Value::as_str) != Some(a.id.as_str())
            || p.get("iss").and_then(Value::as_str) != Some(a.client_id.as_str())
            || seq == 0
        {
            return Err(AuthzError::Mismatch("receipt is for another authorisation").into());
        }
        if a.uses.iter().any(|u| u.seq == seq) {
            return Ok(false);
        }
        let space = self.space(&a.space_id)?;
        let jti = p
            .get("jti")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let kept = self.write(|tx| {
            // Re-read inside the transaction, so a concurrent withdrawal or
            // receipt is kept.
            let mut a = self.authorization_in(tx, authorization_id)?;
            if a.uses.iter().any(|u| u.seq == seq) {
                return Ok(None);
            }
            a.uses.push(UseRecord {
                seq,
                time,
                receipt: receipt.trim().to_owned(),
            });
            a.uses.sort_by_key(|u| u.seq);
            self.put_authorization(tx, &a)?;
            self.add_event(
                tx,
                &space.id,
                &ProvenanceEvent {
                    id: b64::new_id(),
                    time,
                    activity: Activity::Use,
                    credentials: a.credential_ids.clone(),
                    generated: Some(format!("use:{jti}")),
                    invalidated: None,
                    agents: vec![ProvAgent {
                        id: a.client_id.clone(),
                        role: AgentRole::RelyingParty,
                        name: a.rp_name.clone(),
                    }],
                    on_behalf_of: None,
                    note: Some(format!("use {seq} of {} for {}", a.max_uses, a.purpose)),
                },
            )?;
            Ok(Some(a))
        })?;
        let Some(a) = kept else {
            return Ok(false);
        };
        self.changed(&[WalletChange::AuthorizationChanged {
            space_id: space.id,
            authorization_id: a.id,
            state: a.state,
        }]);
        Ok(true)
    }

    pub(super) fn put_authorization(
        &self,
        tx: &Transaction<'_>,
        a: &StoredAuthorization,
    ) -> Result<(), WalletError> {
        tx.execute(
            "INSERT OR REPLACE INTO authorizations (id, space_id, sealed) VALUES (?1, ?2, ?3)",
            params![a.id, a.space_id, self.seal("authorizations", &a.id, a)],
        )?;
        Ok(())
    }

    /// One authorisation.
    pub fn authorization(&self, id: &str) -> Result<StoredAuthorization, WalletError> {
        self.authorization_in(&lock(&self.reader), id)
    }

    /// One authorisation as `conn` sees it (a writing transaction re-reads
    /// through this, so concurrent changes are never overwritten).
    pub(super) fn authorization_in(
        &self,
        conn: &rusqlite::Connection,
        id: &str,
    ) -> Result<StoredAuthorization, WalletError> {
        let row: Option<(String, Vec<u8>)> = conn
            .query_row(
                "SELECT space_id, sealed FROM authorizations WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (space, sealed) = row.ok_or_else(|| WalletError::NotFound {
            kind: "authorization",
            id: id.into(),
        })?;
        let a: StoredAuthorization = self.open_record("authorizations", id, &sealed)?;
        if a.space_id != space {
            return Err(WalletError::Integrity(id.into()));
        }
        Ok(a)
    }

    /// The authorisations granted from a space, oldest first.
    pub fn authorizations(&self, space_id: &str) -> Result<Vec<StoredAuthorization>, WalletError> {
        let mut out: Vec<StoredAuthorization> =
            self.open_space_rows("authorizations", space_id, "id")?;
        out.sort_by_key(|a| a.created_at);
        Ok(out)
    }
}
