//! The signed registry, its operator endpoints, and usage metering for relying parties.

use super::*;

pub(super) async fn registry<S: Store>(State(s): State<Shared<S>>) -> Result<Response, Problem> {
    let token = blocking(&s, |st| st.service.signed_registry(now())).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/satchel-registry+jwt")],
        token,
    )
        .into_response())
}

pub(super) async fn registry_key<S: Store>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(s.service.operator_jwk().to_value())
}

pub(super) async fn put_relying_party<S: Store>(
    State(s): State<Shared<S>>,
    Path(client_id): Path<String>,
    _: Operator,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let rp: satchel_core::registry::RegisteredRelyingParty = json_body(&body)?;
    if rp.client_id != client_id {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "client_id in the body differs from the path",
        ));
    }
    blocking(&s, move |st| st.service.put_relying_party(&rp)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    client_id: Option<String>,
}

pub(super) async fn audit<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
    _: Operator,
) -> Result<Json<Value>, Problem> {
    let q: AuditQuery = query(&uri)?;
    Ok(Json(
        blocking(&s, move |st| st.service.audit(q.client_id.as_deref())).await?,
    ))
}

#[derive(Deserialize)]
pub(super) struct AuthorizationBody {
    authorization: String,
}

pub(super) async fn register_authorization<S: Store>(
    State(s): State<Shared<S>>,
    SignedRelyingParty {
        client_id: client,
        body,
    }: SignedRelyingParty,
) -> Result<Response, Problem> {
    let b: AuthorizationBody = json_body(&body)?;
    let id = blocking(&s, move |st| {
        st.service.register_authorization(&client, &b.authorization)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"authorization_id": id}))).into_response())
}

#[derive(Deserialize)]
pub(super) struct UseBody {
    authorization_id: String,
    purpose: String,
}

pub(super) async fn record_use<S: Store>(
    State(s): State<Shared<S>>,
    SignedRelyingParty {
        client_id: client,
        body,
    }: SignedRelyingParty,
) -> Result<Json<Value>, Problem> {
    let b: UseBody = json_body(&body)?;
    let (seq, remaining) = blocking(&s, move |st| {
        st.service
            .meter_use(&client, &b.authorization_id, &b.purpose, now())
    })
    .await?;
    Ok(Json(json!({"seq": seq, "remaining": remaining})))
}
