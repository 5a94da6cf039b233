//! The HTTP layer: router, extraction, authentication, rate limits, body
//! limits, timeouts, problem+json errors. Rules live in `service`.

mod problem;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::{
    body::{to_bytes, Bytes},
    extract::{FromRequest, Path, Query, Request, State},
    http::{header, HeaderMap, Method, StatusCode, Uri},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
pub use problem::Problem;
use satchel_core::{b64, Jwk};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    service::{auth::RequestParts, EnrolDevice, RegisterSpace, Service, ServiceError},
    store::{DeviceRow, PushRecord, Store},
};

/// Largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// Time a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Rate limits: requests per second (sustained) and burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Per signing key (device or relying party).
    pub per_key: (f64, f64),
    /// Per source address, signed or not (NAT: many devices share one).
    pub per_address: (f64, f64),
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_key: (100.0, 400.0),
            per_address: (1_000.0, 10_000.0),
        }
    }
}

/// Shared state.
pub struct AppState<S: Store> {
    /// The service.
    pub service: Service<S>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    admin_token: Option<String>,
    limits: Limits,
}

/// Counters exported on the metrics listener.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests handled.
    pub requests: AtomicU64,
    /// Answers with status ≥ 400.
    pub errors: AtomicU64,
    /// Records pushed and stored.
    pub records_stored: AtomicU64,
    /// Leaves appended.
    pub leaves_appended: AtomicU64,
}

impl<S: Store> AppState<S> {
    /// State around a service; operator endpoints need `admin_token`.
    pub fn new(service: Service<S>, admin_token: Option<String>, limits: Limits) -> Self {
        AppState {
            service,
            metrics: Metrics::default(),
            buckets: Mutex::new(HashMap::new()),
            admin_token,
            limits,
        }
    }

    /// Whether the request carries the operator token (compared in constant time).
    fn is_admin(&self, headers: &HeaderMap) -> bool {
        let (Some(expected), Some(given)) = (
            self.admin_token.as_deref(),
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer ")),
        ) else {
            return false;
        };
        expected.len() == given.len()
            && expected
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    fn allow(&self, key: &str) -> bool {
        self.take(key, self.limits.per_key)
    }

    /// A token bucket per key.
    fn take(&self, key: &str, (rate, burst): (f64, f64)) -> bool {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if b.len() > 100_000 {
            // Forget keys idle for a minute (their buckets are full again anyway).
            b.retain(|_, (_, at)| now.duration_since(*at) < Duration::from_secs(60));
        }
        let entry = b.entry(key.to_owned()).or_insert((burst, now));
        entry.0 = (entry.0 + now.duration_since(entry.1).as_secs_f64() * rate).min(burst);
        entry.1 = now;
        if entry.0 >= 1.0 {
            entry.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

type Shared<S> = Arc<AppState<S>>;

/// The body, read with the size limit, failing as problem+json.
pub struct LimitedBody(pub Bytes);

impl<St: Send + Sync> FromRequest<St> for LimitedBody {
    type Rejection = Problem;

    async fn from_request(req: Request, _: &St) -> Result<Self, Problem> {
        let too_big = || {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("bodies are limited to {MAX_BODY} bytes"),
            )
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY) {
            return Err(too_big());
        }
        to_bytes(req.into_body(), MAX_BODY)
            .await
            .map(LimitedBody)
            .map_err(|_| too_big())
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("body: {e}"),
        )
    })
}

fn now() -> i64 {
    satchel_core::unix_now()
}

/// Runs blocking service work off the async threads.
async fn blocking<S: Store, T: Send + 'static>(
    state: &Shared<S>,
    f: impl FnOnce(&AppState<S>) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, Problem> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .map_err(|_| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "request failed",
            )
        })?
        .map_err(Problem::from)
}

/// Who signed a request: a device or a relying party.
enum Signer {
    Device,
    RelyingParty,
}

