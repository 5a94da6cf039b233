//! The demo issuers' OpenID4VCI endpoints (`--demo`) and their operator endpoints.

use super::*;

pub(super) async fn issuer_metadata<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        blocking(&s, move |st| st.service.issuer_metadata(&name)).await?,
    ))
}

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
        Json(json!({"error": e.error, "error_description": e.description})),
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

#[derive(Deserialize)]
pub(super) struct TokenForm {
    grant_type: String,
    #[serde(rename = "pre-authorized_code")]
    pre_authorized_code: String,
}

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

pub(super) async fn nonce<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    let v = blocking(&s, move |st| st.service.c_nonce(&name, now())).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response())
}

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

#[derive(Deserialize)]
pub(super) struct OfferBody {
    subject: String,
}

pub(super) async fn offer<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    _: Operator,
    LimitedBody(body): LimitedBody,
) -> Result<Json<Value>, Problem> {
    let b: OfferBody = json_body(&body)?;
    let offer = blocking(&s, move |st| {
        st.service.credential_offer(&name, &b.subject, now())
    })
    .await?;
    let uri = crate::service::issuers::offer_uri(&offer);
    Ok(Json(
        json!({"credential_offer": offer, "credential_offer_uri": uri}),
    ))
}

#[derive(Deserialize)]
pub(super) struct RevokeBody {
    idx: usize,
}

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
