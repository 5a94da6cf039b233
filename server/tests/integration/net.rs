//! Core's built-in network stack against the real server, TLS included: a
//! private CA and a certificate made at test time (rcgen), a TLS front
//! (tokio-rustls) before the server as a reverse proxy would be, and
//! misbehaving servers (redirects, huge answers, silence).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use satchel_core::{
    client::{ClientError, HttpRequest, ServerClient, Transport},
    net::{HttpsTransport, NetworkConfig, PlainHttp},
    SoftwareKey,
};
use satchel_server::embedded::EmbeddedServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A private CA and a certificate for `localhost` and 127.0.0.1 it signed.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone(), ca.der().clone()],
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
    }
}

/// Serves `handler` for every connection on a port of its own runtime.
fn serve<F, Fut>(
    handler: F,
) -> (
    SocketAddr,
    std::thread::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    accepted = listener.accept() => {
                        if let Ok((tcp, _)) = accepted {
                            tokio::spawn(handler(tcp));
                        }
                    }
                }
            }
        });
    });
    (addr_rx.recv().unwrap(), thread, stop_tx)
}

/// A TLS front for `backend` (the plain-HTTP server), as an operator's
/// reverse proxy would be.
fn tls_front(
    backend: SocketAddr,
    pki: &Pki,
) -> (
    SocketAddr,
    std::thread::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(pki.chain.clone(), PrivateKeyDer::Pkcs8(pki.key.clone_key()))
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    serve(move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
        }
    })
}

fn private_ca(pki: &Pki) -> NetworkConfig {
    NetworkConfig {
        extra_roots_pem: vec![pki.ca_pem.clone()],
        only_extra_roots: true,
        ..NetworkConfig::default()
    }
}

fn get(t: &HttpsTransport, url: &str) -> Result<satchel_core::client::HttpResponse, ClientError> {
    t.send(HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        body: vec![],
    })
}

#[test]
fn signed_requests_reach_the_real_server_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(dir.path()).unwrap();
    let backend: SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let pki = pki();
    let (front, thread, stop) = tls_front(backend, &pki);
    let base = format!("https://localhost:{}", front.port());

    let transport = Arc::new(HttpsTransport::with_config(&private_ca(&pki)).unwrap());
    let device = ServerClient::new(
        &base,
        "tls-phone",
        Arc::new(SoftwareKey::generate_es256().unwrap()),
        transport.clone(),
    );
    let space_key = SoftwareKey::generate_es256().unwrap();
    device.register_space("tls-space", &space_key).unwrap();
    let indices = device.append_leaves(&[[7u8; 32]]).unwrap();
    assert_eq!(indices.len(), 1);
    // The same over the IP address the certificate also names.
    let by_ip = get(
        &transport,
        &format!("https://127.0.0.1:{}/v1/log/key", front.port()),
    )
    .unwrap();
    assert_eq!(by_ip.status, 200);

    // The public roots do not vouch for a private CA.
    let public_only = HttpsTransport::new().unwrap();
    match get(&public_only, &format!("{base}/v1/log/key")) {
        Err(ClientError::Transport(m)) => assert!(m.contains("TLS"), "{m}"),
        other => panic!("a private CA was trusted by default: {other:?}"),
    }
    let _ = stop.send(());
    thread.join().unwrap();
}

/// A server that answers every connection with `answer`.
fn canned(
    answer: &'static [u8],
) -> (
    SocketAddr,
    std::thread::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    serve(move |mut tcp| async move {
        let mut buf = [0u8; 4096];
        let _ = tcp.read(&mut buf).await;
        let _ = tcp.write_all(answer).await;
        let _ = tcp.shutdown().await;
    })
}

#[test]
fn redirects_are_returned_not_followed() {
    let (addr, thread, stop) = canned(
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/steal\r\nContent-Length: 0\r\n\r\n",
    );
    let answer = get(
        &HttpsTransport::new().unwrap(),
        &format!("http://{addr}/v1/registry"),
    )
    .unwrap();
    assert_eq!(answer.status, 302);
    let _ = stop.send(());
    thread.join().unwrap();
}

#[test]
fn oversized_answers_are_refused() {
    let config = NetworkConfig {
        max_response_bytes: 1024,
        ..NetworkConfig::default()
    };
    let small = HttpsTransport::with_config(&config).unwrap();
    // Announced as too large…
    let (addr, thread, stop) = canned(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\nxxxx");
    match get(&small, &format!("http://{addr}/")) {
        Err(ClientError::Transport(m)) => assert!(m.contains("larger"), "{m}"),
        other => panic!("{other:?}"),
    }
    let _ = stop.send(());
    thread.join().unwrap();
    // …or streamed without a length.
    let (addr, thread, stop) = serve(|mut tcp| async move {
        let mut buf = [0u8; 4096];
        let _ = tcp.read(&mut buf).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("400\r\n{}\r\n", "y".repeat(0x400));
        for _ in 0..8 {
            if tcp.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = tcp.write_all(b"0\r\n\r\n").await;
    });
    match get(&small, &format!("http://{addr}/")) {
        Err(ClientError::Transport(m)) => assert!(m.contains("larger"), "{m}"),
        other => panic!("{other:?}"),
    }
    let _ = stop.send(());
    thread.join().unwrap();
}

#[test]
fn a_silent_server_times_out() {
    let (addr, thread, stop) = serve(|tcp| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(tcp);
    });
    let impatient = HttpsTransport::with_config(&NetworkConfig {
        timeout: Duration::from_millis(300),
        ..NetworkConfig::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    match get(&impatient, &format!("http://{addr}/")) {
        Err(ClientError::Transport(m)) => assert!(m.contains("timed out"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    let _ = stop.send(());
    thread.join().unwrap();
}

#[test]
fn plain_http_only_where_allowed() {
    let default = HttpsTransport::new().unwrap();
    for url in [
        "http://satchel.example/",
        "http://10.0.0.1/",
        "ftp://127.0.0.1/",
        "not a url",
        // Unicode host names are refused: give them in punycode.
        "https://公安.example/",
    ] {
        assert!(
            matches!(get(&default, url), Err(ClientError::Transport(_))),
            "{url} was attempted"
        );
    }
    let strict = HttpsTransport::with_config(&NetworkConfig {
        plain_http: PlainHttp::Never,
        ..NetworkConfig::default()
    })
    .unwrap();
    match get(&strict, "http://127.0.0.1:9/") {
        Err(ClientError::Transport(m)) => assert!(m.contains("https"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Bad trust anchors are refused when the transport is built.
    for pem in [
        "",
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        let config = NetworkConfig {
            extra_roots_pem: vec![pem.into()],
            ..NetworkConfig::default()
        };
        assert!(HttpsTransport::with_config(&config).is_err(), "{pem:?}");
    }
}
