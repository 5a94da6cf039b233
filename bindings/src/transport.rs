//! The network: the built-in HTTPS stack (default), or `HttpTransport`,
//! the HTTP stack an app brings (OkHttp, URLSession) for pinning or proxies.

use std::sync::Arc;

use satchel_core::{
    client::{self, ClientError},
    net::{self, HttpsTransport, PlainHttp},
    runtime,
};

use crate::SatchelError;

/// An HTTP header.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpHeader {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// An HTTP request Satchel asks the app to send.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpRequest {
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<HttpHeader>,
    /// Body.
    pub body: Vec<u8>,
}

/// The answer.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<HttpHeader>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why sending failed (no connection, TLS, timeout…).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// The request could not be sent or answered.
    #[error("transport failed: {reason}")]
    Failed {
        /// What happened (no URL, no body: they may hold secrets).
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Failed { reason: e.reason }
    }
}

/// Sends HTTP requests for Satchel. Implement it to use the app's own HTTP
/// stack; `send` is `suspend` in Kotlin and `async` in Swift. Return any
/// HTTP status as a response; throw only when no answer came. Do not
/// follow redirects: signed requests are bound to their URL.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends one request and returns the answer (any status).
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Settings of the built-in HTTPS stack.
#[derive(Debug, Clone, uniffi::Record)]
pub struct NetworkSettings {
    /// Time to connect (TCP and TLS), milliseconds.
    #[uniffi(default = 10000)]
    pub connect_timeout_ms: u32,
    /// Time for a whole exchange, milliseconds.
    #[uniffi(default = 30000)]
    pub timeout_ms: u32,
    /// Answers larger than this are refused, bytes.
    #[uniffi(default = 4194304)]
    pub max_response_bytes: u32,
    /// Extra trust anchors (PEM) beside the public roots.
    #[uniffi(default = [])]
    pub extra_roots_pem: Vec<String>,
    /// Trust only `extra_roots_pem` (a private CA).
    #[uniffi(default = false)]
    pub only_extra_roots: bool,
    /// Allow plain `http://` to any host (test networks only). Loopback
    /// hosts are always allowed.
    #[uniffi(default = false)]
    pub allow_plain_http: bool,
}

impl From<NetworkSettings> for net::NetworkConfig {
    fn from(s: NetworkSettings) -> Self {
        net::NetworkConfig {
            connect_timeout: std::time::Duration::from_millis(s.connect_timeout_ms.into()),
            timeout: std::time::Duration::from_millis(s.timeout_ms.into()),
            max_response_bytes: s.max_response_bytes as usize,
            extra_roots_pem: s.extra_roots_pem,
            only_extra_roots: s.only_extra_roots,
            plain_http: if s.allow_plain_http {
                PlainHttp::Anywhere
            } else {
                PlainHttp::LoopbackOnly
            },
        }
    }
}

/// A spawned task that is aborted if its waiter goes away.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn wait(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The built-in stack as an `HttpTransport`.
struct BuiltinTransport(HttpsTransport);

#[async_trait::async_trait]
impl HttpTransport for BuiltinTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        // Called from the app (any thread, no tokio context): run the
        // exchange on the SDK's runtime; dropping this future aborts it.
        let failed = |reason: String| TransportError::Failed { reason };
        let transport = self.0.clone();
        let rt = runtime::shared().map_err(|e| failed(e.to_string()))?;
        let task =
            AbortOnDrop(rt.spawn(async move { transport.send_async(into_core(request)).await }));
        let answer = task
            .wait()
            .await
            .map_err(|_| failed("the request failed unexpectedly".into()))?
            .map_err(|e| failed(e.to_string()))?;
        Ok(from_core(answer))
    }
}

/// The built-in HTTPS stack (rustls, Mozilla roots plus `settings`' extra
/// anchors) with custom settings. Calls that take an optional transport use
/// it with default settings when given none.
#[uniffi::export]
pub fn https_transport(settings: NetworkSettings) -> Result<Arc<dyn HttpTransport>, SatchelError> {
    Ok(Arc::new(BuiltinTransport(HttpsTransport::with_config(
        &settings.into(),
    )?)))
}

fn core_headers(h: Vec<HttpHeader>) -> Vec<(String, String)> {
    h.into_iter().map(|h| (h.name, h.value)).collect()
}

fn ffi_headers(h: Vec<(String, String)>) -> Vec<HttpHeader> {
    h.into_iter()
        .map(|(name, value)| HttpHeader { name, value })
        .collect()
}

fn into_core(r: HttpRequest) -> client::HttpRequest {
    client::HttpRequest {
        method: r.method,
        url: r.url,
        headers: core_headers(r.headers),
        body: r.body,
    }
}

fn from_core(r: client::HttpResponse) -> HttpResponse {
    HttpResponse {
        status: r.status,
        headers: ffi_headers(r.headers),
        body: r.body,
    }
}

/// Adapts an `HttpTransport` to core's synchronous `Transport` (core runs
/// on the blocking pool; the app's suspend function runs on its own side).
struct ForeignTransport(Arc<dyn HttpTransport>);

impl client::Transport for ForeignTransport {
    fn send(&self, r: client::HttpRequest) -> Result<client::HttpResponse, ClientError> {
        runtime::check_cancelled().map_err(|_| ClientError::Cancelled)?;
        let request = HttpRequest {
            method: r.method,
            url: r.url,
            headers: ffi_headers(r.headers),
            body: r.body,
        };
        let answer = match runtime::wait_here(self.0.send(request)) {
            Ok(answer) => answer.map_err(|e| ClientError::Transport(e.to_string()))?,
            Err(runtime::RuntimeError::Cancelled) => return Err(ClientError::Cancelled),
            Err(_) => return Err(ClientError::Transport("the app's transport failed".into())),
        };
        runtime::check_cancelled().map_err(|_| ClientError::Cancelled)?;
        Ok(into_core_response(answer))
    }
}

fn into_core_response(a: HttpResponse) -> client::HttpResponse {
    client::HttpResponse {
        status: a.status,
        headers: core_headers(a.headers),
        body: a.body,
    }
}

/// The transport a call uses: the app's, or the built-in one.
pub(crate) fn transport_for(
    app: Option<Arc<dyn HttpTransport>>,
) -> Result<Arc<dyn client::Transport>, SatchelError> {
    Ok(match app {
        Some(t) => Arc::new(ForeignTransport(t)),
        None => Arc::new(HttpsTransport::new()?),
    })
}
