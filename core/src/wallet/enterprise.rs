//! Enterprise spaces: members with roles, delegations to agents, and the
//! agent's side (holding a company licence under a delegation).

use rusqlite::{params, OptionalExtension};

use super::{
    history, lock, verify_with_any, Credential, Member, MemberRole, Space, SpaceKind,
    StoredDelegation, Wallet, WalletChange, WalletError,
};
use crate::{
    authz::AuthzError,
    b64,
    consent::{ConsentEvent, ConsentRecord, ControllerRef},
    delegation::{issue_delegation, DelegationScope},
    provenance::{Activity, AgentRole, ProvAgent, ProvenanceEvent},
    sd_jwt::{self, VerifyOptions},
    status_list::{StatusReference, INVALID},
    CredentialFilter, Jwk,
};

impl Wallet {
    fn enterprise(&self, space_id: &str) -> Result<Space, WalletError> {
        let space = self.space(space_id)?;
        if space.kind != SpaceKind::Enterprise {
            return Err(WalletError::InvalidInput(
                "only an enterprise space has members and delegations".into(),
            ));
        }
        Ok(space)
    }

    /// Adds a member (legal representative, administrator or agent) with
    /// the key of their own wallet.
    pub fn add_member(
        &self,
        space_id: &str,
        name: &str,
        role: MemberRole,
        key: &Jwk,
        now: i64,
    ) -> Result<Member, WalletError> {
        let space = self.enterprise(space_id)?;
        if name.trim().is_empty() || name.len() > 200 {
            return Err(WalletError::InvalidInput(
                "member name must be 1-200 bytes".into(),
            ));
        }
        key.verifying_key().map_err(AuthzError::from)?;
        let member = Member {
            id: b64::new_id(),
            space_id: space.id,
            name: name.into(),
            role,
            key: key.clone(),
            added_at: now,
        };
        self.write(|tx| {
            tx.execute(
                "INSERT INTO members (id, space_id, sealed) VALUES (?1, ?2, ?3)",
                params![
                    member.id,
                    member.space_id,
                    self.seal("members", &member.id, &member)
                ],
            )?;
            Ok(())
        })?;
        self.changed(&[WalletChange::EnterpriseChanged {
            space_id: member.space_id.clone(),
        }]);
        Ok(member)
    }

    /// The members of an enterprise space.
    pub fn members(&self, space_id: &str) -> Result<Vec<Member>, WalletError> {
        let mut out: Vec<Member> = self.open_space_rows("members", space_id, "id")?;
        out.sort_by_key(|m| m.added_at);
        Ok(out)
    }

