//! The relying party's side: verify a response (presentations + the
//! holder-signed authorisation) against its own request.

use std::{
    collections::{BTreeMap, HashMap},
    sync::RwLock,
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    dpv_term, Authorization, AuthorizationRequest, AuthorizationResponse, AuthzError,
    AUTHORIZATION_TYP, DPV_PURPOSES,
};
use crate::{
    b64, delegation, jws,
    registry::TrustRegistry,
    sd_jwt::{self, ClaimPath, KeyBindingCheck, TypPolicy, VerifiedSdJwt, VerifyOptions},
    status_list::{StatusList, StatusReference, VALID},
    Jwk,
};

/// Where verifiers look up status lists.
pub trait StatusSource: Send + Sync {
    /// The status at `reference`, the list verified with `key` (its
    /// publisher). `None` if the list is not available.
    fn status(
        &self,
        reference: &StatusReference,
        key: &Jwk,
        now: i64,
    ) -> Result<Option<u8>, AuthzError>;
}

/// Status list tokens as last fetched, by URI.
#[derive(Debug, Default)]
pub struct StatusCache {
    tokens: RwLock<HashMap<String, String>>,
}

impl StatusCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores the newest token for `uri` (verified when read).
    pub fn publish(&self, uri: &str, token: &str) {
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(uri.to_owned(), token.to_owned());
    }
}

impl StatusSource for StatusCache {
    fn status(
        &self,
        reference: &StatusReference,
        key: &Jwk,
        now: i64,
    ) -> Result<Option<u8>, AuthzError> {
        let token = self
            .tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&reference.uri)
            .cloned();
        let Some(token) = token else { return Ok(None) };
        // Signed by the holder's space key, or by another device of the space
        // through its certificate chain (ADR 0008).
        let list = StatusList::from_space_token(
            &token,
            key,
            &reference.uri,
            now,
            crate::status_list::MAX_LIST_BYTES,
            &|_| false,
        )?;
        Ok(Some(list.get(reference.idx)?))
    }
}

/// What the relying party may rely on after verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiedAuthorization {
    /// Authorisation id (`jti`).
    pub id: String,
    /// The holder (or agent) key that signed it.
    pub holder_key: Jwk,
    /// The relying party.
    pub client_id: String,
    /// DPV purpose.
    pub purpose: String,
    /// Valid from.
    pub not_before: i64,
    /// Valid until.
    pub not_after: i64,
    /// Maximum uses.
    pub max_uses: u32,
    /// Withdrawal status reference.
    pub status: Option<StatusReference>,
    /// Verified claims per credential query.
    pub claims: BTreeMap<String, Map<String, Value>>,
    /// For delegated presentations: query id → the delegating enterprise key.
    pub delegated_by: BTreeMap<String, Jwk>,
    /// The authorisation as signed.
    pub authorization: String,
}

fn decode_request(request_jws: &str) -> Result<AuthorizationRequest, AuthzError> {
    let jwt = jws::decode(request_jws.trim())?;
    jwt.payload_as()
        .map_err(|e| AuthzError::Malformed(e.to_string()))
}

fn unverified_iss(token: &str) -> Result<String, AuthzError> {
    let jwt = jws::decode(token.split('~').next().unwrap_or_default())?;
    jwt.payload_object()?
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(AuthzError::Mismatch("credential without iss"))
}

