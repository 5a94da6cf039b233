//! Enrolling a second device into a space (ADR 0008).
//!
//! The new device B shows an [`EnrolmentRequest`] as a `satchel-enrol:` URI:
//! its device key, an HPKE public key (RFC 9180: DHKEM(P-256, HKDF-SHA256),
//! HKDF-SHA256, AES-256-GCM) and a nonce. The enrolled device A seals the
//! enrolment package to that HPKE key ([`seal_package`]) and both show the
//! [`confirmation_code`] derived from the request and the space key; the
//! person compares them before B keeps anything ([`open_package`]).

use hpke::{
    aead::AesGcm256,
    kdf::HkdfSha256,
    kem::{DhP256HkdfSha256, Kem as _},
    rand_core::{CryptoRng, RngCore},
    Deserializable, OpModeR, OpModeS, Serializable,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{b64, Jwk};

/// The URI scheme of an enrolment request.
pub const ENROL_SCHEME: &str = "satchel-enrol:";
/// HPKE `info` of an enrolment package.
const INFO: &[u8] = b"satchel-enrol-v1";
/// Longest enrolment URI accepted.
pub const MAX_URI: usize = 2048;
/// Largest sealed package accepted.
pub const MAX_PACKAGE: usize = 12 * 1024;

/// Why an enrolment step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    /// The URI is not an enrolment request.
    #[error("not an enrolment request: {0}")]
    BadRequest(&'static str),
    /// The package does not open with this request's key (altered, or for
    /// another request).
    #[error("the enrolment package does not open: altered, or for another request")]
    BadPackage,
    /// Sealing failed.
    #[error("enrolment sealing failed")]
    Seal,
}

/// What a new device shows to be enrolled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentRequest {
    /// Format version (1).
    pub v: u8,
    /// The new device's id.
    pub device_id: String,
    /// The new device's key (ES256, public).
    pub device_key: Jwk,
    /// HPKE public key, SEC1 uncompressed P-256 point, base64url.
    pub hpke_key: String,
    /// Random, so two requests of one device differ.
    pub nonce: String,
}

/// The HPKE private key of a pending request; stays on the new device.
pub struct HpkeSecret(Zeroizing<Vec<u8>>);

impl HpkeSecret {
    /// The raw scalar (to keep sealed in the wallet until enrolment completes).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        self.0.clone()
    }

    /// From [`HpkeSecret::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnrolError> {
        <DhP256HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(bytes)
            .map_err(|_| EnrolError::BadPackage)?;
        Ok(HpkeSecret(Zeroizing::new(bytes.to_vec())))
    }
}

impl std::fmt::Debug for HpkeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HpkeSecret(..)")
    }
}

/// The operating system's CSPRNG (through ring) for the HPKE crate.
struct SystemRng;

impl RngCore for SystemRng {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes(b64::random_bytes())
    }
    fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes(b64::random_bytes())
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(32) {
            let r: [u8; 32] = b64::random_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
}

impl CryptoRng for SystemRng {}

fn valid_device_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl EnrolmentRequest {
    /// A new request for `device_id` with `device_key`, and the HPKE
    /// secret to keep until the package arrives.
    pub fn new(device_id: &str, device_key: &Jwk) -> Result<(Self, HpkeSecret), EnrolError> {
        if !valid_device_id(device_id) {
            return Err(EnrolError::BadRequest("device id"));
        }
        let (sk, pk) = DhP256HkdfSha256::gen_keypair(&mut SystemRng);
        let request = EnrolmentRequest {
            v: 1,
            device_id: device_id.to_owned(),
            device_key: device_key.clone(),
            hpke_key: b64::encode(pk.to_bytes()),
            nonce: b64::encode(b64::random_bytes::<16>()),
        };
        Ok((request, HpkeSecret(Zeroizing::new(sk.to_bytes().to_vec()))))
    }

    /// The request as a `satchel-enrol:` URI (for a QR code).
    pub fn to_uri(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{ENROL_SCHEME}{}", b64::encode(json))
    }

    /// Reads a `satchel-enrol:` URI, checking every field.
    pub fn from_uri(uri: &str) -> Result<Self, EnrolError> {
        let uri = uri.trim();
        if uri.len() > MAX_URI {
            return Err(EnrolError::BadRequest("too long"));
        }
        let body = uri
            .strip_prefix(ENROL_SCHEME)
            .ok_or(EnrolError::BadRequest("scheme"))?;
        let json = b64::decode(body).ok_or(EnrolError::BadRequest("not base64url"))?;
        let r: EnrolmentRequest =
            serde_json::from_slice(&json).map_err(|_| EnrolError::BadRequest("fields"))?;
        if r.v != 1 {
            return Err(EnrolError::BadRequest("version"));
        }
        if !valid_device_id(&r.device_id) {
            return Err(EnrolError::BadRequest("device id"));
        }
        if r.device_key.alg() != Ok(crate::Alg::Es256) || r.device_key.verifying_key().is_err() {
            return Err(EnrolError::BadRequest("device key must be a P-256 key"));
        }
        r.hpke_public()?;
        if b64::decode(&r.nonce).is_none_or(|n| n.len() < 16) {
            return Err(EnrolError::BadRequest("nonce"));
        }
        Ok(r)
    }

    fn hpke_public(&self) -> Result<<DhP256HkdfSha256 as hpke::Kem>::PublicKey, EnrolError> {
        b64::decode(&self.hpke_key)
            .and_then(|b| <DhP256HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(&b).ok())
            .ok_or(EnrolError::BadRequest("HPKE key"))
    }

    /// SHA-256 over the request as shown (binds the package and the code).
    pub fn hash(&self) -> [u8; 32] {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.to_uri().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }
}