/// Checks a signed request (signature, replay, rate limit per key) off the
/// async threads; returns the device or the relying party's `client_id`.
async fn signed_by<S: Store>(
    state: &Shared<S>,
    who: Signer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(String, Option<DeviceRow>), Problem> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let (method, body) = (method.to_string(), body.clone());
    blocking(state, move |s| {
        let parts = RequestParts {
            method: &method,
            path_and_query: &path,
            body: &body,
        };
        let (id, device) = match who {
            Signer::Device => {
                let d = s
                    .service
                    .authenticate(auth.as_deref(), parts, now(), None)?;
                (d.id.clone(), Some(d))
            }
            Signer::RelyingParty => (
                s.service.authenticate_rp(auth.as_deref(), parts, now())?,
                None,
            ),
        };
        if !s.allow(&id) {
            return Err(ServiceError::RateLimited);
        }
        Ok((id, device))
    })
    .await
}

/// Authenticates a device request.
async fn authed<S: Store>(
    state: &Shared<S>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<DeviceRow, Problem> {
    let (_, device) = signed_by(state, Signer::Device, method, uri, headers, body).await?;
    device.ok_or_else(|| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "unknown device",
        )
    })
}

/// Authenticates a relying party's request (signature by its registered key).
async fn rp_authed<S: Store>(
    state: &Shared<S>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<String, Problem> {
    Ok(
        signed_by(state, Signer::RelyingParty, method, uri, headers, body)
            .await?
            .0,
    )
}

fn admin<S: Store>(state: &Shared<S>, headers: &HeaderMap) -> Result<(), Problem> {
    if state.is_admin(headers) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "operator endpoints need Authorization: Bearer <admin token>",
        ))
    }
}

/// Builds the public router.
pub fn router<S: Store>(state: Shared<S>) -> Router {
    Router::new()
        .route("/v1/spaces", post(register_space::<S>))
        .route("/v1/spaces/{space_id}/devices", post(enrol_device::<S>))
        .route(
            "/v1/spaces/{space_id}/devices/{device_id}/wrapped-key",
            get(wrapped_key::<S>),
        )
        .route(
            "/v1/spaces/{space_id}/records",
            post(push::<S>).get(pull::<S>),
        )
        .route("/v1/spaces/{space_id}/status", put(put_status::<S>))
        .route("/status/{space_id}", get(get_status::<S>))
        .route("/v1/log/leaves", post(append_leaves::<S>))
        .route("/v1/log/checkpoint", get(checkpoint::<S>))
        .route("/v1/log/key", get(log_key::<S>))
        .route("/v1/log/leaf", get(leaf_index::<S>))
        .route("/v1/log/proof/inclusion", get(inclusion::<S>))
        .route("/v1/log/proof/consistency", get(consistency::<S>))
        .route("/v1/registry", get(registry::<S>))
        .route("/v1/registry/key", get(registry_key::<S>))
        .route(
            "/v1/admin/relying-parties/{client_id}",
            put(put_relying_party::<S>),
        )
        .route("/v1/admin/audit", get(audit::<S>))
        .route("/v1/authorizations", post(register_authorization::<S>))
        .route("/v1/uses", post(record_use::<S>))
        .route("/v1/requests", post(relay_request::<S>))
        .route("/v1/requests/{id}/response", get(take_response::<S>))
        .route("/r/{id}", get(relayed_request::<S>))
        .route("/r/{id}/response", post(post_response::<S>))
        .route(
            "/.well-known/openid-credential-issuer/issuers/{name}",
            get(issuer_metadata::<S>),
        )
        .route(
            "/.well-known/oauth-authorization-server/issuers/{name}",
            get(as_metadata::<S>),
        )
        .route(
            "/.well-known/jwt-vc-issuer/issuers/{name}",
            get(jwt_vc_issuer::<S>),
        )
        .route("/issuers/{name}/token", post(token::<S>))
        .route("/issuers/{name}/status", get(get_issuer_status::<S>))
        .route("/issuers/{name}/nonce", post(nonce::<S>))
        .route("/issuers/{name}/credential", post(credential::<S>))
        .route("/v1/admin/issuers/{name}/offers", post(offer::<S>))
        .route("/v1/admin/issuers/{name}/revoke", post(revoke::<S>))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed here",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), observe::<S>))
        .with_state(state)
}

