//! Compact JWS (RFC 7515) with ES256 (raw R‖S, RFC 7518 §3.4) and
//! EdDSA/Ed25519 (RFC 8037, RFC 9864). `alg: none`, unknown algorithms,
//! algorithm/key mismatches, `crit` extensions, bad base64url and non-object
//! JSON are refused.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{b64, jwk::JwkError, VerifyingKey};

/// A JWS signature algorithm Satchel accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// EdDSA on Ed25519.
    EdDsa,
}

impl Alg {
    /// The `alg` header value written when signing.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
        }
    }

    /// Parses an `alg` header value; `none` and unknown names are errors.
    pub fn parse(name: &str) -> Result<Self, JoseError> {
        match name {
            "ES256" => Ok(Alg::Es256),
            // RFC 9864 registers the fully-specified name; EdDSA is the older one.
            "EdDSA" | "Ed25519" => Ok(Alg::EdDsa),
            n if n.eq_ignore_ascii_case("none") => Err(JoseError::AlgNone),
            other => Err(JoseError::UnsupportedAlg(other.chars().take(32).collect())),
        }
    }
}

/// Why a JWS was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// The token does not have three dot-separated parts.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// A part is not base64url.
    #[error("{0} is not base64url")]
    BadBase64(&'static str),
    /// A part is not a JSON object.
    #[error("{0} is not a JSON object")]
    NotObject(&'static str),
    /// `alg: none` (unsecured JWS) is never accepted.
    #[error("alg none is not accepted")]
    AlgNone,
    /// An algorithm other than ES256 and EdDSA.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlg(String),
    /// The header algorithm does not match the key.
    #[error("algorithm does not match the key")]
    AlgKeyMismatch,
    /// The header lists `crit` extensions, which Satchel does not process.
    #[error("unsupported critical header parameters")]
    CriticalHeader,
    /// The signature does not verify with the key.
    #[error("signature does not verify")]
    BadSignature,
    /// A key problem.
    #[error(transparent)]
    Key(#[from] JwkError),
    /// The signer failed (key store error).
    #[error("signing failed: {0}")]
    Signing(String),
    /// The signature was not made: the user dismissed the key's
    /// confirmation, or the caller cancelled the operation.
    #[error("signing cancelled")]
    SigningCancelled,
}

/// Something that signs JWS: a software key or a key in a platform key store.
pub trait Signer: Send + Sync {
    /// The algorithm of the key.
    fn alg(&self) -> Alg;
    /// Signs `message`, returning the raw JOSE signature (R‖S for ES256).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError>;
    /// The public key.
    fn public_jwk(&self) -> Jwk;
}

use crate::Jwk;

/// The protected header members Satchel reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    /// `alg`.
    pub alg: String,
    /// `typ`, if any.
    #[serde(default)]
    pub typ: Option<String>,
    /// `kid`, if any.
    #[serde(default)]
    pub kid: Option<String>,
    /// `crit`, if any (always refused).
    #[serde(default)]
    pub crit: Option<Value>,
    /// The signer's device certificate chain (`satchel_dc`), if any.
    #[serde(default, rename = "satchel_dc")]
    pub chain: Option<Value>,
}

impl Header {
    /// Whether `typ` equals `expected`, comparing as RFC 7515 §4.1.9 advises
    /// (case-insensitive, with or without the `application/` prefix).
    pub fn typ_is(&self, expected: &str) -> bool {
        self.typ.as_deref().is_some_and(|t| {
            // `get` rather than slicing: a hostile typ may put a multi-byte
            // character across byte 12.
            let t = match t.get(..12) {
                Some(prefix) if t.len() > 12 && prefix.eq_ignore_ascii_case("application/") => {
                    &t[12..]
                }
                _ => t,
            };
            t.eq_ignore_ascii_case(expected)
        })
    }
}

/// A compact JWS split and decoded, signature not yet checked.
#[derive(Debug, Clone)]
pub struct DecodedJws<'a> {
    /// The parsed protected header.
    pub header: Header,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// `base64url(header).base64url(payload)`: what was signed.
    pub signing_input: &'a str,
    /// The decoded signature. Every supported algorithm's is 64 bytes, so
    /// it is kept inline; one of any other length (still checked to be
    /// base64url) is `None` and never verifies.
    pub signature: Option<[u8; 64]>,
    /// The algorithm named in the header (never `none`).
    pub alg: Alg,
}

