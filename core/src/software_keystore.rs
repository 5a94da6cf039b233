//! Software keys (ring) and a [`KeyStore`] that keeps them in memory or in a
//! file encrypted under a passphrase-derived key (Argon2id + AES-256-GCM).
//! For desktop, the CLI and tests; phones use the platform key store.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Mutex,
};

use ring::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM},
    rand::SystemRandom,
    signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{
    b64, der,
    jws::JoseError,
    keystore::{KeyAlgorithm, KeyStore, KeyStoreError},
    Alg, Jwk, Signer,
};

/// A private signing key held in memory (zeroised on drop).
pub struct SoftwareKey {
    pair: Pair,
    /// The private scalar (P-256) or seed (Ed25519), kept to write the key out.
    d: Zeroizing<Vec<u8>>,
    jwk: Jwk,
}

enum Pair {
    Es256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("public", &self.jwk)
            .finish_non_exhaustive()
    }
}

fn bad_key(msg: &str) -> JoseError {
    JoseError::Key(crate::JwkError::Malformed(msg.into()))
}

impl SoftwareKey {
    /// Generates a fresh key of the given kind.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, JoseError> {
        let rng = SystemRandom::new();
        let doc = match algorithm {
            KeyAlgorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
            KeyAlgorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(&rng),
        }
        .map_err(|_| JoseError::Signing("key generation failed".into()))?;
        Self::from_pkcs8(algorithm, doc.as_ref())
    }

    /// Generates an ES256 key.
    pub fn generate_es256() -> Result<Self, JoseError> {
        Self::generate(KeyAlgorithm::Es256)
    }

    /// Generates an Ed25519 key.
    pub fn generate_ed25519() -> Result<Self, JoseError> {
        Self::generate(KeyAlgorithm::Ed25519)
    }

    /// Loads a key from a PKCS#8 document.
    pub fn from_pkcs8(algorithm: KeyAlgorithm, pkcs8: &[u8]) -> Result<Self, JoseError> {
        let d = Zeroizing::new(
            der::pkcs8_private_octets(pkcs8, 32).map_err(|_| bad_key("cannot read PKCS#8"))?,
        );
        let (pair, jwk) = match algorithm {
            KeyAlgorithm::Es256 => {
                let kp = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    pkcs8,
                    &SystemRandom::new(),
                )
                .map_err(|_| bad_key("not a P-256 PKCS#8 key"))?;
                let jwk = Jwk::from_p256_point(kp.public_key().as_ref())?;
                (Pair::Es256(kp), jwk)
            }
            KeyAlgorithm::Ed25519 => {
                let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                    .map_err(|_| bad_key("not an Ed25519 PKCS#8 key"))?;
                let jwk = Jwk::from_ed25519(kp.public_key().as_ref())?;
                (Pair::Ed25519(kp), jwk)
            }
        };
        Ok(SoftwareKey { pair, d, jwk })
    }

    /// Loads a key from a private JWK (with `d`).
    pub fn from_private_jwk(text: &str) -> Result<Self, JoseError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|_| bad_key("private JWK is not JSON"))?;
        let d = value
            .get("d")
            .and_then(|d| d.as_str())
            .and_then(b64::decode)
            .map(Zeroizing::new)
            .ok_or_else(|| bad_key("private JWK needs a base64url d"))?;
        let mut public = value.clone();
        if let Some(obj) = public.as_object_mut() {
            obj.remove("d");
        }
        let jwk = Jwk::from_value(&public)?;
        let pair = match jwk.alg()? {
            Alg::Es256 => {
                let point = match jwk.verifying_key()? {
                    crate::VerifyingKey::P256(p) => p,
                    crate::VerifyingKey::Ed25519(_) => return Err(bad_key("curve mismatch")),
                };
                let kp = EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &d,
                    &point,
                    &SystemRandom::new(),
                )
                .map_err(|_| bad_key("d does not match x/y"))?;
                Pair::Es256(kp)
            }
            Alg::EdDsa => {
                let x = b64::decode(&jwk.x).unwrap_or_default();
                let kp = Ed25519KeyPair::from_seed_and_public_key(&d, &x)
                    .map_err(|_| bad_key("d does not match x"))?;
                Pair::Ed25519(kp)
            }
        };
        Ok(SoftwareKey { pair, d, jwk })
    }

    /// The key as a private JWK (JSON text, with `d`). Handle with care.
    pub fn to_private_jwk(&self) -> Zeroizing<String> {
        let d = Zeroizing::new(b64::encode(&*self.d));
        let mut text = String::with_capacity(200);
        let public = self.jwk.to_value().to_string();
        // `{"crv":…}` → `{"crv":…,"d":"…"}` without copying d into a JSON value.
        text.push_str(&public[..public.len() - 1]);
        text.push_str(",\"d\":\"");
        text.push_str(&d);
        text.push_str("\"}");
        Zeroizing::new(text)
    }

    /// The kind of key.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.pair {
            Pair::Es256(_) => KeyAlgorithm::Es256,
            Pair::Ed25519(_) => KeyAlgorithm::Ed25519,
        }
    }
}

