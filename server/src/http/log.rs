//! The transparency log: appending leaf hashes, checkpoints, inclusion and consistency proofs.

use super::*;

/// Leaf hashes to append.
#[derive(Deserialize, ToSchema)]
pub(super) struct LeavesBody {
    /// base64url SHA-256 leaf hashes (RFC 9162 leaf input hashed by the client).
    leaves: Vec<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct WaitQuery {
    /// Wait for integration and answer with the indices (else 202).
    #[serde(default)]
    wait: bool,
}

/// Indices of the appended leaves (`wait=true`).
#[derive(Serialize, ToSchema)]
pub(super) struct Indices {
    indices: Vec<u64>,
}

/// Number of leaves queued for integration.
#[derive(Serialize, ToSchema)]
pub(super) struct Queued {
    queued: u64,
}

#[utoipa::path(
    post,
    path = "/v1/log/leaves",
    tag = "log",
    summary = "Append leaf hashes",
    params(WaitQuery),
    request_body = LeavesBody,
    responses(
        (status = 200, description = "Integrated (`wait=true`)", body = Indices),
        (status = 202, description = "Queued", body = Queued),
        (status = 429, description = "The space's leaf quota is used up"),
    ),
    security(("SatchelSignature" = []))
)]
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
        Some(indices) => Json(Indices { indices }).into_response(),
        None => (StatusCode::ACCEPTED, Json(Queued { queued: n })).into_response(),
    })
}

/// The latest signed checkpoint.
#[derive(Serialize, ToSchema)]
pub(super) struct Checkpoint {
    /// Tree size.
    size: u64,
    /// The checkpoint as a signed note (C2SP tlog-checkpoint).
    checkpoint: String,
}

#[utoipa::path(
    get,
    path = "/v1/log/checkpoint",
    tag = "log",
    summary = "The latest signed checkpoint",
    responses((status = 200, description = "The checkpoint", body = Checkpoint))
)]
pub(super) async fn checkpoint<S: Store>(
    State(s): State<Shared<S>>,
) -> Result<Json<Checkpoint>, Problem> {
    let c = blocking(&s, |st| st.service.checkpoint()).await?;
    Ok(Json(Checkpoint {
        size: c.size,
        checkpoint: c.note,
    }))
}

/// The log's identity.
#[derive(Serialize, ToSchema)]
pub(super) struct LogKey {
    /// Checkpoint origin.
    origin: String,
    /// Signed-note verifier key (`name+hash+key`).
    verifier_key: String,
}

#[utoipa::path(
    get,
    path = "/v1/log/key",
    tag = "log",
    summary = "The log's origin and verifier key",
    responses((status = 200, description = "The key", body = LogKey))
)]
pub(super) async fn log_key<S: Store>(State(s): State<Shared<S>>) -> Json<LogKey> {
    Json(LogKey {
        origin: s.service.log.origin.clone(),
        verifier_key: s.service.log_verifier_key(),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LeafQuery {
    /// The leaf hash, base64url.
    hash: String,
}

/// Where a leaf sits.
#[derive(Serialize, ToSchema)]
pub(super) struct LeafIndex {
    index: u64,
}

#[utoipa::path(
    get,
    path = "/v1/log/leaf",
    tag = "log",
    summary = "The index of a leaf by its hash",
    params(LeafQuery),
    responses((status = 200, description = "The index", body = LeafIndex))
)]
pub(super) async fn leaf_index<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
) -> Result<Json<LeafIndex>, Problem> {
    let q: LeafQuery = query(&uri)?;
    let index = blocking(&s, move |st| st.service.leaf_index(&q.hash)).await?;
    Ok(Json(LeafIndex { index }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InclusionQuery {
    /// Leaf index.
    index: u64,
    /// Tree size of the checkpoint the proof is for.
    size: u64,
}

/// An audit path (RFC 9162 §2.1.3), hashes base64url.
#[derive(Serialize, ToSchema)]
pub(super) struct Proof {
    proof: Vec<String>,
}

impl Proof {
    fn of(v: Vec<[u8; 32]>) -> Json<Proof> {
        Json(Proof {
            proof: v.iter().map(b64::encode).collect(),
        })
    }
}

#[utoipa::path(
    get,
    path = "/v1/log/proof/inclusion",
    tag = "log",
    summary = "Inclusion proof",
    params(InclusionQuery),
    responses((status = 200, description = "The proof", body = Proof))
)]
pub(super) async fn inclusion<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
) -> Result<Json<Proof>, Problem> {
    let q: InclusionQuery = query(&uri)?;
    let proof = blocking(&s, move |st| st.service.inclusion_proof(q.index, q.size)).await?;
    Ok(Proof::of(proof))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ConsistencyQuery {
    /// The older tree size.
    size1: u64,
    /// The newer tree size.
    size2: u64,
}

#[utoipa::path(
    get,
    path = "/v1/log/proof/consistency",
    tag = "log",
    summary = "Consistency proof",
    params(ConsistencyQuery),
    responses((status = 200, description = "The proof", body = Proof))
)]
pub(super) async fn consistency<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
) -> Result<Json<Proof>, Problem> {
    let q: ConsistencyQuery = query(&uri)?;
    let proof = blocking(&s, move |st| st.service.consistency_proof(q.size1, q.size2)).await?;
    Ok(Proof::of(proof))
}
