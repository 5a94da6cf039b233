//! The transparency log: appending leaf hashes, checkpoints, inclusion and consistency proofs.

use super::*;

#[derive(Deserialize)]
pub(super) struct LeavesBody {
    leaves: Vec<String>,
}

#[derive(Deserialize)]
pub(super) struct WaitQuery {
    #[serde(default)]
    wait: bool,
}

pub(super) async fn append_leaves<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
    SignedDevice { device, body }: SignedDevice,
) -> Result<Response, Problem> {
    let b: LeavesBody = json_body(&body)?;
    let wait = query::<WaitQuery>(&uri)?.wait;
    let n = b.leaves.len() as u64;
    let out = blocking(&s, move |st| {
        st.service.append_leaves(&device, &b.leaves, wait)
    })
    .await?;
    s.metrics.leaves_appended.fetch_add(n, Ordering::Relaxed);
    Ok(match out {
        Some(indices) => Json(json!({"indices": indices})).into_response(),
        None => (StatusCode::ACCEPTED, Json(json!({"queued": n}))).into_response(),
    })
}

pub(super) async fn checkpoint<S: Store>(
    State(s): State<Shared<S>>,
) -> Result<Json<Value>, Problem> {
    let c = blocking(&s, |st| st.service.checkpoint()).await?;
    Ok(Json(json!({"size": c.size, "checkpoint": c.note})))
}

pub(super) async fn log_key<S: Store>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(json!({"origin": s.service.log.origin, "verifier_key": s.service.log_verifier_key()}))
}

#[derive(Deserialize)]
pub(super) struct LeafQuery {
    hash: String,
}

pub(super) async fn leaf_index<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
) -> Result<Json<Value>, Problem> {
    let q: LeafQuery = query(&uri)?;
    let index = blocking(&s, move |st| st.service.leaf_index(&q.hash)).await?;
    Ok(Json(json!({"index": index})))
}

#[derive(Deserialize)]
pub(super) struct InclusionQuery {
    index: u64,
    size: u64,
}

pub(super) fn hashes(v: Vec<[u8; 32]>) -> Vec<String> {
    v.iter().map(b64::encode).collect()
}

pub(super) async fn inclusion<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
) -> Result<Json<Value>, Problem> {
    let q: InclusionQuery = query(&uri)?;
    let proof = blocking(&s, move |st| st.service.inclusion_proof(q.index, q.size)).await?;
    Ok(Json(json!({"proof": hashes(proof)})))
}

#[derive(Deserialize)]
pub(super) struct ConsistencyQuery {
    size1: u64,
    size2: u64,
}

pub(super) async fn consistency<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
) -> Result<Json<Value>, Problem> {
    let q: ConsistencyQuery = query(&uri)?;
    let proof = blocking(&s, move |st| st.service.consistency_proof(q.size1, q.size2)).await?;
    Ok(Json(json!({"proof": hashes(proof)})))
}
