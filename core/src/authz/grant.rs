//! The holder's side of an authorisation: what the user approved, the
//! holder-signed authorisation, the response sent to the relying party, and
//! the holder-signed withdrawal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AuthzError, PiplFlags, AUTHORIZATION_TYP, WITHDRAWAL_TYP};
use crate::{jws, sd_jwt::ClaimPath, status_list::StatusReference, Signer};

/// What the user picked for one credential query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The DCQL credential query answered.
    pub query_id: String,
    /// The credential used.
    pub credential_id: String,
    /// The claims disclosed (a subset of those asked).
    pub claims: Vec<ClaimPath>,
}

/// The user's decision on a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Approval {
    /// One selection per credential query answered.
    pub selections: Vec<Selection>,
    /// Fewer uses than asked (never more).
    pub max_uses: Option<u32>,
    /// An earlier end than asked (never later).
    pub not_after: Option<i64>,
    /// The user saw that the relying party is not (fully) trusted and accepts it.
    pub accept_untrusted: bool,
}

/// The claims granted from one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The DCQL credential query id.
    pub query_id: String,
    /// Credential type.
    pub vct: String,
    /// Credential issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_issuer: Option<String>,
    /// Granted claim paths (JSON array form).
    pub claims: Vec<Value>,
}

/// A holder-signed data-use authorisation (`satchel-authz+jwt` payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// Unique id.
    pub jti: String,
    /// The holder: `urn:satchel:holder:<JWK thumbprint>`.
    pub iss: String,
    /// The relying party (`client_id`).
    pub aud: String,
    /// Signed at.
    pub iat: i64,
    /// Valid from.
    pub nbf: i64,
    /// Valid until.
    pub exp: i64,
    /// base64url SHA-256 of the request object answered.
    pub request_hash: String,
    /// The request's nonce.
    pub nonce: String,
    /// DPV purpose.
    pub purpose: String,
    /// DPV legal basis.
    pub legal_basis: String,
    /// What was granted, per credential.
    pub grants: Vec<Grant>,
    /// Maximum uses.
    pub max_uses: u32,
    /// Whether onward transfer is allowed.
    pub onward_transfer: bool,
    /// Retention in days.
    pub retention_days: u32,
    /// PIPL separate-consent flags the user consented to.
    pub pipl: PiplFlags,
    /// Where the withdrawal of this authorisation is published.
    pub status: Value,
}

impl Authorization {
    /// The status list reference.
    pub fn status_reference(&self) -> Option<StatusReference> {
        StatusReference::from_claim(&self.status)
    }

    /// The holder URN for a key thumbprint.
    pub fn holder_urn(thumbprint: &str) -> String {
        format!("urn:satchel:holder:{thumbprint}")
    }

    /// Signs as `satchel-authz+jwt`, with the holder key in the header.
    pub fn sign(&self, signer: &dyn Signer) -> Result<String, AuthzError> {
        let mut header = jws::header_with_typ(AUTHORIZATION_TYP);
        let jwk = signer.public_jwk();
        header.insert("kid".into(), Value::from(jwk.thumbprint()));
        header.insert("jwk".into(), jwk.to_value());
        let payload =
            serde_json::to_value(self).map_err(|e| AuthzError::Malformed(e.to_string()))?;
        Ok(jws::sign(header, &payload, signer)?)
    }
}

/// What the wallet posts to the request's `response_uri` (`direct_post`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationResponse {
    /// OpenID4VP 1.0 DCQL response: query id → presentations.
    pub vp_token: BTreeMap<String, Vec<String>>,
    /// The holder-signed authorisation.
    pub satchel_authorization: String,
    /// For credentials presented by an agent: query id → the delegation
    /// credential presentation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub satchel_delegations: BTreeMap<String, String>,
    /// The request's `state`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl AuthorizationResponse {
    /// The JSON body posted to the relying party.
    pub fn to_json(&self) -> String {
        // Strings and maps of strings always serialise.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What the holder publishes when withdrawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// The holder-signed withdrawal (`satchel-withdrawal+jwt`).
    pub revocation: String,
    /// The holder's updated status list token to publish.
    pub status_list_token: String,
    /// Where it is published.
    pub status_uri: String,
}

/// Signs a withdrawal of authorisation `authz_id`.
pub(crate) fn sign_withdrawal(
    authz_id: &str,
    audience: &str,
    iat: i64,
    signer: &dyn Signer,
) -> Result<String, AuthzError> {
    let payload = serde_json::json!({
        "jti": crate::b64::new_id(),
        "authorization": authz_id,
        "aud": audience,
        "iat": iat,
        "iss": Authorization::holder_urn(&signer.public_jwk().thumbprint()),
    });
    Ok(jws::sign(
        jws::header_with_typ(WITHDRAWAL_TYP),
        &payload,
        signer,
    )?)
}