impl DecodedJws<'_> {
    /// Verifies the signature with `key`; refuses an algorithm/key mismatch.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), JoseError> {
        if key.alg() != self.alg {
            return Err(JoseError::AlgKeyMismatch);
        }
        match &self.signature {
            Some(sig) if key.verify(self.signing_input.as_bytes(), sig) => Ok(()),
            _ => Err(JoseError::BadSignature),
        }
    }

    /// The payload read straight into `T` (no `Value` tree on the way); a
    /// payload that is not a JSON object is refused even when `T` would
    /// take an array of its fields.
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        if !opens_object(&self.payload) {
            return Err(serde::de::Error::custom("the payload is not a JSON object"));
        }
        from_json(&self.payload)
    }

    /// The payload parsed as a JSON object.
    pub fn payload_object(&self) -> Result<Map<String, Value>, JoseError> {
        match from_json(&self.payload) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(JoseError::NotObject("payload")),
        }
    }
}

/// Splits and decodes a compact JWS without checking the signature.
pub fn decode(token: &str) -> Result<DecodedJws<'_>, JoseError> {
    // The header and the signature are short: they are found from the two
    // ends, so the payload is not scanned for dots. A dot in it (four or
    // more parts) makes it bad base64url, and is reported as what it is
    // before anything else.
    let three_parts = || JoseError::Malformed("expected three dot-separated parts");
    let (h, rest) = token.split_once('.').ok_or_else(three_parts)?;
    let (p, s) = rest.rsplit_once('.').ok_or_else(three_parts)?;
    let payload = b64::decode(p);
    if payload.is_none() && p.contains('.') {
        return Err(three_parts());
    }
    // A header is a few dozen bytes: decoded on the stack unless it is not.
    let header = b64::with_decoded::<384, _>(h, |bytes| {
        // Straight into `Header` (no `Value` tree on the way); a derived
        // struct would also accept a JSON array, so the first byte must
        // open an object.
        match from_json::<Header>(bytes) {
            Ok(h) if opens_object(bytes) => Ok(h),
            // Only on failure: tell a non-object from bad members.
            _ => match serde_json::from_slice::<Value>(bytes) {
                Ok(Value::Object(_)) => Err(JoseError::Malformed("header members")),
                _ => Err(JoseError::NotObject("header")),
            },
        }
    })
    .ok_or(JoseError::BadBase64("header"))??;
    if header.crit.is_some() {
        return Err(JoseError::CriticalHeader);
    }
    let alg = Alg::parse(&header.alg)?;
    let payload = payload.ok_or(JoseError::BadBase64("payload"))?;
    let signature = b64::with_decoded::<66, _>(s, |bytes| <[u8; 64]>::try_from(bytes).ok())
        .ok_or(JoseError::BadBase64("signature"))?;
    Ok(DecodedJws {
        header,
        payload,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature,
        alg,
    })
}

/// Reads JSON from bytes, checking UTF-8 once for the whole text rather
/// than string by string as serde_json's byte reader does (a payload holds
/// dozens of strings).
pub(crate) fn from_json<'a, T: serde::Deserialize<'a>>(
    bytes: &'a [u8],
) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => Err(serde::de::Error::custom("JSON text must be UTF-8")),
    }
}

