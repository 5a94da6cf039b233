use satchel_core::net::HttpsTransport;
use satchel_core::{b64, client::sign_request, client::ClientError, jws, Signer, SoftwareKey};
use satchel_server::embedded::EmbeddedServer;
use serde_json::json;

use satchel_core::device::certify;

use crate::{assert_problem, device, raw, signed, space};

fn record(id: &str, text: &str) -> serde_json::Value {
    json!({"id": id, "content_hash": b64::sha256_b64(text.as_bytes()), "ciphertext": b64::encode(text)})
}

#[test]
fn spaces_devices_and_isolation() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let (space_key, a) = space(&server, "space-a");
    // The same space id again: conflict.
    let again = device(&server, "other-dev");
    assert!(matches!(
        again.client.register_space("space-a", &space_key),
        Err(ClientError::Server { status: 409, .. })
    ));
    // A registration whose space proof names another device: refused.
    let stranger = SoftwareKey::generate_es256().unwrap();
    let proof = jws::sign(jws::header_with_typ("satchel-space+jwt"), &json!({"space_id": "space-x", "device": "not-this-device", "iat": satchel_core::unix_now()}), &stranger).unwrap();
    let d = device(&server, "dev-x");
    let body = json!({"space_id": "space-x", "space_jwk": stranger.public_jwk().to_value(), "device_id": "dev-x", "device_jwk": d.key.public_jwk().to_value(), "space_proof": proof});
    assert!(matches!(
        d.client.call("POST", "/v1/spaces", Some(&body)),
        Err(ClientError::Server { status: 401, .. })
    ));

    // Device B is enrolled by A and finds its wrapped key.
    let b = device(&server, "space-a-dev2");
    let cert = certify(
        "space-a",
        "space-a-dev2",
        &b.key.public_jwk(),
        &space_key,
        satchel_core::unix_now(),
    )
    .unwrap();
    let enrol = json!({"device_id": "space-a-dev2", "device_jwk": b.key.public_jwk().to_value(), "wrapped_key": "opaque-e2e-wrapped-key", "certificates": [cert]});
    a.client
        .call("POST", "/v1/spaces/space-a/devices", Some(&enrol))
        .unwrap();
    let k = b
        .client
        .call(
            "GET",
            "/v1/spaces/space-a/devices/space-a-dev2/wrapped-key",
            None,
        )
        .unwrap();
    assert_eq!(k["wrapped_key"], "opaque-e2e-wrapped-key");
    assert!(matches!(
        a.client.call(
            "GET",
            "/v1/spaces/space-a/devices/space-a-dev2/wrapped-key",
            None
        ),
        Err(ClientError::Server { status: 403, .. })
    ));

    // Space B cannot touch space A.
    let (_, other) = space(&server, "space-b");
    a.client
        .call(
            "POST",
            "/v1/spaces/space-a/records",
            Some(&json!({"records": [record("r1", "ciphertext-a")]})),
        )
        .unwrap();
    for (m, p, body) in [
        ("GET", "/v1/spaces/space-a/records", None),
        (
            "POST",
            "/v1/spaces/space-a/records",
            Some(json!({"records": [record("r1", "evil")]})),
        ),
        ("POST", "/v1/spaces/space-a/devices", Some(enrol.clone())),
    ] {
        match other.client.call(m, p, body.as_ref()) {
            Err(ClientError::Server {
                status: 403, code, ..
            }) => assert_eq!(code, "forbidden"),
            other => panic!("{m} {p}: {other:?}"),
        }
    }
    let pulled = a
        .client
        .call("GET", "/v1/spaces/space-a/records", None)
        .unwrap();
    assert_eq!(
        pulled["records"][0]["ciphertext"],
        b64::encode("ciphertext-a"),
        "space B changed nothing"
    );
}

