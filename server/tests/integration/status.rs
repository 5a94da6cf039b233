use satchel_core::net::HttpsTransport;
use std::sync::Arc;

use satchel_core::{
    authz::{AuthzError, StatusCache},
    client::ClientError,
    status_list::{StatusList, StatusReference, INVALID},
    KeyStore, Signer, SoftwareKey, SoftwareKeyStore, SpaceKind, Wallet,
};
use satchel_server::embedded::EmbeddedServer;

use crate::{assert_problem, device, raw};

#[test]
fn holder_publishes_withdrawal_and_verifiers_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    // A wallet whose space key is registered with the server.
    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
    let wallet = Wallet::open(&dir.path().join("wallet.db"), ks.clone()).unwrap();
    wallet
        .set_status_base(&format!("{}/status", server.url))
        .unwrap();
    let space = wallet.create_space("me", SpaceKind::Personal).unwrap();
    let space_signer = satchel_core::KeyStoreSigner::new(ks, &space.holder_key_alias).unwrap();
    let dev = device(&server, "phone-1");
    dev.client.register_space(&space.id, &space_signer).unwrap();

    // The initial (empty) list, then a withdrawal at some index.
    let token = wallet
        .status_list_token(&space.id, satchel_core::unix_now())
        .unwrap();
    dev.client.publish_status_list(&space.id, &token).unwrap();
    let mut list = StatusList::new(1, 1024).unwrap();
    list.set(5, INVALID).unwrap();
    let uri = wallet.status_uri(&space.id);
    let withdrawn = list
        .to_token(&uri, satchel_core::unix_now(), Some(300), &space_signer)
        .unwrap();
    dev.client
        .publish_status_list(&space.id, &withdrawn)
        .unwrap();

    // Anyone fetches it; it is cached with ETag and ttl.
    let (status, _) = raw(&server, "GET", &format!("/status/{}", space.id), None, b"");
    assert_eq!(status, 200);
    let fetched = HttpsTransport::new().unwrap();
    let resp = satchel_core::client::Transport::send(
        &fetched,
        satchel_core::client::HttpRequest {
            method: "GET".into(),
            url: uri.clone(),
            headers: vec![],
            body: vec![],
        },
    )
    .unwrap();
    let served = String::from_utf8(resp.body).unwrap();
    assert_eq!(served, withdrawn);
    let cache = StatusCache::new();
    cache.publish(&uri, &served);
    let r = StatusReference {
        idx: 5,
        uri: uri.clone(),
    };
    use satchel_core::authz::StatusSource;
    assert_eq!(
        cache
            .status(&r, &space.holder_key, satchel_core::unix_now())
            .unwrap(),
        Some(INVALID)
    );

    // A list signed by another key, or for another URI, is refused.
    let other = SoftwareKey::generate_es256().unwrap();
    let forged = list
        .to_token(&uri, satchel_core::unix_now(), None, &other)
        .unwrap();
    assert!(matches!(
        dev.client.publish_status_list(&space.id, &forged),
        Err(ClientError::Server { status: 400, .. })
    ));
    let wrong_uri = list
        .to_token(
            "https://elsewhere/status/x",
            satchel_core::unix_now(),
            None,
            &space_signer,
        )
        .unwrap();
    assert!(matches!(
        dev.client.publish_status_list(&space.id, &wrong_uri),
        Err(ClientError::Server { status: 400, .. })
    ));
    // Another space's device cannot publish for this one.
    let (_, intruder) = crate::space(&server, "intruder");
    assert!(matches!(
        intruder.client.publish_status_list(&space.id, &withdrawn),
        Err(ClientError::Server { status: 403, .. })
    ));
    assert_problem(
        &raw(&server, "GET", "/status/unknown-space", None, b""),
        404,
        "not_found",
    );
    let _ = (other.public_jwk(), AuthzError::Withdrawn);
}

#[test]
fn etag_and_not_modified() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let space_key = SoftwareKey::generate_es256().unwrap();
    let dev = device(&server, "d1");
    dev.client.register_space("sp", &space_key).unwrap();
    let uri = format!("{}/status/sp", server.url);
    let token = StatusList::new(1, 16)
        .unwrap()
        .to_token(&uri, satchel_core::unix_now(), Some(120), &space_key)
        .unwrap();
    dev.client.publish_status_list("sp", &token).unwrap();
    let get = |etag: Option<&str>| {
        let headers = etag
            .map(|e| vec![("If-None-Match".to_owned(), e.to_owned())])
            .unwrap_or_default();
        satchel_core::client::Transport::send(
            &HttpsTransport::new().unwrap(),
            satchel_core::client::HttpRequest {
                method: "GET".into(),
                url: uri.clone(),
                headers,
                body: vec![],
            },
        )
        .unwrap()
    };
    let first = get(None);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("cache-control"), Some("public, max-age=120"));
    assert_eq!(
        first.header("content-type"),
        Some("application/statuslist+jwt")
    );
    let etag = first.header("etag").unwrap().to_owned();
    assert_eq!(get(Some(&etag)).status, 304);
    assert_eq!(get(Some("\"other\"")).status, 200);
}

