//! Portability (PIPL art. 45): a whole space as one passphrase-sealed,
//! signed file, and its verified import into another wallet. The format is
//! described in `docs/formats/export.md`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::{
    records::SpaceDevice,
    sync::{Item, SyncKeys},
    Space, SpaceKind, Wallet, WalletChange, WalletError,
};
use crate::{
    b64, consent, device, jws,
    keystore::KeyAlgorithm,
    sd_jwt::{self, VerifyOptions},
    software_keystore::{derive_kek, open_with, seal_with, KdfParams},
    unix_now, Jwk,
};

/// `format` of an export file.
pub const EXPORT_FORMAT: &str = "satchel-space-export";
/// `typ` of the signed manifest inside it.
pub const MANIFEST_TYP: &str = "satchel-export+jwt";
/// Largest export file read.
pub const MAX_EXPORT_BYTES: usize = 256 << 20;
/// Shortest passphrase accepted for an export.
pub const MIN_PASSPHRASE: usize = 8;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    v: u8,
    kdf: KdfParams,
    payload: String,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    manifest: String,
    items: Vec<Item>,
    summary: Value,
    consent_27560: Value,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    space_id: String,
    name: String,
    kind: SpaceKind,
    space_key: Jwk,
    created_at: i64,
    exported_at: i64,
    items_sha256: String,
    items: usize,
}

/// What an import brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The space, now in this wallet.
    pub space: Space,
    /// Credentials imported.
    pub credentials: usize,
    /// Of those, the ones bound to another device's key: to present them
    /// here, re-issue them to this device.
    pub to_reissue: Vec<String>,
    /// Consent records imported (every chain verified).
    pub consent_records: usize,
    /// Authorisations imported.
    pub authorizations: usize,
}

fn aad(kdf: &KdfParams) -> String {
    format!(
        "{EXPORT_FORMAT}/1/{}/{}/{}/{}/{}",
        kdf.alg, kdf.m_kib, kdf.t, kdf.p, kdf.salt
    )
}

fn refused(why: &str) -> WalletError {
    WalletError::InvalidInput(format!("export file refused: {why}"))
}

fn items_hash(items: &[Item]) -> String {
    b64::sha256_b64(&serde_json::to_vec(items).unwrap_or_default())
}

impl Wallet {
    /// Exports a whole space as one file: every record, a manifest signed by
    /// this device (with its certificate chain), a readable summary and the
    /// consent log as an ISO/IEC TS 27560 document, sealed with AES-256-GCM
    /// under an Argon2id key from `passphrase`.
    pub fn export_space(&self, space_id: &str, passphrase: &str) -> Result<Vec<u8>, WalletError> {
        if passphrase.chars().count() < MIN_PASSPHRASE {
            return Err(WalletError::InvalidInput(format!(
                "the export passphrase must have at least {MIN_PASSPHRASE} characters"
            )));
        }
        let space = self.space(space_id)?;
        let items = self.items(space_id)?;
        let credentials = self.credentials(space_id, &Default::default())?;
        let authorizations = self.authorizations(space_id)?;
        let now = unix_now();
        let manifest = Manifest {
            space_id: space.id.clone(),
            name: space.name.clone(),
            kind: space.kind,
            space_key: space.holder_key.clone(),
            created_at: space.created_at,
            exported_at: now,
            items_sha256: items_hash(&items),
            items: items.len(),
        };
        let signer = self.signer(&space)?;
        let manifest = jws::sign(
            device::header_for(MANIFEST_TYP, space.chain()),
            &serde_json::to_value(&manifest).unwrap_or_default(),
            &signer,
        )
        .map_err(|e| match e {
            jws::JoseError::SigningCancelled => WalletError::Cancelled,
            e => WalletError::KeyStore(crate::KeyStoreError::Platform(e.to_string())),
        })?;
        let summary = json!({
            "space": {"id": space.id, "name": space.name, "kind": space.kind, "created_at": space.created_at},
            "exported_at": now,
            "credentials": credentials.iter().map(|c| json!({
                "id": c.id, "type": c.vct, "issuer": c.issuer, "expires_at": c.expires_at,
                "label": c.label, "status": c.status(now),
            })).collect::<Vec<_>>(),
            "authorizations": authorizations.iter().map(|a| json!({
                "id": a.id, "relying_party": a.rp_name.clone().unwrap_or_else(|| a.client_id.clone()),
                "purpose": a.purpose, "state": a.state.as_str(), "uses": a.uses.len(), "max_uses": a.max_uses,
                "not_after": a.not_after,
            })).collect::<Vec<_>>(),
        });
        let payload = Payload {
            manifest,
            items,
            summary,
            consent_27560: self.export_consent_log(space_id)?,
        };
        let plain = Zeroizing::new(serde_json::to_vec(&payload).unwrap_or_default());
        let kdf = KdfParams::baseline();
        let kek = derive_kek(passphrase, &kdf)?;
        let key = super::sync::aead_key(kek.as_ref())?;
        let sealed = seal_with(&key, aad(&kdf).as_bytes(), &plain);
        let header = Header {
            format: EXPORT_FORMAT.into(),
            v: 1,
            kdf,
            payload: b64::encode(sealed),
        };
        Ok(serde_json::to_vec_pretty(&header).unwrap_or_default())
    }