#[test]
fn signatures_are_required_checked_and_single_use() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let (_, a) = space(&server, "s1");
    let path = "/v1/spaces/s1/records";
    assert_problem(
        &raw(&server, "GET", path, None, b""),
        401,
        "unauthenticated",
    );
    assert_problem(
        &raw(&server, "GET", path, Some("Bearer x".into()), b""),
        401,
        "unauthenticated",
    );
    assert_problem(
        &raw(&server, "GET", path, Some("Satchel garbage".into()), b""),
        401,
        "unauthenticated",
    );
    let now = satchel_core::unix_now();
    let key: &dyn Signer = a.key.as_ref();
    // An unknown key id and a known one with a wrong key get the same
    // answer: nobody learns which devices exist.
    let stranger = SoftwareKey::generate_es256().unwrap();
    let unknown = raw(
        &server,
        "GET",
        path,
        Some(sign_request(&stranger, "no-such-device", "GET", path, b"", now).unwrap()),
        b"",
    );
    let wrong_key = raw(
        &server,
        "GET",
        path,
        Some(sign_request(&stranger, &a.id, "GET", path, b"", now).unwrap()),
        b"",
    );
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, wrong_key);
    // Signed for another path, another method, another body, too old, unknown device.
    assert_problem(
        &raw(
            &server,
            "GET",
            path,
            Some(
                sign_request(key, &a.id, "GET", "/v1/spaces/s1/records?after=1", b"", now).unwrap(),
            ),
            b"",
        ),
        401,
        "unauthenticated",
    );
    assert_problem(
        &raw(
            &server,
            "GET",
            path,
            Some(sign_request(key, &a.id, "POST", path, b"", now).unwrap()),
            b"",
        ),
        401,
        "unauthenticated",
    );
    let body = json!({"records": [record("r", "x")]}).to_string();
    assert_problem(
        &raw(
            &server,
            "POST",
            path,
            Some(sign_request(key, &a.id, "POST", path, b"{}", now).unwrap()),
            body.as_bytes(),
        ),
        401,
        "unauthenticated",
    );
    assert_problem(
        &raw(
            &server,
            "GET",
            path,
            Some(sign_request(key, &a.id, "GET", path, b"", now - 3600).unwrap()),
            b"",
        ),
        401,
        "unauthenticated",
    );
    assert_problem(
        &raw(
            &server,
            "GET",
            path,
            Some(sign_request(key, "ghost", "GET", path, b"", now).unwrap()),
            b"",
        ),
        401,
        "unauthenticated",
    );
    let other = SoftwareKey::generate_es256().unwrap();
    assert_problem(
        &raw(
            &server,
            "GET",
            path,
            Some(sign_request(&other, &a.id, "GET", path, b"", now).unwrap()),
            b"",
        ),
        401,
        "unauthenticated",
    );
    // Replay.
    let auth = sign_request(key, &a.id, "GET", path, b"", now).unwrap();
    assert_eq!(raw(&server, "GET", path, Some(auth.clone()), b"").0, 200);
    assert_problem(&raw(&server, "GET", path, Some(auth), b""), 401, "replay");
}

