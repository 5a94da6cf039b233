//! A space on several devices (ADR 0008): a new device asks to join, an
//! enrolled one approves, the person compares one code on both screens;
//! devices are listed and removed, and a removal rotates the sync key.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    records::SpaceDevice, sync::SyncKeys, Space, SpaceKind, Wallet, WalletChange, WalletError,
};
use crate::{
    b64,
    client::{ClientError, ServerClient},
    device,
    enrol::{self, EnrolError, EnrolmentRequest, HpkeSecret},
    unix_now, Jwk, KeyStoreSigner, Signer,
};

/// HPKE `info` of sync keys sealed anew for a device after a rotation.
const REKEY_INFO: &[u8] = b"satchel-rekey-v1";

/// A device of a space, as this device sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEntry {
    /// Device id.
    pub device_id: String,
    /// Its key (public).
    pub key: Jwk,
    /// When it was removed, if it was.
    pub removed_at: Option<i64>,
    /// Whether it is this device.
    pub this_device: bool,
}

/// What a new device learns before the person confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentOffer {
    /// The space's id.
    pub space_id: String,
    /// The space's name.
    pub space_name: String,
    /// The code to compare with the approving device's screen.
    pub code: String,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    request: String,
    secret: String,
    key_alias: String,
}

#[derive(Serialize, Deserialize)]
struct Package {
    v: u8,
    space_id: String,
    name: String,
    kind: SpaceKind,
    space_key: Jwk,
    created_at: i64,
    certificates: Vec<String>,
    sync_keys: Value,
    status_base: Option<String>,
    /// HPKE keys of devices without a certificate (the space key's device).
    #[serde(default)]
    root_enc: Option<String>,
}

fn enrol_error(e: EnrolError) -> WalletError {
    WalletError::InvalidInput(e.to_string())
}

fn server_error(e: ClientError) -> WalletError {
    super::remote::exchange_error(e, |answer| WalletError::ServerRefused(answer.to_string()))
}

impl Wallet {
    /// This installation's HPKE key for re-keying: the secret stays sealed
    /// here; the public key goes into certificates.
    fn device_hpke(&self) -> Result<(String, HpkeSecret), WalletError> {
        if let Some(sealed) = self.meta("device_hpke")? {
            let plain = self.open_raw("meta/device_hpke", &sealed)?;
            let v: Value = serde_json::from_slice(&plain)
                .map_err(|_| WalletError::Integrity("device HPKE key".into()))?;
            let public = v["public"].as_str().unwrap_or_default().to_owned();
            let secret = b64::decode(v["secret"].as_str().unwrap_or_default())
                .ok_or_else(|| WalletError::Integrity("device HPKE key".into()))?;
            return Ok((
                public,
                HpkeSecret::from_bytes(&secret).map_err(enrol_error)?,
            ));
        }
        let (public, secret) = enrol::new_hpke_key();
        self.keep_device_hpke(&public, &secret)?;
        Ok((public, secret))
    }

