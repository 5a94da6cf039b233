//! Entry points for fuzzing every parser a remote party reaches. The
//! cargo-fuzz targets in `fuzz/` call these; the normal test suite runs
//! them over the seeds and every saved crash (`fuzz/regressions/`).
//!
//! Signatures cannot be forged by a fuzzer, so where a parser sits behind a
//! signature check the entry signs the fuzzed content with a fixed key first
//! (structure-aware fuzzing): what is fuzzed is what an attacker who holds a
//! registered key could send.

use std::sync::OnceLock;

use satchel_core::{
    authz::{self, AuthorizationResponse, StatusCache},
    b64,
    issuance::CredentialOffer,
    jws,
    note::{Checkpoint, NoteSigner, NoteVerifier},
    registry::Registry,
    sd_jwt::{self, ClaimPath, Disclosure, VerifyOptions},
    status_list::StatusList,
    tlog, Jwk, Signer, SoftwareKey,
};
use serde_json::{json, Value};

const NOW: i64 = 1_800_000_000;

/// A fuzz entry point.
pub type Entry = fn(&[u8]);

/// The fuzz targets, by name (the `fuzz/fuzz_targets/<name>.rs` files and
/// the `fuzz/regressions/<name>/` folders).
pub const TARGETS: &[(&str, Entry)] = &[
    ("jws", jws_compact),
    ("jwk", jwk),
    ("sd_jwt", sd_jwt_presentation),
    ("disclosure", disclosure),
    ("authz_request", authz_request),
    ("authz_response", authz_response),
    ("status_list", status_list_token),
    ("note", signed_note),
    ("tlog_proof", tlog_proof),
    ("registry", registry),
    ("credential_offer", credential_offer),
    ("server_body", server_body),
    ("enrolment", enrolment),
    ("export_file", export_file),
];

struct Keys {
    issuer: SoftwareKey,
    holder: SoftwareKey,
    rp: SoftwareKey,
    note: NoteSigner,
    issued: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let issuer = SoftwareKey::generate_es256().expect("key");
        let holder = SoftwareKey::generate_es256().expect("key");
        let claims = json!({
            "iss": "https://issuer.example", "vct": "urn:fuzz", "iat": NOW - 10, "exp": NOW + 3600,
            "cnf": {"jwk": holder.public_jwk().to_value()},
            "name": "张三", "address": {"street": "1 Road", "city": "Guangzhou"}, "tags": ["a", "b"],
        });
        let issued = sd_jwt::issue_vc(
            &claims.to_string(),
            &ClaimPath::parse_dotted_list(&["name", "address.street", "tags.*"]).expect("paths"),
            None,
            &issuer,
        )
        .expect("issue");
        Keys {
            issuer,
            holder,
            rp: SoftwareKey::generate_es256().expect("key"),
            note: NoteSigner::generate("fuzz.example/log").expect("note key"),
            issued,
        }
    })
}

fn text(data: &[u8]) -> &str {
    std::str::from_utf8(data).unwrap_or_default()
}

/// Signs `payload` (fuzzed JSON, or a string if it is not an object) as a
/// JWS with `typ`.
fn signed(typ: &str, data: &[u8], signer: &dyn Signer, with_jwk: bool) -> String {
    let payload: Value = serde_json::from_slice(data).unwrap_or_else(|_| Value::from(text(data)));
    let mut header = jws::header_with_typ(typ);
    if with_jwk {
        header.insert("jwk".into(), signer.public_jwk().to_value());
    }
    match payload {
        Value::Object(_) => jws::sign(header, &payload, signer).unwrap_or_default(),
        other => jws::sign(header, &json!({ "v": other }), signer).unwrap_or_default(),
    }
}

/// Compact JWS from the wire: decode, header, payload, verify.
pub fn jws_compact(data: &[u8]) {
    let token = text(data);
    if let Ok(jwt) = jws::decode(token) {
        let _ = jwt.payload_object();
        let _ = jwt.verify(&keys().issuer.public_jwk().verifying_key().expect("vk"));
    }
    let _ = jws::verify(token, &keys().rp.public_jwk().verifying_key().expect("vk"));
}

