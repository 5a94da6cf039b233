//! Public JSON Web Keys (RFC 7517) for P-256 and Ed25519, RFC 7638
//! thumbprints, and the parsed verifying key JWS verification uses.

use ring::signature::{self, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::{b64, jws::Alg};

/// Why a JWK was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    /// The text is not a JSON object with the members a JWK needs.
    #[error("malformed JWK: {0}")]
    Malformed(String),
    /// A key type or curve other than EC P-256 and OKP Ed25519.
    #[error("unsupported key type or curve: {0}")]
    Unsupported(String),
    /// A coordinate is not base64url or has the wrong length.
    #[error("invalid key material: {0}")]
    InvalidKey(&'static str),
    /// A private member (`d`) where only a public key is accepted.
    #[error("a private key was given where a public key is expected")]
    PrivateKeyPresent,
}

/// A public JWK: `EC`/`P-256` (x, y) or `OKP`/`Ed25519` (x).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `EC` or `OKP`.
    pub kty: String,
    /// Curve: `P-256` or `Ed25519`.
    pub crv: String,
    /// base64url x coordinate (or the Ed25519 public key).
    pub x: String,
    /// base64url y coordinate (EC only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub y: Option<String>,
    /// Optional key id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kid: Option<String>,
}

/// A key coordinate decoded on the stack: `None` if it is not base64url,
/// `Some(None)` if it is but is not the 32 bytes of every supported curve.
fn coordinate(text: &str) -> Option<Option<[u8; 32]>> {
    // Room for the decoder's rounded-up estimate of 43 characters.
    b64::with_decoded::<36, _>(text, |bytes| <[u8; 32]>::try_from(bytes).ok())
}

impl Jwk {
    /// Parses and validates a public JWK from JSON text.
    pub fn from_json(text: &str) -> Result<Self, JwkError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| JwkError::Malformed(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Parses and validates a public JWK from a JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, JwkError> {
        Self::with_verifying_key(value).map(|(jwk, _)| jwk)
    }

    /// [`Jwk::from_value`], also returning the key it checked.
    pub(crate) fn with_verifying_key(
        value: &serde_json::Value,
    ) -> Result<(Self, VerifyingKey), JwkError> {
        use serde::Deserialize;
        let obj = value
            .as_object()
            .ok_or_else(|| JwkError::Malformed("not an object".into()))?;
        if obj.contains_key("d") {
            return Err(JwkError::PrivateKeyPresent);
        }
        // Read from the borrowed value: no copy of the tree.
        let jwk = Jwk::deserialize(value).map_err(|e| JwkError::Malformed(e.to_string()))?;
        let key = jwk.verifying_key()?;
        Ok((jwk, key))
    }

    /// Builds the JWK of an uncompressed P-256 point (`0x04‖X‖Y`).
    pub fn from_p256_point(point: &[u8]) -> Result<Self, JwkError> {
        if point.len() != 65 || point[0] != 4 {
            return Err(JwkError::InvalidKey(
                "P-256 point must be 65 bytes, uncompressed",
            ));
        }
        Ok(Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64::encode(&point[1..33]),
            y: Some(b64::encode(&point[33..])),
            kid: None,
        })
    }

