//! Encrypted record sync: push with idempotency and conflicts, pull with cursors.

use super::*;

/// Records to store; the server sees only ciphertext.
#[derive(Deserialize, ToSchema)]
pub(super) struct PushBody {
    /// At most the batch limit per request.
    records: Vec<PushRecord>,
}

/// One outcome per pushed record, in order.
#[derive(Serialize, ToSchema)]
pub(super) struct PushResults {
    results: Vec<crate::store::PushResult>,
}

#[utoipa::path(
    post,
    path = "/v1/spaces/{space_id}/records",
    tag = "sync",
    summary = "Push encrypted records (idempotent; conflicts reported)",
    params(("space_id" = String, Path, description = "The space")),
    request_body = PushBody,
    responses(
        (status = 200, description = "Outcome per record", body = PushResults),
        (status = 429, description = "The space's record quota is used up"),
    ),
    security(("SatchelSignature" = []))
)]
pub(super) async fn push<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    SignedDevice { device, body }: SignedDevice,
) -> Result<Json<PushResults>, Problem> {
    let p: PushBody = json_body(&body)?;
    let results = blocking(&s, move |st| {
        st.service.push(&device, &space_id, &p.records)
    })
    .await?;
    let stored = results
        .iter()
        .filter(|r| r.status == crate::store::PushStatus::Stored)
        .count() as u64;
    s.metrics
        .records_stored
        .fetch_add(stored, Ordering::Relaxed);
    Ok(Json(PushResults { results }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PullQuery {
    /// Records after this cursor (default 0).
    #[serde(default)]
    after: i64,
    /// Batch size (default 100, capped by the server).
    #[serde(default = "default_limit")]
    limit: usize,
}

pub(super) fn default_limit() -> usize {
    100
}

/// A page of records.
#[derive(Serialize, ToSchema)]
pub(super) struct PullPage {
    records: Vec<crate::store::RecordRow>,
    /// The cursor to ask after next.
    next: i64,
    /// Whether more records follow.
    more: bool,
}

pub(super) fn query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, Problem> {
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))
}

#[utoipa::path(
    get,
    path = "/v1/spaces/{space_id}/records",
    tag = "sync",
    summary = "Pull records after a cursor",
    params(("space_id" = String, Path, description = "The space"), PullQuery),
    responses((status = 200, description = "A page of records", body = PullPage)),
    security(("SatchelSignature" = []))
)]
pub(super) async fn pull<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    uri: Uri,
    SignedDevice { device, .. }: SignedDevice,
) -> Result<Json<PullPage>, Problem> {
    let q: PullQuery = query(&uri)?;
    let limit = q.limit;
    let records = blocking(&s, move |st| {
        st.service.pull(&device, &space_id, q.after, q.limit)
    })
    .await?;
    let next = records.last().map_or(q.after, |r| r.cursor);
    let more = records.len() == limit.clamp(1, crate::service::MAX_BATCH);
    Ok(Json(PullPage {
        records,
        next,
        more,
    }))
}
