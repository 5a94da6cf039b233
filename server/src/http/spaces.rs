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

/// A device of the space, as other devices see it.
#[derive(Serialize, ToSchema)]
pub(super) struct DeviceInfo {
    /// Device id.
    device_id: String,
    /// Its public key (JWK).
    #[schema(value_type = Object)]
    jwk: Value,
    /// Its certificate chain, leaf first (empty for the first device).
    certificates: Vec<String>,
    /// When it was removed, if it was.
    removed_at: Option<i64>,
}

impl DeviceInfo {
    fn of(d: DeviceRow) -> DeviceInfo {
        DeviceInfo {
            device_id: d.id,
            jwk: serde_json::from_str(&d.jwk).unwrap_or(Value::Null),
            certificates: d
                .certificates
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or_default(),
            removed_at: d.removed_at,
        }
    }
}

/// The devices of a space.
#[derive(Serialize, ToSchema)]
pub(super) struct DeviceList {
    devices: Vec<DeviceInfo>,
}

#[utoipa::path(
    get,
    path = "/v1/spaces/{space_id}/devices",
    tag = "spaces",
    summary = "The devices of the space (removed ones marked)",
    params(("space_id" = String, Path, description = "The space")),
    responses((status = 200, description = "The devices", body = DeviceList)),
    security(("SatchelSignature" = []))
)]
pub(super) async fn list_devices<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    SignedDevice { device, .. }: SignedDevice,
) -> Result<Json<DeviceList>, Problem> {
    let rows = blocking(&s, move |st| st.service.devices(&device, &space_id)).await?;
    Ok(Json(DeviceList {
        devices: rows.into_iter().map(DeviceInfo::of).collect(),
    }))
}

#[utoipa::path(
    delete,
    path = "/v1/spaces/{space_id}/devices/{device_id}",
    tag = "spaces",
    summary = "Remove a device: its requests, and anything signed through its certificate, are refused from then on",
    params(("space_id" = String, Path, description = "The space"), ("device_id" = String, Path, description = "The device")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "It is the last device of the space"),
    ),
    security(("SatchelSignature" = []))
)]
pub(super) async fn remove_device<S: Store>(
    State(s): State<Shared<S>>,
    Path((space_id, device_id)): Path<(String, String)>,
    SignedDevice { device, .. }: SignedDevice,
) -> Result<StatusCode, Problem> {
    blocking(&s, move |st| {
        st.service
            .remove_device(&device, &space_id, &device_id, now())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A data key wrapped anew for a device (after a rotation).
#[derive(Deserialize, ToSchema)]
pub(super) struct Rewrap {
    /// Opaque to the server.
    wrapped_key: String,
}

#[utoipa::path(
    put,
    path = "/v1/spaces/{space_id}/devices/{device_id}/wrapped-key",
    tag = "spaces",
    summary = "Leave a newly wrapped data key for a device (after a rotation)",
    params(("space_id" = String, Path, description = "The space"), ("device_id" = String, Path, description = "The device")),
    request_body = Rewrap,
    responses((status = 204, description = "Stored")),
    security(("SatchelSignature" = []))
)]
pub(super) async fn rewrap_key<S: Store>(
    State(s): State<Shared<S>>,
    Path((space_id, device_id)): Path<(String, String)>,
    SignedDevice { device, body }: SignedDevice,
) -> Result<StatusCode, Problem> {
    let r: Rewrap = json_body(&body)?;
    blocking(&s, move |st| {
        st.service
            .rewrap_key(&device, &space_id, &device_id, &r.wrapped_key)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calling device's own enrolment.
#[derive(Serialize, ToSchema)]
pub(super) struct SelfDevice {
    /// Its space.
    space_id: String,
    /// Its id.
    device_id: String,
    /// What the enrolling device left for it (opaque to the server).
    wrapped_key: Option<String>,
    /// Its certificate chain.
    certificates: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/v1/device",
    tag = "spaces",
    summary = "The calling device's enrolment (a new device finds its space here)",
    responses((status = 200, description = "The enrolment", body = SelfDevice)),
    security(("SatchelSignature" = []))
)]
pub(super) async fn self_device(SignedDevice { device, .. }: SignedDevice) -> Json<SelfDevice> {
    let info = DeviceInfo::of(device.clone());
    Json(SelfDevice {
        space_id: device.space_id,
        device_id: device.id,
        wrapped_key: device.wrapped_key,
        certificates: info.certificates,
    })
}