/// Seals `package` for the device that made `request`: base64url of the
/// encapsulated key followed by the ciphertext.
pub fn seal_package(request: &EnrolmentRequest, package: &[u8]) -> Result<String, EnrolError> {
    seal_to(&request.hpke_key, INFO, &request.hash(), package)
}

/// A new HPKE key pair: the public key (base64url SEC1) and the secret.
pub fn new_hpke_key() -> (String, HpkeSecret) {
    let (sk, pk) = DhP256HkdfSha256::gen_keypair(&mut SystemRng);
    (
        b64::encode(pk.to_bytes()),
        HpkeSecret(Zeroizing::new(sk.to_bytes().to_vec())),
    )
}

/// HPKE base mode seal to `public` (base64url SEC1): base64url of the
/// encapsulated key followed by the ciphertext.
pub fn seal_to(public: &str, info: &[u8], aad: &[u8], plain: &[u8]) -> Result<String, EnrolError> {
    let pk = b64::decode(public)
        .and_then(|b| <DhP256HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(&b).ok())
        .ok_or(EnrolError::BadRequest("HPKE key"))?;
    let (enc, ct) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, DhP256HkdfSha256, _>(
        &OpModeS::Base,
        &pk,
        info,
        plain,
        aad,
        &mut SystemRng,
    )
    .map_err(|_| EnrolError::Seal)?;
    let mut out = enc.to_bytes().to_vec();
    out.extend_from_slice(&ct);
    Ok(b64::encode(out))
}

/// Opens a package sealed by [`seal_package`] for `request`.
pub fn open_package(
    request: &EnrolmentRequest,
    secret: &HpkeSecret,
    sealed: &str,
) -> Result<Zeroizing<Vec<u8>>, EnrolError> {
    open_from(secret, INFO, &request.hash(), sealed)
}

/// Opens what [`seal_to`] sealed to `secret`'s public key.
pub fn open_from(
    secret: &HpkeSecret,
    info: &[u8],
    aad: &[u8],
    sealed: &str,
) -> Result<Zeroizing<Vec<u8>>, EnrolError> {
    if sealed.len() > MAX_PACKAGE * 4 / 3 + 4 {
        return Err(EnrolError::BadPackage);
    }
    let bytes = b64::decode(sealed).ok_or(EnrolError::BadPackage)?;
    const ENC: usize = 65;
    if bytes.len() <= ENC {
        return Err(EnrolError::BadPackage);
    }
    let (enc, ct) = bytes.split_at(ENC);
    let enc = <DhP256HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(enc)
        .map_err(|_| EnrolError::BadPackage)?;
    let sk = <DhP256HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(&secret.0)
        .map_err(|_| EnrolError::BadPackage)?;
    hpke::single_shot_open::<AesGcm256, HkdfSha256, DhP256HkdfSha256>(
        &OpModeR::Base,
        &sk,
        &enc,
        info,
        ct,
        aad,
    )
    .map(Zeroizing::new)
    .map_err(|_| EnrolError::BadPackage)
}

/// The code both screens show: six digits (as `123 456`) from SHA-256 over
/// the request and the space key's thumbprint.
pub fn confirmation_code(request: &EnrolmentRequest, space_key: &Jwk) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"satchel-enrol-code-v1");
    ctx.update(&request.hash());
    ctx.update(space_key.thumbprint().as_bytes());
    let d = ctx.finish();
    let n = u64::from_be_bytes(d.as_ref()[..8].try_into().unwrap_or([0; 8])) % 1_000_000;
    format!("{:03} {:03}", n / 1000, n % 1000)
}