/// Counts requests, enforces the request timeout, and logs one line per
/// request: id, method, route template (never the path itself: relay ids
/// are capabilities), status and latency. Never headers, bodies or tokens.
async fn observe<S: Store>(State(state): State<Shared<S>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = b64::encode(b64::random_bytes::<9>());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let mut resp = handle(&state, req, next).await;
    if let Ok(v) = axum::http::HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status = resp.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

async fn handle<S: Store>(state: &Shared<S>, req: Request, next: Next) -> Response {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    // Every request, signed or not, also counts against its source address,
    // so unauthenticated endpoints cannot be flooded either.
    if let Some(axum::extract::ConnectInfo(addr)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        if !state.take(&format!("ip:{}", addr.ip()), state.limits.per_address) {
            state.metrics.errors.fetch_add(1, Ordering::Relaxed);
            return Problem::from(ServiceError::RateLimited).into_response();
        }
    }
    let resp = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "request took too long",
        )
        .into_response(),
    };
    if resp.status().as_u16() >= 400 {
        state.metrics.errors.fetch_add(1, Ordering::Relaxed);
    }
    resp
}

/// The metrics/health router (separate listener).
pub fn metrics_router<S: Store>(state: Shared<S>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(|State(s): State<Shared<S>>| async move {
                let m = &s.metrics;
                let size = s.service.log_size();
                let text = format!(
                    "# TYPE satchel_requests_total counter\nsatchel_requests_total {}\n\
                     # TYPE satchel_errors_total counter\nsatchel_errors_total {}\n\
                     # TYPE satchel_records_stored_total counter\nsatchel_records_stored_total {}\n\
                     # TYPE satchel_log_leaves_appended_total counter\nsatchel_log_leaves_appended_total {}\n\
                     # TYPE satchel_log_size gauge\nsatchel_log_size {size}\n",
                    m.requests.load(Ordering::Relaxed),
                    m.errors.load(Ordering::Relaxed),
                    m.records_stored.load(Ordering::Relaxed),
                    m.leaves_appended.load(Ordering::Relaxed),
                );
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
            }),
        )
        .with_state(state)
}

async fn register_space<S: Store>(
    State(s): State<Shared<S>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let r: RegisterSpace = json_body(&body)?;
    let key = Jwk::from_value(&r.device_jwk).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("device_jwk: {e}"),
        )
    })?;
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let method = method.to_string();
    blocking(&s, move |st| {
        st.service.authenticate(
            auth.as_deref(),
            RequestParts {
                method: &method,
                path_and_query: &path,
                body: &body,
            },
            now(),
            Some((&r.device_id, &key)),
        )?;
        st.service.register_space(&r, now())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"registered": true}))).into_response())
}

async fn enrol_device<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let device = authed(&s, &method, &uri, &headers, &body).await?;
    let e: EnrolDevice = json_body(&body)?;
    blocking(&s, move |st| {
        st.service.enrol_device(&device, &space_id, &e)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"enrolled": true}))).into_response())
}

async fn wrapped_key<S: Store>(
    State(s): State<Shared<S>>,
    Path((space_id, device_id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    let device = authed(&s, &method, &uri, &headers, &Bytes::new()).await?;
    let key = blocking(&s, move |st| {
        st.service.wrapped_key(&device, &space_id, &device_id)
    })
    .await?;
    Ok(Json(json!({"wrapped_key": key})))
}

#[derive(Deserialize)]
struct PushBody {
    records: Vec<PushRecord>,
}

async fn push<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Json<Value>, Problem> {
    let device = authed(&s, &method, &uri, &headers, &body).await?;
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
struct PullQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    100
}

fn query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, Problem> {
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))
}

async fn pull<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    let device = authed(&s, &method, &uri, &headers, &Bytes::new()).await?;
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

#[derive(Deserialize)]
struct StatusBody {
    token: String,
}

