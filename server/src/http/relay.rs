//! The request relay: a relying party's request behind a QR code, and the wallet's `direct_post` response.

use super::*;

#[derive(Deserialize)]
pub(super) struct RelayBody {
    request: String,
}

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
        Json(json!({"id": id, "request_uri": request_uri, "qr": qr})),
    )
        .into_response())
}

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
    Ok((StatusCode::OK, Json(json!({"received": true}))).into_response())
}

pub(super) async fn take_response<S: Store>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
    SignedRelyingParty {
        client_id: client, ..
    }: SignedRelyingParty,
) -> Result<Json<Value>, Problem> {
    let responses = blocking(&s, move |st| st.service.take_responses(&client, &id)).await?;
    Ok(Json(json!({"responses": responses})))
}