/// A JWK from a registry, a header or an API body.
pub fn jwk(data: &[u8]) {
    if let Ok(k) = Jwk::from_json(text(data)) {
        let _ = k.thumbprint();
        if let Ok(vk) = k.verifying_key() {
            let _ = vk.verify(b"message", data);
        }
    }
    let _ = Jwk::from_public_key_bytes(data);
}

/// A presentation: a real issuer-signed JWT followed by fuzzed disclosures
/// and key-binding JWT, verified with and without key binding.
pub fn sd_jwt_presentation(data: &[u8]) {
    let k = keys();
    let issuer_jwt = k.issued.split('~').next().unwrap_or_default();
    let token = format!("{issuer_jwt}~{}", text(data));
    let vk = k.issuer.public_jwk().verifying_key().expect("vk");
    let _ = sd_jwt::verify(&token, &vk, &VerifyOptions::vc(NOW));
    let _ = sd_jwt::verify(
        &token,
        &vk,
        &VerifyOptions::vc(NOW).with_key_binding("https://rp.example", "n-1"),
    );
    // A holder choosing from the fuzzed disclosures: keys, an index and
    // every element, so nested and array places are matched in place.
    let chosen = [
        "name",
        "address.street",
        "nationalities.0",
        "nationalities.*",
    ]
    .map(|p| ClaimPath::parse_dotted(p).expect("path"));
    let _ = sd_jwt::present(&token, &chosen, None);
    // The whole thing fuzzed, too.
    let _ = sd_jwt::verify(text(data), &vk, &VerifyOptions::vc(NOW));
    // The issuer-signed payload and the key-binding payload as raw JSON text
    // behind valid signatures: what the payload and key-binding readers
    // meet from a malicious issuer or holder.
    let disclosures: String = k
        .issued
        .split('~')
        .skip(1)
        .filter(|d| !d.is_empty())
        .map(|d| format!("{d}~"))
        .collect();
    let forged = format!(
        "{}~{disclosures}",
        signed_raw(sd_jwt::VC_TYP, data, &k.issuer)
    );
    let _ = sd_jwt::verify(&forged, &vk, &VerifyOptions::vc(NOW));
    let _ = sd_jwt::present(&forged, &[ClaimPath::keys(&["name"])], None);
    let kb = signed_raw(sd_jwt::KB_TYP, data, &k.holder);
    let _ = sd_jwt::verify(
        &format!("{issuer_jwt}~{kb}"),
        &vk,
        &VerifyOptions::vc(NOW).with_key_binding("https://rp.example", "n-1"),
    );
}

/// A JWS over exactly `payload`'s bytes (not re-serialised), so the reader
/// behind the signature sees the text the fuzzer wrote.
fn signed_raw(typ: &str, payload: &[u8], signer: &dyn Signer) -> String {
    let header = json!({"alg": signer.alg().name(), "typ": typ}).to_string();
    let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let sig = signer.sign(input.as_bytes()).unwrap_or_default();
    format!("{input}.{}", b64::encode(sig))
}

/// One disclosure (base64url of a JSON array).
pub fn disclosure(data: &[u8]) {
    let _ = Disclosure::parse(text(data));
    let _ = Disclosure::parse(&b64::encode(data));
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        let _ = ClaimPath::from_json(&v);
    }
}

fn registry_with_rp() -> Registry {
    Registry::from_json(
        &json!({"relying_parties": [{"client_id": "https://rp.example", "name": "RP",
            "keys": [keys().rp.public_jwk().to_value()], "allowed_purposes": []}]})
        .to_string(),
    )
    .expect("registry")
}

/// A relying party's request object: the fuzzed payload signed by a
/// registered relying party, parsed by the holder (terms, DCQL).
pub fn authz_request(data: &[u8]) {
    let token = signed(authz::REQUEST_TYP, data, &keys().rp, true);
    let _ = authz::parse_request(&token, &registry_with_rp(), NOW);
    let _ = authz::parse_request(text(data), &registry_with_rp(), NOW);
}