async fn put_status<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let device = authed(&s, &method, &uri, &headers, &body).await?;
    let b: StatusBody = json_body(&body)?;
    blocking(&s, move |st| {
        st.service
            .put_status_list(&device, &space_id, &b.token, now())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_issuer_status<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    serve_status(&s, format!("issuer/{name}"), &headers).await
}

async fn get_status<S: Store>(
    State(s): State<Shared<S>>,
    Path(space_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    serve_status(&s, space_id, &headers).await
}

/// A status list token with `ETag` and `Cache-Control: max-age = ttl`.
async fn serve_status<S: Store>(
    s: &Shared<S>,
    space_id: String,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let token = blocking(s, move |st| st.service.status_list(&space_id)).await?;
    let etag = format!("\"{}\"", b64::sha256_b64(token.as_bytes()));
    let ttl = satchel_core::jws::decode(&token)
        .ok()
        .and_then(|j| j.payload_object().ok())
        .and_then(|p| p.get("ttl").and_then(Value::as_i64))
        .unwrap_or(300);
    let cache = format!("public, max-age={ttl}");
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

#[derive(Deserialize)]
struct LeavesBody {
    leaves: Vec<String>,
}

#[derive(Deserialize)]
struct WaitQuery {
    #[serde(default)]
    wait: bool,
}

async fn append_leaves<S: Store>(
    State(s): State<Shared<S>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let device = authed(&s, &method, &uri, &headers, &body).await?;
    let b: LeavesBody = json_body(&body)?;
    let wait = query::<WaitQuery>(&uri)?.wait;
    let n = b.leaves.len() as u64;
    let out = blocking(&s, move |st| {
        st.service.charge_leaves(&device, b.leaves.len())?;
        let hashes = st.service.queue_leaves(&b.leaves)?;
        if !wait {
            return Ok(None);
        }
        st.service.integrate()?;
        let indices = hashes
            .iter()
            .map(|h| st.service.leaf_index(&b64::encode(h)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(indices))
    })
    .await?;
    s.metrics.leaves_appended.fetch_add(n, Ordering::Relaxed);
    Ok(match out {
        Some(indices) => Json(json!({"indices": indices})).into_response(),
        None => (StatusCode::ACCEPTED, Json(json!({"queued": n}))).into_response(),
    })
}

async fn checkpoint<S: Store>(State(s): State<Shared<S>>) -> Result<Json<Value>, Problem> {
    let c = blocking(&s, |st| st.service.checkpoint()).await?;
    Ok(Json(json!({"size": c.size, "checkpoint": c.note})))
}

async fn log_key<S: Store>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(json!({"origin": s.service.log.origin, "verifier_key": s.service.log_verifier_key()}))
}

#[derive(Deserialize)]
struct LeafQuery {
    hash: String,
}

async fn leaf_index<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
) -> Result<Json<Value>, Problem> {
    let q: LeafQuery = query(&uri)?;
    let index = blocking(&s, move |st| st.service.leaf_index(&q.hash)).await?;
    Ok(Json(json!({"index": index})))
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

fn hashes(v: Vec<[u8; 32]>) -> Vec<String> {
    v.iter().map(b64::encode).collect()
}

async fn inclusion<S: Store>(State(s): State<Shared<S>>, uri: Uri) -> Result<Json<Value>, Problem> {
    let q: InclusionQuery = query(&uri)?;
    let proof = blocking(&s, move |st| st.service.inclusion_proof(q.index, q.size)).await?;
    Ok(Json(json!({"proof": hashes(proof)})))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    size1: u64,
    size2: u64,
}

async fn consistency<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
) -> Result<Json<Value>, Problem> {
    let q: ConsistencyQuery = query(&uri)?;
    let proof = blocking(&s, move |st| st.service.consistency_proof(q.size1, q.size2)).await?;
    Ok(Json(json!({"proof": hashes(proof)})))
}

async fn registry<S: Store>(State(s): State<Shared<S>>) -> Result<Response, Problem> {
    let token = blocking(&s, |st| st.service.signed_registry(now())).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/satchel-registry+jwt")],
        token,
    )
        .into_response())
}

async fn registry_key<S: Store>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(s.service.operator_jwk().to_value())
}

