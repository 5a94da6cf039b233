//! `SatchelServer`: a device's connection to the reference server (signed
//! requests with a device key from the platform key store, over the
//! built-in HTTPS stack or the app's own): space registration, status list
//! publishing, consent-log anchoring.

use std::sync::Arc;

use satchel_core::{self as core, note::NoteVerifier};

use crate::{
    keystore::ForeignKeyStore, run, transport, HttpTransport, PlatformKeyStore, SatchelError,
    Wallet,
};

/// What an anchoring run did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AnchorReport {
    /// Records anchored in this run.
    pub anchored_now: u32,
    /// Records anchored in all.
    pub anchored_total: u32,
    /// Size of the checkpoint every record was proven against.
    pub checkpoint_size: u64,
}

impl From<core::AnchorReport> for AnchorReport {
    fn from(r: core::AnchorReport) -> Self {
        AnchorReport {
            anchored_now: r.anchored_now as u32,
            anchored_total: r.anchored_total as u32,
            checkpoint_size: r.checkpoint_size,
        }
    }
}

/// This device's connection to a Satchel server.
#[derive(uniffi::Object)]
pub struct SatchelServer {
    pub(crate) client: Arc<core::client::ServerClient>,
    pub(crate) key_alias: String,
}

#[uniffi::export]
impl SatchelServer {
    /// Connects to the server at `base_url` as device `device_id`, signing
    /// with the ES256 key under `device_key_alias` in `key_store` (created
    /// if missing), over `transport` (default: the built-in HTTPS stack).
    #[uniffi::constructor]
    pub async fn connect(
        base_url: String,
        device_id: String,
        device_key_alias: String,
        key_store: Arc<dyn PlatformKeyStore>,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<Arc<Self>, SatchelError> {
        let transport = transport::transport_for(transport)?;
        run(move || {
            let ks: Arc<dyn core::KeyStore> = Arc::new(ForeignKeyStore(key_store));
            let signer = core::KeyStoreSigner::get_or_create(ks, &device_key_alias)?;
            let client =
                core::client::ServerClient::new(&base_url, &device_id, Arc::new(signer), transport);
            Ok(Arc::new(SatchelServer {
                client: Arc::new(client),
                key_alias: device_key_alias,
            }))
        })
        .await
    }

    /// Registers a space of `wallet` with this device as its first device
    /// (the space key proves possession).
    pub async fn register_space(
        &self,
        wallet: Arc<Wallet>,
        space_id: String,
    ) -> Result<(), SatchelError> {
        let client = self.client.clone();
        wallet
            .with(move |w| Ok(w.register_space(&space_id, &client)?))
            .await
    }

    /// The transparency log's verifier key as this server announces it
    /// (`name+hash+key`). Trusting it is trust on first use: pin the key in
    /// the app's configuration when the server is known, or keep the one
    /// fetched the first time and pass it to `anchor_consent_log`.
    pub async fn log_key(&self) -> Result<String, SatchelError> {
        let client = self.client.clone();
        run(move || Ok(client.log_key()?.encode())).await
    }

    /// Publishes a status list token of a space (e.g. the one a withdrawal
    /// returned).
    pub async fn publish_status_list(
        &self,
        space_id: String,
        token: String,
    ) -> Result<(), SatchelError> {
        let client = self.client.clone();
        run(move || Ok(client.publish_status_list(&space_id, &token)?)).await
    }
}

fn verifier(log_key: &str) -> Result<NoteVerifier, SatchelError> {
    NoteVerifier::parse(log_key).map_err(|_| crate::error::invalid("malformed log key"))
}

#[uniffi::export]
impl Wallet {
    /// Publishes the space's current status list through `server`; returns
    /// the URI it is published under.
    pub async fn publish_status_list(
        &self,
        space_id: String,
        server: Arc<SatchelServer>,
    ) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.publish_status_list(&space_id, &server.client)?))
            .await
    }

    /// Anchors the space's consent log in the server's transparency log and
    /// proves every anchored record is there, under a checkpoint consistent
    /// with the last one seen. `log_key` is the log's verifier key
    /// (`<origin>+<hash>+<key>`), pinned by the app.
    pub async fn anchor_consent_log(
        &self,
        space_id: String,
        server: Arc<SatchelServer>,
        log_key: String,
    ) -> Result<AnchorReport, SatchelError> {
        let verifier = verifier(&log_key)?;
        self.with(move |w| {
            Ok(w.anchor_consent_log(&space_id, &server.client, &verifier)?
                .into())
        })
        .await
    }

    /// Re-checks the anchored consent log: detects dropped or changed local
    /// records and a forked server. A log never anchored gives zeros.
    pub async fn verify_anchors(
        &self,
        space_id: String,
        server: Arc<SatchelServer>,
        log_key: String,
    ) -> Result<AnchorReport, SatchelError> {
        let verifier = verifier(&log_key)?;
        self.with(move |w| {
            Ok(w.verify_anchors(&space_id, &server.client, &verifier)?
                .into())
        })
        .await
    }
}