    /// Delegates presenting the space's licences of `scope.credential_types`
    /// to an agent member: issues a delegation credential to the agent's key,
    /// logs it (consent log and provenance) and returns it.
    pub fn delegate(
        &self,
        space_id: &str,
        member_id: &str,
        scope: &DelegationScope,
        now: i64,
    ) -> Result<StoredDelegation, WalletError> {
        let space = self.enterprise(space_id)?;
        let member = self
            .members(space_id)?
            .into_iter()
            .find(|m| m.id == member_id)
            .ok_or_else(|| WalletError::NotFound {
                kind: "member",
                id: member_id.into(),
            })?;
        if member.role != MemberRole::Agent {
            return Err(WalletError::InvalidInput(
                "only an agent member can be delegated to".into(),
            ));
        }
        let licences: Vec<Credential> = self
            .credentials(
                space_id,
                &CredentialFilter {
                    now,
                    ..Default::default()
                },
            )?
            .into_iter()
            .filter(|c| scope.credential_types.contains(&c.vct))
            .collect();
        if licences.is_empty() {
            return Err(WalletError::InvalidInput(
                "the space holds no licence of the delegated types".into(),
            ));
        }
        let signer = self.space_key_signer(&space)?;
        let id = b64::new_id();
        let status_uri = self.status_uri(&space.id);
        let d = self.write(|tx| {
            let idx = self.allocate_status(tx, &space.id)?;
            let status = StatusReference {
                idx,
                uri: status_uri.clone(),
            };
            let token = issue_delegation(
                &signer,
                &space.name,
                &member.name,
                &member.key,
                scope,
                Some(&status),
                now,
            )?;
            let controller = ControllerRef {
                id: format!("urn:jwk:{}", member.key.thumbprint()),
                name: member.name.clone(),
                contact: String::new(),
            };
            let record = ConsentRecord {
                purposes: scope.purposes.clone(),
                data_categories: scope.credential_types.clone(),
                recipients: scope.audiences.clone(),
                legal_basis: "Contract".into(),
                not_before: Some(scope.not_before),
                not_after: Some(scope.not_after),
                authorization_id: Some(id.clone()),
                ..ConsentRecord::new(
                    history::holder_id(&space),
                    controller,
                    ConsentEvent::Delegated,
                    now,
                )
            };
            self.append_consent(tx, &space, &signer, record)?;
            self.add_event(
                tx,
                &space.id,
                &ProvenanceEvent {
                    id: b64::new_id(),
                    time: now,
                    activity: Activity::Delegate,
                    credentials: licences.iter().map(|c| c.id.clone()).collect(),
                    generated: Some(format!("delegation:{id}")),
                    invalidated: None,
                    agents: vec![
                        history::holder_agent(&space),
                        ProvAgent {
                            id: format!("urn:jwk:{}", member.key.thumbprint()),
                            role: AgentRole::Agent,
                            name: Some(member.name.clone()),
                        },
                    ],
                    on_behalf_of: Some((
                        format!("urn:jwk:{}", member.key.thumbprint()),
                        history::holder_id(&space),
                    )),
                    note: Some(format!(
                        "{} to {} until {}",
                        scope.purposes.join(","),
                        scope.audiences.join(","),
                        scope.not_after
                    )),
                },
            )?;
            let d = StoredDelegation {
                id: id.clone(),
                space_id: space.id.clone(),
                member_id: member.id.clone(),
                scope: scope.clone(),
                status_idx: idx,
                revoked: false,
                token,
            };
            tx.execute(
                "INSERT INTO delegations (id, space_id, sealed) VALUES (?1, ?2, ?3)",
                params![d.id, d.space_id, self.seal("delegations", &d.id, &d)],
            )?;
            Ok(d)
        })?;
        self.changed(&[WalletChange::EnterpriseChanged {
            space_id: d.space_id.clone(),
        }]);
        Ok(d)
    }

    /// One delegation.
    pub fn delegation(&self, id: &str) -> Result<StoredDelegation, WalletError> {
        let sealed: Option<Vec<u8>> = lock(&self.reader)
            .query_row("SELECT sealed FROM delegations WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        self.open_record(
            "delegations",
            id,
            &sealed.ok_or_else(|| WalletError::NotFound {
                kind: "delegation",
                id: id.into(),
            })?,
        )
    }

    /// Revokes a delegation; returns the status list token to publish.
    pub fn revoke_delegation(&self, id: &str, now: i64) -> Result<String, WalletError> {
        let mut d = self.delegation(id)?;
        if d.revoked {
            return Err(WalletError::InvalidInput(
                "delegation already revoked".into(),
            ));
        }
        let space = self.space(&d.space_id)?;
        let signer = self.signer(&space)?;
        let token = self.write(|tx| {
            let token = self.set_status(tx, &space, d.status_idx, INVALID, &signer, now)?;
            d.revoked = true;
            tx.execute(
                "UPDATE delegations SET sealed = ?2 WHERE id = ?1",
                params![d.id, self.seal("delegations", &d.id, &d)],
            )?;
            self.add_event(
                tx,
                &space.id,
                &ProvenanceEvent {
                    id: b64::new_id(),
                    time: now,
                    activity: Activity::Withdraw,
                    credentials: Vec::new(),
                    generated: None,
                    invalidated: Some(format!("delegation:{id}")),
                    agents: vec![history::holder_agent(&space)],
                    on_behalf_of: None,
                    note: Some("delegation revoked".into()),
                },
            )?;
            Ok(token)
        })?;
        self.changed(&[WalletChange::EnterpriseChanged { space_id: space.id }]);
        Ok(token)
    }