/// A wallet's response (JSON) to a valid request.
pub fn authz_response(data: &[u8]) {
    let Ok(response) = serde_json::from_slice::<AuthorizationResponse>(data) else {
        return;
    };
    let request = json!({
        "client_id": "https://rp.example", "response_uri": "https://rp.example/r",
        "nonce": "nonce-0123456789", "iat": NOW, "exp": NOW + 600,
        "dcql_query": {"credentials": [{"id": "q", "format": "dc+sd-jwt",
            "meta": {"vct_values": ["urn:fuzz"]}, "claims": [{"path": ["name"]}]}]},
        "satchel": {"purpose": "IdentityVerification", "legal_basis": "Consent",
            "not_before": NOW, "not_after": NOW + 86400, "max_uses": 1, "retention_days": 1,
            "controller": {"name": "RP"}},
    });
    let token = signed(
        authz::REQUEST_TYP,
        request.to_string().as_bytes(),
        &keys().rp,
        true,
    );
    let _ = authz::verify_response(
        &response,
        &token,
        &registry_with_rp(),
        &StatusCache::new(),
        NOW,
    );
}

/// A status list token: the fuzzed payload signed by the space key.
pub fn status_list_token(data: &[u8]) {
    let uri = "https://server.example/status/s";
    let token = signed("statuslist+jwt", data, &keys().holder, false);
    let vk = keys().holder.public_jwk().verifying_key().expect("vk");
    if let Ok(list) = StatusList::from_token(&token, &vk, uri, NOW) {
        let _ = list.get(0);
        let _ = list.get(list.len().saturating_sub(1));
    }
    let mut parts = text(data).splitn(2, ' ');
    if let (Some(bits), Some(lst)) = (parts.next(), parts.next()) {
        if let Ok(bits) = bits.parse::<u8>() {
            let _ = StatusList::decode_limited(bits, lst, 1 << 20);
        }
    }
}

/// A signed note and checkpoint: the fuzzed text signed by the log key,
/// and the fuzzed note as received.
pub fn signed_note(data: &[u8]) {
    let k = keys();
    let verifier = k.note.verifier();
    if let Ok(note) = k.note.sign(text(data)) {
        let _ = Checkpoint::verify(&note, &verifier);
    }
    let _ = Checkpoint::verify(text(data), &verifier);
    let _ = NoteVerifier::parse(text(data));
    let _ = NoteSigner::parse(text(data));
}

/// Inclusion and consistency proofs as a server sends them.
pub fn tlog_proof(data: &[u8]) {
    let hashes: Vec<tlog::Hash> = data
        .chunks_exact(32)
        .map(|c| <[u8; 32]>::try_from(c).expect("32 bytes"))
        .collect();
    let (n1, n2) = match data {
        [a, b, ..] => (u64::from(*a) * 997, u64::from(*b) * 1013 + 1),
        _ => (0, 1),
    };
    let leaf = hashes.first().copied().unwrap_or_default();
    let root = hashes.last().copied().unwrap_or_default();
    let proof = hashes.get(1..).unwrap_or_default();
    let _ = tlog::verify_inclusion(n1, n2, &leaf, proof, &root);
    let _ = tlog::verify_consistency(n1, n2, &leaf, &root, proof);
    let _ = tlog::verify_inclusion(u64::MAX - 1, u64::MAX, &leaf, proof, &root);
    let _ = tlog::verify_consistency(1, u64::MAX, &leaf, &root, proof);
}

/// A registry document: the fuzzed payload signed by the operator, and as
/// local JSON.
pub fn registry(data: &[u8]) {
    let token = signed("satchel-registry+jwt", data, &keys().rp, false);
    let _ = Registry::verify(
        &token,
        &keys().rp.public_jwk().verifying_key().expect("vk"),
        NOW,
    );
    let _ = Registry::from_json(text(data));
}