/// Verifies a response against the relying party's own request object.
/// Issuer keys come from `registry`; withdrawal status from `status`.
pub fn verify_response(
    response: &AuthorizationResponse,
    request_jws: &str,
    registry: &dyn TrustRegistry,
    status: &dyn StatusSource,
    now: i64,
) -> Result<VerifiedAuthorization, AuthzError> {
    let request = decode_request(request_jws)?;
    let terms = &request.satchel;

    // The authorisation: signed by the key in its header, which must be the
    // holder named in `iss`.
    let jwt = jws::decode(&response.satchel_authorization)?;
    if !jwt.header.typ_is(AUTHORIZATION_TYP) {
        return Err(AuthzError::WrongTyp(AUTHORIZATION_TYP));
    }
    let header: Value = serde_json::from_slice(
        &b64::decode(
            response
                .satchel_authorization
                .split('.')
                .next()
                .unwrap_or_default(),
        )
        .unwrap_or_default(),
    )
    .unwrap_or_default();
    let holder_key = Jwk::from_value(
        header
            .get("jwk")
            .ok_or(AuthzError::Mismatch("authorisation without holder key"))?,
    )?;
    jwt.verify(&holder_key.verifying_key()?)?;
    let authz: Authorization = jwt
        .payload_as()
        .map_err(|e| AuthzError::Malformed(e.to_string()))?;
    if authz.iss != Authorization::holder_urn(&holder_key.thumbprint()) {
        return Err(AuthzError::Mismatch(
            "authorisation issuer is not its signing key",
        ));
    }
    if authz.aud != request.client_id {
        return Err(AuthzError::Mismatch("authorisation audience"));
    }
    if authz.request_hash != b64::sha256_b64(request_jws.trim().as_bytes()) {
        return Err(AuthzError::Mismatch(
            "authorisation answers another request",
        ));
    }
    if authz.nonce != request.nonce {
        return Err(AuthzError::Mismatch("authorisation nonce"));
    }
    if dpv_term(&authz.purpose, DPV_PURPOSES) != dpv_term(&terms.purpose, DPV_PURPOSES) {
        return Err(AuthzError::NotRequested("purpose".into()));
    }
    if authz.max_uses > terms.max_uses
        || authz.nbf < terms.not_before
        || authz.exp > terms.not_after
    {
        return Err(AuthzError::NotRequested(
            "more uses or a longer window than asked".into(),
        ));
    }
    if authz.onward_transfer && !terms.onward_transfer {
        return Err(AuthzError::NotRequested("onward transfer".into()));
    }
    if now < authz.nbf || now >= authz.exp {
        return Err(AuthzError::OutsideWindow);
    }
    let status_ref = authz.status_reference();
    if let Some(r) = &status_ref {
        if status
            .status(r, &holder_key, now)?
            .is_some_and(|s| s != VALID)
        {
            return Err(AuthzError::Withdrawn);
        }
    }

    // Every presentation answers a grant; every grant was asked for.
    if response.vp_token.len() != authz.grants.len()
        || authz
            .grants
            .iter()
            .any(|g| !response.vp_token.contains_key(&g.query_id))
    {
        return Err(AuthzError::Mismatch(
            "presentations do not match the grants",
        ));
    }
    let mut claims = BTreeMap::new();
    let mut delegated_by = BTreeMap::new();
    for grant in &authz.grants {
        let query = request.dcql_query.query(&grant.query_id).ok_or_else(|| {
            AuthzError::NotRequested(format!("credential query {}", grant.query_id))
        })?;
        let vcts = query.vct_values();
        if !vcts.is_empty() && !vcts.contains(&grant.vct) {
            return Err(AuthzError::NotRequested(format!(
                "credential type {}",
                grant.vct
            )));
        }
        let granted = grant
            .claims
            .iter()
            .map(|c| ClaimPath::from_json(c).map_err(|e| AuthzError::Malformed(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        for g in &granted {
            if !query.covers(g)? {
                return Err(AuthzError::NotRequested(g.to_string()));
            }
        }
        let [presentation] = response.vp_token[&grant.query_id].as_slice() else {
            return Err(AuthzError::Mismatch(
                "one presentation per credential query",
            ));
        };
        let iss = unverified_iss(presentation)?;
        let issuer = registry
            .issuer(&iss)
            .ok_or(AuthzError::Mismatch("credential issuer is not trusted"))?;
        let options = VerifyOptions {
            typ: TypPolicy::SdJwtVc,
            now,
            leeway: 60,
            key_binding: Some(KeyBindingCheck::new(&request.client_id, &request.nonce)),
        };
        let delegation = response.satchel_delegations.get(&grant.query_id);
        let (verified, issuer_key) =
            verify_with_issuer_keys(&issuer.keys, |vk| match delegation {
                None => sd_jwt::verify(presentation, vk, &options),
                // The agent's key binding is checked with the delegation below.
                Some(_) => sd_jwt::verify_disclosures(presentation, vk, &options),
            })?;
        if verified.vct() != Some(grant.vct.as_str()) {
            return Err(AuthzError::Mismatch(
                "credential type differs from the grant",
            ));
        }
        if !issuer.credential_types.is_empty()
            && !issuer
                .credential_types
                .iter()
                .any(|t| Some(t.as_str()) == verified.vct())
        {
            return Err(AuthzError::Mismatch(
                "the issuer is not registered for this credential type",
            ));
        }
        // The issuer's revocation of the credential itself.
        if let Some(r) = verified
            .claims
            .get("status")
            .and_then(StatusReference::from_claim)
        {
            if status
                .status(&r, &issuer_key, now)?
                .is_some_and(|s| s != VALID)
            {
                return Err(AuthzError::CredentialRevoked);
            }
        }
        match delegation {
            None => {
                let presented_holder = verified
                    .holder_key
                    .as_ref()
                    .ok_or(AuthzError::Mismatch("credential without holder key"))?;
                if presented_holder.thumbprint() != holder_key.thumbprint() {
                    return Err(AuthzError::Mismatch(
                        "credential holder did not sign the authorisation",
                    ));
                }
            }
            Some(delegation) => {
                let enterprise = check_delegation(
                    presentation,
                    delegation,
                    &verified,
                    &issuer.keys,
                    &holder_key,
                    &request,
                    status,
                    now,
                )?;
                delegated_by.insert(grant.query_id.clone(), enterprise);
            }
        }
        disclosed_within_grants(&verified.disclosed, &granted, &verified.claims)?;
        claims.insert(grant.query_id.clone(), verified.claims);
    }
    Ok(VerifiedAuthorization {
        id: authz.jti,
        holder_key,
        client_id: request.client_id,
        purpose: authz.purpose,
        not_before: authz.nbf,
        not_after: authz.exp,
        max_uses: authz.max_uses,
        status: status_ref,
        claims,
        delegated_by,
        authorization: response.satchel_authorization.clone(),
    })
}

fn verify_with_issuer_keys(
    keys: &[Jwk],
    f: impl Fn(&crate::VerifyingKey) -> Result<VerifiedSdJwt, sd_jwt::SdJwtError>,
) -> Result<(VerifiedSdJwt, Jwk), AuthzError> {
    let mut last = AuthzError::Mismatch("issuer has no usable key");
    for k in keys {
        match f(&k.verifying_key()?) {
            Ok(v) => return Ok((v, k.clone())),
            Err(e) => last = e.into(),
        }
    }
    Err(last)
}

/// Whether every claim a presentation disclosed lies within what was
/// granted. A disclosure at or under a granted path is fine. A disclosure
/// above one (a parent object a nested grant needs) is fine only if the
/// object it reveals shows nothing beyond the way to the granted claims.
pub(crate) fn disclosed_within_grants(
    disclosed: &[ClaimPath],
    granted: &[ClaimPath],
    claims: &Map<String, Value>,
) -> Result<(), AuthzError> {
    use crate::sd_jwt::PathElement;
    for d in disclosed {
        if granted
            .iter()
            .any(|g| g.0.len() <= d.0.len() && g.related_to(&d.0))
        {
            continue;
        }
        let below: Vec<&ClaimPath> = granted
            .iter()
            .filter(|g| g.0.len() > d.0.len() && g.related_to(&d.0))
            .collect();
        if below.is_empty() {
            return Err(AuthzError::NotGranted(d.to_string()));
        }
        // The value the parent disclosure reveals, as the verifier sees it.
        let mut value = Value::Object(claims.clone());
        for e in &d.0 {
            value = match (e, value) {
                (PathElement::Key(k), Value::Object(mut m)) => m.remove(k).unwrap_or(Value::Null),
                (PathElement::Index(i), Value::Array(mut a)) if *i < a.len() => a.swap_remove(*i),
                _ => Value::Null,
            };
        }
        let next_step_ok = |key: &PathElement| {
            below
                .iter()
                .any(|g| &g.0[d.0.len()] == key || g.0[d.0.len()] == PathElement::AllElements)
        };
        let ok = match &value {
            Value::Object(m) => m.keys().all(|k| next_step_ok(&PathElement::Key(k.clone()))),
            Value::Array(a) => (0..a.len()).all(|i| next_step_ok(&PathElement::Index(i))),
            _ => false,
        };
        if !ok {
            return Err(AuthzError::NotGranted(d.to_string()));
        }
    }
    Ok(())
}

/// Checks the chain licence → delegation → agent, returning the enterprise key.
#[allow(clippy::too_many_arguments)]
fn check_delegation(
    licence: &str,
    delegation: &str,
    verified_licence: &VerifiedSdJwt,
    licence_issuer_keys: &[Jwk],
    agent_key: &Jwk,
    request: &AuthorizationRequest,
    status: &dyn StatusSource,
    now: i64,
) -> Result<Jwk, AuthzError> {
    // The delegator is the licence's holder.
    let enterprise = verified_licence
        .holder_key
        .clone()
        .ok_or(AuthzError::Mismatch("licence without holder key"))?;
    let options = VerifyOptions::vc(now).with_key_binding(&request.client_id, &request.nonce);
    let d = sd_jwt::verify(delegation, &enterprise.verifying_key()?, &options)?;
    let agent = d
        .holder_key
        .as_ref()
        .ok_or(AuthzError::Mismatch("delegation without agent key"))?;
    if agent.thumbprint() != agent_key.thumbprint() {
        return Err(AuthzError::Mismatch(
            "the agent did not sign the authorisation",
        ));
    }
    delegation::check_scope(
        &d.claims,
        verified_licence.vct().unwrap_or_default(),
        &request.satchel.purpose,
        &request.client_id,
    )?;
    if let Some(r) = d.claims.get("status").and_then(StatusReference::from_claim) {
        if status
            .status(&r, &enterprise, now)?
            .is_some_and(|s| s != VALID)
        {
            return Err(AuthzError::Withdrawn);
        }
    }
    // The licence's key binding must be the agent's.
    let check =
        KeyBindingCheck::new(&request.client_id, &request.nonce).with_delegated_key(agent.clone());
    verify_with_issuer_keys(licence_issuer_keys, |vk| {
        sd_jwt::verify_delegated(licence, vk, &VerifyOptions::vc(now), &check)
    })?;
    Ok(enterprise)
}