    fn keep_device_hpke(&self, public: &str, secret: &HpkeSecret) -> Result<(), WalletError> {
        let plain = zeroize::Zeroizing::new(
            json!({"public": public, "secret": b64::encode(&*secret.to_bytes())}).to_string(),
        );
        let sealed = self.seal_raw("meta/device_hpke", plain.as_bytes());
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('device_hpke', ?1)",
                [sealed],
            )?;
            Ok(())
        })
    }

    /// On a new device: an enrolment request for this installation's
    /// device key — `key_alias` in the wallet's key store, the key `client`
    /// signs with — as a `satchel-enrol:` URI to show as a QR code.
    /// Replaces any earlier pending request.
    pub fn request_enrolment(
        &self,
        client: &ServerClient,
        key_alias: &str,
    ) -> Result<String, WalletError> {
        let key = KeyStoreSigner::new(self.keystore(), key_alias)?.public_jwk();
        if key != client.device_key() {
            return Err(WalletError::InvalidInput(
                "the server connection must sign with the device key named".into(),
            ));
        }
        let (request, secret) =
            EnrolmentRequest::new(client.device_id(), &key).map_err(enrol_error)?;
        let uri = request.to_uri();
        let pending = Pending {
            request: uri.clone(),
            secret: b64::encode(&*secret.to_bytes()),
            key_alias: key_alias.to_owned(),
        };
        let sealed = self.seal("meta", "pending_enrolment", &pending);
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('pending_enrolment', ?1)",
                [sealed],
            )?;
            Ok(())
        })?;
        Ok(uri)
    }

    fn pending(&self) -> Result<(EnrolmentRequest, HpkeSecret, String), WalletError> {
        let sealed = self.meta("pending_enrolment")?.ok_or_else(|| {
            WalletError::InvalidInput("no enrolment request is pending on this device".into())
        })?;
        let p: Pending = self.open_record("meta", "pending_enrolment", &sealed)?;
        let request = EnrolmentRequest::from_uri(&p.request).map_err(enrol_error)?;
        let secret = b64::decode(&p.secret)
            .ok_or_else(|| WalletError::Integrity("pending enrolment".into()))?;
        Ok((
            request,
            HpkeSecret::from_bytes(&secret).map_err(enrol_error)?,
            p.key_alias,
        ))
    }

    /// On an enrolled device: approves the enrolment request `request_uri`
    /// into `space_id` — syncs the space, certifies the new device's key,
    /// seals the space's public record and sync keys for it, and leaves
    /// both with the server.
    /// Returns the confirmation code to show; the new device shows the same.
    pub fn approve_enrolment(
        &self,
        space_id: &str,
        request_uri: &str,
        client: &ServerClient,
    ) -> Result<String, WalletError> {
        let space = self.space(space_id)?;
        let request = EnrolmentRequest::from_uri(request_uri).map_err(enrol_error)?;
        if request.device_id == client.device_id() {
            return Err(WalletError::InvalidInput(
                "a device cannot enrol itself".into(),
            ));
        }
        // The new device finds everything at once: push first (and if the
        // server cannot be reached, nothing is enrolled).
        self.sync_space(space_id, client, &|_| {})?;
        let signer = self.signer(&space)?;
        let (own_enc, _) = self.device_hpke()?;
        let cert = device::certify_with_enc(
            space_id,
            &request.device_id,
            &request.device_key,
            Some(&request.hpke_key),
            &signer,
            unix_now(),
        )
        .map_err(|e| match e {
            crate::JoseError::SigningCancelled => WalletError::Cancelled,
            e => WalletError::KeyStore(crate::KeyStoreError::Platform(e.to_string())),
        })?;
        let mut certificates = vec![cert];
        certificates.extend(space.chain().iter().cloned());
        let keys = self.sync_keys(space_id)?;
        let package = Package {
            v: 1,
            space_id: space.id.clone(),
            name: space.name.clone(),
            kind: space.kind,
            space_key: space.holder_key.clone(),
            created_at: space.created_at,
            certificates: certificates.clone(),
            sync_keys: keys.to_json(),
            status_base: self
                .meta("status_base")?
                .and_then(|v| String::from_utf8(v).ok()),
            // The space key's device's re-keying key: ours, or as we got it.
            root_enc: if space.holds_space_key() {
                Some(own_enc)
            } else {
                self.meta(&format!("root_enc/{space_id}"))?
                    .and_then(|v| String::from_utf8(v).ok())
            },
        };
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(&package).unwrap_or_default());
        let sealed = enrol::seal_package(&request, &plain).map_err(enrol_error)?;
        client
            .call(
                "POST",
                &format!("/v1/spaces/{space_id}/devices"),
                Some(&json!({
                    "device_id": request.device_id,
                    "device_jwk": request.device_key.to_value(),
                    "wrapped_key": sealed,
                    "certificates": certificates,
                })),
            )
            .map_err(server_error)?;
        Ok(enrol::confirmation_code(&request, &space.holder_key))
    }

    fn fetch_package(
        &self,
        client: &ServerClient,
    ) -> Result<(EnrolmentRequest, HpkeSecret, Package, String), WalletError> {
        let (request, secret, key_alias) = self.pending()?;
        let me = client
            .call("GET", "/v1/device", None)
            .map_err(|e| match e {
                ClientError::Server { status: 401, .. } => WalletError::InvalidInput(
                    "not approved yet: approve the request on a device of the space first".into(),
                ),
                e => server_error(e),
            })?;
        let sealed = me["wrapped_key"].as_str().ok_or_else(|| {
            WalletError::InvalidInput(
                "the server holds no enrolment package for this device".into(),
            )
        })?;
        let plain = enrol::open_package(&request, &secret, sealed).map_err(enrol_error)?;
        let package: Package = serde_json::from_slice(&plain)
            .map_err(|_| WalletError::InvalidInput("malformed enrolment package".into()))?;
        if package.v != 1 || Some(package.space_id.as_str()) != me["space_id"].as_str() {
            return Err(WalletError::InvalidInput(
                "the enrolment package is for another space".into(),
            ));
        }
        let leaf = device::verify_chain(
            &package.certificates,
            Some(&package.space_id),
            &package.space_key,
            &|_| false,
        )
        .map_err(|e| WalletError::InvalidInput(format!("enrolment package: {e}")))?;
        if leaf.device_id != request.device_id || leaf.key != request.device_key {
            return Err(WalletError::InvalidInput(
                "the enrolment package certifies another device".into(),
            ));
        }
        Ok((request, secret, package, key_alias))
    }

    /// On the new device, once approved: what the person should see before
    /// confirming — the space and the code to compare.
    pub fn enrolment_offer(&self, client: &ServerClient) -> Result<EnrolmentOffer, WalletError> {
        let (request, _, package, _) = self.fetch_package(client)?;
        Ok(EnrolmentOffer {
            space_id: package.space_id,
            space_name: package.name,
            code: enrol::confirmation_code(&request, &package.space_key),
        })
    }

    /// On the new device: completes the enrolment once the person confirmed
    /// that `confirmed_code` is what the approving device shows. Stores the
    /// space (this device signs for it with its own key) and its sync keys;
    /// run [`Wallet::sync_space`] next to fetch its records.
    pub fn complete_enrolment(
        &self,
        client: &ServerClient,
        confirmed_code: &str,
    ) -> Result<Space, WalletError> {
        let (request, secret, package, key_alias) = self.fetch_package(client)?;
        let code = enrol::confirmation_code(&request, &package.space_key);
        if !enrol::code_matches(confirmed_code, &code) {
            return Err(WalletError::InvalidInput(
                "the confirmation codes differ: do not enrol this device".into(),
            ));
        }
        let keys = SyncKeys::from_json(&package.sync_keys)
            .ok_or_else(|| WalletError::InvalidInput("malformed enrolment package".into()))?;
        let space = Space {
            id: package.space_id.clone(),
            name: package.name.clone(),
            kind: package.kind,
            holder_key_alias: String::new(),
            holder_key: package.space_key.clone(),
            created_at: package.created_at,
            device: Some(SpaceDevice {
                device_id: request.device_id.clone(),
                key_alias,
                key: request.device_key.clone(),
                chain: package.certificates.clone(),
            }),
        };
        // The enrolment HPKE key becomes this device's re-keying key (its
        // public half is in the certificate).
        self.keep_device_hpke(&request.hpke_key, &secret)?;
        // A space imported from an export file becomes a full device of the
        // space: its records stay, its signing key and sync keys are the
        // enrolled ones from now on.
        let imported = match self.space(&space.id) {
            Ok(held) if held.device.as_ref().is_some_and(|d| d.chain.is_empty()) => Some(held),
            Ok(_) => {
                return Err(WalletError::InvalidInput(
                    "this wallet already holds that space".into(),
                ))
            }
            Err(_) => None,
        };
        self.write(|tx| {
            if imported.is_some() {
                tx.execute(
                    "UPDATE spaces SET sealed = ?2 WHERE id = ?1",
                    params![space.id, self.seal("spaces", &space.id, &space)],
                )?;
                tx.execute("DELETE FROM sync_keys WHERE space_id = ?1", [&space.id])?;
                tx.execute("DELETE FROM sync_pushed WHERE space_id = ?1", [&space.id])?;
                tx.execute("DELETE FROM sync_state WHERE space_id = ?1", [&space.id])?;
            } else {
                tx.execute(
                    "INSERT INTO spaces (id, sealed) VALUES (?1, ?2)",
                    params![space.id, self.seal("spaces", &space.id, &space)],
                )?;
            }
            self.put_sync_keys(tx, &space.id, &keys)?;
            if let Some(base) = &package.status_base {
                tx.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('status_base', ?1)",
                    [base.as_bytes()],
                )?;
            }
            if let Some(enc) = &package.root_enc {
                tx.execute(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)",
                    params![format!("root_enc/{}", space.id), enc.as_bytes()],
                )?;
            }
            tx.execute("DELETE FROM meta WHERE name = 'pending_enrolment'", [])?;
            Ok(())
        })?;
        if let Some(old) = imported.and_then(|s| s.device) {
            // The uncertified key the import made is no longer used.
            let _ = self.keystore.delete_key(&old.key_alias);
        }
        self.changed(&[WalletChange::SpaceCreated {
            space_id: space.id.clone(),
        }]);
        Ok(space)
    }

    /// The devices of a space, as the server lists them.
    pub fn devices(
        &self,
        space_id: &str,
        client: &ServerClient,
    ) -> Result<Vec<DeviceEntry>, WalletError> {
        self.space(space_id)?;
        let list = client
            .call("GET", &format!("/v1/spaces/{space_id}/devices"), None)
            .map_err(server_error)?;
        list["devices"]
            .as_array()
            .ok_or_else(|| WalletError::Network("malformed device list".into()))?
            .iter()
            .map(|d| {
                let id = d["device_id"]
                    .as_str()
                    .ok_or_else(|| WalletError::Network("malformed device list".into()))?
                    .to_owned();
                Ok(DeviceEntry {
                    this_device: id == client.device_id(),
                    key: Jwk::from_value(&d["jwk"])
                        .map_err(|_| WalletError::Network("malformed device list".into()))?,
                    removed_at: d["removed_at"].as_i64(),
                    device_id: id,
                })
            })
            .collect()
    }

    /// Removes a lost device from a space: the server refuses it from now
    /// on; a new sync key epoch is sealed for every remaining device, so
    /// records pushed from now on are unreadable to the removed one.
    pub fn remove_device(
        &self,
        space_id: &str,
        device_id: &str,
        client: &ServerClient,
    ) -> Result<(), WalletError> {
        let space = self.space(space_id)?;
        if device_id == client.device_id() {
            return Err(WalletError::InvalidInput(
                "remove this device from another device of the space".into(),
            ));
        }
        client
            .call(
                "DELETE",
                &format!("/v1/spaces/{space_id}/devices/{device_id}"),
                None,
            )
            .map_err(server_error)?;
        let keys = self.rotate_sync_key(space_id)?;
        let list = client
            .call("GET", &format!("/v1/spaces/{space_id}/devices"), None)
            .map_err(server_error)?;
        let plain = zeroize::Zeroizing::new(keys.to_json().to_string());
        for d in list["devices"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let id = d["device_id"].as_str().unwrap_or_default();
            if id == client.device_id() || !d["removed_at"].is_null() {
                continue;
            }
            let certs: Vec<String> =
                serde_json::from_value(d["certificates"].clone()).unwrap_or_default();
            let enc = match certs.first() {
                Some(c) => device::peek(c).ok().and_then(|c| c.enc),
                None => self
                    .meta(&format!("root_enc/{space_id}"))?
                    .and_then(|v| String::from_utf8(v).ok()),
            };
            let Some(enc) = enc else {
                // A device that cannot be re-keyed stays on the old epoch:
                // it reads nothing pushed from now on until re-enrolled.
                continue;
            };
            let sealed = enrol::seal_to(
                &enc,
                REKEY_INFO,
                rekey_aad(&space.id, id).as_bytes(),
                plain.as_bytes(),
            )
            .map_err(enrol_error)?;
            client
                .call(
                    "PUT",
                    &format!("/v1/spaces/{space_id}/devices/{id}/wrapped-key"),
                    Some(&json!({ "wrapped_key": sealed })),
                )
                .map_err(server_error)?;
        }
        Ok(())
    }

    /// Takes sync keys another device sealed for this one after a rotation
    /// (left with the server); `true` if new epochs were added.
    pub(crate) fn take_rekey(
        &self,
        space_id: &str,
        client: &ServerClient,
    ) -> Result<bool, WalletError> {
        let me = client
            .call("GET", "/v1/device", None)
            .map_err(server_error)?;
        let Some(sealed) = me["wrapped_key"].as_str() else {
            return Ok(false);
        };
        let (_, secret) = self.device_hpke()?;
        // The enrolment package is sealed differently: not a re-key.
        let Ok(plain) = enrol::open_from(
            &secret,
            REKEY_INFO,
            rekey_aad(space_id, client.device_id()).as_bytes(),
            sealed,
        ) else {
            return Ok(false);
        };
        let v: Value = serde_json::from_slice(&plain)
            .map_err(|_| WalletError::Integrity("re-keyed sync keys".into()))?;
        let new = SyncKeys::from_json(&v)
            .ok_or_else(|| WalletError::Integrity("re-keyed sync keys".into()))?;
        let mut keys = self.sync_keys(space_id)?;
        let before = keys.epochs.len();
        for (epoch, key) in new.epochs {
            if keys.epoch(epoch).is_none() {
                keys.epochs.push((epoch, key));
            }
        }
        keys.epochs.sort_by_key(|(e, _)| *e);
        if keys.epochs.len() == before {
            return Ok(false);
        }
        self.write(|tx| self.put_sync_keys(tx, space_id, &keys))?;
        Ok(true)
    }
}

fn rekey_aad(space_id: &str, device_id: &str) -> String {
    format!("{space_id}/{device_id}")
}