/// A credential offer (URI or JSON) as scanned from a QR code.
pub fn credential_offer(data: &[u8]) {
    let _ = CredentialOffer::parse(text(data));
    let mut uri = String::from("openid-credential-offer://?credential_offer=");
    uri.push_str(&satchel_core::issuance::percent_encode(text(data)));
    let _ = CredentialOffer::parse(&uri);
}

/// The server's request bodies: a fuzzed body sent to one of the signed or
/// public write endpoints of a real router (SQLite in a temporary folder,
/// demo issuers on), signed by an enrolled device or a registered relying
/// party so the body is parsed and its rules run. A `500` is a crash.
pub fn server_body(data: &[u8]) {
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    struct World {
        rt: tokio::runtime::Runtime,
        router: axum::Router,
        device: SoftwareKey,
        rp: &'static SoftwareKey,
        _dir: tempfile::TempDir,
    }
    static WORLD: OnceLock<World> = OnceLock::new();
    let w = WORLD.get_or_init(|| {
        let dir = tempfile::tempdir().expect("dir");
        let config = satchel_server::Config {
            database: satchel_server::Database::Sqlite(dir.path().join("fuzz.db")),
            public_url: "http://fuzz.example".into(),
            log_key: NoteSigner::generate("fuzz.example/log").expect("key").encode().to_string(),
            operator_key: SoftwareKey::generate_ed25519().expect("key").to_private_jwk().to_string(),
            admin_token: Some("fuzz-admin".into()),
            limits: satchel_server::http::Limits {
                per_key: (1e9, 1e9),
                per_address: (1e9, 1e9),
            },
            integrate_every: std::time::Duration::from_secs(3600),
            demo: true,
        };
        let store = satchel_server::store::sqlite::SqliteStore::open(&dir.path().join("fuzz.db"))
            .expect("store");
        let state = satchel_server::state(store, &config).expect("state");
        let device = SoftwareKey::generate_es256().expect("key");
        let rp = &keys().rp;
        let space = SoftwareKey::generate_es256().expect("key");
        // Register the space and the relying party directly in the service.
        let proof = jws::sign(
            jws::header_with_typ("satchel-space+jwt"),
            &json!({"space_id": "fuzz-space", "device": device.public_jwk().thumbprint(), "iat": satchel_core::unix_now()}),
            &space,
        )
        .expect("proof");
        let register = satchel_server::service::RegisterSpace {
            space_id: "fuzz-space".into(),
            space_jwk: space.public_jwk().to_value(),
            device_id: "fuzz-device".into(),
            device_jwk: device.public_jwk().to_value(),
            space_proof: proof,
        };
        state
            .service
            .register_space(&register, satchel_core::unix_now())
            .expect("space");
        state
            .service
            .put_relying_party(&satchel_core::registry::RegisteredRelyingParty {
                client_id: "https://rp.example".into(),
                name: "RP".into(),
                keys: vec![rp.public_jwk()],
                allowed_purposes: vec![],
            })
            .expect("rp");
        World {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            router: satchel_server::http::router(state),
            device,
            rp,
            _dir: dir,
        }
    });
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    const DEVICE: &[(&str, &str)] = &[
        ("POST", "/v1/spaces/fuzz-space/records"),
        ("PUT", "/v1/spaces/fuzz-space/status"),
        ("POST", "/v1/log/leaves"),
        ("POST", "/v1/spaces/fuzz-space/devices"),
    ];
    const RP: &[(&str, &str)] = &[
        ("POST", "/v1/authorizations"),
        ("POST", "/v1/uses"),
        ("POST", "/v1/requests"),
    ];
    const OPEN: &[(&str, &str)] = &[
        ("POST", "/v1/spaces"),
        ("POST", "/r/fuzz/response"),
        ("POST", "/issuers/public-security/token"),
        ("POST", "/issuers/public-security/credential"),
        ("POST", "/issuers/public-security/nonce"),
    ];
    let all = DEVICE.len() + RP.len() + OPEN.len();
    let i = usize::from(which) % all;
    let ((method, path), signer): (&(&str, &str), Option<(&SoftwareKey, &str)>) =
        if i < DEVICE.len() {
            (&DEVICE[i], Some((&w.device, "fuzz-device")))
        } else if i < DEVICE.len() + RP.len() {
            (&RP[i - DEVICE.len()], Some((w.rp, "https://rp.example")))
        } else {
            (&OPEN[i - DEVICE.len() - RP.len()], None)
        };
    let mut request = Request::builder()
        .method(*method)
        .uri(*path)
        .header("content-type", "application/json");
    if let Some((key, kid)) = signer {
        let auth = satchel_core::client::sign_request(
            key,
            kid,
            method,
            path,
            body,
            satchel_core::unix_now(),
        )
        .expect("signature");
        request = request.header("authorization", auth);
    }
    let request = request.body(Body::from(body.to_vec())).expect("request");
    let router = w.router.clone();
    let status =
        w.rt.block_on(async move { router.oneshot(request).await })
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
    assert!(
        status != 500 && status != 0,
        "{method} {path} answered {status}"
    );
}