/// Compares a typed code with the expected one, ignoring spaces, in
/// constant time.
pub fn code_matches(typed: &str, expected: &str) -> bool {
    let digits = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    crate::constant_time_eq(digits(typed).as_bytes(), digits(expected).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Signer, SoftwareKey};

    fn request() -> (EnrolmentRequest, HpkeSecret) {
        let key = SoftwareKey::generate_es256().unwrap().public_jwk();
        EnrolmentRequest::new("device-b", &key).unwrap()
    }

    #[test]
    fn a_package_opens_only_for_its_request_unaltered() {
        let (r, secret) = request();
        let parsed = EnrolmentRequest::from_uri(&r.to_uri()).unwrap();
        assert_eq!(parsed, r);
        let sealed = seal_package(&parsed, b"the space and its keys").unwrap();
        assert_eq!(
            open_package(&r, &secret, &sealed).unwrap().as_slice(),
            b"the space and its keys"
        );
        // The secret survives a round trip through bytes.
        let kept = HpkeSecret::from_bytes(&secret.to_bytes()).unwrap();
        assert!(open_package(&r, &kept, &sealed).is_ok());
        // Another request (other key, or same key with another nonce).
        let (other, other_secret) = request();
        assert_eq!(
            open_package(&other, &other_secret, &sealed),
            Err(EnrolError::BadPackage)
        );
        let mut renonced = r.clone();
        renonced.nonce = b64::encode([7u8; 16]);
        assert_eq!(
            open_package(&renonced, &secret, &sealed),
            Err(EnrolError::BadPackage)
        );
        // Every altered byte, truncation, garbage.
        let raw = b64::decode(&sealed).unwrap();
        for i in [0, 64, 65, raw.len() - 1] {
            let mut t = raw.clone();
            t[i] ^= 1;
            assert!(
                open_package(&r, &secret, &b64::encode(&t)).is_err(),
                "byte {i}"
            );
        }
        for bad in [
            b64::encode(&raw[..raw.len() - 1]),
            b64::encode(&raw[..65]),
            "!!".into(),
            String::new(),
            "A".repeat(MAX_PACKAGE * 2),
        ] {
            assert!(open_package(&r, &secret, &bad).is_err());
        }
    }

    #[test]
    fn the_code_binds_the_request_and_the_space_key() {
        let (r, _) = request();
        let space = SoftwareKey::generate_es256().unwrap().public_jwk();
        let code = confirmation_code(&r, &space);
        assert_eq!(code.len(), 7);
        assert!(code_matches(&code.replace(' ', ""), &code));
        assert_eq!(code, confirmation_code(&r, &space), "deterministic");
        let other_space = SoftwareKey::generate_es256().unwrap().public_jwk();
        let (other_request, _) = request();
        // Six digits: a collision is possible but one in a million.
        assert!(
            confirmation_code(&r, &other_space) != code
                || confirmation_code(&other_request, &space) != code
        );
        assert!(!code_matches("000 000x", &code));
    }

    #[test]
    fn malformed_requests_are_refused() {
        let (r, _) = request();
        let json = |v: serde_json::Value| format!("{ENROL_SCHEME}{}", b64::encode(v.to_string()));
        let base = serde_json::to_value(&r).unwrap();
        let with = |k: &str, v: serde_json::Value| {
            let mut x = base.clone();
            x[k] = v;
            json(x)
        };
        let ed = SoftwareKey::generate_ed25519()
            .unwrap()
            .public_jwk()
            .to_value();
        for bad in [
            String::new(),
            "https://example.com".into(),
            format!("{ENROL_SCHEME}!!!"),
            format!("{ENROL_SCHEME}{}", b64::encode("[]")),
            with("v", 2.into()),
            with("device_id", "has space".into()),
            with("device_id", "".into()),
            with("device_key", ed),
            with("hpke_key", b64::encode([4u8; 65]).into()),
            with("hpke_key", "short".into()),
            with("nonce", "".into()),
            format!("{ENROL_SCHEME}{}", "A".repeat(MAX_URI)),
        ] {
            assert!(EnrolmentRequest::from_uri(&bad).is_err(), "{bad:.60}");
        }
        assert!(EnrolmentRequest::new("bad id", &r.device_key).is_err());
    }
}