/// Whether JSON text starts an object. Deserializing straight into a
/// struct would also take an array of its fields in order; callers that
/// skip the `Value` tree check this first.
pub(crate) fn opens_object(json: &[u8]) -> bool {
    json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Decodes and verifies a compact JWS with `key`, returning the payload object.
pub fn verify(token: &str, key: &VerifyingKey) -> Result<(Header, Map<String, Value>), JoseError> {
    let jws = decode(token)?;
    jws.verify(key)?;
    let payload = jws.payload_object()?;
    Ok((jws.header, payload))
}

/// Signs `payload` as a compact JWS. `alg` is set from the signer; the other
/// header members (e.g. `typ`, `kid`) come from `header`.
pub fn sign(
    header: Map<String, Value>,
    payload: &Value,
    signer: &dyn Signer,
) -> Result<String, JoseError> {
    let mut header = header;
    header.insert("alg".into(), Value::String(signer.alg().name().into()));
    sign_json(
        Value::Object(header).to_string().as_bytes(),
        payload.to_string().as_bytes(),
        signer,
    )
}

/// Signs `payload`, serialised straight from its type (no `Value` tree on
/// the way), under a header of `alg`, `kid` when given, and `typ`, and
/// appends the compact JWS to `out` (a presentation or an SD-JWT written
/// in one buffer).
///
/// `size_hint` is the payload's expected JSON length: the text is written
/// into a buffer of that size, so a small one does not take a large block.
pub(crate) fn sign_typed_into<P: serde::Serialize>(
    out: &mut String,
    typ: &str,
    kid: Option<&str>,
    payload: &P,
    size_hint: usize,
    signer: &dyn Signer,
) -> Result<(), JoseError> {
    // Members in the order a sorted map would write them.
    #[derive(serde::Serialize)]
    struct Header<'a> {
        alg: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        kid: Option<&'a str>,
        typ: &'a str,
    }
    let header = Header {
        alg: signer.alg().name(),
        kid,
        typ,
    };
    // Structs of strings and numbers always serialise.
    let unserialisable = |_| JoseError::Signing("payload does not serialise".into());
    let mut body = Vec::with_capacity(size_hint);
    serde_json::to_writer(&mut body, payload).map_err(unserialisable)?;
    sign_json_into(
        out,
        &serde_json::to_vec(&header).map_err(unserialisable)?,
        &body,
        signer,
    )
}

