//! base64url without padding (RFC 7515 §2), strict: padding, whitespace and
//! non-canonical trailing bits are rejected. Also random ids and salts.
//!
//! The codec is base64-simd's (AVX2, SSSE3 or NEON, chosen at run time, with
//! a portable fallback): base64 is the largest piece of a verification's
//! own work after JSON (ADR 0001).

use base64_simd::{AsOut, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};

/// Encodes bytes as base64url without padding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// Appends the base64url of `bytes` (no padding) to `out`.
pub fn encode_into(bytes: impl AsRef<[u8]>, out: &mut String) {
    URL_SAFE_NO_PAD.encode_append(bytes, out);
}

/// Writes the base64url of `bytes` (no padding) into `out`; the length
/// written, or `None` if `out` is too short.
pub fn encode_slice(bytes: impl AsRef<[u8]>, out: &mut [u8]) -> Option<usize> {
    let bytes = bytes.as_ref();
    // The codec panics on a short buffer: the length is checked first.
    let out = out.get_mut(..URL_SAFE_NO_PAD.encoded_length(bytes.len()))?;
    Some(URL_SAFE_NO_PAD.encode(bytes, out.as_out()).len())
}

/// Decodes strict base64url without padding; `None` if the text is not that.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode_to_vec(text).ok()
}

/// Decodes strict base64url without padding into `out`; the length
/// written, or `None` if the text is not base64url or `out` is too short.
pub fn decode_into(text: &str, out: &mut [u8]) -> Option<usize> {
    let text = text.as_bytes();
    // The codec panics on a short buffer: the length is checked first.
    let out = out.get_mut(..URL_SAFE_NO_PAD.decoded_length(text).ok()?)?;
    Some(URL_SAFE_NO_PAD.decode(text, out.as_out()).ok()?.len())
}

/// Decodes strict base64url and hands the bytes to `f`: in an `N`-byte
/// stack buffer when the text is at most `N / 3 * 4` characters, else on
/// the heap. `None` if the text is not base64url.
pub(crate) fn with_decoded<const N: usize, T>(text: &str, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
    if text.len() <= N / 3 * 4 {
        let mut stack = [0u8; N];
        let n = decode_into(text, &mut stack)?;
        Some(f(&stack[..n]))
    } else {
        decode(text).map(|bytes| f(&bytes))
    }
}

/// Fills a fresh array with bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system RNG only fails if the OS has no entropy source at all; there
    // is nothing sensible to do then but stop.
    SystemRandom::new()
        .fill(&mut out)
        .expect("operating system random source failed");
    out
}

/// A new random identifier in UUID version 4 form.
pub fn new_id() -> String {
    let mut b: [u8; 16] = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A base64url SHA-256 digest (43 characters), kept on the stack.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Digest([u8; 43]);

impl Digest {
    /// The base64url SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Digest {
        let hash = ring::digest::digest(&ring::digest::SHA256, data);
        let mut out = [0u8; 43];
        // 32 bytes are always 43 base64url characters without padding.
        let _ = encode_slice(hash, &mut out);
        Digest(out)
    }

    /// The digest's characters.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The digest as text.
    pub fn as_str(&self) -> &str {
        // Base64url output is ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SHA-256 of `data`, base64url-encoded: the digest SD-JWT and RFC 7638 use.
pub fn sha256_b64(data: &[u8]) -> String {
    Digest::of(data).as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(encode(b"hi?"), "aGk_");
        assert_eq!(decode("aGk_").unwrap(), b"hi?");
        assert!(decode("aGk=").is_none(), "padding rejected");
        assert!(decode("aG k_").is_none(), "whitespace rejected");
        assert!(decode("aGk+").is_none(), "standard alphabet rejected");
        assert!(
            decode("aGl").is_none(),
            "non-canonical trailing bits rejected"
        );
    }

    #[test]
    fn ids_are_uuid_v4_and_unique() {
        let a = new_id();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, new_id());
    }
}
