//! `SatchelServer`: a device's connection to the reference server (signed
//! requests with a device key from the platform key store, over the app's
//! HTTP stack): space registration, status list publishing, consent-log
//! anchoring.

use std::sync::Arc;

use satchel_core::{self as core, client::ClientError, note::NoteVerifier};

use crate::{
    keystore::ForeignKeyStore, transport::ForeignTransport, HttpTransport, PlatformKeyStore,
    SatchelError, Wallet,
};

impl From<ClientError> for SatchelError {
    fn from(e: ClientError) -> Self {
        let msg = e.to_string();
        match e {
            ClientError::Transport(_) => SatchelError::Network(msg),
            ClientError::Server { status: 404, .. } => SatchelError::NotFound(msg),
            ClientError::Signing(_) => SatchelError::KeyStore(msg),
            _ => SatchelError::Rejected(msg),
        }
    }
}

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
    client: core::client::ServerClient,
}

#[uniffi::export]
impl SatchelServer {
    /// Connects as device `device_id`, signing with the ES256 key under
    /// `device_key_alias` in `key_store` (created if missing), over `transport`.
    #[uniffi::constructor]
    pub fn new(
        base_url: String,
        device_id: String,
        device_key_alias: String,
        key_store: Arc<dyn PlatformKeyStore>,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Arc<Self>, SatchelError> {
        let ks: Arc<dyn core::KeyStore> = Arc::new(ForeignKeyStore(key_store));
        if let Err(core::KeyStoreError::NotFound(_)) = ks.public_key(&device_key_alias) {
            ks.generate_key(&device_key_alias, core::KeyAlgorithm::Es256)?;
        }
        let signer = Arc::new(core::KeyStoreSigner::new(ks, &device_key_alias)?);
        let client = core::client::ServerClient::new(
            &base_url,
            &device_id,
            signer,
            Arc::new(ForeignTransport(transport)),
        );
        Ok(Arc::new(SatchelServer { client }))
    }

    /// Registers a space of `wallet` with this device as its first device
    /// (the space key proves possession).
    pub fn register_space(
        &self,
        wallet: Arc<Wallet>,
        space_id: String,
    ) -> Result<(), SatchelError> {
        let space = wallet.inner.space(&space_id)?;
        let signer = core::KeyStoreSigner::new(wallet.inner.keystore(), &space.holder_key_alias)?;
        Ok(self.client.register_space(&space_id, &signer)?)
    }

    /// Publishes a space's status list (e.g. after a withdrawal).
    pub fn publish_status_list(&self, space_id: String, token: String) -> Result<(), SatchelError> {
        Ok(self.client.publish_status_list(&space_id, &token)?)
    }
}

fn verifier(log_key: &str) -> Result<NoteVerifier, SatchelError> {
    NoteVerifier::parse(log_key).map_err(|e| SatchelError::InvalidInput(format!("log key: {e}")))
}

#[uniffi::export]
impl Wallet {
    /// Where status lists are published: the server's `…/status`.
    pub fn set_status_base(&self, base: String) -> Result<(), SatchelError> {
        Ok(self.inner.set_status_base(&base)?)
    }

    /// Anchors the space's consent log in the server's transparency log and
    /// proves every anchored record is there, under a checkpoint consistent
    /// with the last one seen. `log_key` is the log's verifier key
    /// (`<origin>+<hash>+<key>`), pinned by the app.
    pub fn anchor_consent_log(
        &self,
        space_id: String,
        server: Arc<SatchelServer>,
        log_key: String,
    ) -> Result<AnchorReport, SatchelError> {
        Ok(self
            .inner
            .anchor_consent_log(&space_id, &server.client, &verifier(&log_key)?)?
            .into())
    }

    /// Re-checks the anchored consent log: detects dropped or changed local
    /// records and a forked server.
    pub fn verify_anchors(
        &self,
        space_id: String,
        server: Arc<SatchelServer>,
        log_key: String,
    ) -> Result<AnchorReport, SatchelError> {
        Ok(self
            .inner
            .verify_anchors(&space_id, &server.client, &verifier(&log_key)?)?
            .into())
    }
}
