//! Encrypted record sync: push with idempotency and conflicts, pull with cursors.

use super::*;

#[derive(Deserialize)]
pub(super) struct PushBody {
    records: Vec<PushRecord>,
}

pub(super) async fn push<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    SignedDevice { device, body }: SignedDevice,
) -> Result<Json<Value>, Problem> {
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
    Ok(Json(json!({"results": results})))
}

#[derive(Deserialize)]
pub(super) struct PullQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: usize,
}

pub(super) fn default_limit() -> usize {
    100
}

pub(super) fn query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, Problem> {
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))
}

pub(super) async fn pull<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    uri: Uri,
    SignedDevice { device, .. }: SignedDevice,
) -> Result<Json<Value>, Problem> {
    let q: PullQuery = query(&uri)?;
    let limit = q.limit;
    let records = blocking(&s, move |st| {
        st.service.pull(&device, &space_id, q.after, q.limit)
    })
    .await?;
    let next = records.last().map_or(q.after, |r| r.cursor);
    let more = records.len() == limit.clamp(1, crate::service::MAX_BATCH);
    Ok(Json(
        json!({"records": records, "next": next, "more": more}),
    ))
}
