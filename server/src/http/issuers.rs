//! The demo issuers' OpenID4VCI endpoints (`--demo`) and their operator endpoints.

use super::*;

#[utoipa::path(
    get,
    path = "/.well-known/openid-credential-issuer/issuers/{name}",
    tag = "issuers",
    summary = "Credential issuer metadata (OpenID4VCI)",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)")),
    responses((status = 200, description = "The metadata", body = Object))
)]
pub(super) async fn issuer_metadata<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        blocking(&s, move |st| st.service.issuer_metadata(&name)).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server/issuers/{name}",
    tag = "issuers",
    summary = "Authorization server metadata (RFC 8414)",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)")),
    responses((status = 200, description = "The metadata", body = Object))
)]
pub(super) async fn as_metadata<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        blocking(&s, move |st| {
            st.service.authorization_server_metadata(&name)
        })
        .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/.well-known/jwt-vc-issuer/issuers/{name}",
    tag = "issuers",
    summary = "Issuer keys (SD-JWT VC JWT VC Issuer Metadata)",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)")),
    responses((status = 200, description = "The metadata", body = Object))
)]
pub(super) async fn jwt_vc_issuer<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        blocking(&s, move |st| st.service.jwt_vc_issuer(&name)).await?,
    ))
}

pub(super) fn oauth_error(e: crate::service::issuers::OAuthError) -> Response {
    let status = if e.error == "invalid_token" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        Json(OAuthErrorBody {
            error: e.error.to_owned(),
            error_description: e.description,
        }),
    )
        .into_response()
}

fn invalid_request(e: impl std::fmt::Display) -> Response {
    oauth_error(crate::service::issuers::OAuthError {
        error: "invalid_request",
        description: e.to_string(),
    })
}

/// Runs an OpenID4VCI step off the async threads; its refusals are OAuth
/// errors.
async fn oauth_step<S: Store>(
    s: &Shared<S>,
    f: impl FnOnce(&AppState<S>) -> Result<Value, crate::service::issuers::OAuthError> + Send + 'static,
) -> Result<Value, Response> {
    let st = s.clone();
    match tokio::task::spawn_blocking(move || f(&st)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(oauth_error(e)),
        Err(_) => Err(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "request failed",
        )
        .into_response()),
    }
}

/// The token request (pre-authorised code grant).
#[derive(Deserialize, ToSchema)]
pub(super) struct TokenForm {
    /// `urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    grant_type: String,
    /// From the credential offer.
    #[serde(rename = "pre-authorized_code")]
    pre_authorized_code: String,
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Serialize, ToSchema)]
pub(super) struct OAuthErrorBody {
    error: String,
    error_description: String,
}

#[utoipa::path(
    post,
    path = "/issuers/{name}/token",
    tag = "issuers",
    summary = "Token endpoint (pre-authorised code)",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)")),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Access token", body = Object),
        (status = 400, description = "OAuth error", body = OAuthErrorBody),
    )
)]
pub(super) async fn token<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    LimitedBody(body): LimitedBody,
) -> Response {
    let form: TokenForm = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(e) => return invalid_request(e),
    };
    match oauth_step(&s, move |st| {
        st.service
            .token(&name, &form.grant_type, &form.pre_authorized_code, now())
    })
    .await
    {
        Ok(v) => ([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response(),
        Err(answer) => answer,
    }
}

#[utoipa::path(
    post,
    path = "/issuers/{name}/nonce",
    tag = "issuers",
    summary = "A fresh c_nonce (stateless)",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)")),
    responses((status = 200, description = "The nonce", body = Object))
)]
pub(super) async fn nonce<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    let v = blocking(&s, move |st| st.service.c_nonce(&name, now())).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response())
}

#[utoipa::path(
    post,
    path = "/issuers/{name}/credential",
    tag = "issuers",
    summary = "Credential endpoint (proof of possession of the holder key)",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)")),
    request_body(content = Object, description = "credential_configuration_id and proofs.jwt"),
    responses(
        (status = 200, description = "The credential", body = Object),
        (status = 400, description = "OAuth error", body = OAuthErrorBody),
        (status = 401, description = "Bad access token", body = OAuthErrorBody),
    ),
    security(("AccessToken" = []))
)]
pub(super) async fn credential<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .unwrap_or_default();
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return invalid_request(e),
    };
    match oauth_step(&s, move |st| {
        st.service.issue_credential(&name, &token, &body, now())
    })
    .await
    {
        Ok(v) => Json(v).into_response(),
        Err(answer) => answer,
    }
}

/// Whom to offer a credential to.
#[derive(Deserialize, ToSchema)]
pub(super) struct OfferBody {
    /// The demo subject's name.
    subject: String,
}

/// A credential offer.
#[derive(Serialize, ToSchema)]
pub(super) struct Offer {
    /// The offer object (OpenID4VCI §4.1.1).
    #[schema(value_type = Object)]
    credential_offer: Value,
    /// `openid-credential-offer://` by value.
    credential_offer_uri: String,
}

#[utoipa::path(
    post,
    path = "/v1/admin/issuers/{name}/offers",
    tag = "admin",
    summary = "Make a credential offer",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)")),
    request_body = OfferBody,
    responses((status = 200, description = "The offer", body = Offer)),
    security(("AdminToken" = []))
)]
pub(super) async fn offer<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    _: Operator,
    LimitedBody(body): LimitedBody,
) -> Result<Json<Offer>, Problem> {
    let b: OfferBody = json_body(&body)?;
    let offer = blocking(&s, move |st| {
        st.service.credential_offer(&name, &b.subject, now())
    })
    .await?;
    let uri = crate::service::issuers::offer_uri(&offer);
    Ok(Json(Offer {
        credential_offer: offer,
        credential_offer_uri: uri,
    }))
}

/// Which credential to revoke.
#[derive(Deserialize, ToSchema)]
pub(super) struct RevokeBody {
    /// Its index in the issuer's status list.
    idx: usize,
}

#[utoipa::path(
    post,
    path = "/v1/admin/issuers/{name}/revoke",
    tag = "admin",
    summary = "Revoke a credential (status list bit)",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)")),
    request_body = RevokeBody,
    responses((status = 204, description = "Revoked")),
    security(("AdminToken" = []))
)]
pub(super) async fn revoke<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    _: Operator,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let b: RevokeBody = json_body(&body)?;
    blocking(&s, move |st| st.service.revoke(&name, b.idx, now())).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
