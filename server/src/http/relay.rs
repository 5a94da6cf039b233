//! The request relay: a relying party's request behind a QR code, and the wallet's `direct_post` response.

use super::*;

/// A signed OpenID4VP request object to relay.
#[derive(Deserialize, ToSchema)]
pub(super) struct RelayBody {
    /// `oauth-authz-req+jwt` signed by the relying party.
    request: String,
}

/// Where the wallet fetches the request.
#[derive(Serialize, ToSchema)]
pub(super) struct Relayed {
    /// The relay id (ask for responses with it).
    id: String,
    /// `request_uri` for the wallet.
    request_uri: String,
    /// The `openid4vp://` URI to show as a QR code.
    qr: String,
}

#[utoipa::path(
    post,
    path = "/v1/requests",
    tag = "relay",
    summary = "Relay a request object behind a QR code",
    request_body = RelayBody,
    responses((status = 201, description = "Relayed", body = Relayed)),
    security(("SatchelSignature" = []))
)]
pub(super) async fn relay_request<S: Store>(
    State(s): State<Shared<S>>,
    SignedRelyingParty {
        client_id: client,
        body,
    }: SignedRelyingParty,
) -> Result<Response, Problem> {
    let b: RelayBody = json_body(&body)?;
    let c = client.clone();
    let (id, request_uri) = blocking(&s, move |st| {
        st.service.relay_request(&c, &b.request, now())
    })
    .await?;
    let qr = crate::service::trust::relay_qr(&client, &request_uri);
    Ok((
        StatusCode::CREATED,
        Json(Relayed {
            id,
            request_uri,
            qr,
        }),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/r/{id}",
    tag = "relay",
    summary = "The relayed request object (for the wallet)",
    params(("id" = String, Path, description = "The relayed request (a capability: unguessable)")),
    responses((status = 200, description = "The request object", body = String, content_type = "application/oauth-authz-req+jwt"))
)]
pub(super) async fn relayed_request<S: Store>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let jws = blocking(&s, move |st| st.service.relayed_request(&id, now())).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/oauth-authz-req+jwt")],
        jws,
    )
        .into_response())
}

/// Acknowledges a response.
#[derive(Serialize, ToSchema)]
pub(super) struct Received {
    /// Always true.
    received: bool,
}

#[utoipa::path(
    post,
    path = "/r/{id}/response",
    tag = "relay",
    summary = "The wallet's response (`direct_post`)",
    params(("id" = String, Path, description = "The relayed request (a capability: unguessable)")),
    request_body(content = String, description = "The response, form-encoded or JSON, held for the relying party", content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Held", body = Received))
)]
pub(super) async fn post_response<S: Store>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "body is not UTF-8",
        )
    })?;
    blocking(&s, move |st| st.service.post_response(&id, &text, now())).await?;
    Ok((StatusCode::OK, Json(Received { received: true })).into_response())
}

/// Responses posted since the last call.
#[derive(Serialize, ToSchema)]
pub(super) struct Responses {
    responses: Vec<Value>,
}

#[utoipa::path(
    get,
    path = "/v1/requests/{id}/response",
    tag = "relay",
    summary = "Take the responses to a relayed request",
    params(("id" = String, Path, description = "The relayed request (a capability: unguessable)")),
    responses((status = 200, description = "Responses (each handed out once)", body = Responses)),
    security(("SatchelSignature" = []))
)]
pub(super) async fn take_response<S: Store>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
    SignedRelyingParty {
        client_id: client, ..
    }: SignedRelyingParty,
) -> Result<Json<Responses>, Problem> {
    let responses = blocking(&s, move |st| st.service.take_responses(&client, &id)).await?;
    Ok(Json(Responses { responses }))
}