impl Signer for SoftwareKey {
    fn alg(&self) -> Alg {
        self.algorithm().jws_alg()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        match &self.pair {
            Pair::Es256(kp) => kp
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::Signing("ECDSA signing failed".into())),
            Pair::Ed25519(kp) => Ok(kp.sign(message).as_ref().to_vec()),
        }
    }

    fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }
}

/// AES-256-GCM seal: `nonce ‖ ciphertext ‖ tag`.
pub(crate) fn aes_seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte AES key"));
    seal_with(&key, aad, plaintext)
}

/// Seals with a prepared key: `nonce ‖ ciphertext ‖ tag`.
pub(crate) fn seal_with(key: &LessSafeKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce: [u8; 12] = b64::random_bytes();
    let mut out = Vec::with_capacity(12 + plaintext.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[12..],
        )
        .expect("AES-GCM seal of an in-memory buffer");
    out.extend_from_slice(tag.as_ref());
    out
}

/// Opens `nonce ‖ ciphertext ‖ tag`; `None` if it does not authenticate.
pub(crate) fn open_with(
    key: &LessSafeKey,
    aad: &[u8],
    sealed: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < 12 + 16 {
        return None;
    }
    let nonce = Nonce::try_assume_unique_for_key(&sealed[..12]).ok()?;
    let mut buf = Zeroizing::new(sealed[12..].to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

pub(crate) fn aes_open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    open_with(&key, aad, sealed)
}

enum Entry {
    Signing(Box<SoftwareKey>),
    Wrapping(Zeroizing<[u8; 32]>),
}

struct FileTarget {
    path: PathBuf,
    kek: Zeroizing<[u8; 32]>,
    kdf: KdfParams,
}

/// Argon2id parameters, stored in the key store file (and in space
/// export files).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KdfParams {
    pub(crate) alg: String,
    pub(crate) m_kib: u32,
    pub(crate) t: u32,
    pub(crate) p: u32,
    pub(crate) salt: String,
}