#[test]
fn sync_push_pull_idempotent_conflicts_pagination() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let (_, a) = space(&server, "sync");
    let path = "/v1/spaces/sync/records";
    let push = |records: serde_json::Value| {
        a.client
            .call("POST", path, Some(&json!({"records": records})))
            .unwrap()
    };
    let r = push(json!([
        record("a", "1"),
        record("b", "2"),
        record("c", "3")
    ]));
    assert!(r["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["status"] == "stored"));
    let r = push(json!([record("a", "1")]));
    assert_eq!(r["results"][0]["status"], "duplicate");
    let base = r["results"][0]["cursor"].as_i64().unwrap();
    // Changed without saying which version it changes: conflict, not overwritten.
    let r = push(json!([record("a", "1-changed")]));
    assert_eq!(r["results"][0]["status"], "conflict");
    let mut changed = record("a", "1-changed");
    changed["base_cursor"] = json!(base);
    let r = push(json!([changed]));
    assert_eq!(r["results"][0]["status"], "stored");

    let page = a
        .client
        .call("GET", &format!("{path}?after=0&limit=2"), None)
        .unwrap();
    assert_eq!(page["records"].as_array().unwrap().len(), 2);
    assert_eq!(page["more"], true);
    let next = page["next"].as_i64().unwrap();
    let page2 = a
        .client
        .call("GET", &format!("{path}?after={next}&limit=2"), None)
        .unwrap();
    let ids: Vec<&str> = page2["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a"], "a moved to the end with its new cursor");
    let first: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(first, ["b", "c"]);

    // Bad input changes nothing.
    let bad_hash =
        json!({"records": [{"id": "d", "content_hash": "wrong", "ciphertext": b64::encode("4")}]})
            .to_string();
    assert_problem(
        &signed(&server, &a, "POST", path, bad_hash.as_bytes()),
        400,
        "bad_request",
    );
    assert_problem(
        &signed(&server, &a, "POST", path, b"{not json"),
        400,
        "malformed_json",
    );
    assert_problem(
        &signed(&server, &a, "POST", path, br#"{"records": "nope"}"#),
        400,
        "malformed_json",
    );
    assert_problem(
        &signed(&server, &a, "POST", path, br#"{"records": []}"#),
        400,
        "bad_request",
    );
    assert_problem(
        &signed(&server, &a, "GET", &format!("{path}?after=x"), b""),
        400,
        "bad_query",
    );
    let huge = vec![b'a'; 2 << 20];
    assert_problem(&signed(&server, &a, "POST", path, &huge), 413, "too_large");
    let all = a.client.call("GET", path, None).unwrap();
    assert_eq!(all["records"].as_array().unwrap().len(), 3);
}

#[test]
fn devices_are_enrolled_by_certificate_listed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let (space_key, a) = space(&server, "fam");
    let now = satchel_core::unix_now();
    let b = device(&server, "fam-b");
    let c = device(&server, "fam-c");
    let cert_b = certify("fam", "fam-b", &b.key.public_jwk(), &space_key, now).unwrap();
    let enrol = |who: &crate::Device, id: &str, jwk: serde_json::Value, chain: Vec<String>| {
        who.client.call(
            "POST",
            "/v1/spaces/fam/devices",
            Some(&json!({"device_id": id, "device_jwk": jwk, "wrapped_key": "w", "certificates": chain})),
        )
    };
    // No certificate, a certificate by a stranger, one for another key.
    let stranger = SoftwareKey::generate_es256().unwrap();
    let bad = certify("fam", "fam-b", &b.key.public_jwk(), &stranger, now).unwrap();
    for chain in [vec![], vec![bad]] {
        assert!(matches!(
            enrol(&a, "fam-b", b.key.public_jwk().to_value(), chain),
            Err(ClientError::Server { status: 400, .. })
        ));
    }
    assert!(matches!(
        enrol(
            &a,
            "fam-b",
            c.key.public_jwk().to_value(),
            vec![cert_b.clone()]
        ),
        Err(ClientError::Server { status: 400, .. })
    ));
    enrol(
        &a,
        "fam-b",
        b.key.public_jwk().to_value(),
        vec![cert_b.clone()],
    )
    .unwrap();
    // B enrols C through its own certificate; C finds its enrolment.
    let cert_c = certify("fam", "fam-c", &c.key.public_jwk(), b.key.as_ref(), now).unwrap();
    enrol(
        &b,
        "fam-c",
        c.key.public_jwk().to_value(),
        vec![cert_c.clone(), cert_b.clone()],
    )
    .unwrap();
    let me = c.client.call("GET", "/v1/device", None).unwrap();
    assert_eq!(me["space_id"], "fam");
    assert_eq!(me["wrapped_key"], "w");
    assert_eq!(me["certificates"], json!([cert_c, cert_b]));
    let list = a
        .client
        .call("GET", "/v1/spaces/fam/devices", None)
        .unwrap();
    let ids: Vec<&str> = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["fam-dev1", "fam-b", "fam-c"]);

    // A status list signed by B (through its chain) is accepted.
    let uri = format!("{}/status/fam", server.url);
    let mut list = satchel_core::status_list::StatusList::new(1, 16).unwrap();
    list.set(2, 1).unwrap();
    let by_b = list
        .to_token_chained(
            &uri,
            now,
            None,
            b.key.as_ref(),
            std::slice::from_ref(&cert_b),
        )
        .unwrap();
    b.client
        .call(
            "PUT",
            "/v1/spaces/fam/status",
            Some(&json!({"token": by_b})),
        )
        .unwrap();
    // A rotates the data key for C, then removes B.
    a.client
        .call(
            "PUT",
            "/v1/spaces/fam/devices/fam-c/wrapped-key",
            Some(&json!({"wrapped_key": "w2"})),
        )
        .unwrap();
    assert_eq!(
        c.client.call("GET", "/v1/device", None).unwrap()["wrapped_key"],
        "w2"
    );
    a.client
        .call("DELETE", "/v1/spaces/fam/devices/fam-b", None)
        .unwrap();
    // B is refused from then on, and so is anything signed through it.
    assert!(matches!(
        b.client.call("GET", "/v1/spaces/fam/records", None),
        Err(ClientError::Server { status: 403, .. })
    ));
    let later = list
        .to_token_chained(
            &uri,
            now + 1,
            None,
            c.key.as_ref(),
            &[cert_c.clone(), cert_b.clone()],
        )
        .unwrap();
    assert!(matches!(
        c.client.call(
            "PUT",
            "/v1/spaces/fam/status",
            Some(&json!({"token": later}))
        ),
        Err(ClientError::Server { status: 400, .. })
    ));
    let d = device(&server, "fam-d");
    let cert_d = certify("fam", "fam-d", &d.key.public_jwk(), b.key.as_ref(), now).unwrap();
    assert!(matches!(
        enrol(
            &a,
            "fam-d",
            d.key.public_jwk().to_value(),
            vec![cert_d, cert_b.clone()]
        ),
        Err(ClientError::Server { status: 400, .. })
    ));
    let list = a
        .client
        .call("GET", "/v1/spaces/fam/devices", None)
        .unwrap();
    assert!(list["devices"][1]["removed_at"].is_i64());
    // Removed twice, unknown, or the last device: refused.
    assert!(matches!(
        a.client
            .call("DELETE", "/v1/spaces/fam/devices/fam-b", None),
        Err(ClientError::Server { status: 404, .. })
    ));
    a.client
        .call("DELETE", "/v1/spaces/fam/devices/fam-c", None)
        .unwrap();
    assert!(matches!(
        a.client
            .call("DELETE", "/v1/spaces/fam/devices/fam-dev1", None),
        Err(ClientError::Server { status: 409, .. })
    ));
    // Another space's device cannot list or remove.
    let (_, other) = space(&server, "other");
    assert!(matches!(
        other.client.call("GET", "/v1/spaces/fam/devices", None),
        Err(ClientError::Server { status: 403, .. })
    ));
}

