//! The device side of the reference server's API: request signing, and a
//! client over a pluggable [`Transport`] (apps may bring their own HTTP
//! stack; tests use a plain one) for space registration, device enrolment,
//! encrypted sync, the transparency log (with proof verification) and status
//! list publishing.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::{
    b64, jws,
    note::{Checkpoint, NoteVerifier},
    registry::Registry,
    tlog::{self, Hash},
    Jwk, KeyStore, KeyStoreError, KeyStoreSigner, Signer,
};

/// `typ` of a signed API request.
pub const REQUEST_TYP: &str = "satchel-req+jwt";

/// Why a server call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The transport failed (network, TLS…).
    #[error("transport: {0}")]
    Transport(String),
    /// The server answered with a problem (`code` is its stable code).
    #[error("server refused ({status} {code}): {detail}")]
    Server {
        /// HTTP status.
        status: u16,
        /// Stable problem code.
        code: String,
        /// Human-readable detail.
        detail: String,
    },
    /// The answer is malformed.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// A proof or signature from the server did not verify.
    #[error("server proof rejected: {0}")]
    Proof(String),
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(String),
    /// The caller cancelled the operation.
    #[error("cancelled")]
    Cancelled,
}

/// An HTTP exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (names as sent).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends HTTP requests. Implementations must be safe to share.
pub trait Transport: Send + Sync {
    /// Sends one request.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, ClientError>;
}

/// A signing failure; a dismissed confirmation or a cancelled caller stays
/// a cancellation.
fn signing_error(e: jws::JoseError) -> ClientError {
    match e {
        jws::JoseError::SigningCancelled => ClientError::Cancelled,
        other => ClientError::Signing(other.to_string()),
    }
}

/// Signs an API request: the `Authorization` header value.
pub fn sign_request(
    signer: &dyn Signer,
    device_id: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: i64,
) -> Result<String, ClientError> {
    let mut header = jws::header_with_typ(REQUEST_TYP);
    header.insert("kid".into(), Value::from(device_id));
    let payload = json!({
        "htm": method,
        "htu": path_and_query,
        "bh": b64::sha256_b64(body),
        "iat": now,
        "jti": b64::encode(b64::random_bytes::<18>()),
    });
    let token = jws::sign(header, &payload, signer).map_err(signing_error)?;
    Ok(format!("Satchel {token}"))
}

/// Alias of this installation's device key (ES256) in its key store.
pub const DEVICE_KEY_ALIAS: &str = "satchel.device";

/// Fetches the server's signed registry and verifies it with `operator`,
/// or, without a pinned key, with the key the server publishes (trust on
/// first use: pin the key where it matters).
pub fn fetch_registry(
    base: &str,
    transport: &dyn Transport,
    operator: Option<&Jwk>,
    now: i64,
) -> Result<Registry, ClientError> {
    let get = |path: &str| -> Result<Vec<u8>, ClientError> {
        let answer = transport.send(HttpRequest {
            method: "GET".into(),
            url: format!("{}{path}", base.trim_end_matches('/')),
            headers: Vec::new(),
            body: Vec::new(),
        })?;
        if answer.status != 200 {
            return Err(ClientError::Server {
                status: answer.status,
                code: "registry_unavailable".into(),
                detail: "the registry could not be fetched".into(),
            });
        }
        Ok(answer.body)
    };
    let published;
    let operator = match operator {
        Some(k) => k,
        None => {
            let value: Value = serde_json::from_slice(&get("/v1/registry/key")?)
                .map_err(|_| ClientError::Malformed("operator key".into()))?;
            published = Jwk::from_value(&value)
                .map_err(|_| ClientError::Malformed("operator key".into()))?;
            &published
        }
    };
    let key = operator
        .verifying_key()
        .map_err(|_| ClientError::Malformed("operator key".into()))?;
    let token = String::from_utf8(get("/v1/registry")?)
        .map_err(|_| ClientError::Malformed("registry".into()))?;
    Registry::verify(token.trim(), &key, now).map_err(|e| ClientError::Proof(e.to_string()))
}

/// A device's client of the reference server.
pub struct ServerClient {
    base: String,
    device_id: String,
    device: Arc<dyn Signer>,
    transport: Arc<dyn Transport>,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient")
            .field("base", &self.base)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

fn hash_b64(h: &Hash) -> String {
    b64::encode(h)
}

fn parse_hash(v: &Value) -> Result<Hash, ClientError> {
    v.as_str()
        .and_then(b64::decode)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| ClientError::Malformed("hash".into()))
}

impl ServerClient {
    /// A client for the server at `base` (no trailing slash), signing as `device_id`.
    pub fn new(
        base: &str,
        device_id: &str,
        device: Arc<dyn Signer>,
        transport: Arc<dyn Transport>,
    ) -> Self {
        ServerClient {
            base: base.trim_end_matches('/').into(),
            device_id: device_id.into(),
            device,
            transport,
        }
    }

    /// A client signing with this installation's device key (created in
    /// `keystore` under [`DEVICE_KEY_ALIAS`] on first use); the device id
    /// is derived from the key, so it is stable across runs.
    pub fn for_device(
        base: &str,
        keystore: Arc<dyn KeyStore>,
        transport: Arc<dyn Transport>,
    ) -> Result<Self, KeyStoreError> {
        let signer = KeyStoreSigner::get_or_create(keystore, DEVICE_KEY_ALIAS)?;
        let thumbprint = signer.public_jwk().thumbprint();
        let device_id = format!("device-{}", &thumbprint[..16.min(thumbprint.len())]);
        Ok(Self::new(base, &device_id, Arc::new(signer), transport))
    }