    /// Builds the JWK of a 32-byte Ed25519 public key.
    pub fn from_ed25519(public: &[u8]) -> Result<Self, JwkError> {
        if public.len() != 32 {
            return Err(JwkError::InvalidKey("Ed25519 public key must be 32 bytes"));
        }
        Ok(Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: b64::encode(public),
            y: None,
            kid: None,
        })
    }

    /// Builds a JWK from public key bytes as platform key stores export
    /// them: a raw P-256 point (65 bytes, iOS `SecKeyCopyExternalRepresentation`),
    /// a raw Ed25519 key (32 bytes), or X.509 SubjectPublicKeyInfo DER of
    /// either (Java/Android `PublicKey.getEncoded()`).
    pub fn from_public_key_bytes(bytes: &[u8]) -> Result<Self, JwkError> {
        // SPKI prefixes: SEQUENCE { AlgorithmIdentifier, BIT STRING (0 unused bits) }.
        const P256_SPKI: [u8; 26] = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        const ED25519_SPKI: [u8; 12] = [
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        match bytes.len() {
            65 => Self::from_p256_point(bytes),
            32 => Self::from_ed25519(bytes),
            91 if bytes[..26] == P256_SPKI => Self::from_p256_point(&bytes[26..]),
            44 if bytes[..12] == ED25519_SPKI => Self::from_ed25519(&bytes[12..]),
            _ => Err(JwkError::InvalidKey(
                "not a P-256 or Ed25519 public key (raw or SPKI)",
            )),
        }
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Result<Alg, JwkError> {
        match (self.kty.as_str(), self.crv.as_str()) {
            ("EC", "P-256") => Ok(Alg::Es256),
            ("OKP", "Ed25519") => Ok(Alg::EdDsa),
            (kty, crv) => Err(JwkError::Unsupported(format!("{kty}/{crv}"))),
        }
    }

    /// Validates the key material and returns a key ready for verification.
    pub fn verifying_key(&self) -> Result<VerifyingKey, JwkError> {
        let x = coordinate(&self.x).ok_or(JwkError::InvalidKey("x is not base64url"))?;
        match self.alg()? {
            Alg::Es256 => {
                let y = self
                    .y
                    .as_deref()
                    .ok_or(JwkError::InvalidKey("EC key without y"))?;
                let y = coordinate(y).ok_or(JwkError::InvalidKey("y is not base64url"))?;
                let (Some(x), Some(y)) = (x, y) else {
                    return Err(JwkError::InvalidKey("P-256 coordinates must be 32 bytes"));
                };
                let mut point = [0u8; 65];
                point[0] = 4;
                point[1..33].copy_from_slice(&x);
                point[33..].copy_from_slice(&y);
                Ok(VerifyingKey::P256(point))
            }
            Alg::EdDsa => {
                if self.y.is_some() {
                    return Err(JwkError::InvalidKey("OKP key with y"));
                }
                let key = x.ok_or(JwkError::InvalidKey("Ed25519 key must be 32 bytes"))?;
                Ok(VerifyingKey::Ed25519(key))
            }
        }
    }

    /// The RFC 7638 thumbprint: base64url(SHA-256) of the required members in
    /// lexicographic order with no whitespace.
    pub fn thumbprint(&self) -> String {
        let canonical = match &self.y {
            Some(y) => serde_json::json!({"crv": self.crv, "kty": self.kty, "x": self.x, "y": y}),
            None => serde_json::json!({"crv": self.crv, "kty": self.kty, "x": self.x}),
        };
        // serde_json without `preserve_order` serialises object keys sorted,
        // which is the order RFC 7638 §3.3 requires.
        b64::sha256_b64(canonical.to_string().as_bytes())
    }

    /// The JWK as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// A validated public key, ready for signature checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    /// Uncompressed P-256 point.
    P256([u8; 65]),
    /// Ed25519 public key.
    Ed25519([u8; 32]),
}

impl VerifyingKey {
    /// The algorithm of this key.
    pub fn alg(&self) -> Alg {
        match self {
            VerifyingKey::P256(_) => Alg::Es256,
            VerifyingKey::Ed25519(_) => Alg::EdDsa,
        }
    }

    /// Checks a raw signature (R‖S for ES256) over `message`.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            VerifyingKey::P256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, sig)
                    .is_ok()
            }
            VerifyingKey::Ed25519(key) => UnparsedPublicKey::new(&signature::ED25519, key)
                .verify(message, sig)
                .is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_shape_and_ed25519_thumbprint() {
        // RFC 8037 appendix A.3: thumbprint of the example Ed25519 key.
        let jwk = Jwk::from_json(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn public_key_bytes_raw_and_spki() {
        use ring::signature::KeyPair;
        let rng = ring::rand::SystemRandom::new();
        let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let kp = ring::signature::Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
        let raw = kp.public_key().as_ref().to_vec();
        let mut spki = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        spki.extend(&raw);
        assert_eq!(
            Jwk::from_public_key_bytes(&raw).unwrap(),
            Jwk::from_public_key_bytes(&spki).unwrap()
        );
        assert!(Jwk::from_public_key_bytes(&spki[1..]).is_err());
        assert!(Jwk::from_public_key_bytes(&[4u8; 91]).is_err());
    }

    #[test]
    fn rejects_bad_keys() {
        assert!(matches!(Jwk::from_json("[]"), Err(JwkError::Malformed(_))));
        assert!(matches!(Jwk::from_json("{"), Err(JwkError::Malformed(_))));
        assert!(matches!(
            Jwk::from_json(r#"{"kty":"RSA","crv":"x","x":"AA"}"#),
            Err(JwkError::Unsupported(_))
        ));
        assert!(matches!(
            Jwk::from_json(r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#),
            Err(JwkError::InvalidKey(_))
        ));
        assert!(matches!(
            Jwk::from_json(r#"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#),
            Err(JwkError::InvalidKey(_))
        ));
        assert!(matches!(
            Jwk::from_json(r#"{"kty":"OKP","crv":"Ed25519","x":"AA","d":"AA"}"#),
            Err(JwkError::PrivateKeyPresent)
        ));
    }

    #[test]
    fn coordinates_are_checked_for_base64_and_length() {
        let good = Jwk::from_p256_point(&[[4u8].as_slice(), &[7u8; 64]].concat()).unwrap();
        good.verifying_key().unwrap();
        let with = |x: &str, y: &str| Jwk {
            x: x.into(),
            y: Some(y.into()),
            ..good.clone()
        };
        let y = good.y.clone().unwrap();
        // 43 characters whose last one carries bits past the 32nd byte.
        let mut loose = good.x.clone();
        loose.replace_range(42.., "B");
        assert!(b64::decode(&good.x).is_some() && b64::decode(&loose).is_none());
        for (x, why) in [
            (loose.as_str(), "x is not base64url"),
            (&good.x[..42], "P-256 coordinates must be 32 bytes"),
            (
                &format!("{}A", good.x),
                "P-256 coordinates must be 32 bytes",
            ),
            // 45 characters can be no base64url at all.
            (&format!("{}AA", good.x), "x is not base64url"),
            ("!", "x is not base64url"),
        ] {
            assert_eq!(
                with(x, &y).verifying_key().unwrap_err(),
                JwkError::InvalidKey(why),
                "{x}"
            );
        }
        assert_eq!(
            with(&good.x, &y[..42]).verifying_key().unwrap_err(),
            JwkError::InvalidKey("P-256 coordinates must be 32 bytes")
        );
    }
}