#[test]
fn openapi_lists_exactly_the_routes_and_every_route_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&satchel_server::http::OPENAPI).unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (m, op) in ops.as_object().unwrap() {
            if m == "parameters" {
                continue;
            }
            documented.push((m.clone(), path.clone()));
            assert!(op["summary"].is_string(), "{m} {path}: no summary");
            let answers = op["responses"].as_object().unwrap();
            assert!(
                answers.contains_key("429"),
                "{m} {path}: no rate-limit answer"
            );
            for (code, answer) in answers {
                if code.starts_with('4') || code.starts_with('5') {
                    assert!(
                        answer["content"].as_object().is_some_and(|c| !c.is_empty()),
                        "{m} {path} {code}: no error document"
                    );
                }
            }
            // Every path parameter of the template is declared.
            for name in path.split('{').skip(1).filter_map(|p| p.split('}').next()) {
                assert!(
                    op["parameters"].as_array().is_some_and(|ps| ps
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path")),
                    "{m} {path}: path parameter {name} undeclared"
                );
            }
        }
    }
    // Every reference resolves.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    for scheme in ["SatchelSignature", "AdminToken", "AccessToken"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    let mut routes: Vec<(String, String)> = satchel_server::http::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    routes.sort();
    assert_eq!(documented, routes);
    let (status, served) = raw(&server, "GET", "/openapi.json", None, b"");
    assert_eq!(status, 200);
    assert_eq!(served, doc);
    // Every route exists (answers something other than 404 not_found / 405).
    for (m, p) in satchel_server::http::ROUTES {
        let path = p
            .replace("{space_id}", "s")
            .replace("{device_id}", "d")
            .replace("{name}", "public-security")
            .replace("{id}", "x")
            .replace("{client_id}", "c");
        let (status, body) = raw(&server, &m.to_uppercase(), &path, None, b"{}");
        assert!(
            status != 405 && body["code"] != "not_found" || body["detail"] != "no such endpoint",
            "{m} {p}: {status} {body}"
        );
    }
    assert_problem(
        &raw(&server, "GET", "/v1/nowhere", None, b""),
        404,
        "not_found",
    );
    assert_problem(
        &raw(&server, "DELETE", "/v1/log/checkpoint", None, b""),
        405,
        "method_not_allowed",
    );
}