#[test]
fn withdrawals_cannot_be_rolled_back_and_issuer_lists_cannot_be_hijacked() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let space_key = SoftwareKey::generate_es256().unwrap();
    let dev = device(&server, "d1");
    dev.client.register_space("rollback", &space_key).unwrap();
    let uri = format!("{}/status/rollback", server.url);
    let now = satchel_core::unix_now();
    let empty = StatusList::new(1, 16)
        .unwrap()
        .to_token(&uri, now - 10, None, &space_key)
        .unwrap();
    dev.client.publish_status_list("rollback", &empty).unwrap();
    let mut l = StatusList::new(1, 16).unwrap();
    l.set(2, INVALID).unwrap();
    dev.client
        .publish_status_list(
            "rollback",
            &l.to_token(&uri, now, None, &space_key).unwrap(),
        )
        .unwrap();
    // Replaying the older list, or a newer one that clears the withdrawal: refused.
    assert!(matches!(
        dev.client.publish_status_list("rollback", &empty),
        Err(ClientError::Server { status: 409, .. })
    ));
    let cleared = StatusList::new(1, 16)
        .unwrap()
        .to_token(&uri, now + 5, None, &space_key)
        .unwrap();
    assert!(matches!(
        dev.client.publish_status_list("rollback", &cleared),
        Err(ClientError::Server { status: 409, .. })
    ));

    // A space named like an issuer publishes only its own list.
    let squatter_key = SoftwareKey::generate_es256().unwrap();
    let squatter = device(&server, "d2");
    squatter
        .client
        .register_space("issuer-public-security", &squatter_key)
        .unwrap();
    let own = StatusList::new(1, 16)
        .unwrap()
        .to_token(
            &format!("{}/status/issuer-public-security", server.url),
            now,
            None,
            &squatter_key,
        )
        .unwrap();
    squatter
        .client
        .publish_status_list("issuer-public-security", &own)
        .unwrap();
    let r = satchel_core::client::Transport::send(
        &HttpsTransport::new().unwrap(),
        satchel_core::client::HttpRequest {
            method: "GET".into(),
            url: format!("{}/issuers/public-security/status", server.url),
            headers: vec![],
            body: vec![],
        },
    )
    .unwrap();
    let (_, key) = raw(
        &server,
        "GET",
        "/.well-known/jwt-vc-issuer/issuers/public-security",
        None,
        b"",
    );
    let issuer_key = satchel_core::Jwk::from_value(&key["jwks"]["keys"][0])
        .unwrap()
        .verifying_key()
        .unwrap();
    let issuer_uri = format!("{}/issuers/public-security/status", server.url);
    StatusList::from_token(
        std::str::from_utf8(&r.body).unwrap(),
        &issuer_key,
        &issuer_uri,
        now,
    )
    .unwrap();
}

/// A space cannot publish a list so large that checking it costs the
/// server real work (finding: 16 MiB lists, ~1 s of CPU per PUT).
#[test]
fn oversized_status_lists_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let space_key = SoftwareKey::generate_es256().unwrap();
    let dev = device(&server, "phone-big");
    dev.client.register_space("big-space", &space_key).unwrap();
    let uri = format!("{}/status/big-space", server.url);
    let now = satchel_core::unix_now();
    // 128 Mi entries: 16 MiB decoded, ~16 KB on the wire.
    let huge = StatusList::new(1, 128 << 20)
        .unwrap()
        .to_token(&uri, now, Some(300), &space_key)
        .unwrap();
    let started = std::time::Instant::now();
    match dev.client.publish_status_list("big-space", &huge) {
        Err(ClientError::Server { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (413, "too_large"))
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // The largest allowed size goes through, and forward-only still holds.
    let mut max = StatusList::new(1, satchel_server::service::MAX_SPACE_STATUS_BYTES * 8).unwrap();
    max.set(7, INVALID).unwrap();
    let token = max.to_token(&uri, now, Some(300), &space_key).unwrap();
    dev.client.publish_status_list("big-space", &token).unwrap();
    let cleared = StatusList::new(1, 1024)
        .unwrap()
        .to_token(&uri, now + 1, Some(300), &space_key)
        .unwrap();
    assert!(matches!(
        dev.client.publish_status_list("big-space", &cleared),
        Err(ClientError::Server { status: 409, .. })
    ));
}
