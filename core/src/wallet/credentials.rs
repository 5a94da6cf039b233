//! Credentials in a space: verified import, listing, labels, revocation,
//! deletion and presentation.

use rusqlite::{params, OptionalExtension, Transaction};

use super::{
    history, lock, Credential, CredentialFilter, Space, Wallet, WalletChange, WalletError,
};
use crate::{
    b64, jws,
    provenance::{Activity, AgentRole, ProvAgent, ProvenanceEvent},
    sd_jwt::{self, ClaimPath, KeyBinding, SdJwtError, VerifyOptions},
    unix_now, Jwk,
};

impl Wallet {
    /// Verifies an SD-JWT VC (as issued, with all disclosures) and stores it
    /// sealed in `space_id`. The issuer key is `issuer_key` if given, else a
    /// key trusted for the credential's `iss`. `now` is the verification time.
    pub fn import_credential(
        &self,
        space_id: &str,
        token: &str,
        issuer_key: Option<&Jwk>,
        now: i64,
    ) -> Result<Credential, WalletError> {
        let space = self.space(space_id)?;
        let keys = match issuer_key {
            Some(k) => vec![k.clone()],
            None => {
                let iss = unverified_issuer(token)?;
                let keys = self.trusted_issuer_keys(&iss)?;
                if keys.is_empty() {
                    return Err(WalletError::UnknownIssuer(iss));
                }
                keys
            }
        };
        let (verified, key) = verify_with_any(token, &keys, now)?;
        HolderKeys::of(&space).check(&verified)?;
        self.store_credential(&space, token, verified.claims, key, None)
    }

    /// Seals and stores a verified credential, recording its issue and import.
    pub(super) fn store_credential(
        &self,
        space: &Space,
        token: &str,
        claims: serde_json::Map<String, serde_json::Value>,
        issuer_key: Jwk,
        delegation: Option<(String, serde_json::Map<String, serde_json::Value>)>,
    ) -> Result<Credential, WalletError> {
        let stored = prepare_credential(space, token, claims, issuer_key, delegation);
        self.write_credentials(space, vec![self.seal_credential(stored)])?
            .pop()
            .ok_or_else(|| WalletError::Storage("the credential was not stored".into()))
    }

    /// Seals and stores prepared credentials in one transaction, then tells
    /// observers; returns the credentials in the same order.
    pub(super) fn write_credentials(
        &self,
        space: &Space,
        sealed: Vec<SealedCredential>,
    ) -> Result<Vec<Credential>, WalletError> {
        self.write(|tx| {
            // Numbered from one lookup per table; the transaction holds the
            // write lock, so nobody else takes these numbers.
            let first = super::next_seq(tx, "credentials", &space.id)?;
            let mut event_seq = super::next_seq(tx, "provenance", &space.id)?;
            for (seq, s) in (first..).zip(&sealed) {
                insert_credential(tx, &s.stored.credential.id, &space.id, &s.rows[0], seq)?;
                for (event, row) in [
                    (&s.stored.issue, &s.rows[1]),
                    (&s.stored.import, &s.rows[2]),
                ] {
                    super::history::insert_event(tx, &space.id, &event.id, event_seq, row)?;
                    event_seq += 1;
                }
            }
            Ok(())
        })?;
        let changes: Vec<WalletChange> = sealed
            .iter()
            .map(|s| WalletChange::CredentialAdded {
                space_id: space.id.clone(),
                credential_id: s.stored.credential.id.clone(),
            })
            .collect();
        self.changed(&changes);
        Ok(sealed.into_iter().map(|s| s.stored.credential).collect())
    }

    /// Seals a prepared credential and its two events (no storage touched:
    /// a batch seals on every core).
    pub(super) fn seal_credential(&self, stored: StoredCredential) -> SealedCredential {
        let c = &stored.credential;
        let rows = [
            self.seal("credentials", &c.id, c),
            self.seal("provenance", &stored.issue.id, &stored.issue),
            self.seal("provenance", &stored.import.id, &stored.import),
        ];
        SealedCredential { stored, rows }
    }

    /// Credentials in `space_id` matching `filter`, in import order.
    pub fn credentials(
        &self,
        space_id: &str,
        filter: &CredentialFilter,
    ) -> Result<Vec<Credential>, WalletError> {
        let now = if filter.now == 0 {
            unix_now()
        } else {
            filter.now
        };
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(
            "SELECT id, space_id, sealed FROM credentials WHERE space_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([space_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, space, sealed) = row?;
            let c = self.open_credential(&id, &space, &sealed)?;
            if filter.matches(&c, now) {
                out.push(c);
            }
        }
        Ok(out)
    }

    pub(super) fn open_credential(
        &self,
        id: &str,
        space_id: &str,
        sealed: &[u8],
    ) -> Result<Credential, WalletError> {
        let c: Credential = self.open_record("credentials", id, sealed)?;
        // The sealed copy names its space: a row moved to another space is caught.
        if c.space_id != space_id || c.id != id {
            return Err(WalletError::Integrity(id.into()));
        }
        Ok(c)
    }

