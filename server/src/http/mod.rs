//! The HTTP layer: router, extraction, authentication, rate limits, body
//! limits, timeouts, problem+json errors. Rules live in `service`.

mod doc;
mod extract;
mod issuers;
mod log;
mod problem;
mod relay;
mod spaces;
mod status;
mod sync;
mod trust;

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
    http::{header, HeaderMap, StatusCode, Uri},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Json, Router,
};
use extract::{Operator, SignedDevice, SignedRelyingParty};
use issuers::*;
use log::*;
pub use problem::Problem;
use relay::*;
use satchel_core::b64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spaces::*;
use status::*;
use sync::*;
use trust::*;
use utoipa::{IntoParams, ToSchema};

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

/// Builds the public router.
pub fn router<S: Store>(state: Shared<S>) -> Router {
    Router::new()
        .route("/v1/spaces", post(register_space::<S>))
        .route(
            "/v1/spaces/{space_id}/devices",
            post(enrol_device::<S>).get(list_devices::<S>),
        )
        .route(
            "/v1/spaces/{space_id}/devices/{device_id}",
            delete(remove_device::<S>),
        )
        .route(
            "/v1/spaces/{space_id}/devices/{device_id}/wrapped-key",
            get(wrapped_key::<S>).put(rewrap_key::<S>),
        )
        .route("/v1/device", get(self_device))
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

/// The OpenAPI 3.1 document, generated from the handlers (see `doc`).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    doc::document()
}

/// The OpenAPI document as served, rendered once.
pub static OPENAPI: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    openapi_document()
        .to_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
});

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI.as_str(),
    )
        .into_response()
}

/// Routes as (method, path) — the OpenAPI document must list exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/spaces"),
    ("post", "/v1/spaces/{space_id}/devices"),
    ("get", "/v1/spaces/{space_id}/devices"),
    ("delete", "/v1/spaces/{space_id}/devices/{device_id}"),
    (
        "get",
        "/v1/spaces/{space_id}/devices/{device_id}/wrapped-key",
    ),
    (
        "put",
        "/v1/spaces/{space_id}/devices/{device_id}/wrapped-key",
    ),
    ("get", "/v1/device"),
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
