//! The real server on port 0, driven by the real SDK client.

mod api;
mod binary;
mod conformance;
mod issuance;
mod log;
mod net;
mod status;
mod trust;

use std::sync::Arc;

use satchel_core::{
    client::{sign_request, HttpRequest, HttpResponse, ServerClient, Transport},
    net::HttpsTransport,
    Signer, SoftwareKey,
};
use satchel_server::embedded::EmbeddedServer;
use serde_json::Value;

pub struct Device {
    pub id: String,
    pub key: Arc<SoftwareKey>,
    pub client: ServerClient,
}

pub fn device(server: &EmbeddedServer, id: &str) -> Device {
    let key = Arc::new(SoftwareKey::generate_es256().unwrap());
    let client = ServerClient::new(
        &server.url,
        id,
        key.clone(),
        Arc::new(HttpsTransport::new().unwrap()),
    );
    Device {
        id: id.into(),
        key,
        client,
    }
}

/// A registered space with one device.
pub fn space(server: &EmbeddedServer, space_id: &str) -> (SoftwareKey, Device) {
    let space_key = SoftwareKey::generate_es256().unwrap();
    let d = device(server, &format!("{space_id}-dev1"));
    d.client.register_space(space_id, &space_key).unwrap();
    (space_key, d)
}

/// A raw request with a chosen Authorization header and body.
pub fn raw(
    server: &EmbeddedServer,
    method: &str,
    path: &str,
    auth: Option<String>,
    body: &[u8],
) -> (u16, Value) {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    if let Some(a) = auth {
        headers.push(("Authorization".into(), a));
    }
    let HttpResponse { status, body, .. } = HttpsTransport::new()
        .unwrap()
        .send(HttpRequest {
            method: method.into(),
            url: format!("{}{path}", server.url),
            headers,
            body: body.to_vec(),
        })
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A correctly signed raw request.
pub fn signed(
    server: &EmbeddedServer,
    d: &Device,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, Value) {
    let auth = sign_request(
        d.key.as_ref() as &dyn Signer,
        &d.id,
        method,
        path,
        body,
        satchel_core::unix_now(),
    )
    .unwrap();
    raw(server, method, path, Some(auth), body)
}

pub fn assert_problem(resp: &(u16, Value), status: u16, code: &str) {
    assert_eq!(resp.0, status, "{resp:?}");
    assert_eq!(resp.1["code"], code, "{resp:?}");
    assert!(resp.1["type"].as_str().unwrap().ends_with(code));
}