    /// One credential.
    pub fn credential(&self, id: &str) -> Result<Credential, WalletError> {
        let conn = lock(&self.reader);
        let row: Option<(String, Vec<u8>)> = conn
            .query_row(
                "SELECT space_id, sealed FROM credentials WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (space, sealed) = row.ok_or_else(|| WalletError::NotFound {
            kind: "credential",
            id: id.into(),
        })?;
        self.open_credential(id, &space, &sealed)
    }

    /// Deletes a credential; its provenance keeps a deletion event, and the
    /// space's other devices delete it at their next sync.
    pub fn delete_credential(&self, id: &str) -> Result<(), WalletError> {
        let c = self.credential(id)?;
        let space = self.space(&c.space_id)?;
        let event = ProvenanceEvent {
            id: b64::new_id(),
            time: unix_now(),
            activity: Activity::Delete,
            credentials: vec![id.to_owned()],
            generated: None,
            invalidated: Some(format!("credential:{id}")),
            agents: vec![history::holder_agent(&space)],
            on_behalf_of: None,
            note: None,
        };
        self.write(|tx| {
            tx.execute("DELETE FROM credentials WHERE id = ?1", [id])?;
            // So that the space's other devices delete it too (ADR 0008).
            tx.execute(
                "INSERT OR IGNORE INTO tombstones (space_id, id) VALUES (?1, ?2)",
                [&space.id, id],
            )?;
            self.add_event(tx, &space.id, &event)
        })?;
        self.changed(&[WalletChange::CredentialRemoved {
            space_id: space.id,
            credential_id: id.to_owned(),
        }]);
        Ok(())
    }

    /// Sets or clears the user's label of a credential.
    pub fn set_label(&self, id: &str, label: Option<&str>) -> Result<Credential, WalletError> {
        if label.is_some_and(|l| l.len() > 200) {
            return Err(WalletError::InvalidInput(
                "label longer than 200 bytes".into(),
            ));
        }
        let c = self.credential(id)?;
        let space = self.space(&c.space_id)?;
        let clock = self.tick(space.consent_chain())?;
        self.update_credential(id, |c| {
            c.label = label.map(str::to_owned);
            c.label_clock = Some(clock);
        })
    }

    /// Records that the issuer revoked a credential (as seen in its status list).
    pub fn mark_revoked(&self, id: &str) -> Result<Credential, WalletError> {
        self.update_credential(id, |c| c.revoked = true)
    }

    pub(super) fn update_credential(
        &self,
        id: &str,
        f: impl FnOnce(&mut Credential),
    ) -> Result<Credential, WalletError> {
        let c = self.write(|tx| {
            let row: Option<(String, Vec<u8>)> = tx
                .query_row(
                    "SELECT space_id, sealed FROM credentials WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (space, sealed) = row.ok_or_else(|| WalletError::NotFound {
                kind: "credential",
                id: id.into(),
            })?;
            let mut c = self.open_credential(id, &space, &sealed)?;
            f(&mut c);
            tx.execute(
                "UPDATE credentials SET sealed = ?2 WHERE id = ?1",
                params![id, self.seal("credentials", id, &c)],
            )?;
            Ok(c)
        })?;
        self.changed(&[WalletChange::CredentialUpdated {
            space_id: c.space_id.clone(),
            credential_id: c.id.clone(),
        }]);
        Ok(c)
    }

    /// Presents a credential to `audience`: discloses the claims at `paths`
    /// and signs a key-binding JWT over `nonce` with the space's holder key.
    pub fn present(
        &self,
        credential_id: &str,
        paths: &[ClaimPath],
        audience: &str,
        nonce: &str,
        now: i64,
    ) -> Result<String, WalletError> {
        let c = self.credential(credential_id)?;
        let space = self.space(&c.space_id)?;
        if c.bound_key()
            .is_some_and(|k| k.thumbprint() != space.signing_key().thumbprint())
        {
            return Err(WalletError::BoundElsewhere(c.id));
        }
        let signer = self.signer(&space)?;
        let kb = KeyBinding {
            audience,
            nonce,
            issued_at: now,
            signer: &signer,
        };
        let presentation = sd_jwt::present(&c.token, paths, Some(kb))?;
        let event = history::present_event(&space, &c, paths, audience, now);
        self.write(|tx| self.add_event(tx, &space.id, &event))?;
        Ok(presentation)
    }
}

