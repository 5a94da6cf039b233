//! The relying party's surface (request, verify, meter) and trust
//! registries. Every rule is core's `authz::RelyingParty`.

use std::{path::PathBuf, sync::Arc};

use satchel_core::{
    self as core,
    authz::{self, Controller, CredentialQuery, PiplFlags, Terms},
    registry::Registry,
};

use crate::{records::claim_paths, run, transport, HttpTransport, SatchelError};

/// A trust registry: issuers and relying parties with their keys.
#[derive(uniffi::Object)]
pub struct TrustRegistry {
    pub(crate) inner: Registry,
}

#[uniffi::export]
impl TrustRegistry {
    /// A registry from a signed document (`satchel-registry+jwt`),
    /// verified with the operator's key (JWK JSON) at `now` (default: the
    /// system clock).
    #[uniffi::constructor]
    pub fn from_signed(
        token: String,
        operator_jwk: String,
        now: Option<i64>,
    ) -> Result<Arc<Self>, SatchelError> {
        let key = crate::jwk(&operator_jwk)?.verifying_key()?;
        let inner = Registry::verify(&token, &key, now.unwrap_or_else(core::unix_now))?;
        Ok(Arc::new(TrustRegistry { inner }))
    }

    /// A registry from its JSON contents (`{"issuers": [...], "relying_parties": [...]}`),
    /// for tests and locally configured trust.
    #[uniffi::constructor]
    pub fn from_json(json: String) -> Result<Arc<Self>, SatchelError> {
        Ok(Arc::new(TrustRegistry {
            inner: Registry::from_json(&json)?,
        }))
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

/// What a relying party asks for and on which terms. Defaults: legal basis
/// `Consent`, 30 days' retention, no onward transfer, no PIPL flags, a
/// request valid for 600 s, jurisdiction `CN`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RequestSpec {
    /// Credentials and claims.
    pub credentials: Vec<CredentialRequest>,
    /// DPV purpose, e.g. `IdentityVerification`.
    pub purpose: String,
    /// Authorised window start, Unix seconds.
    pub not_before: i64,
    /// Authorised window end, Unix seconds.
    pub not_after: i64,
    /// Maximum number of uses.
    pub max_uses: u32,
    /// Controller display name.
    pub controller_name: String,
    /// Where the wallet posts its response.
    pub response_uri: String,
    /// DPV legal basis.
    #[uniffi(default = "Consent")]
    pub legal_basis: String,
    /// Retention in days.
    #[uniffi(default = 30)]
    pub retention_days: u32,
    /// Whether onward transfer is asked.
    #[uniffi(default = false)]
    pub onward_transfer: bool,
    /// PIPL: sensitive personal information.
    #[uniffi(default = false)]
    pub sensitive: bool,
    /// PIPL: provision to a third party.
    #[uniffi(default = false)]
    pub third_party: bool,
    /// PIPL: cross-border transfer.
    #[uniffi(default = false)]
    pub cross_border: bool,
    /// Controller contact (PIPL art. 17).
    #[uniffi(default = "")]
    pub controller_contact: String,
    /// How long the request object is valid, seconds.
    #[uniffi(default = 600)]
    pub request_ttl_seconds: i64,
    /// Jurisdiction.
    #[uniffi(default = "CN")]
    pub jurisdiction: String,
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
    inner: Arc<authz::RelyingParty>,
}

fn terms(spec: &RequestSpec) -> Terms {
    let mut t = Terms::new(
        &spec.purpose,
        spec.not_before,
        spec.not_after,
        spec.max_uses,
        Controller {
            name: spec.controller_name.clone(),
            contact: spec.controller_contact.clone(),
        },
    );
    t.legal_basis = spec.legal_basis.clone();
    t.retention_days = spec.retention_days;
    t.onward_transfer = spec.onward_transfer;
    t.pipl = PiplFlags {
        sensitive: spec.sensitive,
        third_party: spec.third_party,
        cross_border: spec.cross_border,
    };
    t.jurisdiction = spec.jurisdiction.clone();
    t
}

#[uniffi::export]
impl RelyingParty {
    /// A relying party with a fresh ES256 key; its ledger at `ledger_path`
    /// (in memory if `null`).
    #[uniffi::constructor]
    pub async fn generate(
        client_id: String,
        ledger_path: Option<String>,
    ) -> Result<Arc<Self>, SatchelError> {
        run(move || {
            let key = core::SoftwareKey::generate_es256()?;
            Self::with_key(&client_id, key, ledger_path)
        })
        .await
    }

