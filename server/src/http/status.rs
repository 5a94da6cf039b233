//! Status lists: a space publishes its own (forward only); anyone reads them, with ETag and ttl.

use super::*;

#[derive(Deserialize)]
pub(super) struct StatusBody {
    token: String,
}

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

pub(super) async fn get_issuer_status<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    serve_status(&s, format!("issuer/{name}"), &headers).await
}

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