pub(super) fn insert_credential(
    tx: &Transaction<'_>,
    id: &str,
    space_id: &str,
    sealed: &[u8],
    seq: i64,
) -> Result<(), WalletError> {
    tx.prepare_cached(
        "INSERT INTO credentials (id, space_id, sealed, seq) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, space_id, sealed, seq])?;
    Ok(())
}

/// Verifies an SD-JWT VC (no key binding) with the first of `keys` that works.
pub(super) fn verify_with_any(
    token: &str,
    keys: &[Jwk],
    now: i64,
) -> Result<(sd_jwt::VerifiedSdJwt, Jwk), WalletError> {
    let options = VerifyOptions::vc(now);
    let mut result = Err(WalletError::InvalidInput("no issuer key".into()));
    for key in keys {
        let vk = key.verifying_key().map_err(SdJwtError::from)?;
        match sd_jwt::verify(token, &vk, &options) {
            Ok(v) => return Ok((v, key.clone())),
            Err(e) => result = Err(e.into()),
        }
    }
    result
}

/// A verified credential ready to be sealed, with its issue and import events.
pub(super) struct StoredCredential {
    credential: Credential,
    issue: ProvenanceEvent,
    import: ProvenanceEvent,
}

/// A prepared credential with its sealed rows: the credential's, then its
/// issue and import events'.
pub(super) struct SealedCredential {
    stored: StoredCredential,
    rows: [Vec<u8>; 3],
}

/// Builds the record and the provenance of a verified credential.
pub(super) fn prepare_credential(
    space: &Space,
    token: &str,
    claims: serde_json::Map<String, serde_json::Value>,
    issuer_key: Jwk,
    delegation: Option<(String, serde_json::Map<String, serde_json::Value>)>,
) -> StoredCredential {
    let time = |n: &str| claims.get(n).and_then(serde_json::Value::as_i64);
    let text = |n: &str| claims.get(n).and_then(|v| v.as_str()).map(str::to_owned);
    let now = unix_now();
    let credential = Credential {
        id: b64::new_id(),
        space_id: space.id.clone(),
        vct: text("vct").unwrap_or_default(),
        issuer: text("iss"),
        issuer_key,
        issued_at: time("iat"),
        valid_from: time("nbf"),
        expires_at: time("exp"),
        imported_at: now,
        label: None,
        revoked: false,
        token: token.trim().to_owned(),
        delegation: delegation.as_ref().map(|d| d.0.clone()),
        delegation_claims: delegation.map(|d| d.1),
        claims,
        label_clock: None,
    };
    let issuer = ProvAgent {
        id: credential
            .issuer
            .clone()
            .unwrap_or_else(|| format!("urn:jwk:{}", credential.issuer_key.thumbprint())),
        role: AgentRole::Issuer,
        name: None,
    };
    let issue = ProvenanceEvent {
        id: b64::new_id(),
        time: credential.issued_at.unwrap_or(now),
        activity: Activity::Issue,
        credentials: vec![credential.id.clone()],
        generated: None,
        invalidated: None,
        agents: vec![issuer],
        on_behalf_of: None,
        note: Some(credential.vct.clone()),
    };
    let on_behalf_of = credential.delegation_claims.as_ref().map(|d| {
        let company = d
            .get("delegator")
            .and_then(|x| x.get("name"))
            .and_then(|x| x.as_str())
            .unwrap_or("enterprise");
        (history::holder_id(space), company.to_owned())
    });
    let import = ProvenanceEvent {
        id: b64::new_id(),
        time: now,
        activity: Activity::Import,
        credentials: vec![credential.id.clone()],
        generated: None,
        invalidated: None,
        agents: vec![history::holder_agent(space), history::wallet_agent()],
        on_behalf_of,
        note: None,
    };
    StoredCredential {
        credential,
        issue,
        import,
    }
}

/// The keys a credential may be bound to: this space's holder key and this
/// device's signing key, by thumbprint, worked out once for any number of
/// credentials.
pub(super) struct HolderKeys {
    holder: String,
    device: String,
}

impl HolderKeys {
    pub(super) fn of(space: &Space) -> Self {
        HolderKeys {
            holder: space.holder_key.thumbprint(),
            device: space.signing_key().thumbprint(),
        }
    }

    /// A credential bound to a key must be bound to one of these.
    pub(super) fn check(&self, verified: &sd_jwt::VerifiedSdJwt) -> Result<(), WalletError> {
        if let Some(holder) = &verified.holder_key {
            let t = holder.thumbprint();
            if t != self.holder && t != self.device {
                return Err(WalletError::HolderMismatch);
            }
        }
        Ok(())
    }
}

/// The `iss` of an SD-JWT, read before verification to find the issuer key.
pub(super) fn unverified_issuer(token: &str) -> Result<String, WalletError> {
    let jwt_part = token.trim().split('~').next().unwrap_or_default();
    let jwt = jws::decode(jwt_part).map_err(SdJwtError::from)?;
    let payload = jwt.payload_object().map_err(SdJwtError::from)?;
    payload
        .get("iss")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            WalletError::InvalidInput("credential has no iss; supply the issuer key".into())
        })
}
