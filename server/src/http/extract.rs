//! Who is calling: extractors for a signed device, a signed relying party
//! and the operator, so no handler repeats the authentication dance. The
//! signed ones read the body (the signature covers it) with the size limit.

use axum::extract::FromRequestParts;

use super::*;

/// A request signed by an enrolled device (or, for space registration, by
/// the device the body introduces), with its body.
pub(super) struct SignedDevice {
    pub device: DeviceRow,
    pub body: Bytes,
}

impl<S: Store> FromRequest<Shared<S>> for SignedDevice {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &Shared<S>) -> Result<Self, Problem> {
        let (input, body) = SignatureInput::read(req, state).await?;
        let device = authed(state, input, &body).await?;
        Ok(SignedDevice { device, body })
    }
}

/// What a request signature covers besides the body: the `Authorization`
/// header, the method and the path with its query.
pub(super) struct SignatureInput {
    pub authorization: Option<String>,
    pub method: String,
    pub path_and_query: String,
}

impl SignatureInput {
    /// The signature input of `req`, and its body read with the size limit.
    pub(super) async fn read<S: Store>(
        req: Request,
        state: &Shared<S>,
    ) -> Result<(SignatureInput, Bytes), Problem> {
        let input = SignatureInput {
            authorization: req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            method: req.method().to_string(),
            path_and_query: req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
        };
        let LimitedBody(body) = LimitedBody::from_request(req, state).await?;
        Ok((input, body))
    }

    /// The parts the service checks the signature against.
    pub(super) fn parts<'a>(&'a self, body: &'a [u8]) -> RequestParts<'a> {
        RequestParts {
            method: &self.method,
            path_and_query: &self.path_and_query,
            body,
        }
    }
}

/// A request signed with a registered relying party's key, with its body.
pub(super) struct SignedRelyingParty {
    pub client_id: String,
    pub body: Bytes,
}

impl<S: Store> FromRequest<Shared<S>> for SignedRelyingParty {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &Shared<S>) -> Result<Self, Problem> {
        let (input, body) = SignatureInput::read(req, state).await?;
        let client_id = rp_authed(state, input, &body).await?;
        Ok(SignedRelyingParty { client_id, body })
    }
}

/// The operator (the admin bearer token; operator endpoints are off
/// without one configured).
pub(super) struct Operator;

impl<S: Store> FromRequestParts<Shared<S>> for Operator {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Shared<S>,
    ) -> Result<Self, Problem> {
        admin(state, &parts.headers).map(|()| Operator)
    }
}

/// Who signed a request: a device or a relying party.
pub(super) enum Signer {
    Device,
    RelyingParty,
}

/// Checks a signed request (signature, replay, rate limit per key) off the
/// async threads; returns the device or the relying party's `client_id`.
pub(super) async fn signed_by<S: Store>(
    state: &Shared<S>,
    who: Signer,
    input: SignatureInput,
    body: &Bytes,
) -> Result<(String, Option<DeviceRow>), Problem> {
    let body = body.clone();
    blocking(state, move |s| {
        let parts = input.parts(&body);
        let auth = input.authorization.as_deref();
        let (id, device) = match who {
            Signer::Device => {
                let d = s.service.authenticate(auth, parts, now(), None)?;
                (d.id.clone(), Some(d))
            }
            Signer::RelyingParty => (s.service.authenticate_rp(auth, parts, now())?, None),
        };
        if !s.allow(&id) {
            return Err(ServiceError::RateLimited);
        }
        Ok((id, device))
    })
    .await
}

/// Authenticates a device request.
pub(super) async fn authed<S: Store>(
    state: &Shared<S>,
    input: SignatureInput,
    body: &Bytes,
) -> Result<DeviceRow, Problem> {
    let (_, device) = signed_by(state, Signer::Device, input, body).await?;
    device.ok_or_else(|| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "unknown device",
        )
    })
}

/// Authenticates a relying party's request (signature by its registered key).
pub(super) async fn rp_authed<S: Store>(
    state: &Shared<S>,
    input: SignatureInput,
    body: &Bytes,
) -> Result<String, Problem> {
    Ok(signed_by(state, Signer::RelyingParty, input, body).await?.0)
}

pub(super) fn admin<S: Store>(state: &Shared<S>, headers: &HeaderMap) -> Result<(), Problem> {
    if state.is_admin(headers) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "operator endpoints need Authorization: Bearer <admin token>",
        ))
    }
}
