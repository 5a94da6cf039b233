//! The relying party as one object: its key, its usage ledger and the
//! status lists it has fetched. Creates requests, verifies responses and
//! meters uses; the CLI, the demo and the bindings all use it.

use std::{path::Path, sync::Arc};

use super::{
    verify_response, AuthorizationRequest, AuthorizationResponse, AuthzError, Controller,
    CredentialQuery, DcqlQuery, PiplFlags, StatusCache, Terms, UsageLedger, UseReceipt,
    VerifiedAuthorization,
};
use crate::{
    b64,
    client::{ClientError, HttpRequest, Transport},
    registry::TrustRegistry,
    Jwk, Signer, SoftwareKey,
};

/// How long a request object is valid unless the caller says otherwise.
pub const DEFAULT_REQUEST_TTL: i64 = 600;
/// Retention asked for unless the caller says otherwise, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// Jurisdiction of requests unless the caller says otherwise.
pub const DEFAULT_JURISDICTION: &str = "CN";

impl Terms {
    /// Terms for `purpose` over `[not_before, not_after)` with at most
    /// `max_uses` uses, asked by `controller`; legal basis `Consent`,
    /// [`DEFAULT_RETENTION_DAYS`], no onward transfer, no PIPL flags,
    /// [`DEFAULT_JURISDICTION`]. Set the public fields to change these.
    pub fn new(
        purpose: &str,
        not_before: i64,
        not_after: i64,
        max_uses: u32,
        controller: Controller,
    ) -> Self {
        Terms {
            purpose: purpose.to_owned(),
            legal_basis: "Consent".into(),
            not_before,
            not_after,
            max_uses,
            retention_days: DEFAULT_RETENTION_DAYS,
            onward_transfer: false,
            pipl: PiplFlags::default(),
            controller,
            jurisdiction: DEFAULT_JURISDICTION.into(),
        }
    }
}

impl AuthorizationRequest {
    /// A request from `client_id` for `credentials` on `terms`, with a fresh
    /// nonce, issued `now` and valid for [`DEFAULT_REQUEST_TTL`] seconds.
    pub fn new(
        client_id: &str,
        response_uri: &str,
        credentials: Vec<CredentialQuery>,
        terms: Terms,
        now: i64,
    ) -> Self {
        AuthorizationRequest {
            client_id: client_id.to_owned(),
            response_uri: response_uri.to_owned(),
            nonce: b64::encode(b64::random_bytes::<18>()),
            state: None,
            iat: now,
            exp: now + DEFAULT_REQUEST_TTL,
            dcql_query: DcqlQuery { credentials },
            satchel: terms,
        }
    }
}

