//! The relying party's request object and its parsing on the holder side.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{dpv_term, AuthzError, DcqlQuery, Terms, DPV_LEGAL_BASES, DPV_PURPOSES, REQUEST_TYP};
use crate::{b64, jws, registry::TrustRegistry, Jwk, Signer};

/// An authorisation request (OpenID4VP 1.0 request object, `direct_post`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The relying party's identifier.
    pub client_id: String,
    /// Where the wallet posts the response.
    pub response_uri: String,
    /// Fresh per request; binds presentations and the authorisation.
    pub nonce: String,
    /// Opaque relying-party state echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// The request object expires at, Unix seconds.
    pub exp: i64,
    /// What credentials and claims are asked for.
    pub dcql_query: DcqlQuery,
    /// Satchel's terms: purpose, window, uses, retention, PIPL flags.
    pub satchel: Terms,
}

/// How far the holder can trust who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RpTrust {
    /// Registered, signed with a registered key, purpose allowed.
    Trusted {
        /// Registered display name.
        name: String,
    },
    /// Registered, but not for this purpose.
    PurposeNotAllowed {
        /// Registered display name.
        name: String,
    },
    /// Not in the registry: the signature only shows the request is intact.
    Unknown,
}

/// A request checked on the holder side.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRequest {
    /// The request object as received.
    pub jws: String,
    /// Its contents.
    pub request: AuthorizationRequest,
    /// base64url SHA-256 of the request object (bound into the authorisation).
    pub hash: String,
    /// The key that signed it.
    pub rp_key: Jwk,
    /// What the registry says about the relying party.
    pub trust: RpTrust,
}

impl AuthorizationRequest {
    /// Checks the request's own consistency (terms, DCQL).
    pub fn validate(&self) -> Result<(), AuthzError> {
        dpv_term(&self.satchel.purpose, DPV_PURPOSES)
            .ok_or_else(|| AuthzError::UnknownTerm(self.satchel.purpose.clone()))?;
        dpv_term(&self.satchel.legal_basis, DPV_LEGAL_BASES)
            .ok_or_else(|| AuthzError::UnknownTerm(self.satchel.legal_basis.clone()))?;
        if self.client_id.is_empty() || self.nonce.len() < 8 {
            return Err(AuthzError::Malformed(
                "client_id and a nonce of 8+ characters are required".into(),
            ));
        }
        if self.satchel.not_after <= self.satchel.not_before || self.satchel.max_uses == 0 {
            return Err(AuthzError::Malformed(
                "validity window or max_uses is empty".into(),
            ));
        }
        self.dcql_query.validate()
    }

    /// Signs the request object with the relying party's key. The public key
    /// goes in the header (`jwk`) so a wallet can check integrity even when
    /// the relying party is not registered.
    pub fn sign(&self, signer: &dyn Signer) -> Result<String, AuthzError> {
        self.validate()?;
        let mut payload =
            serde_json::to_value(self).map_err(|e| AuthzError::Malformed(e.to_string()))?;
        payload["response_type"] = Value::from("vp_token");
        payload["response_mode"] = Value::from("direct_post");
        payload["iss"] = Value::from(self.client_id.clone());
        let mut header = jws::header_with_typ(REQUEST_TYP);
        header.insert("jwk".into(), signer.public_jwk().to_value());
        Ok(jws::sign(header, &payload, signer)?)
    }
}

/// Verifies a request object on the holder side. A registered relying party
/// must have signed with a registered key; an unregistered one is reported as
/// [`RpTrust::Unknown`] (its header key proves only integrity).
pub fn parse_request(
    jws_text: &str,
    registry: &dyn TrustRegistry,
    now: i64,
) -> Result<ParsedRequest, AuthzError> {
    let jws_text = jws_text.trim();
    if jws_text.len() > 64 * 1024 {
        return Err(AuthzError::Malformed("request larger than 64 KiB".into()));
    }
    let jwt = jws::decode(jws_text)?;
    if !jwt.header.typ_is(REQUEST_TYP) {
        return Err(AuthzError::WrongTyp(REQUEST_TYP));
    }
    let request: AuthorizationRequest = jwt
        .payload_as()
        .map_err(|e| AuthzError::Malformed(e.to_string()))?;
    let header: Value = serde_json::from_slice(
        &b64::decode(jws_text.split('.').next().unwrap_or_default()).unwrap_or_default(),
    )
    .unwrap_or_default();
    let header_key = header.get("jwk").map(Jwk::from_value).transpose()?;

    let (rp_key, trust) = match registry.relying_party(&request.client_id) {
        Some(rp) => {
            let key = rp
                .keys
                .iter()
                .find(|k| k.verifying_key().is_ok_and(|vk| jwt.verify(&vk).is_ok()))
                .cloned()
                .ok_or_else(|| AuthzError::UntrustedKey(request.client_id.clone()))?;
            let allowed = rp.allowed_purposes.is_empty()
                || rp.allowed_purposes.iter().any(|p| {
                    dpv_term(p, DPV_PURPOSES) == dpv_term(&request.satchel.purpose, DPV_PURPOSES)
                });
            let trust = if allowed {
                RpTrust::Trusted { name: rp.name }
            } else {
                RpTrust::PurposeNotAllowed { name: rp.name }
            };
            (key, trust)
        }
        None => {
            let key = header_key.ok_or(AuthzError::Malformed(
                "unregistered relying party without a header jwk".into(),
            ))?;
            jwt.verify(&key.verifying_key()?)?;
            (key, RpTrust::Unknown)
        }
    };
    if now >= request.exp {
        return Err(AuthzError::RequestExpired);
    }
    request.validate()?;
    Ok(ParsedRequest {
        jws: jws_text.to_owned(),
        hash: b64::sha256_b64(jws_text.as_bytes()),
        request,
        rp_key,
        trust,
    })
}
