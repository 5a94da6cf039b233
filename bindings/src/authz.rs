//! The authorisation surface: relying parties (request, verify, meter),
//! trust registries, and the records the wallet's authorisation calls use.

use std::{path::PathBuf, sync::Arc};

use satchel_core::{
    self as core,
    authz::{self, AuthorizationRequest, Controller, CredentialQuery, DcqlQuery, PiplFlags, Terms},
    registry::Registry,
    Signer,
};

use crate::{records::claim_paths, SatchelError};

impl From<authz::AuthzError> for SatchelError {
    fn from(e: authz::AuthzError) -> Self {
        use authz::AuthzError::*;
        match e {
            Malformed(_) | UnknownTerm(_) | Key(_) => SatchelError::InvalidInput(e.to_string()),
            UnknownAuthorization(_) => SatchelError::NotFound(e.to_string()),
            Storage(_) => SatchelError::Storage(e.to_string()),
            _ => SatchelError::Rejected(e.to_string()),
        }
    }
}

/// A trust registry: issuers and relying parties with their keys.
#[derive(uniffi::Object)]
pub struct TrustRegistry {
    pub(crate) inner: Registry,
}

#[uniffi::export]
impl TrustRegistry {
    /// A registry from a signed document (`satchel-registry+jwt`),
    /// verified with the operator's key (JWK JSON).
    #[uniffi::constructor]
    pub fn from_signed(
        token: String,
        operator_jwk: String,
        now: Option<i64>,
    ) -> Result<Arc<Self>, SatchelError> {
        let key = core::Jwk::from_json(&operator_jwk)?.verifying_key()?;
        let inner = Registry::verify(&token, &key, now.unwrap_or_else(core::unix_now))
            .map_err(|e| SatchelError::Rejected(e.to_string()))?;
        Ok(Arc::new(TrustRegistry { inner }))
    }

    /// A registry from its JSON contents (`{"issuers": [...], "relying_parties": [...]}`),
    /// for tests and locally configured trust.
    #[uniffi::constructor]
    pub fn from_json(json: String) -> Result<Arc<Self>, SatchelError> {
        let value: serde_json::Value = serde_json::from_str(&json)
            .map_err(|e| SatchelError::InvalidInput(format!("registry: {e}")))?;
        if !value.is_object() {
            return Err(SatchelError::InvalidInput(
                "registry must be a JSON object".into(),
            ));
        }
        let inner: Registry = serde_json::from_value(value)
            .map_err(|e| SatchelError::InvalidInput(format!("registry: {e}")))?;
        Ok(Arc::new(TrustRegistry { inner }))
    }

    /// The registry as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.inner).unwrap_or_default()
    }
}

/// One credential asked for in a request.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CredentialRequest {
    /// Query id (keys the response).
    pub id: String,
    /// Accepted credential types (`vct`).
    pub vct_values: Vec<String>,
    /// Required claims (dotted paths).
    pub claims: Vec<String>,
    /// Optional claims (dotted paths).
    #[uniffi(default = [])]
    pub optional_claims: Vec<String>,
}

/// What a relying party asks for and on which terms.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RequestSpec {
    /// Credentials and claims.
    pub credentials: Vec<CredentialRequest>,
    /// DPV purpose, e.g. `IdentityVerification`.
    pub purpose: String,
    /// DPV legal basis, e.g. `Consent`.
    pub legal_basis: String,
    /// Authorised window start, Unix seconds.
    pub not_before: i64,
    /// Authorised window end, Unix seconds.
    pub not_after: i64,
    /// Maximum number of uses.
    pub max_uses: u32,
    /// Retention in days.
    pub retention_days: u32,
    /// Whether onward transfer is asked.
    pub onward_transfer: bool,
    /// PIPL: sensitive personal information.
    pub sensitive: bool,
    /// PIPL: provision to a third party.
    pub third_party: bool,
    /// PIPL: cross-border transfer.
    pub cross_border: bool,
    /// Controller display name.
    pub controller_name: String,
    /// Controller contact.
    pub controller_contact: String,
    /// Where the wallet posts its response.
    pub response_uri: String,
    /// How long the request object is valid, seconds.
    pub request_ttl_seconds: i64,
}

/// A verified authorisation as the relying party sees it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerifiedAuthorization {
    /// Authorisation id.
    pub id: String,
    /// DPV purpose.
    pub purpose: String,
    /// Window start.
    pub not_before: i64,
    /// Window end.
    pub not_after: i64,
    /// Maximum uses.
    pub max_uses: u32,
    /// The verified claims as JSON: `{query id: {claims}}`.
    pub claims_json: String,
    /// The holder (or agent) key, JWK JSON.
    pub holder_jwk: String,
    /// For delegated presentations: the enterprise key (JWK JSON) per query id, as JSON.
    pub delegated_by_json: String,
}

/// A recorded use.
#[derive(Debug, Clone, uniffi::Record)]
pub struct UseReceipt {
    /// The signed receipt to hand to the holder.
    pub receipt: String,
    /// 1 for the first use.
    pub seq: u32,
    /// Uses left.
    pub remaining: u32,
}