/// Why refreshing an authorisation's status failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The authorisation is unknown or the ledger failed.
    #[error(transparent)]
    Ledger(#[from] AuthzError),
    /// The status list could not be fetched.
    #[error("status list: {0}")]
    Fetch(#[from] ClientError),
}

/// A relying party: signs requests, verifies wallets' responses, registers
/// the authorisations and meters every use.
pub struct RelyingParty {
    client_id: String,
    key: Arc<SoftwareKey>,
    ledger: UsageLedger,
    status: StatusCache,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// A relying party `client_id` signing with `key`, its ledger at
    /// `ledger` (in memory with `None`).
    pub fn new(
        client_id: &str,
        key: Arc<SoftwareKey>,
        ledger: Option<&Path>,
    ) -> Result<Self, AuthzError> {
        if client_id.is_empty() {
            return Err(AuthzError::Malformed("client_id is empty".into()));
        }
        let ledger = UsageLedger::open(ledger, client_id, key.clone())?;
        Ok(RelyingParty {
            client_id: client_id.to_owned(),
            key,
            ledger,
            status: StatusCache::new(),
        })
    }

    /// Its identifier.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Its public key (to register with the operator).
    pub fn public_jwk(&self) -> Jwk {
        self.key.public_jwk()
    }

    /// Its signing key (also the key of its signed server requests).
    pub fn key(&self) -> Arc<SoftwareKey> {
        self.key.clone()
    }

    /// Its usage ledger.
    pub fn ledger(&self) -> &UsageLedger {
        &self.ledger
    }

    /// Builds and signs a request for `credentials` on `terms`, answered at
    /// `response_uri`, valid for `ttl_seconds` (default
    /// [`DEFAULT_REQUEST_TTL`]).
    pub fn create_request(
        &self,
        credentials: Vec<CredentialQuery>,
        terms: Terms,
        response_uri: &str,
        ttl_seconds: Option<i64>,
        now: i64,
    ) -> Result<String, AuthzError> {
        let mut request =
            AuthorizationRequest::new(&self.client_id, response_uri, credentials, terms, now);
        if let Some(ttl) = ttl_seconds {
            if !(1..=86_400).contains(&ttl) {
                return Err(AuthzError::Malformed(
                    "request lifetime must be 1 s to 1 day".into(),
                ));
            }
            request.exp = now + ttl;
        }
        self.sign_request(&request)
    }

    /// Signs a request this relying party built itself.
    pub fn sign_request(&self, request: &AuthorizationRequest) -> Result<String, AuthzError> {
        if request.client_id != self.client_id {
            return Err(AuthzError::Mismatch("request is for another client_id"));
        }
        request.sign(self.key.as_ref())
    }

    /// Verifies a wallet's response (JSON) to `request` (a request object
    /// this relying party signed) and registers the authorisation for use.
    pub fn verify_response(
        &self,
        request: &str,
        response_json: &str,
        registry: &dyn TrustRegistry,
        now: i64,
    ) -> Result<VerifiedAuthorization, AuthzError> {
        let response: AuthorizationResponse = serde_json::from_str(response_json)
            .map_err(|_| AuthzError::Malformed("the response is not a wallet response".into()))?;
        let verified = verify_response(&response, request, registry, &self.status, now)?;
        self.ledger.register(&verified)?;
        Ok(verified)
    }

    /// Records one use for `purpose`; refused beyond the limit, outside the
    /// window, for another purpose, or after withdrawal.
    pub fn record_use(
        &self,
        authorization_id: &str,
        purpose: &str,
        now: i64,
    ) -> Result<UseReceipt, AuthzError> {
        self.ledger
            .record_use(authorization_id, purpose, now, &self.status)
    }

    /// Keeps the newest status list token published at `uri`; uses and
    /// verifications consult it (its signature is checked when read).
    pub fn update_status_list(&self, uri: &str, token: &str) {
        self.status.publish(uri, token);
    }

    /// Fetches the status list token published at `uri` (an HTTP GET over
    /// `transport`) and keeps it; its signature is checked when a use or a
    /// verification reads it.
    pub fn fetch_status_list(
        &self,
        uri: &str,
        transport: &dyn Transport,
    ) -> Result<(), ClientError> {
        let answer = transport.send(HttpRequest {
            method: "GET".into(),
            url: uri.to_owned(),
            headers: vec![("Accept".into(), "application/statuslist+jwt".into())],
            body: Vec::new(),
        })?;
        if answer.status != 200 {
            return Err(ClientError::Server {
                status: answer.status,
                code: "status_list_unavailable".into(),
                detail: "the status list could not be fetched".into(),
            });
        }
        let token = String::from_utf8(answer.body)
            .map_err(|_| ClientError::Malformed("status list token is not text".into()))?;
        self.update_status_list(uri, token.trim());
        Ok(())
    }

    /// Fetches the status list the holder of `authorization_id` publishes
    /// its withdrawal in (if it has one), so the next use sees a withdrawal.
    /// A list not published yet (404) means nothing was withdrawn.
    pub fn refresh_status(
        &self,
        authorization_id: &str,
        transport: &dyn Transport,
    ) -> Result<(), RefreshError> {
        let Some(reference) = self.ledger.status_reference(authorization_id)? else {
            return Ok(());
        };
        match self.fetch_status_list(&reference.uri, transport) {
            // Nothing published yet: the holder has withdrawn nothing there.
            Err(ClientError::Server { status: 404, .. }) => Ok(()),
            other => Ok(other?),
        }
    }

    /// The status lists this relying party consults.
    pub fn status_lists(&self) -> &StatusCache {
        &self.status
    }
}