    /// [`Wallet::import_delegated_credential`] with the licence issuer's
    /// keys taken from `registry` (the issuer named in the licence must be
    /// registered there).
    pub fn import_delegated_credential_from(
        &self,
        space_id: &str,
        licence: &str,
        delegation: &str,
        registry: &dyn crate::registry::TrustRegistry,
        now: i64,
    ) -> Result<Credential, WalletError> {
        let iss = super::unverified_issuer(licence)?;
        let issuer = registry
            .issuer(&iss)
            .ok_or_else(|| WalletError::UnknownIssuer(iss.clone()))?;
        let mut last = WalletError::UnknownIssuer(iss);
        for key in &issuer.keys {
            match self.import_delegated_credential(space_id, licence, delegation, Some(key), now) {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Agent side: stores a company licence together with the delegation
    /// that lets this space's key present it. The licence is verified with
    /// `licence_issuer_key` (or a trusted key), the delegation with the
    /// licence's holder key, and the delegation must name this space's key.
    pub fn import_delegated_credential(
        &self,
        space_id: &str,
        licence: &str,
        delegation: &str,
        licence_issuer_key: Option<&Jwk>,
        now: i64,
    ) -> Result<Credential, WalletError> {
        let space = self.space(space_id)?;
        let keys = match licence_issuer_key {
            Some(k) => vec![k.clone()],
            None => {
                let iss = super::unverified_issuer(licence)?;
                let keys = self.trusted_issuer_keys(&iss)?;
                if keys.is_empty() {
                    return Err(WalletError::UnknownIssuer(iss));
                }
                keys
            }
        };
        let (lic, issuer_key) = verify_with_any(licence, &keys, now)?;
        let enterprise = lic
            .holder_key
            .ok_or(AuthzError::Mismatch("licence without holder key"))?;
        let del = sd_jwt::verify(
            delegation,
            &enterprise.verifying_key().map_err(AuthzError::from)?,
            &VerifyOptions::vc(now),
        )?;
        if del.holder_key.as_ref().map(Jwk::thumbprint) != Some(space.holder_key.thumbprint()) {
            return Err(WalletError::HolderMismatch);
        }
        let vct = lic
            .claims
            .get("vct")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let covered = del
            .claims
            .get("scope")
            .and_then(|s| s.get("credential_types"))
            .and_then(|t| t.as_array())
            .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(vct)));
        if !covered {
            return Err(AuthzError::DelegationScope("licence type").into());
        }
        self.store_credential(
            &space,
            licence,
            lic.claims,
            issuer_key,
            Some((delegation.trim().to_owned(), del.claims)),
        )
    }
}

impl Wallet {
    /// Enterprise side: records what an agent did under a delegation. The
    /// agent hands over (or the server relays) the authorisation it signed;
    /// it must be signed by the delegated agent's key. The enterprise's
    /// provenance gets a `present` event on behalf of the company, for the
    /// licences the delegation covers.
    pub fn record_agent_action(
        &self,
        delegation_id: &str,
        authorization: &str,
        now: i64,
    ) -> Result<(), WalletError> {
        let d = self.delegation(delegation_id)?;
        let space = self.space(&d.space_id)?;
        let member = self
            .members(&space.id)?
            .into_iter()
            .find(|m| m.id == d.member_id)
            .ok_or_else(|| WalletError::NotFound {
                kind: "member",
                id: d.member_id.clone(),
            })?;
        let jwt = crate::jws::decode(authorization.trim()).map_err(AuthzError::from)?;
        if !jwt.header.typ_is(crate::authz::AUTHORIZATION_TYP) {
            return Err(AuthzError::WrongTyp(crate::authz::AUTHORIZATION_TYP).into());
        }
        jwt.verify(&member.key.verifying_key().map_err(AuthzError::from)?)
            .map_err(AuthzError::from)?;
        let a: crate::authz::Authorization = jwt
            .payload_as()
            .map_err(|e| AuthzError::Malformed(e.to_string()))?;
        if !a
            .grants
            .iter()
            .any(|g| d.scope.credential_types.contains(&g.vct))
        {
            return Err(AuthzError::DelegationScope("licence type").into());
        }
        let licences: Vec<String> = self
            .credentials(
                &space.id,
                &CredentialFilter {
                    now,
                    ..Default::default()
                },
            )?
            .into_iter()
            .filter(|c| a.grants.iter().any(|g| g.vct == c.vct))
            .map(|c| c.id)
            .collect();
        let agent_id = format!("urn:jwk:{}", member.key.thumbprint());
        let event = ProvenanceEvent {
            id: b64::new_id(),
            time: a.iat,
            activity: Activity::Present,
            credentials: licences,
            generated: Some(format!("authorization:{}", a.jti)),
            invalidated: None,
            agents: vec![
                ProvAgent {
                    id: agent_id.clone(),
                    role: AgentRole::Agent,
                    name: Some(member.name.clone()),
                },
                ProvAgent {
                    id: a.aud.clone(),
                    role: AgentRole::RelyingParty,
                    name: None,
                },
            ],
            on_behalf_of: Some((agent_id, history::holder_id(&space))),
            note: Some(format!(
                "{} to {} under delegation {}",
                a.purpose, a.aud, d.id
            )),
        };
        self.write(|tx| self.add_event(tx, &space.id, &event))
    }
}