/// A relying party: creates signed requests, verifies responses, meters uses.
#[derive(uniffi::Object)]
pub struct RelyingParty {
    client_id: String,
    key: Arc<core::SoftwareKey>,
    ledger: authz::UsageLedger,
    status: authz::StatusCache,
}

#[uniffi::export]
impl RelyingParty {
    /// A relying party with a fresh ES256 key; its ledger at `ledger_path`
    /// (in memory if `null`).
    #[uniffi::constructor]
    pub fn generate(
        client_id: String,
        ledger_path: Option<String>,
    ) -> Result<Arc<Self>, SatchelError> {
        Self::with_key(client_id, core::SoftwareKey::generate_es256()?, ledger_path)
    }

    /// A relying party with a private JWK.
    #[uniffi::constructor]
    pub fn from_private_jwk(
        client_id: String,
        private_jwk: String,
        ledger_path: Option<String>,
    ) -> Result<Arc<Self>, SatchelError> {
        Self::with_key(
            client_id,
            core::SoftwareKey::from_private_jwk(&private_jwk)?,
            ledger_path,
        )
    }

    /// The public key to register (JWK JSON).
    pub fn public_jwk(&self) -> String {
        self.key.public_jwk().to_value().to_string()
    }

    /// Creates and signs a request object with a fresh nonce.
    pub fn create_request(&self, spec: RequestSpec) -> Result<String, SatchelError> {
        let now = core::unix_now();
        let credentials = spec
            .credentials
            .iter()
            .map(|c| {
                Ok(CredentialQuery::sd_jwt_vc(
                    &c.id,
                    &c.vct_values,
                    &claim_paths(&c.claims)?,
                    &claim_paths(&c.optional_claims)?,
                ))
            })
            .collect::<Result<Vec<_>, SatchelError>>()?;
        let request = AuthorizationRequest {
            client_id: self.client_id.clone(),
            response_uri: spec.response_uri,
            nonce: core::b64::encode(core::b64::random_bytes::<18>()),
            state: None,
            iat: now,
            exp: now + spec.request_ttl_seconds,
            dcql_query: DcqlQuery { credentials },
            satchel: Terms {
                purpose: spec.purpose,
                legal_basis: spec.legal_basis,
                not_before: spec.not_before,
                not_after: spec.not_after,
                max_uses: spec.max_uses,
                retention_days: spec.retention_days,
                onward_transfer: spec.onward_transfer,
                pipl: PiplFlags {
                    sensitive: spec.sensitive,
                    third_party: spec.third_party,
                    cross_border: spec.cross_border,
                },
                controller: Controller {
                    name: spec.controller_name,
                    contact: spec.controller_contact,
                },
                jurisdiction: "CN".into(),
            },
        };
        Ok(request.sign(self.key.as_ref())?)
    }

    /// Verifies a wallet's response (JSON) to `request` (the request object
    /// this relying party created) and registers the authorisation for use.
    pub fn verify_response(
        &self,
        request: String,
        response_json: String,
        registry: Arc<TrustRegistry>,
    ) -> Result<VerifiedAuthorization, SatchelError> {
        let response: authz::AuthorizationResponse = serde_json::from_str(&response_json)
            .map_err(|e| SatchelError::InvalidInput(format!("response: {e}")))?;
        let v = authz::verify_response(
            &response,
            &request,
            &registry.inner,
            &self.status,
            core::unix_now(),
        )?;
        self.ledger.register(&v)?;
        Ok(VerifiedAuthorization {
            id: v.id,
            purpose: v.purpose,
            not_before: v.not_before,
            not_after: v.not_after,
            max_uses: v.max_uses,
            claims_json: serde_json::to_string(&v.claims).unwrap_or_default(),
            holder_jwk: v.holder_key.to_value().to_string(),
            delegated_by_json: serde_json::to_string(&v.delegated_by).unwrap_or_default(),
        })
    }

    /// Records one use for `purpose`; refused beyond the limit, outside the
    /// window, for another purpose, or after withdrawal.
    pub fn record_use(
        &self,
        authorization_id: String,
        purpose: String,
    ) -> Result<UseReceipt, SatchelError> {
        let r =
            self.ledger
                .record_use(&authorization_id, &purpose, core::unix_now(), &self.status)?;
        Ok(UseReceipt {
            receipt: r.jws,
            seq: r.seq,
            remaining: r.remaining,
        })
    }

    /// Stores the latest status list token published at `uri` (e.g. fetched
    /// from the server); uses and verifications consult it.
    pub fn update_status_list(&self, uri: String, token: String) {
        self.status.publish(&uri, &token);
    }
}

impl RelyingParty {
    fn with_key(
        client_id: String,
        key: core::SoftwareKey,
        ledger_path: Option<String>,
    ) -> Result<Arc<Self>, SatchelError> {
        let key = Arc::new(key);
        let ledger = authz::UsageLedger::open(
            ledger_path.map(PathBuf::from).as_deref(),
            &client_id,
            key.clone(),
        )?;
        Ok(Arc::new(RelyingParty {
            client_id,
            key,
            ledger,
            status: authz::StatusCache::new(),
        }))
    }
}
