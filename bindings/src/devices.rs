//! A space on several devices (enrolment, the device list, removal),
//! end-to-end encrypted sync with progress, re-issuance to this device, and
//! the space as one portable file. Conversions only: the rules are core's.

use std::sync::Arc;

use satchel_core as core;

use crate::{
    relying::TrustRegistry, Credential, HttpTransport, SatchelError, SatchelServer, Space, Wallet,
};

/// What a new device shows before the person confirms.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EnrolmentOffer {
    /// The space's id.
    pub space_id: String,
    /// The space's name.
    pub space_name: String,
    /// The code to compare with the approving device's screen.
    pub code: String,
}

/// A device of a space.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DeviceInfo {
    /// Device id.
    pub device_id: String,
    /// Its public key (JWK JSON).
    pub jwk: String,
    /// When it was removed (Unix seconds), if it was.
    pub removed_at: Option<i64>,
    /// Whether it is this device.
    pub this_device: bool,
}

/// How far a sync run has come.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct SyncProgress {
    /// Records pulled and merged so far.
    pub pulled: u64,
    /// Records pushed so far.
    pub pushed: u64,
    /// Records this run pushes in all (known once pulling is done).
    pub to_push: u64,
}

/// What a sync run did.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct SyncReport {
    /// Records pulled.
    pub pulled: u64,
    /// Pulled records that changed something here.
    pub merged: u64,
    /// Records pushed.
    pub pushed: u64,
}

/// What an import brought in.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportReport {
    /// The space, now in this wallet.
    pub space: Space,
    /// Credentials imported.
    pub credentials: u32,
    /// Credentials bound to another device's key (re-issue them here).
    pub to_reissue: Vec<String>,
    /// Consent records imported, every chain verified.
    pub consent_records: u32,
    /// Authorisations imported.
    pub authorizations: u32,
}

/// Hears sync progress after each batch (on a pool thread): hand it on and
/// return.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Progress so far.
    fn on_progress(&self, progress: SyncProgress);
}

#[uniffi::export]
impl Wallet {
    /// On a new device: asks to join a space; returns the `satchel-enrol:`
    /// URI to show as a QR code. `server` must sign with this device's key.
    pub async fn request_enrolment(
        &self,
        server: Arc<SatchelServer>,
    ) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.request_enrolment(&server.client, &server.key_alias)?))
            .await
    }

    /// On an enrolled device: approves a scanned enrolment request into
    /// the space; returns the confirmation code to show.
    pub async fn approve_enrolment(
        &self,
        space_id: String,
        request_uri: String,
        server: Arc<SatchelServer>,
    ) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.approve_enrolment(&space_id, &request_uri, &server.client)?))
            .await
    }

    /// On the new device, once approved: the space and the code to show.
    pub async fn enrolment_offer(
        &self,
        server: Arc<SatchelServer>,
    ) -> Result<EnrolmentOffer, SatchelError> {
        self.with(move |w| {
            let o = w.enrolment_offer(&server.client)?;
            Ok(EnrolmentOffer {
                space_id: o.space_id,
                space_name: o.space_name,
                code: o.code,
            })
        })
        .await
    }

    /// On the new device: completes the enrolment once the person confirmed
    /// the codes match (`confirmed_code`: the code the approving device
    /// shows). Sync next to fetch the space's records.
    pub async fn complete_enrolment(
        &self,
        server: Arc<SatchelServer>,
        confirmed_code: String,
    ) -> Result<Space, SatchelError> {
        self.with(move |w| {
            Ok(w.complete_enrolment(&server.client, &confirmed_code)?
                .into())
        })
        .await
    }

    /// The devices of a space.
    pub async fn devices(
        &self,
        space_id: String,
        server: Arc<SatchelServer>,
    ) -> Result<Vec<DeviceInfo>, SatchelError> {
        self.with(move |w| {
            Ok(w.devices(&space_id, &server.client)?
                .into_iter()
                .map(|d| DeviceInfo {
                    device_id: d.device_id,
                    jwk: d.key.to_value().to_string(),
                    removed_at: d.removed_at,
                    this_device: d.this_device,
                })
                .collect())
        })
        .await
    }

    /// Removes a lost device: refused by the server from now on; the sync
    /// key is rotated for the devices that remain.
    pub async fn remove_device(
        &self,
        space_id: String,
        device_id: String,
        server: Arc<SatchelServer>,
    ) -> Result<(), SatchelError> {
        self.with(move |w| Ok(w.remove_device(&space_id, &device_id, &server.client)?))
            .await
    }

    /// Syncs a space with its other devices (end-to-end encrypted): pulls
    /// and merges, then pushes. Safe to interrupt and run again; run it
    /// from background work (WorkManager, BGTaskScheduler).
    pub async fn sync(
        &self,
        space_id: String,
        server: Arc<SatchelServer>,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<SyncReport, SatchelError> {
        self.with(move |w| {
            let progress = |p: core::wallet::sync::SyncProgress| {
                if let Some(l) = &listener {
                    l.on_progress(SyncProgress {
                        pulled: p.pulled,
                        pushed: p.pushed,
                        to_push: p.to_push,
                    });
                }
            };
            let r = w.sync_space(&space_id, &server.client, &progress)?;
            Ok(SyncReport {
                pulled: r.pulled,
                merged: r.merged,
                pushed: r.pushed,
            })
        })
        .await
    }

    /// Re-issues a credential bound to another device's key to this device
    /// through `offer` (OpenID4VCI, same issuer and type).
    pub async fn reissue_credential(
        &self,
        credential_id: String,
        offer: String,
        registry: Arc<TrustRegistry>,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<Credential, SatchelError> {
        self.with_offer(offer, registry, transport, move |w, o, t, r, now| {
            w.reissue_credential(&credential_id, o, t, r, now)
        })
        .await
    }

    /// Exports a whole space as one sealed, signed file (the bytes to save
    /// or share).
    pub async fn export_space(
        &self,
        space_id: String,
        passphrase: String,
    ) -> Result<Vec<u8>, SatchelError> {
        let passphrase = zeroize::Zeroizing::new(passphrase);
        self.with(move |w| Ok(w.export_space(&space_id, &passphrase)?))
            .await
    }

    /// Imports an exported space after verifying all of it; nothing is
    /// written if any check fails.
    pub async fn import_space(
        &self,
        file: Vec<u8>,
        passphrase: String,
    ) -> Result<ImportReport, SatchelError> {
        let passphrase = zeroize::Zeroizing::new(passphrase);
        self.with(move |w| {
            let r = w.import_space(&file, &passphrase)?;
            Ok(ImportReport {
                space: r.space.into(),
                credentials: r.credentials as u32,
                to_reissue: r.to_reissue,
                consent_records: r.consent_records as u32,
                authorizations: r.authorizations as u32,
            })
        })
        .await
    }
}

/// The largest file `import_space` accepts, in bytes: an app reading a
/// picked file stops there instead of loading something larger.
#[uniffi::export]
pub fn max_export_bytes() -> u64 {
    core::wallet::MAX_EXPORT_BYTES as u64
}