    /// This client's device id.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// This client's device key (public).
    pub fn device_key(&self) -> Jwk {
        self.device.public_jwk()
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends a signed request and returns the JSON answer.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let auth = sign_request(
            self.device.as_ref(),
            &self.device_id,
            method,
            path,
            &body,
            crate::unix_now(),
        )?;
        let mut headers = vec![("Authorization".to_owned(), auth)];
        if !body.is_empty() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        let resp = self.transport.send(HttpRequest {
            method: method.into(),
            url: format!("{}{path}", self.base),
            headers,
            body,
        })?;
        let value: Value = if resp.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&resp.body).map_err(|e| ClientError::Malformed(e.to_string()))?
        };
        if resp.status >= 400 {
            return Err(ClientError::Server {
                status: resp.status,
                code: value
                    .get("code")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .into(),
                detail: value
                    .get("detail")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into(),
            });
        }
        Ok(value)
    }

    /// Registers a space (its key proves possession) with this device.
    pub fn register_space(&self, space_id: &str, space: &dyn Signer) -> Result<(), ClientError> {
        let device_jwk: Jwk = self.device.public_jwk();
        let proof = jws::sign(
            jws::header_with_typ("satchel-space+jwt"),
            &json!({"space_id": space_id, "device": device_jwk.thumbprint(), "iat": crate::unix_now()}),
            space,
        )
        .map_err(signing_error)?;
        let body = json!({
            "space_id": space_id,
            "space_jwk": space.public_jwk().to_value(),
            "device_id": self.device_id,
            "device_jwk": device_jwk.to_value(),
            "space_proof": proof,
        });
        self.call("POST", "/v1/spaces", Some(&body)).map(|_| ())
    }

    /// Appends leaf hashes to the log and waits for their integration;
    /// returns their indices.
    pub fn append_leaves(&self, leaves: &[Hash]) -> Result<Vec<u64>, ClientError> {
        let body = json!({"leaves": leaves.iter().map(hash_b64).collect::<Vec<_>>()});
        let v = self.call("POST", "/v1/log/leaves?wait=true", Some(&body))?;
        v.get("indices")
            .and_then(|i| serde_json::from_value(i.clone()).ok())
            .ok_or_else(|| ClientError::Malformed("indices".into()))
    }

    /// The log's verifier key as the server announces it. Trusting it is
    /// trust on first use: an app that knows its server pins the key in its
    /// configuration instead, and an app that fetched it keeps it.
    pub fn log_key(&self) -> Result<NoteVerifier, ClientError> {
        let v = self.call("GET", "/v1/log/key", None)?;
        v.get("verifier_key")
            .and_then(Value::as_str)
            .and_then(|k| NoteVerifier::parse(k).ok())
            .ok_or_else(|| ClientError::Malformed("verifier_key".into()))
    }

    /// Fetches and verifies the latest checkpoint.
    pub fn checkpoint(&self, verifier: &NoteVerifier) -> Result<Checkpoint, ClientError> {
        self.checkpoint_note(verifier).map(|(c, _)| c)
    }

    /// Fetches and verifies the latest checkpoint, with its signed note.
    pub fn checkpoint_note(
        &self,
        verifier: &NoteVerifier,
    ) -> Result<(Checkpoint, String), ClientError> {
        let v = self.call("GET", "/v1/log/checkpoint", None)?;
        let note = v
            .get("checkpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::Malformed("checkpoint".into()))?;
        let cp =
            Checkpoint::verify(note, verifier).map_err(|e| ClientError::Proof(e.to_string()))?;
        Ok((cp, note.to_owned()))
    }

    /// Checks that `leaf` is at `index` under `checkpoint`.
    pub fn verify_inclusion(
        &self,
        leaf: &Hash,
        index: u64,
        checkpoint: &Checkpoint,
    ) -> Result<(), ClientError> {
        let v = self.call(
            "GET",
            &format!(
                "/v1/log/proof/inclusion?index={index}&size={}",
                checkpoint.size
            ),
            None,
        )?;
        let proof = v
            .get("proof")
            .and_then(Value::as_array)
            .ok_or_else(|| ClientError::Malformed("proof".into()))?;
        let proof = proof
            .iter()
            .map(parse_hash)
            .collect::<Result<Vec<_>, _>>()?;
        tlog::verify_inclusion(index, checkpoint.size, leaf, &proof, &checkpoint.root)
            .map_err(|e| ClientError::Proof(e.to_string()))
    }

    /// Checks that `newer` extends `older` (no fork, no rewrite).
    pub fn verify_consistency(
        &self,
        older: &Checkpoint,
        newer: &Checkpoint,
    ) -> Result<(), ClientError> {
        let v = self.call(
            "GET",
            &format!(
                "/v1/log/proof/consistency?size1={}&size2={}",
                older.size, newer.size
            ),
            None,
        )?;
        let proof = v
            .get("proof")
            .and_then(Value::as_array)
            .ok_or_else(|| ClientError::Malformed("proof".into()))?;
        let proof = proof
            .iter()
            .map(parse_hash)
            .collect::<Result<Vec<_>, _>>()?;
        tlog::verify_consistency(older.size, newer.size, &older.root, &newer.root, &proof)
            .map_err(|e| ClientError::Proof(e.to_string()))
    }

    /// Publishes the space's status list token.
    pub fn publish_status_list(&self, space_id: &str, token: &str) -> Result<(), ClientError> {
        self.call(
            "PUT",
            &format!("/v1/spaces/{space_id}/status"),
            Some(&json!({"token": token})),
        )
        .map(|_| ())
    }
}
