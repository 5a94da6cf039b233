//! The sync engine under stress against the real server: random
//! interleavings of edits on two devices converge to one state; 1,000
//! credentials survive interrupted pulls, a device killed mid-pull and a
//! server restart.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use satchel_core::{
    authz::{parse_request, Approval, Selection},
    client::{ClientError, HttpRequest, HttpResponse, ServerClient, Transport},
    net::HttpsTransport,
    registry::Registry,
    sd_jwt::ClaimPath,
    AuthorizationState, CredentialFilter, Signer, SoftwareKey, Wallet,
};
use satchel_server::embedded::EmbeddedServer;

use crate::{
    anchoring::request,
    devices::{credential, sync, two_devices},
};

fn none(_: satchel_core::wallet::sync::SyncProgress) {}

/// A small deterministic generator (xorshift), so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// What both devices must agree on.
#[derive(Debug, PartialEq)]
struct State {
    credentials: BTreeMap<String, (Option<String>, bool)>,
    authorizations: BTreeMap<String, (String, usize)>,
    consent: Vec<String>,
    provenance: Vec<String>,
}

fn state(w: &Wallet, space: &str) -> State {
    let mut provenance: Vec<String> = w
        .provenance(space)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    provenance.sort();
    let mut consent: Vec<String> = w
        .verify_consent_log(space)
        .unwrap()
        .into_iter()
        .map(|r| r.record_id)
        .collect();
    consent.sort();
    State {
        credentials: w
            .credentials(space, &CredentialFilter::default())
            .unwrap()
            .into_iter()
            .map(|c| (c.id, (c.label, c.revoked)))
            .collect(),
        authorizations: w
            .authorizations(space)
            .unwrap()
            .into_iter()
            .map(|a| (a.id, (a.state.as_str().to_owned(), a.uses.len())))
            .collect(),
        consent,
        provenance,
    }
}

#[test]
fn random_interleavings_of_edits_on_two_devices_converge() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(&dir.path().join("server")).unwrap();
    let issuer = SoftwareKey::generate_es256().unwrap();
    let bank = SoftwareKey::generate_es256().unwrap();
    for seed in 1..=12u64 {
        let case = dir.path().join(format!("case-{seed}"));
        std::fs::create_dir_all(&case).unwrap();
        let (a, b, space) = two_devices(&case, &server);
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let now = satchel_core::unix_now();
        for step in 0..30 {
            let (me, is_a) = if rng.next(2) == 0 {
                (&a, true)
            } else {
                (&b, false)
            };
            let s = me.wallet.space(&space).unwrap();
            let cards = me
                .wallet
                .credentials(&space, &CredentialFilter::default())
                .unwrap();
            let active: Vec<String> = me
                .wallet
                .authorizations(&space)
                .unwrap()
                .into_iter()
                .filter(|a| a.state == AuthorizationState::Active)
                .map(|a| a.id)
                .collect();
            match rng.next(6) {
                0 => {
                    let token =
                        credential(&issuer, s.signing_key(), &format!("holder {seed}-{step}"));
                    me.wallet
                        .import_credential(&space, &token, Some(&issuer.public_jwk()), now)
                        .unwrap();
                }
                1 if !cards.is_empty() => {
                    let c = &cards[rng.next(cards.len())];
                    me.wallet
                        .set_label(&c.id, Some(&format!("label {seed}-{step}")))
                        .unwrap();
                }
                2 if !cards.is_empty() => {
                    let c = &cards[rng.next(cards.len())];
                    me.wallet.delete_credential(&c.id).unwrap();
                }
                3 if !active.is_empty() => {
                    let id = &active[rng.next(active.len())];
                    me.wallet.withdraw(id, now).unwrap();
                }
                4 if is_a => {
                    // Approvals on the device holding the space key, with a
                    // credential bound to it.
                    let mine: Vec<_> = cards
                        .iter()
                        .filter(|c| c.bound_key().as_ref() == Some(s.signing_key()))
                        .collect();
                    if let Some(c) = mine.first() {
                        let parsed =
                            parse_request(&request(&bank), &Registry::default(), now).unwrap();
                        let approval = Approval {
                            selections: vec![Selection {
                                query_id: "q".into(),
                                credential_id: c.id.clone(),
                                claims: vec![ClaimPath::keys(&["name"])],
                            }],
                            accept_untrusted: true,
                            ..Default::default()
                        };
                        me.wallet.approve(&space, &parsed, &approval, now).unwrap();
                    }
                }
                _ => sync(me, &space),
            }
        }
        for p in [&a, &b, &a, &b] {
            sync(p, &space);
        }
        assert_eq!(
            state(&a.wallet, &space),
            state(&b.wallet, &space),
            "seed {seed}"
        );
    }
}

