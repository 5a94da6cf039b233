//! Token Status List (draft-ietf-oauth-status-list): a compressed bit array,
//! `bits` per entry, LSB first, published as a `statuslist+jwt`. Satchel
//! uses it for credential revocation and for holders' withdrawals of
//! authorisations.

use std::io::{Read, Write};

use flate2::{read::ZlibDecoder, write::ZlibEncoder, Compression};
use serde_json::{json, Value};

use crate::{b64, jws, Signer, VerifyingKey};

/// The `typ` of a status list token.
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";
/// Status value: valid.
pub const VALID: u8 = 0;
/// Status value: invalid (revoked, withdrawn).
pub const INVALID: u8 = 1;
/// Status value: suspended.
pub const SUSPENDED: u8 = 2;
/// Largest list accepted when decoding (bytes after decompression).
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Why a status list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    /// `bits` is not 1, 2, 4 or 8, or a value does not fit.
    #[error("invalid status list parameters: {0}")]
    Invalid(&'static str),
    /// `lst` is not base64url zlib data, or too large.
    #[error("malformed status list: {0}")]
    Malformed(&'static str),
    /// The token failed JOSE checks.
    #[error("status list token rejected: {0}")]
    Jose(#[from] jws::JoseError),
    /// The token's `typ` is not `statuslist+jwt`.
    #[error("status list token typ must be statuslist+jwt")]
    WrongTyp,
    /// The token's `sub` is not the list it was fetched as.
    #[error("status list token is for another list")]
    WrongSubject,
    /// The token has expired.
    #[error("status list token expired")]
    Expired,
    /// An index past the end of the list.
    #[error("index {0} is outside the status list")]
    OutOfRange(usize),
    /// The list is larger than allowed.
    #[error("status list too large")]
    TooLarge,
    /// The signer is neither the space key nor a device certified for it.
    #[error("status list signer: {0}")]
    Signer(crate::device::DeviceError),
}

/// A status list: `bits` bits per referenced token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

/// The reference a token carries: `status.status_list {idx, uri}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusReference {
    /// Index in the list.
    pub idx: usize,
    /// Where the list is published (its token's `sub`).
    pub uri: String,
}

impl StatusReference {
    /// The `status` claim value: `{"status_list": {"idx": …, "uri": …}}`.
    pub fn to_claim(&self) -> Value {
        json!({"status_list": {"idx": self.idx, "uri": self.uri}})
    }

    /// Reads a `status` claim value.
    pub fn from_claim(value: &Value) -> Option<Self> {
        serde_json::from_value(value.get("status_list")?.clone()).ok()
    }
}

impl StatusList {
    /// A list of `len` entries, all valid.
    pub fn new(bits: u8, len: usize) -> Result<Self, StatusListError> {
        if ![1, 2, 4, 8].contains(&bits) {
            return Err(StatusListError::Invalid("bits must be 1, 2, 4 or 8"));
        }
        let bytes = (len * bits as usize).div_ceil(8);
        Ok(StatusList {
            bits,
            bytes: vec![0; bytes],
        })
    }

    /// Bits per entry.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / self.bits as usize
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The status at `idx`.
    pub fn get(&self, idx: usize) -> Result<u8, StatusListError> {
        let bit = idx
            .checked_mul(self.bits as usize)
            .ok_or(StatusListError::OutOfRange(idx))?;
        let byte = *self
            .bytes
            .get(bit / 8)
            .ok_or(StatusListError::OutOfRange(idx))?;
        let mask = ((1u16 << self.bits) - 1) as u8;
        Ok((byte >> (bit % 8)) & mask)
    }

    /// Sets the status at `idx`.
    pub fn set(&mut self, idx: usize, value: u8) -> Result<(), StatusListError> {
        let mask = ((1u16 << self.bits) - 1) as u8;
        if value > mask {
            return Err(StatusListError::Invalid("value does not fit in bits"));
        }
        let bit = idx
            .checked_mul(self.bits as usize)
            .ok_or(StatusListError::OutOfRange(idx))?;
        let byte = self
            .bytes
            .get_mut(bit / 8)
            .ok_or(StatusListError::OutOfRange(idx))?;
        let shift = bit % 8;
        *byte = (*byte & !(mask << shift)) | (value << shift);
        Ok(())
    }

    /// `lst`: base64url of the zlib-compressed bytes.
    pub fn encode_lst(&self) -> String {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
        // Writing to a Vec cannot fail.
        let _ = enc.write_all(&self.bytes);
        b64::encode(enc.finish().unwrap_or_default())
    }

    /// Decodes `bits` and `lst`, refusing more than [`MAX_LIST_BYTES`].
    pub fn decode(bits: u8, lst: &str) -> Result<Self, StatusListError> {
        Self::decode_limited(bits, lst, MAX_LIST_BYTES)
    }

    /// Decodes `bits` and `lst`, refusing more than `max_bytes` after
    /// decompression (inflating stops there: work and memory are bounded).
    pub fn decode_limited(bits: u8, lst: &str, max_bytes: usize) -> Result<Self, StatusListError> {
        let max_bytes = max_bytes.min(MAX_LIST_BYTES);
        let mut list = StatusList::new(bits, 0)?;
        let compressed =
            b64::decode(lst).ok_or(StatusListError::Malformed("lst is not base64url"))?;
        let mut out = Vec::new();
        ZlibDecoder::new(compressed.as_slice())
            .take(max_bytes as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|_| StatusListError::Malformed("lst is not zlib data"))?;
        if out.len() > max_bytes {
            return Err(StatusListError::TooLarge);
        }
        list.bytes = out;
        Ok(list)
    }

    /// Signs the list as a `statuslist+jwt` with `sub` = `uri`.
    pub fn to_token(
        &self,
        uri: &str,
        iat: i64,
        ttl: Option<i64>,
        signer: &dyn Signer,
    ) -> Result<String, StatusListError> {
        self.to_token_chained(uri, iat, ttl, signer, &[])
    }

    /// [`StatusList::to_token`] by a device of the space: `chain` (its
    /// certificate chain, leaf first) goes in the header.
    pub fn to_token_chained(
        &self,
        uri: &str,
        iat: i64,
        ttl: Option<i64>,
        signer: &dyn Signer,
        chain: &[String],
    ) -> Result<String, StatusListError> {
        let mut payload = json!({
            "sub": uri,
            "iat": iat,
            "status_list": {"bits": self.bits, "lst": self.encode_lst()},
        });
        if let Some(ttl) = ttl {
            payload["ttl"] = json!(ttl);
        }
        Ok(jws::sign(
            crate::device::header_for(STATUS_LIST_TYP, chain),
            &payload,
            signer,
        )?)
    }

    /// Verifies a status list token for `uri` with `key` at `now`.
    pub fn from_token(
        token: &str,
        key: &VerifyingKey,
        uri: &str,
        now: i64,
    ) -> Result<Self, StatusListError> {
        Self::from_token_limited(token, key, uri, now, MAX_LIST_BYTES)
    }

    /// [`StatusList::from_token`], refusing lists larger than `max_bytes`
    /// decoded.
    pub fn from_token_limited(
        token: &str,
        key: &VerifyingKey,
        uri: &str,
        now: i64,
        max_bytes: usize,
    ) -> Result<Self, StatusListError> {
        Self::from_token_checked(token, |jwt| Ok(jwt.verify(key)?), uri, now, max_bytes)
    }

    /// Verifies a space's status list token for `uri`: signed by the space
    /// key, or by a device of the space whose certificate chain (in the
    /// header) ends at the space key and names no device `is_removed`
    /// (ADR 0008). Lists larger than `max_bytes` decoded are refused.
    pub fn from_space_token(
        token: &str,
        space_key: &crate::Jwk,
        uri: &str,
        now: i64,
        max_bytes: usize,
        is_removed: &dyn Fn(&str) -> bool,
    ) -> Result<Self, StatusListError> {
        Self::from_token_checked(
            token,
            |jwt| {
                crate::device::verify_for_space(jwt, None, space_key, is_removed)
                    .map(|_| ())
                    .map_err(StatusListError::Signer)
            },
            uri,
            now,
            max_bytes,
        )
    }

    fn from_token_checked(
        token: &str,
        verify: impl FnOnce(&jws::DecodedJws<'_>) -> Result<(), StatusListError>,
        uri: &str,
        now: i64,
        max_bytes: usize,
    ) -> Result<Self, StatusListError> {
        let jwt = jws::decode(token.trim())?;
        if !jwt.header.typ_is(STATUS_LIST_TYP) {
            return Err(StatusListError::WrongTyp);
        }
        verify(&jwt)?;
        let payload = jwt.payload_object()?;
        if payload.get("sub").and_then(Value::as_str) != Some(uri) {
            return Err(StatusListError::WrongSubject);
        }
        if payload
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| now >= exp)
        {
            return Err(StatusListError::Expired);
        }
        let sl = payload
            .get("status_list")
            .ok_or(StatusListError::Malformed("no status_list"))?;
        let bits = sl
            .get("bits")
            .and_then(Value::as_u64)
            .ok_or(StatusListError::Malformed("no bits"))?;
        let lst = sl
            .get("lst")
            .and_then(Value::as_str)
            .ok_or(StatusListError::Malformed("no lst"))?;
        StatusList::decode_limited(
            u8::try_from(bits).map_err(|_| StatusListError::Invalid("bits"))?,
            lst,
            max_bytes,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SoftwareKey;

    #[test]
    fn a_device_of_the_space_may_sign_its_status_list() {
        let space = SoftwareKey::generate_es256().unwrap();
        let device = SoftwareKey::generate_es256().unwrap();
        let chain =
            vec![crate::device::certify("s", "dev-b", &device.public_jwk(), &space, 1).unwrap()];
        let mut list = StatusList::new(1, 8).unwrap();
        list.set(3, INVALID).unwrap();
        let root = space.public_jwk();
        let none = |_: &str| false;
        let by_device = list
            .to_token_chained("u", 10, None, &device, &chain)
            .unwrap();
        let read = StatusList::from_space_token(&by_device, &root, "u", 11, 1024, &none).unwrap();
        assert_eq!(read.get(3).unwrap(), INVALID);
        let by_space = list.to_token("u", 10, None, &space).unwrap();
        assert!(StatusList::from_space_token(&by_space, &root, "u", 11, 1024, &none).is_ok());
        // Unchained device, removed device, other space key.
        let bare = list.to_token("u", 10, None, &device).unwrap();
        assert!(StatusList::from_space_token(&bare, &root, "u", 11, 1024, &none).is_err());
        assert!(matches!(
            StatusList::from_space_token(&by_device, &root, "u", 11, 1024, &|d| d == "dev-b"),
            Err(StatusListError::Signer(
                crate::device::DeviceError::Removed(_)
            ))
        ));
        let other = SoftwareKey::generate_es256().unwrap().public_jwk();
        assert!(StatusList::from_space_token(&by_device, &other, "u", 11, 1024, &none).is_err());
    }

    #[test]
    fn draft_example_one_bit() {
        // draft-ietf-oauth-status-list §4.1 example: 16 one-bit statuses.
        let list = StatusList::decode(1, "eNrbuRgAAhcBXQ").unwrap();
        let expected = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
        for (i, v) in expected.iter().enumerate() {
            assert_eq!(list.get(i).unwrap(), *v, "index {i}");
        }
        let mut built = StatusList::new(1, 16).unwrap();
        for (i, v) in expected.iter().enumerate() {
            built.set(i, *v).unwrap();
        }
        assert_eq!(built.encode_lst(), "eNrbuRgAAhcBXQ");
    }

    #[test]
    fn two_bits_and_bounds() {
        let mut l = StatusList::new(2, 10).unwrap();
        l.set(3, SUSPENDED).unwrap();
        l.set(4, INVALID).unwrap();
        assert_eq!(l.get(3).unwrap(), SUSPENDED);
        assert_eq!(l.get(4).unwrap(), INVALID);
        assert_eq!(l.get(2).unwrap(), VALID);
        assert_eq!(l.get(100), Err(StatusListError::OutOfRange(100)));
        assert!(l.set(1, 4).is_err());
        assert!(StatusList::new(3, 1).is_err());
        let back = StatusList::decode(2, &l.encode_lst()).unwrap();
        assert_eq!(back, l);
    }

    #[test]
    fn token_round_trip_and_refusals() {
        let key = SoftwareKey::generate_es256().unwrap();
        let vk = key.public_jwk().verifying_key().unwrap();
        let mut l = StatusList::new(1, 64).unwrap();
        l.set(7, INVALID).unwrap();
        let t = l.to_token("https://s/1", 100, Some(300), &key).unwrap();
        assert_eq!(
            StatusList::from_token(&t, &vk, "https://s/1", 200)
                .unwrap()
                .get(7)
                .unwrap(),
            1
        );
        assert_eq!(
            StatusList::from_token(&t, &vk, "https://s/2", 200),
            Err(StatusListError::WrongSubject)
        );
        let other = SoftwareKey::generate_es256()
            .unwrap()
            .public_jwk()
            .verifying_key()
            .unwrap();
        assert!(matches!(
            StatusList::from_token(&t, &other, "https://s/1", 200),
            Err(StatusListError::Jose(_))
        ));
        assert!(StatusList::decode(1, "!!").is_err());
        assert!(StatusList::decode(1, "AAAA").is_err());
        // A zlib bomb is cut off.
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
        enc.write_all(&vec![0u8; MAX_LIST_BYTES + 10]).unwrap();
        let bomb = b64::encode(enc.finish().unwrap());
        assert_eq!(StatusList::decode(1, &bomb), Err(StatusListError::TooLarge));
        // A caller's own limit holds too.
        let kib = StatusList::new(1, 8 * 1024).unwrap().encode_lst();
        assert!(StatusList::decode_limited(1, &kib, 1024).is_ok());
        assert_eq!(
            StatusList::decode_limited(1, &kib, 1023),
            Err(StatusListError::TooLarge)
        );
    }
}