async fn put_relying_party<S: Store>(
    State(s): State<Shared<S>>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    admin(&s, &headers)?;
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

#[derive(Deserialize)]
struct AuditQuery {
    client_id: Option<String>,
}

async fn audit<S: Store>(
    State(s): State<Shared<S>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    admin(&s, &headers)?;
    let q: AuditQuery = query(&uri)?;
    Ok(Json(
        blocking(&s, move |st| st.service.audit(q.client_id.as_deref())).await?,
    ))
}

#[derive(Deserialize)]
struct AuthorizationBody {
    authorization: String,
}

async fn register_authorization<S: Store>(
    State(s): State<Shared<S>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let client = rp_authed(&s, &method, &uri, &headers, &body).await?;
    let b: AuthorizationBody = json_body(&body)?;
    let id = blocking(&s, move |st| {
        st.service.register_authorization(&client, &b.authorization)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"authorization_id": id}))).into_response())
}

#[derive(Deserialize)]
struct UseBody {
    authorization_id: String,
    purpose: String,
}

async fn record_use<S: Store>(
    State(s): State<Shared<S>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Json<Value>, Problem> {
    let client = rp_authed(&s, &method, &uri, &headers, &body).await?;
    let b: UseBody = json_body(&body)?;
    let (seq, remaining) = blocking(&s, move |st| {
        st.service
            .meter_use(&client, &b.authorization_id, &b.purpose, now())
    })
    .await?;
    Ok(Json(json!({"seq": seq, "remaining": remaining})))
}

#[derive(Deserialize)]
struct RelayBody {
    request: String,
}

async fn relay_request<S: Store>(
    State(s): State<Shared<S>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let client = rp_authed(&s, &method, &uri, &headers, &body).await?;
    let b: RelayBody = json_body(&body)?;
    let c = client.clone();
    let (id, request_uri) = blocking(&s, move |st| {
        st.service.relay_request(&c, &b.request, now())
    })
    .await?;
    let qr = format!(
        "openid4vp://?client_id={}&request_uri={}",
        pct(&client),
        pct(&request_uri)
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "request_uri": request_uri, "qr": qr})),
    )
        .into_response())
}

/// Percent-encodes a URL for a query parameter.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn relayed_request<S: Store>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let jws = blocking(&s, move |st| st.service.relayed_request(&id, now())).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/oauth-authz-req+jwt")],
        jws,
    )
        .into_response())
}

async fn post_response<S: Store>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "body is not UTF-8",
        )
    })?;
    blocking(&s, move |st| st.service.post_response(&id, &text, now())).await?;
    Ok((StatusCode::OK, Json(json!({"received": true}))).into_response())
}

async fn take_response<S: Store>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    let client = rp_authed(&s, &method, &uri, &headers, &Bytes::new()).await?;
    let responses = blocking(&s, move |st| st.service.take_responses(&client, &id)).await?;
    Ok(Json(json!({"responses": responses})))
}

async fn issuer_metadata<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        blocking(&s, move |st| st.service.issuer_metadata(&name)).await?,
    ))
}

async fn as_metadata<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        blocking(&s, move |st| {
            st.service.authorization_server_metadata(&name)
        })
        .await?,
    ))
}

async fn jwt_vc_issuer<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        blocking(&s, move |st| st.service.jwt_vc_issuer(&name)).await?,
    ))
}

fn oauth_error(e: crate::service::issuers::OAuthError) -> Response {
    let status = if e.error == "invalid_token" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        Json(json!({"error": e.error, "error_description": e.description})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    #[serde(rename = "pre-authorized_code")]
    pre_authorized_code: String,
}

async fn token<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    LimitedBody(body): LimitedBody,
) -> Response {
    let form: TokenForm = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(e) => {
            return oauth_error(crate::service::issuers::OAuthError {
                error: "invalid_request",
                description: e.to_string(),
            })
        }
    };
    let st = s.clone();
    match tokio::task::spawn_blocking(move || {
        st.service
            .token(&name, &form.grant_type, &form.pre_authorized_code, now())
    })
    .await
    {
        Ok(Ok(v)) => ([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response(),
        Ok(Err(e)) => oauth_error(e),
        Err(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "request failed",
        )
        .into_response(),
    }
}

async fn nonce<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    let v = blocking(&s, move |st| st.service.c_nonce(&name, now())).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response())
}