    /// Imports a space exported by [`Wallet::export_space`]. Every signature
    /// is checked first — the manifest's (by a key of the space), every
    /// consent chain, every credential's issuer signature — and everything
    /// is written in one transaction: a tampered, truncated or wrongly
    /// sealed file leaves nothing behind. This device cannot sign for the
    /// imported space until a device holding it enrols this one; credentials
    /// bound to another device's key are listed for re-issuance.
    pub fn import_space(&self, file: &[u8], passphrase: &str) -> Result<ImportReport, WalletError> {
        if file.len() > MAX_EXPORT_BYTES {
            return Err(refused("larger than any export"));
        }
        let header: Header = serde_json::from_slice(file)
            .map_err(|_| refused("not a Satchel export (truncated?)"))?;
        if header.format != EXPORT_FORMAT || header.v != 1 {
            return Err(refused("unknown format or version"));
        }
        let kek = derive_kek(passphrase, &header.kdf).map_err(|e| match e {
            crate::KeyStoreError::WrongPassphrase => refused("wrong passphrase, or altered"),
            e => refused(&e.to_string()),
        })?;
        let key = super::sync::aead_key(kek.as_ref())?;
        let sealed = b64::decode(&header.payload).ok_or_else(|| refused("damaged"))?;
        let plain = open_with(&key, aad(&header.kdf).as_bytes(), &sealed)
            .ok_or_else(|| refused("wrong passphrase, or the file was altered"))?;
        let payload: Payload =
            serde_json::from_slice(&plain).map_err(|_| refused("malformed contents"))?;
        let manifest = verify_manifest(&payload)?;
        if self.space(&manifest.space_id).is_ok() {
            return Err(WalletError::InvalidInput(
                "this wallet already holds that space".into(),
            ));
        }
        let checked = check_items(&manifest, &payload.items)?;

        let device_alias = format!("satchel.space.{}.device", manifest.space_id);
        let device_key = self
            .keystore
            .generate_key(&device_alias, KeyAlgorithm::Es256)?;
        let space = Space {
            id: manifest.space_id.clone(),
            name: manifest.name.clone(),
            kind: manifest.kind,
            holder_key_alias: String::new(),
            holder_key: manifest.space_key.clone(),
            created_at: manifest.created_at,
            device: Some(SpaceDevice {
                device_id: format!("imported-{}", &device_key.thumbprint()[..16]),
                key_alias: device_alias.clone(),
                key: device_key.clone(),
                chain: Vec::new(),
            }),
        };
        let keys = SyncKeys::fresh();
        let written = self.write(|tx| {
            tx.execute(
                "INSERT INTO spaces (id, sealed) VALUES (?1, ?2)",
                rusqlite::params![space.id, self.seal("spaces", &space.id, &space)],
            )?;
            self.put_sync_keys(tx, &space.id, &keys)?;
            for item in &payload.items {
                self.merge(tx, &space.id, &keys, item)?;
            }
            Ok(())
        });
        if let Err(e) = written {
            let _ = self.keystore.delete_key(&device_alias);
            return Err(e);
        }
        self.changed(&[WalletChange::SpaceCreated {
            space_id: space.id.clone(),
        }]);
        Ok(ImportReport {
            to_reissue: checked
                .bound
                .into_iter()
                .filter(|(_, k)| k.thumbprint() != device_key.thumbprint())
                .map(|(id, _)| id)
                .collect(),
            space,
            credentials: checked.credentials,
            consent_records: checked.consent_records,
            authorizations: checked.authorizations,
        })
    }
}

