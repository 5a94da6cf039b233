//! The signed registry, its operator endpoints, and usage metering for relying parties.

use super::*;

#[utoipa::path(
    get,
    path = "/v1/registry",
    tag = "trust",
    summary = "The signed registry of relying parties",
    responses((status = 200, description = "Signed by the operator key", body = String, content_type = "application/satchel-registry+jwt"))
)]
pub(super) async fn registry<S: Store>(State(s): State<Shared<S>>) -> Result<Response, Problem> {
    let token = blocking(&s, |st| st.service.signed_registry(now())).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/satchel-registry+jwt")],
        token,
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/v1/registry/key",
    tag = "trust",
    summary = "The operator's public key (JWK)",
    responses((status = 200, description = "The JWK", body = Object))
)]
pub(super) async fn registry_key<S: Store>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(s.service.operator_jwk().to_value())
}

#[utoipa::path(
    put,
    path = "/v1/admin/relying-parties/{client_id}",
    tag = "admin",
    summary = "Register or update a relying party",
    params(("client_id" = String, Path, description = "Must equal `client_id` in the body")),
    request_body(content = Object, description = "A registered relying party: client_id, name, key, allowed purposes and claims"),
    responses((status = 204, description = "Stored")),
    security(("AdminToken" = []))
)]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditQuery {
    /// Only this relying party.
    client_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    tag = "admin",
    summary = "Metered uses and anomalies",
    params(AuditQuery),
    responses((status = 200, description = "Uses and anomalies", body = Object)),
    security(("AdminToken" = []))
)]
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

/// A holder-signed authorisation to meter.
#[derive(Deserialize, ToSchema)]
pub(super) struct AuthorizationBody {
    /// The compact JWS signed by a device of a space on this server.
    authorization: String,
}

/// The id uses are metered against.
#[derive(Serialize, ToSchema)]
pub(super) struct AuthorizationId {
    authorization_id: String,
}

#[utoipa::path(
    post,
    path = "/v1/authorizations",
    tag = "metering",
    summary = "Register an authorisation for metering",
    request_body = AuthorizationBody,
    responses(
        (status = 201, description = "Registered", body = AuthorizationId),
        (status = 409, description = "Registered already (by anyone)"),
    ),
    security(("SatchelSignature" = []))
)]
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
    Ok((
        StatusCode::CREATED,
        Json(AuthorizationId {
            authorization_id: id,
        }),
    )
        .into_response())
}

/// One use of an authorisation.
#[derive(Deserialize, ToSchema)]
pub(super) struct UseBody {
    /// From the registration.
    authorization_id: String,
    /// Must be the authorised purpose.
    purpose: String,
}

/// The metered use.
#[derive(Serialize, ToSchema)]
pub(super) struct UseRecorded {
    /// Sequence number of this use.
    seq: u32,
    /// Uses left.
    remaining: u32,
}

#[utoipa::path(
    post,
    path = "/v1/uses",
    tag = "metering",
    summary = "Record one use (refused once withdrawn, expired or used up)",
    request_body = UseBody,
    responses(
        (status = 200, description = "Recorded", body = UseRecorded),
        (status = 409, description = "Withdrawn, expired or used up"),
    ),
    security(("SatchelSignature" = []))
)]
pub(super) async fn record_use<S: Store>(
    State(s): State<Shared<S>>,
    SignedRelyingParty {
        client_id: client,
        body,
    }: SignedRelyingParty,
) -> Result<Json<UseRecorded>, Problem> {
    let b: UseBody = json_body(&body)?;
    let (seq, remaining) = blocking(&s, move |st| {
        st.service
            .meter_use(&client, &b.authorization_id, &b.purpose, now())
    })
    .await?;
    Ok(Json(UseRecorded { seq, remaining }))
}