/// Enrolment: the scanned `satchel-enrol:` URI, the HPKE-sealed package a
/// server hands the new device, and device certificate chains (their
/// content signed by the space key, as a device of the space could send).
pub fn enrolment(data: &[u8]) {
    use satchel_core::{device, enrol};
    let _ = enrol::EnrolmentRequest::from_uri(text(data));
    static PENDING: OnceLock<(enrol::EnrolmentRequest, enrol::HpkeSecret)> = OnceLock::new();
    let (request, secret) = PENDING.get_or_init(|| {
        enrol::EnrolmentRequest::new("device-b", &keys().holder.public_jwk()).expect("request")
    });
    let _ = enrol::open_package(request, secret, text(data));
    let _ = enrol::open_package(request, secret, &b64::encode(data));
    let space = &keys().issuer;
    let cert = signed(device::DEVICE_CERT_TYP, data, space, false);
    let chain = [cert.clone(), cert];
    let _ = device::verify_chain(&chain[..1], Some("s"), &space.public_jwk(), &|_| false);
    let _ = device::verify_chain(&chain, None, &space.public_jwk(), &|_| false);
}

/// A space export file: the outer document as given, and (past the
/// passphrase) fuzzed contents sealed with the right key, so the manifest,
/// record and chain checks are reached. Cheap Argon2 parameters keep it fast.
pub fn export_file(data: &[u8]) {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    static WALLET: OnceLock<(tempfile::TempDir, satchel_core::Wallet, [u8; 32])> = OnceLock::new();
    let (_, wallet, kek) = WALLET.get_or_init(|| {
        let dir = tempfile::tempdir().expect("dir");
        let ks: std::sync::Arc<dyn satchel_core::KeyStore> =
            std::sync::Arc::new(satchel_core::SoftwareKeyStore::in_memory());
        let wallet = satchel_core::Wallet::open(&dir.path().join("w.db"), ks).expect("wallet");
        let params = argon2::Params::new(8, 1, 1, Some(32)).expect("params");
        let mut kek = [0u8; 32];
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(b"fuzz passphrase", b"fuzz-salt-16byte", &mut kek)
            .expect("kdf");
        (dir, wallet, kek)
    });
    let _ = wallet.import_space(data, "fuzz passphrase");
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, kek).expect("key"));
    let salt = b64::encode(b"fuzz-salt-16byte");
    let aad = format!("satchel-space-export/1/argon2id/8/1/1/{salt}");
    let mut sealed = data.to_vec();
    let Ok(tag) = key.seal_in_place_separate_tag(
        Nonce::assume_unique_for_key([0; 12]),
        Aad::from(aad.as_bytes()),
        &mut sealed,
    ) else {
        return;
    };
    let mut payload = vec![0u8; 12];
    payload.extend(sealed);
    payload.extend(tag.as_ref());
    let file = json!({
        "format": "satchel-space-export", "v": 1,
        "kdf": {"alg": "argon2id", "m_kib": 8, "t": 1, "p": 1, "salt": salt},
        "payload": b64::encode(payload),
    });
    let _ = wallet.import_space(file.to_string().as_bytes(), "fuzz passphrase");
}