fn verify_manifest(payload: &Payload) -> Result<Manifest, WalletError> {
    let jwt = jws::decode(&payload.manifest).map_err(|_| refused("malformed manifest"))?;
    if !jwt.header.typ_is(MANIFEST_TYP) {
        return Err(refused("malformed manifest"));
    }
    let manifest: Manifest =
        serde_json::from_slice(&jwt.payload).map_err(|_| refused("malformed manifest"))?;
    device::verify_for_space(&jwt, Some(&manifest.space_id), &manifest.space_key, &|_| {
        false
    })
    .map_err(|e| refused(&format!("manifest signature: {e}")))?;
    if manifest.items != payload.items.len() || manifest.items_sha256 != items_hash(&payload.items)
    {
        return Err(refused("records differ from the signed manifest"));
    }
    Ok(manifest)
}

struct Checked {
    credentials: usize,
    consent_records: usize,
    authorizations: usize,
    /// (credential id, key it is bound to).
    bound: Vec<(String, Jwk)>,
}

/// Checks every record before anything is written.
fn check_items(manifest: &Manifest, items: &[Item]) -> Result<Checked, WalletError> {
    let space_id = &manifest.space_id;
    let mut checked = Checked {
        credentials: 0,
        consent_records: 0,
        authorizations: 0,
        bound: Vec::new(),
    };
    let mut chains = std::collections::BTreeMap::<&str, Vec<(i64, &str)>>::new();
    for item in items {
        match item {
            Item::Credential(c) => {
                if &c.space_id != space_id {
                    return Err(refused("a credential belongs to another space"));
                }
                let vk = c
                    .issuer_key
                    .verifying_key()
                    .map_err(|_| refused("a credential's issuer key is unusable"))?;
                // Signatures and structure, judged inside the credential's
                // own validity window: expiry is shown, not refused.
                let at = c.valid_from.or(c.issued_at).unwrap_or(c.imported_at);
                sd_jwt::verify(&c.token, &vk, &VerifyOptions::vc(at))
                    .map_err(|e| refused(&format!("credential {}: {e}", c.id)))?;
                if let Some(k) = c.bound_key() {
                    checked.bound.push((c.id.clone(), k));
                }
                checked.credentials += 1;
            }
            Item::Authorization(a) => {
                if &a.space_id != space_id {
                    return Err(refused("an authorisation belongs to another space"));
                }
                let jwt = jws::decode(&a.jws).map_err(|_| refused("malformed authorisation"))?;
                device::verify_for_space(&jwt, Some(space_id), &manifest.space_key, &|_| false)
                    .map_err(|e| refused(&format!("authorisation {}: {e}", a.id)))?;
                checked.authorizations += 1;
            }
            Item::Consent { chain, seq, token } => {
                chains.entry(chain).or_default().push((*seq, token));
            }
            Item::Member(m) if &m.space_id != space_id => {
                return Err(refused("a member belongs to another space"))
            }
            Item::Delegation(d) if &d.space_id != space_id => {
                return Err(refused("a delegation belongs to another space"))
            }
            _ => {}
        }
    }
    let probe = Space {
        id: space_id.clone(),
        name: String::new(),
        kind: manifest.kind,
        holder_key_alias: String::new(),
        holder_key: manifest.space_key.clone(),
        created_at: 0,
        device: None,
    };
    for (chain, mut entries) in chains {
        entries.sort_by_key(|(seq, _)| *seq);
        let tokens: Vec<String> = entries.iter().map(|(_, t)| (*t).to_owned()).collect();
        let key = if chain.is_empty() {
            manifest.space_key.clone()
        } else {
            super::history::chain_key(&probe, chain, &tokens)?
        };
        let vk = key
            .verifying_key()
            .map_err(|_| refused("a consent chain's key is unusable"))?;
        consent::verify_log(&tokens, &vk).map_err(|e| refused(&format!("consent log: {e}")))?;
        checked.consent_records += tokens.len();
    }
    Ok(checked)
}
