//! `HttpTransport`: the HTTP stack apps bring (OkHttp, URLSession), and
//! the network calls that use it.

use std::sync::Arc;

use satchel_core::{self as core, client};

use crate::{authz::TrustRegistry, Credential, SatchelError, Wallet};

/// An HTTP header.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpHeader {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// An HTTP request Satchel asks the app to send.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpRequest {
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<HttpHeader>,
    /// Body.
    pub body: Vec<u8>,
}

/// The answer.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<HttpHeader>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why sending failed (no connection, TLS, timeout…).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// The request could not be sent or answered.
    #[error("transport failed: {reason}")]
    Failed {
        /// What happened.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Failed { reason: e.reason }
    }
}

/// Sends HTTP requests for Satchel, with the app's own HTTP stack (and its
/// TLS configuration). Called off the main thread; may block.
#[uniffi::export(with_foreign)]
pub trait HttpTransport: Send + Sync {
    /// Sends one request and returns the answer (any status).
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Adapts an app's `HttpTransport` to core's `Transport`.
pub(crate) struct ForeignTransport(pub Arc<dyn HttpTransport>);

fn headers(h: &[(String, String)]) -> Vec<HttpHeader> {
    h.iter()
        .map(|(name, value)| HttpHeader {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

impl client::Transport for ForeignTransport {
    fn send(&self, r: client::HttpRequest) -> Result<client::HttpResponse, client::ClientError> {
        let answer = self
            .0
            .send(HttpRequest {
                method: r.method,
                url: r.url,
                headers: headers(&r.headers),
                body: r.body,
            })
            .map_err(|e| client::ClientError::Transport(e.to_string()))?;
        Ok(client::HttpResponse {
            status: answer.status,
            headers: answer
                .headers
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            body: answer.body,
        })
    }
}

#[uniffi::export]
impl Wallet {
    /// Receives a credential offered with a pre-authorised code
    /// (OpenID4VCI 1.0; `offer` is the offer JSON or an
    /// `openid-credential-offer://` URI) into the space. The issuer must be
    /// in `registry`; the proof of possession is signed by the space's
    /// holder key; the credential is verified before it is stored.
    pub fn receive_credential(
        &self,
        space_id: String,
        offer: String,
        transport: Arc<dyn HttpTransport>,
        registry: Arc<TrustRegistry>,
    ) -> Result<Credential, SatchelError> {
        let offer = core::issuance::CredentialOffer::parse(&offer)?;
        let t = ForeignTransport(transport);
        Ok(self
            .inner
            .receive_credential(&space_id, &offer, &t, &registry.inner, core::unix_now())?
            .into())
    }
}