/// A transport that fails every request after the first `left`.
struct Flaky {
    inner: HttpsTransport,
    left: AtomicUsize,
}

impl Transport for Flaky {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, ClientError> {
        if self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            return Err(ClientError::Transport("connection reset".into()));
        }
        self.inner.send(request)
    }
}

#[test]
fn a_thousand_credentials_survive_interruptions_a_killed_device_and_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    let server = EmbeddedServer::start(&server_dir).unwrap();
    let (a, b, space) = two_devices(dir.path(), &server);
    let issuer = SoftwareKey::generate_es256().unwrap();
    let holder = a.wallet.space(&space).unwrap().holder_key;
    let now = satchel_core::unix_now();
    for i in 0..1000 {
        let token = credential(&issuer, &holder, &format!("holder {i}"));
        a.wallet
            .import_credential(&space, &token, Some(&issuer.public_jwk()), now)
            .unwrap();
    }
    let pushed = a.wallet.sync_space(&space, &a.client, &none).unwrap();
    assert!(pushed.pushed >= 1000, "{pushed:?}");

    // B pulls over a connection that drops after a few batches.
    let keystore = b.wallet.keystore();
    let flaky = |url: &str, left: usize| {
        ServerClient::for_device(
            url,
            keystore.clone(),
            Arc::new(Flaky {
                inner: HttpsTransport::new().unwrap(),
                left: AtomicUsize::new(left),
            }),
        )
        .unwrap()
    };
    let err = b
        .wallet
        .sync_space(&space, &flaky(&server.url, 4), &none)
        .unwrap_err();
    assert!(
        matches!(err, satchel_core::WalletError::Network(_)),
        "{err}"
    );
    let partial = b
        .wallet
        .credentials(&space, &CredentialFilter::default())
        .unwrap()
        .len();
    assert!(partial > 0 && partial < 1000, "{partial}");

    // The device is killed (its wallet dropped mid-run) and the server
    // restarts; nothing is lost, nothing is duplicated.
    let db = dir.path().join("b.db");
    drop(b);
    server.stop();
    let server = EmbeddedServer::start(&server_dir).unwrap();
    let b_wallet = Wallet::open(&db, keystore.clone()).unwrap();
    let b_client = ServerClient::for_device(
        &server.url,
        keystore.clone(),
        Arc::new(HttpsTransport::new().unwrap()),
    )
    .unwrap();
    b_wallet.sync_space(&space, &b_client, &none).unwrap();
    let a_client = ServerClient::for_device(
        &server.url,
        a.wallet.keystore(),
        Arc::new(HttpsTransport::new().unwrap()),
    )
    .unwrap();
    a.wallet.sync_space(&space, &a_client, &none).unwrap();
    let ids = |w: &Wallet| -> Vec<String> {
        let mut v: Vec<String> = w
            .credentials(&space, &CredentialFilter::default())
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&b_wallet).len(), 1000);
    assert_eq!(ids(&b_wallet), ids(&a.wallet));
    // And nothing more to do.
    let again = b_wallet.sync_space(&space, &b_client, &none).unwrap();
    assert_eq!((again.merged, again.pushed), (0, 0));
}
