//! Status lists: a space publishes its own (forward only); anyone reads them, with ETag and ttl.

use super::*;

/// A new status list for the space.
#[derive(Deserialize, ToSchema)]
pub(super) struct StatusBody {
    /// `statuslist+jwt` signed by a key of the space; its `ttl` sets the cache lifetime.
    token: String,
}

#[utoipa::path(
    put,
    path = "/v1/spaces/{space_id}/status",
    tag = "status",
    summary = "Publish the space's status list (forward only)",
    params(("space_id" = String, Path, description = "The space")),
    request_body = StatusBody,
    responses(
        (status = 204, description = "Published"),
        (status = 409, description = "Older than the published list"),
        (status = 413, description = "Larger than a space may publish"),
    ),
    security(("SatchelSignature" = []))
)]
pub(super) async fn put_status<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    SignedDevice { device, body }: SignedDevice,
) -> Result<Response, Problem> {
    let b: StatusBody = json_body(&body)?;
    blocking(&s, move |st| {
        st.service
            .put_status_list(&device, &space_id, &b.token, now())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    get,
    path = "/issuers/{name}/status",
    tag = "issuers",
    summary = "A demo issuer's status list",
    params(("name" = String, Path, description = "The demo issuer (`--demo`)"), ("If-None-Match" = Option<String>, Header, description = "ETag held")),
    responses(
        (status = 200, description = "The status list token, with ETag and Cache-Control", body = String, content_type = "application/statuslist+jwt"),
        (status = 304, description = "Unchanged"),
    )
)]
pub(super) async fn get_issuer_status<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    serve_status(&s, format!("issuer/{name}"), &headers).await
}

#[utoipa::path(
    get,
    path = "/status/{space_id}",
    tag = "status",
    summary = "A space's status list (Token Status List)",
    params(("space_id" = String, Path, description = "The space"), ("If-None-Match" = Option<String>, Header, description = "ETag held")),
    responses(
        (status = 200, description = "The status list token, with ETag and Cache-Control", body = String, content_type = "application/statuslist+jwt"),
        (status = 304, description = "Unchanged"),
    )
)]
pub(super) async fn get_status<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    serve_status(&s, space_id, &headers).await
}

/// A status list token with `ETag` and `Cache-Control: max-age = ttl`.
pub(super) async fn serve_status<S: Store>(
    s: &Shared<S>,
    space_id: String,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let served = blocking(s, move |st| st.service.served_status_list(&space_id)).await?;
    let (token, etag) = (served.token, served.etag);
    let cache = format!("public, max-age={}", served.max_age);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/statuslist+jwt".to_owned(),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        token,
    )
        .into_response())
}
