//! Spaces and devices: registration (the space key proves possession), enrolment of further devices, wrapped data keys.

use super::*;

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
    Ok((StatusCode::CREATED, Json(json!({"registered": true}))).into_response())
}

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
    Ok((StatusCode::CREATED, Json(json!({"enrolled": true}))).into_response())
}

pub(super) async fn wrapped_key<S: Store>(
    State(s): State<Shared<S>>,
    Path((space_id, device_id)): Path<(String, String)>,
    SignedDevice { device, .. }: SignedDevice,
) -> Result<Json<Value>, Problem> {
    let key = blocking(&s, move |st| {
        st.service.wrapped_key(&device, &space_id, &device_id)
    })
    .await?;
    Ok(Json(json!({"wrapped_key": key})))
}
