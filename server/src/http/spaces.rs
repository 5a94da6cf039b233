//! Spaces and devices: registration (the space key proves possession), enrolment of further devices, wrapped data keys.

use super::*;

/// Answer to a registration.
#[derive(Serialize, ToSchema)]
pub(super) struct Registered {
    /// Always true.
    registered: bool,
}

/// Answer to an enrolment.
#[derive(Serialize, ToSchema)]
pub(super) struct Enrolled {
    /// Always true.
    enrolled: bool,
}

/// A device's wrapped copy of the space data key.
#[derive(Serialize, ToSchema)]
pub(super) struct WrappedKey {
    /// Opaque to the server: only the device can unwrap it.
    wrapped_key: String,
}

#[utoipa::path(
    post,
    path = "/v1/spaces",
    tag = "spaces",
    summary = "Register a space with its first device",
    description = "Signed by the device the body introduces; `space_proof` shows possession of the space key. Quotas apply per space from then on.",
    request_body = RegisterSpace,
    responses(
        (status = 201, description = "Registered", body = Registered),
        (status = 409, description = "The space id is taken"),
    ),
    security(("SatchelSignature" = []))
)]
pub(super) async fn register_space<S: Store>(
    State(s): State<Shared<S>>,
    req: Request,
) -> Result<Response, Problem> {
    // Signed by the device the body introduces: the service checks it.
    let (input, body) = extract::SignatureInput::read(req, &s).await?;
    let r: RegisterSpace = json_body(&body)?;
    blocking(&s, move |st| {
        let parts = input.parts(&body);
        st.service
            .register_space_signed(&r, input.authorization.as_deref(), parts, now())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Registered { registered: true })).into_response())
}

#[utoipa::path(
    post,
    path = "/v1/spaces/{space_id}/devices",
    tag = "spaces",
    summary = "Enrol another device (by an enrolled one)",
    params(("space_id" = String, Path, description = "The space")),
    request_body = EnrolDevice,
    responses(
        (status = 201, description = "Enrolled", body = Enrolled),
        (status = 409, description = "The device id is taken"),
    ),
    security(("SatchelSignature" = []))
)]
pub(super) async fn enrol_device<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    SignedDevice { device, body }: SignedDevice,
) -> Result<Response, Problem> {
    let e: EnrolDevice = json_body(&body)?;
    blocking(&s, move |st| {
        st.service.enrol_device(&device, &space_id, &e)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Enrolled { enrolled: true })).into_response())
}

#[utoipa::path(
    get,
    path = "/v1/spaces/{space_id}/devices/{device_id}/wrapped-key",
    tag = "spaces",
    summary = "The data key wrapped for a device",
    params(("space_id" = String, Path, description = "The space"), ("device_id" = String, Path, description = "The device")),
    responses((status = 200, description = "The wrapped key", body = WrappedKey)),
    security(("SatchelSignature" = []))
)]
pub(super) async fn wrapped_key<S: Store>(
    State(s): State<Shared<S>>,
    Path((space_id, device_id)): Path<(String, String)>,
    SignedDevice { device, .. }: SignedDevice,
) -> Result<Json<WrappedKey>, Problem> {
    let wrapped_key = blocking(&s, move |st| {
        st.service.wrapped_key(&device, &space_id, &device_id)
    })
    .await?;
    Ok(Json(WrappedKey { wrapped_key }))
}
