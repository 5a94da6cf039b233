//! The built-in network stack: HTTPS over reqwest and rustls (ring; no
//! OpenSSL, no aws-lc), trusting the Mozilla root set (webpki-roots) plus
//! any extra anchors a private deployment configures.
//!
//! It is the default [`Transport`] of the CLI, the demo, the tests and the
//! bindings. Requests are never redirected (a signed request is bound to
//! its URL), answers are cut off at a size cap, and connecting and the
//! whole exchange have time limits. Plain `http://` is refused except to
//! loopback addresses (a developer's local server) unless the configuration
//! allows it everywhere.

use std::{net::IpAddr, sync::Arc, time::Duration};

use rustls_pki_types::{pem::PemObject, CertificateDer};

use crate::{
    client::{ClientError, HttpRequest, HttpResponse, Transport},
    runtime::{self, RuntimeError},
};

/// Where plain `http://` may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlainHttp {
    /// Never: HTTPS only.
    Never,
    /// To loopback hosts only (`localhost`, 127.0.0.0/8, `::1`).
    #[default]
    LoopbackOnly,
    /// Anywhere (a test network; never in production).
    Anywhere,
}

/// How the built-in transport connects.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Time to set up a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for a whole exchange, answer included.
    pub timeout: Duration,
    /// Answers larger than this are refused.
    pub max_response_bytes: usize,
    /// Extra trust anchors (PEM certificates) beside the public roots, for
    /// private deployments.
    pub extra_roots_pem: Vec<String>,
    /// Trust only `extra_roots_pem`, not the public roots (pinning to a
    /// private CA).
    pub only_extra_roots: bool,
    /// Where plain HTTP is allowed.
    pub plain_http: PlainHttp,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: 4 << 20,
            extra_roots_pem: Vec::new(),
            only_extra_roots: false,
            plain_http: PlainHttp::default(),
        }
    }
}

/// The built-in HTTPS transport. Cheap to clone; connections are pooled.
#[derive(Clone)]
pub struct HttpsTransport {
    client: reqwest::Client,
    max_response_bytes: usize,
    plain_http: PlainHttp,
}

impl std::fmt::Debug for HttpsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsTransport")
            .field("plain_http", &self.plain_http)
            .finish_non_exhaustive()
    }
}

fn transport_error(what: &str) -> ClientError {
    ClientError::Transport(what.to_owned())
}

impl HttpsTransport {
    /// A transport with the default configuration.
    pub fn new() -> Result<Self, ClientError> {
        Self::with_config(&NetworkConfig::default())
    }

    /// A transport with `config`. Fails on a malformed extra root or when
    /// no root is left to trust.
    pub fn with_config(config: &NetworkConfig) -> Result<Self, ClientError> {
        let mut roots = rustls::RootCertStore::empty();
        if !config.only_extra_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for pem in &config.extra_roots_pem {
            let mut any = false;
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|_| transport_error("an extra root is not valid PEM"))?;
                roots
                    .add(cert)
                    .map_err(|_| transport_error("an extra root is not a usable certificate"))?;
                any = true;
            }
            if !any {
                return Err(transport_error("an extra root holds no certificate"));
            }
        }
        if roots.is_empty() {
            return Err(transport_error("no trust anchor configured"));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| transport_error("TLS configuration"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(concat!("satchel/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| transport_error("cannot build the HTTP client"))?;
        Ok(HttpsTransport {
            client,
            max_response_bytes: config.max_response_bytes,
            plain_http: config.plain_http,
        })
    }

    fn check_url(&self, url: &reqwest::Url) -> Result<(), ClientError> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.plain_http == PlainHttp::Anywhere => Ok(()),
            "http" if self.plain_http == PlainHttp::LoopbackOnly && is_loopback(url) => Ok(()),
            "http" => Err(transport_error(
                "plain http is only allowed to loopback addresses; use https",
            )),
            _ => Err(transport_error("only http and https URLs are supported")),
        }
    }

    /// Sends `request` and reads the answer. The future must run on a tokio
    /// runtime (such as [`runtime::shared`]).
    pub async fn send_async(&self, r: HttpRequest) -> Result<HttpResponse, ClientError> {
        let url = reqwest::Url::parse(&r.url).map_err(|_| transport_error("malformed URL"))?;
        self.check_url(&url)?;
        let method = reqwest::Method::from_bytes(r.method.as_bytes())
            .map_err(|_| transport_error("malformed HTTP method"))?;
        let mut builder = self.client.request(method, url);
        for (name, value) in &r.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut answer = builder.body(r.body).send().await.map_err(describe)?;
        if answer
            .content_length()
            .is_some_and(|n| n > self.max_response_bytes as u64)
        {
            return Err(transport_error("the answer is larger than allowed"));
        }
        let status = answer.status().as_u16();
        let headers = answer
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(transport_error("the answer is larger than allowed"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// A reqwest error as a short reason without the URL (which may carry a
/// pre-authorised code or other secrets in its query).
fn describe(e: reqwest::Error) -> ClientError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect (or TLS handshake failed)"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off or malformed"
    } else if e.is_request() {
        "the request could not be sent"
    } else {
        "HTTP failure"
    };
    transport_error(what)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    url.host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost")
            || h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

impl Transport for HttpsTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, ClientError> {
        runtime::check_cancelled().map_err(cancelled)?;
        let this = self.clone();
        let answer =
            runtime::block_on(async move { this.send_async(request).await }).map_err(cancelled)?;
        runtime::check_cancelled().map_err(cancelled)?;
        answer
    }
}

fn cancelled(e: RuntimeError) -> ClientError {
    match e {
        RuntimeError::Cancelled => ClientError::Cancelled,
        other => transport_error(&other.to_string()),
    }
}
