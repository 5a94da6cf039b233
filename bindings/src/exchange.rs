//! The network side of presenting: the server's signed registry, the
//! request object behind a scanned `openid4vp://` QR code, and the response
//! posted back. Conversions only: the rules are core's.

use std::sync::Arc;

use satchel_core::{self as core, authz};

use crate::{relying::TrustRegistry, run, transport, HttpTransport, SatchelError};

#[uniffi::export]
impl TrustRegistry {
    /// Fetches the server's signed registry and verifies it with
    /// `operator_jwk` (JWK JSON) when pinned, else with the key the server
    /// publishes (trust on first use: pin it where it matters).
    #[uniffi::constructor]
    pub async fn fetch(
        server_url: String,
        operator_jwk: Option<String>,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<Arc<Self>, SatchelError> {
        let transport = transport::transport_for(transport)?;
        let pinned = operator_jwk.map(|j| crate::jwk(&j)).transpose()?;
        run(move || {
            let inner = core::client::fetch_registry(
                &server_url,
                transport.as_ref(),
                pinned.as_ref(),
                core::unix_now(),
            )?;
            Ok(Arc::new(TrustRegistry { inner }))
        })
        .await
    }
}

/// The signed request object behind what was scanned: an
/// `openid4vp://` URI (by value, or fetched through its `request_uri`) or
/// the object itself. Review it with `Wallet.reviewRequest`.
#[uniffi::export]
pub async fn fetch_request(
    scanned: String,
    transport: Option<Arc<dyn HttpTransport>>,
) -> Result<String, SatchelError> {
    let transport = transport::transport_for(transport)?;
    run(move || {
        Ok(authz::exchange::fetch_request(
            &scanned,
            transport.as_ref(),
        )?)
    })
    .await
}

/// Posts an approval's `response_json` to the request's `response_uri`
/// (`RequestReview.responseUri`), as OpenID4VP `direct_post`.
#[uniffi::export]
pub async fn post_response(
    response_uri: String,
    response_json: String,
    transport: Option<Arc<dyn HttpTransport>>,
) -> Result<(), SatchelError> {
    let transport = transport::transport_for(transport)?;
    let response: authz::AuthorizationResponse = serde_json::from_str(&response_json)
        .map_err(|_| crate::error::invalid("malformed response"))?;
    run(move || {
        Ok(authz::exchange::post_response(
            &response_uri,
            &response,
            transport.as_ref(),
        )?)
    })
    .await
}

/// Whether the claim at a dotted `path` is sensitive personal information
/// (PIPL art. 28), so a wallet asks a separate consent for it (art. 29).
#[uniffi::export]
pub fn is_sensitive_claim(path: String) -> bool {
    authz::is_sensitive_claim(&path)
}

/// The delegation and the licence a company hands its agent.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HandOver {
    /// The delegation JWS.
    pub delegation: String,
    /// The licence, an SD-JWT VC with its disclosures.
    pub licence: String,
}

/// The text a company hands its agent (QR code or share sheet) for a
/// delegation and the licence it covers.
#[uniffi::export]
pub fn hand_over(delegation: String, licence: String) -> String {
    satchel_core::delegation::hand_over(&delegation, &licence)
}

/// Splits a hand-over the agent scanned or pasted; `InvalidInput` for
/// anything else. Both parts are verified when stored.
#[uniffi::export]
pub fn read_hand_over(text: String) -> Result<HandOver, SatchelError> {
    satchel_core::delegation::read_hand_over(&text)
        .map(|(d, l)| HandOver {
            delegation: d.to_owned(),
            licence: l.to_owned(),
        })
        .ok_or_else(|| crate::error::invalid("this is not a delegation from a company"))
}