#[test]
fn malformed_and_wrongly_typed_bodies_on_every_signed_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let (_, a) = space(&server, "bodies");
    let endpoints = [
        ("POST", "/v1/spaces/bodies/devices"),
        ("POST", "/v1/spaces/bodies/records"),
        ("PUT", "/v1/spaces/bodies/status"),
        ("POST", "/v1/log/leaves"),
    ];
    for (m, p) in endpoints {
        assert_problem(
            &signed(&server, &a, m, p, b"{\"truncated"),
            400,
            "malformed_json",
        );
        assert_problem(
            &signed(&server, &a, m, p, b"[1, 2, 3]"),
            400,
            "malformed_json",
        );
        assert_problem(
            &signed(
                &server,
                &a,
                m,
                p,
                br#"{"records": 1, "leaves": "x", "token": 5, "device_id": 7}"#,
            ),
            400,
            "malformed_json",
        );
        assert_problem(&raw(&server, m, p, None, b"{}"), 401, "unauthenticated");
    }
    // Unknown spaces and devices.
    assert_problem(
        &signed(&server, &a, "GET", "/v1/spaces/unknown/records", b""),
        403,
        "forbidden",
    );
    assert_problem(
        &signed(
            &server,
            &a,
            "PUT",
            "/v1/spaces/unknown/status",
            br#"{"token": "x.y.z"}"#,
        ),
        403,
        "forbidden",
    );
    assert_problem(
        &signed(
            &server,
            &a,
            "PUT",
            "/v1/spaces/bodies/status",
            br#"{"token": "x.y.z"}"#,
        ),
        400,
        "bad_request",
    );
    assert_problem(
        &signed(
            &server,
            &a,
            "POST",
            "/v1/spaces/bodies/devices",
            br#"{"device_id": "bad id!", "device_jwk": {}, "wrapped_key": "w", "certificates": []}"#,
        ),
        400,
        "bad_request",
    );
    assert_problem(
        &raw(&server, "POST", "/v1/spaces", None, b"{\"space_id\": 1}"),
        400,
        "malformed_json",
    );
    // Nothing was stored by any of it.
    assert_eq!(
        a.client
            .call("GET", "/v1/spaces/bodies/records", None)
            .unwrap()["records"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn health_and_metrics_on_their_own_listener_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let log_key =
        satchel_server::load_or_create_log_key(&dir.path().join("log.key"), "metrics/log").unwrap();
    let operator_key =
        satchel_server::load_or_create_operator_key(&dir.path().join("operator.jwk")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (api, metrics) = rt.block_on(async {
        (
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        )
    });
    let (api_url, metrics_url) = (
        format!("http://{}", api.local_addr().unwrap()),
        format!("http://{}", metrics.local_addr().unwrap()),
    );
    let config = satchel_server::Config {
        database: satchel_server::Database::Sqlite(dir.path().join("m.db")),
        public_url: api_url.clone(),
        log_key,
        operator_key,
        admin_token: None,
        limits: satchel_server::http::Limits::default(),
        integrate_every: std::time::Duration::from_millis(50),
        demo: false,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = rt.spawn(satchel_server::launch_with_listener(
        config,
        api,
        Some(metrics),
        async {
            let _ = stopped.await;
        },
    ));
    let get = |url: String| {
        let r = satchel_core::client::Transport::send(
            &HttpsTransport::new().unwrap(),
            satchel_core::client::HttpRequest {
                method: "GET".into(),
                url,
                headers: vec![],
                body: vec![],
            },
        )
        .unwrap();
        (r.status, String::from_utf8(r.body).unwrap())
    };
    assert_eq!(get(format!("{api_url}/v1/log/checkpoint")).0, 200);
    assert_eq!(
        get(format!("{metrics_url}/healthz")),
        (200, "ok".to_owned())
    );
    let (status, text) = get(format!("{metrics_url}/metrics"));
    assert_eq!(status, 200);
    assert!(text.contains("satchel_requests_total 1"), "{text}");
    assert!(text.contains("# TYPE satchel_log_size gauge"));
    // Metrics are not on the public listener, the API is not on the metrics one.
    assert_eq!(get(format!("{api_url}/metrics")).0, 404);
    assert_eq!(get(format!("{metrics_url}/v1/log/checkpoint")).0, 404);
    // Operator endpoints are off without an admin token.
    assert_eq!(get(format!("{api_url}/v1/admin/audit")).0, 401);
    stop.send(()).unwrap();
    assert_eq!(rt.block_on(handle).unwrap(), Ok(()));
}

#[test]
fn every_request_counts_against_its_source_address() {
    let dir = tempfile::tempdir().unwrap();
    let limits = satchel_server::http::Limits {
        per_key: (100.0, 400.0),
        per_address: (0.5, 5.0),
    };
    let server = EmbeddedServer::start_limited(
        dir.path(),
        satchel_server::Database::Sqlite(dir.path().join("l.db")),
        limits,
    )
    .unwrap();
    // Unauthenticated requests are limited too.
    let statuses: Vec<u16> = (0..8)
        .map(|_| raw(&server, "POST", "/issuers/public-security/nonce", None, b"").0)
        .collect();
    assert_eq!(&statuses[..5], &[200; 5]);
    assert_problem(
        &raw(&server, "GET", "/v1/log/checkpoint", None, b""),
        429,
        "rate_limited",
    );
}