impl KdfParams {
    /// OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane), new salt.
    pub(crate) fn baseline() -> Self {
        KdfParams {
            alg: "argon2id".into(),
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
            salt: b64::encode(b64::random_bytes::<16>()),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct FileFormat {
    format: String,
    kdf: KdfParams,
    sealed: String,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kind: String,
    secret: String,
}

const FILE_FORMAT: &str = "satchel-software-keystore-v1";
/// Largest Argon2 memory accepted from a file: 1 GiB.
const MAX_M_KIB: u32 = 1 << 20;
/// Most Argon2 passes accepted from a file.
const MAX_T: u32 = 16;
/// Most Argon2 lanes accepted from a file.
const MAX_P: u32 = 16;
const FILE_AAD: &[u8] = b"satchel-software-keystore-v1";

/// A [`KeyStore`] of software keys, in memory or persisted encrypted to a file.
/// Never hardware-backed.
pub struct SoftwareKeyStore {
    keys: Mutex<BTreeMap<String, Entry>>,
    file: Option<FileTarget>,
}

impl std::fmt::Debug for SoftwareKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKeyStore")
            .field("path", &self.file.as_ref().map(|t| &t.path))
            .finish_non_exhaustive()
    }
}

pub(crate) fn derive_kek(
    passphrase: &str,
    kdf: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeyStoreError> {
    let salt = b64::decode(&kdf.salt).ok_or(KeyStoreError::WrongPassphrase)?;
    if kdf.alg != "argon2id" {
        return Err(KeyStoreError::Unsupported(format!(
            "key derivation {}",
            kdf.alg
        )));
    }
    // The parameters come from the file: bound them, so a tampered file
    // cannot make opening allocate gigabytes or run for hours.
    if !(8..=MAX_M_KIB).contains(&kdf.m_kib)
        || !(1..=MAX_T).contains(&kdf.t)
        || !(1..=MAX_P).contains(&kdf.p)
    {
        return Err(KeyStoreError::Unsupported(
            "Argon2 parameters out of range".into(),
        ));
    }
    let params = argon2::Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|_| KeyStoreError::Unsupported("Argon2 parameters".into()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut kek = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), &salt, kek.as_mut())
        .map_err(|_| KeyStoreError::Unsupported("Argon2 parameters".into()))?;
    Ok(kek)
}

impl SoftwareKeyStore {
    /// A key store that lives only in memory.
    pub fn in_memory() -> Self {
        SoftwareKeyStore {
            keys: Mutex::new(BTreeMap::new()),
            file: None,
        }
    }