    /// A relying party with a private JWK.
    #[uniffi::constructor]
    pub async fn from_private_jwk(
        client_id: String,
        private_jwk: String,
        ledger_path: Option<String>,
    ) -> Result<Arc<Self>, SatchelError> {
        run(move || {
            let key = core::SoftwareKey::from_private_jwk(&private_jwk)?;
            Self::with_key(&client_id, key, ledger_path)
        })
        .await
    }

    /// The public key to register (JWK JSON).
    pub fn public_jwk(&self) -> String {
        self.inner.public_jwk().to_value().to_string()
    }

    /// Creates and signs a request object with a fresh nonce.
    pub fn create_request(&self, spec: RequestSpec) -> Result<String, SatchelError> {
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
        Ok(self.inner.create_request(
            credentials,
            terms(&spec),
            &spec.response_uri,
            Some(spec.request_ttl_seconds),
            core::unix_now(),
        )?)
    }

    /// Verifies a wallet's response (JSON) to `request` (the request object
    /// this relying party created) and registers the authorisation for use.
    pub async fn verify_response(
        &self,
        request: String,
        response_json: String,
        registry: Arc<TrustRegistry>,
    ) -> Result<VerifiedAuthorization, SatchelError> {
        let rp = self.inner.clone();
        run(move || {
            let v =
                rp.verify_response(&request, &response_json, &registry.inner, core::unix_now())?;
            Ok(VerifiedAuthorization {
                claims_json: serde_json::to_string(&v.claims).unwrap_or_default(),
                holder_jwk: v.holder_key.to_value().to_string(),
                delegated_by_json: serde_json::to_string(&v.delegated_by).unwrap_or_default(),
                id: v.id,
                purpose: v.purpose,
                not_before: v.not_before,
                not_after: v.not_after,
                max_uses: v.max_uses,
            })
        })
        .await
    }

    /// Records one use for `purpose`; refused beyond the limit, outside the
    /// window, for another purpose, or after withdrawal.
    pub async fn record_use(
        &self,
        authorization_id: String,
        purpose: String,
    ) -> Result<UseReceipt, SatchelError> {
        let rp = self.inner.clone();
        run(move || {
            let r = rp.record_use(&authorization_id, &purpose, core::unix_now())?;
            Ok(UseReceipt {
                receipt: r.jws,
                seq: r.seq,
                remaining: r.remaining,
            })
        })
        .await
    }

    /// Keeps the latest status list token published at `uri` (e.g. pushed
    /// to the relying party); uses and verifications consult it.
    pub fn update_status_list(&self, uri: String, token: String) {
        self.inner.update_status_list(&uri, &token);
    }

    /// Fetches the status list published at `uri` (over `transport`, by
    /// default the built-in HTTPS stack) and keeps it.
    pub async fn fetch_status_list(
        &self,
        uri: String,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<(), SatchelError> {
        let rp = self.inner.clone();
        let t = transport::transport_for(transport)?;
        run(move || Ok(rp.fetch_status_list(&uri, t.as_ref())?)).await
    }
}

impl RelyingParty {
    fn with_key(
        client_id: &str,
        key: core::SoftwareKey,
        ledger_path: Option<String>,
    ) -> Result<Arc<Self>, SatchelError> {
        let ledger = ledger_path.map(PathBuf::from);
        Ok(Arc::new(RelyingParty {
            inner: Arc::new(authz::RelyingParty::new(
                client_id,
                Arc::new(key),
                ledger.as_deref(),
            )?),
        }))
    }
}