/// `base64url(header).base64url(payload).base64url(signature)`.
pub(crate) fn sign_json(
    header: &[u8],
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<String, JoseError> {
    let mut out = String::new();
    sign_json_into(&mut out, header, payload, signer)?;
    Ok(out)
}

/// [`sign_json`], appending the JWS to `out` and signing what it appended;
/// on failure `out` is left as it was.
pub(crate) fn sign_json_into(
    out: &mut String,
    header: &[u8],
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<(), JoseError> {
    let start = out.len();
    out.reserve((header.len() + payload.len()) * 4 / 3 + 100);
    b64::encode_into(header, out);
    out.push('.');
    b64::encode_into(payload, out);
    // `start` was the length before, so it is within the text.
    let sig = match signer.sign(&out.as_bytes()[start..]) {
        Ok(sig) => sig,
        Err(e) => {
            out.truncate(start);
            return Err(e);
        }
    };
    out.push('.');
    b64::encode_into(sig, out);
    Ok(())
}

/// A JWS header with `typ` set.
pub fn header_with_typ(typ: &str) -> Map<String, Value> {
    let mut h = Map::new();
    h.insert("typ".into(), Value::String(typ.into()));
    h
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::SoftwareKey;

    #[test]
    fn a_failed_signature_leaves_the_buffer_as_it_was() {
        struct Refusing(SoftwareKey);
        impl Signer for Refusing {
            fn alg(&self) -> Alg {
                Alg::Es256
            }
            fn sign(&self, _: &[u8]) -> Result<Vec<u8>, JoseError> {
                Err(JoseError::Signing("refused".into()))
            }
            fn public_jwk(&self) -> Jwk {
                self.0.public_jwk()
            }
        }
        let signer = Refusing(SoftwareKey::generate_es256().unwrap());
        let mut out = String::from("jwt~disclosure~");
        let err = sign_typed_into(&mut out, "kb+jwt", None, &json!({"a": 1}), 16, &signer);
        assert_eq!(err.unwrap_err(), JoseError::Signing("refused".into()));
        assert_eq!(out, "jwt~disclosure~");
    }

    #[test]
    fn a_typed_signature_carries_alg_kid_and_typ_and_verifies() {
        let key = SoftwareKey::generate_es256().unwrap();
        let payload = json!({"n": 1, "s": "x"});
        for kid in [None, Some("k-1")] {
            let mut token = String::from("prefix~");
            sign_typed_into(&mut token, "kb+jwt", kid, &payload, 64, &key).unwrap();
            let token = token.strip_prefix("prefix~").unwrap();
            let (header, claims) =
                verify(token, &key.public_jwk().verifying_key().unwrap()).unwrap();
            assert_eq!(header.alg, "ES256");
            assert_eq!(header.typ.as_deref(), Some("kb+jwt"));
            assert_eq!(header.kid.as_deref(), kid);
            assert_eq!(Value::Object(claims), payload);
            // The same bytes a sorted header map would give.
            let mut expected = header_with_typ("kb+jwt");
            if let Some(k) = kid {
                expected.insert("kid".into(), json!(k));
            }
            expected.insert("alg".into(), json!("ES256"));
            let first = token.split('.').next().unwrap();
            assert_eq!(
                b64::decode(first).unwrap(),
                Value::Object(expected).to_string().into_bytes()
            );
        }
    }

    fn forge(header: Value, payload: Value) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header.to_string()),
            b64::encode(payload.to_string()),
            ""
        )
    }

    #[test]
    fn sign_and_verify_both_algorithms() {
        for key in [
            SoftwareKey::generate_es256().unwrap(),
            SoftwareKey::generate_ed25519().unwrap(),
        ] {
            let token = sign(header_with_typ("test"), &json!({"a": 1}), &key).unwrap();
            let vk = key.public_jwk().verifying_key().unwrap();
            let (h, p) = verify(&token, &vk).unwrap();
            assert!(h.typ_is("test"));
            assert_eq!(p["a"], 1);
        }
    }

    #[test]
    fn refuses_bad_tokens() {
        let es = SoftwareKey::generate_es256().unwrap();
        let ed = SoftwareKey::generate_ed25519().unwrap();
        let vk = es.public_jwk().verifying_key().unwrap();
        let token = sign(Map::new(), &json!({"a": 1}), &es).unwrap();

        assert_eq!(
            verify("a.b", &vk).unwrap_err(),
            JoseError::Malformed("expected three dot-separated parts")
        );
        assert_eq!(
            verify("a.b.c.d", &vk).unwrap_err(),
            JoseError::Malformed("expected three dot-separated parts")
        );
        assert_eq!(
            verify("!!.e30.AA", &vk).unwrap_err(),
            JoseError::BadBase64("header")
        );
        assert_eq!(
            verify(&forge(json!({"alg": "none"}), json!({})), &vk).unwrap_err(),
            JoseError::AlgNone
        );
        assert_eq!(
            verify(&forge(json!({"alg": "NONE"}), json!({})), &vk).unwrap_err(),
            JoseError::AlgNone
        );
        assert!(matches!(
            verify(&forge(json!({"alg": "HS256"}), json!({})), &vk).unwrap_err(),
            JoseError::UnsupportedAlg(_)
        ));
        assert_eq!(
            verify(
                &forge(json!({"alg": "ES256", "crit": ["b64"]}), json!({})),
                &vk
            )
            .unwrap_err(),
            JoseError::CriticalHeader
        );
        let not_obj = format!("{}.e30.AA", b64::encode("[1]"));
        assert_eq!(
            verify(&not_obj, &vk).unwrap_err(),
            JoseError::NotObject("header")
        );
        // An array holding the header's members in order is not a header either.
        let as_array = format!("{}.e30.AA", b64::encode(r#"["ES256"]"#));
        assert_eq!(
            verify(&as_array, &vk).unwrap_err(),
            JoseError::NotObject("header")
        );

        // Algorithm / key mismatch: an EdDSA token checked with a P-256 key.
        let ed_token = sign(Map::new(), &json!({}), &ed).unwrap();
        assert_eq!(
            verify(&ed_token, &vk).unwrap_err(),
            JoseError::AlgKeyMismatch
        );

        // Wrong key of the right type.
        let other = SoftwareKey::generate_es256()
            .unwrap()
            .public_jwk()
            .verifying_key()
            .unwrap();
        assert_eq!(verify(&token, &other).unwrap_err(), JoseError::BadSignature);

        // Tampered payload.
        let mut parts: Vec<&str> = token.split('.').collect();
        let evil = b64::encode(r#"{"a":2}"#);
        parts[1] = &evil;
        assert_eq!(
            verify(&parts.join("."), &vk).unwrap_err(),
            JoseError::BadSignature
        );

        // Signatures of the wrong length, short or long, do not verify; one
        // that is not base64url is refused as such. A long header too.
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = b64::decode(sig).unwrap();
        for bad in [&sig[..63], &[&sig[..], &[0]].concat(), &[7u8; 300][..]] {
            let t = format!("{input}.{}", b64::encode(bad));
            assert_eq!(verify(&t, &vk).unwrap_err(), JoseError::BadSignature);
        }
        assert_eq!(
            verify(&format!("{input}.A"), &vk).unwrap_err(),
            JoseError::BadBase64("signature")
        );
        let long_header = json!({"alg": "ES256", "x": "y".repeat(600)});
        let t = forge(long_header, json!({}));
        assert_eq!(verify(&t, &vk).unwrap_err(), JoseError::BadSignature);

        // Signed non-object payload.
        let arr = sign(Map::new(), &json!([1, 2]), &es).unwrap();
        assert_eq!(
            verify(&arr, &vk).unwrap_err(),
            JoseError::NotObject("payload")
        );

        // Four parts are refused as such even when the header is bad too.
        assert_eq!(
            verify("!!.e30.e30.AA", &vk).unwrap_err(),
            JoseError::Malformed("expected three dot-separated parts")
        );

        // Bytes that are not UTF-8, in a header string or behind a valid
        // signature in the payload, are not JSON.
        let bad_header = format!(
            "{}.e30.AA",
            b64::encode(b"{\"alg\":\"ES256\",\"typ\":\"\xff\"}")
        );
        assert_eq!(
            verify(&bad_header, &vk).unwrap_err(),
            JoseError::NotObject("header")
        );
        let input = format!(
            "{}.{}",
            b64::encode(br#"{"alg":"ES256"}"#),
            b64::encode(b"{\"a\":\"\xc3\x28\"}")
        );
        let signed = format!(
            "{input}.{}",
            b64::encode(es.sign(input.as_bytes()).unwrap())
        );
        assert_eq!(
            verify(&signed, &vk).unwrap_err(),
            JoseError::NotObject("payload")
        );
        assert!(decode(&signed).unwrap().payload_as::<Value>().is_err());
    }

    #[test]
    fn typ_comparison() {
        let h = Header {
            alg: "ES256".into(),
            typ: Some("application/DC+SD-JWT".into()),
            kid: None,
            crit: None,
            chain: None,
        };
        assert!(h.typ_is("dc+sd-jwt"));
        assert!(!h.typ_is("kb+jwt"));
        // A multi-byte character across the prefix boundary is no panic.
        let h = Header {
            alg: "ES256".into(),
            typ: Some("applicationXé-more".into()),
            kid: None,
            crit: None,
            chain: None,
        };
        assert!(!h.typ_is("dc+sd-jwt"));
        let h = Header {
            alg: "ES256".into(),
            typ: Some("aaaaaaaaaaaé".into()),
            kid: None,
            crit: None,
            chain: None,
        };
        assert!(!h.typ_is("x"));
    }
}