    /// Opens the key store file at `path` with `passphrase`, creating it if it
    /// does not exist. A wrong passphrase gives [`KeyStoreError::WrongPassphrase`].
    pub fn open(path: &Path, passphrase: &str) -> Result<Self, KeyStoreError> {
        if !path.exists() {
            // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
            let kdf = KdfParams {
                alg: "argon2id".into(),
                m_kib: 19 * 1024,
                t: 2,
                p: 1,
                salt: b64::encode(b64::random_bytes::<16>()),
            };
            let kek = derive_kek(passphrase, &kdf)?;
            let store = SoftwareKeyStore {
                keys: Mutex::new(BTreeMap::new()),
                file: Some(FileTarget {
                    path: path.to_owned(),
                    kek,
                    kdf,
                }),
            };
            store.persist(&store.lock())?;
            return Ok(store);
        }
        let text = std::fs::read_to_string(path).map_err(|e| KeyStoreError::Io(e.to_string()))?;
        let file: FileFormat = serde_json::from_str(&text)
            .map_err(|_| KeyStoreError::Io("not a key store file".into()))?;
        if file.format != FILE_FORMAT {
            return Err(KeyStoreError::Unsupported(format!(
                "key store format {}",
                file.format
            )));
        }
        let kek = derive_kek(passphrase, &file.kdf)?;
        let sealed = b64::decode(&file.sealed).ok_or(KeyStoreError::WrongPassphrase)?;
        let plain = aes_open(&kek, FILE_AAD, &sealed).ok_or(KeyStoreError::WrongPassphrase)?;
        let stored: BTreeMap<String, StoredKey> =
            serde_json::from_slice(&plain).map_err(|_| KeyStoreError::WrongPassphrase)?;
        let mut keys = BTreeMap::new();
        for (alias, k) in stored {
            let secret =
                Zeroizing::new(b64::decode(&k.secret).ok_or(KeyStoreError::WrongPassphrase)?);
            let _wipe = Zeroizing::new(k.secret);
            let entry = match k.kind.as_str() {
                "jwk" => Entry::Signing(Box::new(
                    std::str::from_utf8(&secret)
                        .ok()
                        .and_then(|t| SoftwareKey::from_private_jwk(t).ok())
                        .ok_or(KeyStoreError::WrongPassphrase)?,
                )),
                "aes256" => {
                    let key: [u8; 32] = secret
                        .as_slice()
                        .try_into()
                        .map_err(|_| KeyStoreError::WrongPassphrase)?;
                    Entry::Wrapping(Zeroizing::new(key))
                }
                other => return Err(KeyStoreError::Unsupported(format!("key kind {other}"))),
            };
            keys.insert(alias, entry);
        }
        Ok(SoftwareKeyStore {
            keys: Mutex::new(keys),
            file: Some(FileTarget {
                path: path.to_owned(),
                kek,
                kdf: file.kdf,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every update is a single insert/remove), so poisoning is ignored.
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn persist(&self, keys: &BTreeMap<String, Entry>) -> Result<(), KeyStoreError> {
        let Some(target) = &self.file else {
            return Ok(());
        };
        let mut stored = BTreeMap::new();
        for (alias, entry) in keys {
            let (kind, secret) = match entry {
                Entry::Signing(k) => ("jwk", b64::encode(k.to_private_jwk().as_bytes())),
                Entry::Wrapping(k) => ("aes256", b64::encode(k.as_ref())),
            };
            stored.insert(
                alias.as_str(),
                StoredKey {
                    kind: kind.into(),
                    secret,
                },
            );
        }
        let plain = Zeroizing::new(serde_json::to_vec(&stored).unwrap_or_default());
        for (_, mut s) in stored {
            zeroize::Zeroize::zeroize(&mut s.secret);
        }
        let sealed = aes_seal(&target.kek, FILE_AAD, &plain);
        let file = FileFormat {
            format: FILE_FORMAT.into(),
            kdf: target.kdf.clone(),
            sealed: b64::encode(sealed),
        };
        let text = serde_json::to_string_pretty(&file).unwrap_or_default();
        // Private, written beside the target and renamed: a crash never
        // leaves half a file.
        crate::private_file::write_atomically(&target.path, text.as_bytes())
            .map_err(|e| KeyStoreError::Io(e.to_string()))
    }

    /// Runs `f` on the signing key under `alias`.
    fn with_signing<T>(
        &self,
        alias: &str,
        f: impl FnOnce(&SoftwareKey) -> Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        match self.lock().get(alias) {
            Some(Entry::Signing(k)) => f(k),
            _ => Err(KeyStoreError::NotFound(alias.into())),
        }
    }
}

impl KeyStore for SoftwareKeyStore {
    fn generate_key(&self, alias: &str, algorithm: KeyAlgorithm) -> Result<Jwk, KeyStoreError> {
        let key =
            SoftwareKey::generate(algorithm).map_err(|e| KeyStoreError::Platform(e.to_string()))?;
        let jwk = key.public_jwk();
        let mut keys = self.lock();
        if keys.contains_key(alias) {
            return Err(KeyStoreError::AlreadyExists(alias.into()));
        }
        keys.insert(alias.into(), Entry::Signing(Box::new(key)));
        if let Err(e) = self.persist(&keys) {
            keys.remove(alias);
            return Err(e);
        }
        Ok(jwk)
    }

    fn public_key(&self, alias: &str) -> Result<Jwk, KeyStoreError> {
        self.with_signing(alias, |k| Ok(k.public_jwk()))
    }

    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        self.with_signing(alias, |k| {
            k.sign(message)
                .map_err(|e| KeyStoreError::Platform(e.to_string()))
        })
    }

    fn delete_key(&self, alias: &str) -> Result<(), KeyStoreError> {
        let mut keys = self.lock();
        if keys.remove(alias).is_some() {
            self.persist(&keys)?;
        }
        Ok(())
    }

    fn wrap_data_key(&self, alias: &str, data_key: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        let mut keys = self.lock();
        let kek = match keys.get(alias) {
            Some(Entry::Wrapping(k)) => k.clone(),
            Some(Entry::Signing(_)) => {
                return Err(KeyStoreError::Unsupported(format!(
                    "{alias} is a signing key"
                )))
            }
            None => {
                let k = Zeroizing::new(b64::random_bytes::<32>());
                keys.insert(alias.into(), Entry::Wrapping(k.clone()));
                if let Err(e) = self.persist(&keys) {
                    keys.remove(alias);
                    return Err(e);
                }
                k
            }
        };
        Ok(aes_seal(&kek, alias.as_bytes(), data_key))
    }

    fn unwrap_data_key(&self, alias: &str, wrapped: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        match self.lock().get(alias) {
            Some(Entry::Wrapping(k)) => aes_open(k, alias.as_bytes(), wrapped)
                .map(|p| p.to_vec())
                .ok_or(KeyStoreError::UnwrapFailed),
            _ => Err(KeyStoreError::NotFound(alias.into())),
        }
    }

    fn is_hardware_backed(&self, alias: &str) -> Result<bool, KeyStoreError> {
        if self.lock().contains_key(alias) {
            Ok(false)
        } else {
            Err(KeyStoreError::NotFound(alias.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{jws, KeyStoreSigner};
    use std::sync::Arc;

    #[test]
    fn generate_sign_verify_delete() {
        let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
        for (alias, alg) in [("p", KeyAlgorithm::Es256), ("e", KeyAlgorithm::Ed25519)] {
            let jwk = ks.generate_key(alias, alg).unwrap();
            assert_eq!(
                ks.generate_key(alias, alg),
                Err(KeyStoreError::AlreadyExists(alias.into()))
            );
            let signer = KeyStoreSigner::new(ks.clone(), alias).unwrap();
            let token = jws::sign(
                serde_json::Map::new(),
                &serde_json::json!({"x": 1}),
                &signer,
            )
            .unwrap();
            jws::verify(&token, &jwk.verifying_key().unwrap()).unwrap();
            assert!(!ks.is_hardware_backed(alias).unwrap());
            ks.delete_key(alias).unwrap();
            assert_eq!(
                ks.sign(alias, b"m"),
                Err(KeyStoreError::NotFound(alias.into()))
            );
        }
    }

    #[test]
    fn wrap_unwrap_and_tamper() {
        let ks = SoftwareKeyStore::in_memory();
        let wrapped = ks.wrap_data_key("w", &[7u8; 32]).unwrap();
        assert_eq!(ks.unwrap_data_key("w", &wrapped).unwrap(), vec![7u8; 32]);
        let mut bad = wrapped.clone();
        bad[20] ^= 1;
        assert_eq!(
            ks.unwrap_data_key("w", &bad),
            Err(KeyStoreError::UnwrapFailed)
        );
        assert_eq!(
            ks.unwrap_data_key("w", &wrapped[..10]),
            Err(KeyStoreError::UnwrapFailed)
        );
        assert_eq!(
            ks.unwrap_data_key("nope", &wrapped),
            Err(KeyStoreError::NotFound("nope".into()))
        );
    }

    #[test]
    fn file_store_persists_and_needs_the_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let (jwk, wrapped) = {
            let ks = SoftwareKeyStore::open(&path, "correct horse").unwrap();
            let jwk = ks.generate_key("holder", KeyAlgorithm::Es256).unwrap();
            (jwk, ks.wrap_data_key("wrap", b"secret data key").unwrap())
        };
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&jwk.x), "the file is encrypted");
        assert_eq!(
            SoftwareKeyStore::open(&path, "wrong").unwrap_err(),
            KeyStoreError::WrongPassphrase
        );
        let ks = SoftwareKeyStore::open(&path, "correct horse").unwrap();
        assert_eq!(ks.public_key("holder").unwrap(), jwk);
        assert_eq!(
            ks.unwrap_data_key("wrap", &wrapped).unwrap(),
            b"secret data key"
        );
    }

    #[test]
    fn hostile_kdf_parameters_in_the_file_are_refused_quickly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.keys");
        SoftwareKeyStore::open(&path, "pw").unwrap();
        let good: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (field, value) in [
            ("m_kib", u64::from(u32::MAX)),
            ("m_kib", 0),
            ("t", u64::from(u32::MAX)),
            ("t", 0),
            ("p", 1000),
        ] {
            let mut bad = good.clone();
            bad["kdf"][field] = serde_json::Value::from(value);
            std::fs::write(&path, bad.to_string()).unwrap();
            let started = std::time::Instant::now();
            assert!(
                matches!(
                    SoftwareKeyStore::open(&path, "pw"),
                    Err(KeyStoreError::Unsupported(_))
                ),
                "{field}={value}"
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.keys");
        let ks = SoftwareKeyStore::open(&path, "pw").unwrap();
        ks.generate_key("k", KeyAlgorithm::Es256).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!dir.path().join("w.tmp").exists());
    }

    #[test]
    fn private_jwk_round_trip() {
        for alg in [KeyAlgorithm::Es256, KeyAlgorithm::Ed25519] {
            let k = SoftwareKey::generate(alg).unwrap();
            let text = k.to_private_jwk();
            let back = SoftwareKey::from_private_jwk(&text).unwrap();
            assert_eq!(back.public_jwk(), k.public_jwk());
            let sig = back.sign(b"m").unwrap();
            assert!(k.public_jwk().verifying_key().unwrap().verify(b"m", &sig));
            assert_eq!(
                SoftwareKey::from_private_jwk(&back.to_private_jwk())
                    .unwrap()
                    .public_jwk(),
                k.public_jwk()
            );
        }
        let mut other: serde_json::Value =
            serde_json::from_str(&SoftwareKey::generate_es256().unwrap().to_private_jwk()).unwrap();
        let k = SoftwareKey::generate_es256().unwrap();
        other["d"] =
            serde_json::from_str::<serde_json::Value>(&k.to_private_jwk()).unwrap()["d"].clone();
        assert!(
            SoftwareKey::from_private_jwk(&other.to_string()).is_err(),
            "d must match x/y"
        );
    }

    #[test]
    fn der_signatures_from_platforms_are_normalised() {
        struct DerStore(SoftwareKeyStore);
        impl KeyStore for DerStore {
            fn generate_key(&self, a: &str, k: KeyAlgorithm) -> Result<Jwk, KeyStoreError> {
                self.0.generate_key(a, k)
            }
            fn public_key(&self, a: &str) -> Result<Jwk, KeyStoreError> {
                self.0.public_key(a)
            }
            fn sign(&self, a: &str, m: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
                // Re-encode R‖S as DER, as Android and iOS return it.
                let raw = self.0.sign(a, m)?;
                let int = |b: &[u8]| {
                    let mut v: Vec<u8> = b.iter().copied().skip_while(|x| *x == 0).collect();
                    if v.first().is_none_or(|x| x & 0x80 != 0) {
                        v.insert(0, 0)
                    }
                    [vec![2, v.len() as u8], v].concat()
                };
                let body = [int(&raw[..32]), int(&raw[32..])].concat();
                Ok([vec![0x30, body.len() as u8], body].concat())
            }
            fn delete_key(&self, a: &str) -> Result<(), KeyStoreError> {
                self.0.delete_key(a)
            }
            fn wrap_data_key(&self, a: &str, k: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
                self.0.wrap_data_key(a, k)
            }
            fn unwrap_data_key(&self, a: &str, w: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
                self.0.unwrap_data_key(a, w)
            }
            fn is_hardware_backed(&self, _: &str) -> Result<bool, KeyStoreError> {
                Ok(true)
            }
        }
        let ks: Arc<dyn KeyStore> = Arc::new(DerStore(SoftwareKeyStore::in_memory()));
        let jwk = ks.generate_key("k", KeyAlgorithm::Es256).unwrap();
        let signer = KeyStoreSigner::new(ks, "k").unwrap();
        for _ in 0..20 {
            let token = jws::sign(serde_json::Map::new(), &serde_json::json!({}), &signer).unwrap();
            jws::verify(&token, &jwk.verifying_key().unwrap()).unwrap();
        }
    }
}