async fn credential<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .unwrap_or_default();
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return oauth_error(crate::service::issuers::OAuthError {
                error: "invalid_request",
                description: e.to_string(),
            })
        }
    };
    let st = s.clone();
    match tokio::task::spawn_blocking(move || {
        st.service.issue_credential(&name, &token, &body, now())
    })
    .await
    {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => oauth_error(e),
        Err(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "request failed",
        )
        .into_response(),
    }
}

#[derive(Deserialize)]
struct OfferBody {
    subject: String,
}

async fn offer<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Json<Value>, Problem> {
    admin(&s, &headers)?;
    let b: OfferBody = json_body(&body)?;
    let offer = blocking(&s, move |st| {
        st.service.credential_offer(&name, &b.subject, now())
    })
    .await?;
    let uri = format!(
        "openid-credential-offer://?credential_offer={}",
        pct(&offer.to_string())
    );
    Ok(Json(
        json!({"credential_offer": offer, "credential_offer_uri": uri}),
    ))
}

#[derive(Deserialize)]
struct RevokeBody {
    idx: usize,
}

async fn revoke<S: Store>(
    State(s): State<Shared<S>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    admin(&s, &headers)?;
    let b: RevokeBody = json_body(&body)?;
    blocking(&s, move |st| st.service.revoke(&name, b.idx, now())).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The OpenAPI document.
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Routes as (method, path) — the OpenAPI document must list exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/spaces"),
    ("post", "/v1/spaces/{space_id}/devices"),
    (
        "get",
        "/v1/spaces/{space_id}/devices/{device_id}/wrapped-key",
    ),
    ("post", "/v1/spaces/{space_id}/records"),
    ("get", "/v1/spaces/{space_id}/records"),
    ("put", "/v1/spaces/{space_id}/status"),
    ("get", "/status/{space_id}"),
    ("post", "/v1/log/leaves"),
    ("get", "/v1/log/checkpoint"),
    ("get", "/v1/log/key"),
    ("get", "/v1/log/leaf"),
    ("get", "/v1/log/proof/inclusion"),
    ("get", "/v1/log/proof/consistency"),
    ("get", "/v1/registry"),
    ("get", "/v1/registry/key"),
    ("put", "/v1/admin/relying-parties/{client_id}"),
    ("get", "/v1/admin/audit"),
    ("post", "/v1/authorizations"),
    ("post", "/v1/uses"),
    ("post", "/v1/requests"),
    ("get", "/v1/requests/{id}/response"),
    ("get", "/r/{id}"),
    ("post", "/r/{id}/response"),
    (
        "get",
        "/.well-known/openid-credential-issuer/issuers/{name}",
    ),
    (
        "get",
        "/.well-known/oauth-authorization-server/issuers/{name}",
    ),
    ("get", "/.well-known/jwt-vc-issuer/issuers/{name}"),
    ("post", "/issuers/{name}/token"),
    ("get", "/issuers/{name}/status"),
    ("post", "/issuers/{name}/nonce"),
    ("post", "/issuers/{name}/credential"),
    ("post", "/v1/admin/issuers/{name}/offers"),
    ("post", "/v1/admin/issuers/{name}/revoke"),
    ("get", "/openapi.json"),
];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::sqlite::SqliteStore;

    #[test]
    fn rate_limit_allows_a_burst_then_refuses_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("r.db")).unwrap();
        let signer = satchel_core::note::NoteSigner::generate("rl/log").unwrap();
        let service = Service::new(
            Arc::new(store),
            signer,
            "http://x",
            satchel_core::SoftwareKey::generate_ed25519().unwrap(),
        )
        .unwrap();
        let state = AppState::new(service, None, Limits::default());
        let burst = Limits::default().per_key.1;
        let allowed = (0..burst as usize + 50)
            .filter(|_| state.allow("device-a"))
            .count();
        assert!(
            allowed >= burst as usize && allowed < burst as usize + 50,
            "{allowed}"
        );
        assert!(!state.allow("device-a"));
        assert!(state.allow("device-b"), "limits are per key");
        assert!(
            !state.is_admin(&HeaderMap::new()),
            "no admin token configured: operator endpoints are off"
        );
    }
}
