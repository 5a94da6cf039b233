//! Disclosures (RFC 9901 §4.2): base64url of `[salt, name, value]` or
//! `[salt, value]`, identified by the base64url SHA-256 of that text.

use serde_json::Value;

use super::SdJwtError;
use crate::{
    b64::{self, Digest},
    jws,
};

/// A decoded disclosure.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    /// The encoded form as sent.
    pub encoded: String,
    /// base64url(SHA-256(encoded)).
    pub digest: String,
    /// The claim name (object property), or `None` for an array element.
    pub name: Option<String>,
    /// The claim value.
    pub value: Value,
}

impl Disclosure {
    /// Makes a new disclosure with a fresh 128-bit salt.
    pub fn new(name: Option<&str>, value: Value) -> Self {
        let salt = b64::encode(b64::random_bytes::<16>());
        let mut text = Vec::new();
        write_text(&salt, name, &value, &mut text);
        let encoded = b64::encode(text);
        let digest = b64::sha256_b64(encoded.as_bytes());
        Disclosure {
            encoded,
            digest,
            name: name.map(str::to_owned),
            value,
        }
    }

    /// Decodes and checks one disclosure.
    pub fn parse(encoded: &str) -> Result<Self, SdJwtError> {
        let d = Parsed::parse(encoded)?;
        Ok(Disclosure {
            encoded: d.encoded.to_owned(),
            digest: d.digest.as_str().to_owned(),
            name: d.name,
            value: d.value,
        })
    }
}

/// Appends the JSON text of a disclosure, `[salt, name, value]` or
/// `[salt, value]`, serialised straight from borrowed parts.
pub(crate) fn write_text(
    salt: &str,
    name: Option<&str>,
    value: &impl serde::Serialize,
    out: &mut Vec<u8>,
) {
    // Strings and JSON values always serialise to memory.
    let _ = match name {
        Some(n) => serde_json::to_writer(out, &(salt, n, value)),
        None => serde_json::to_writer(out, &(salt, value)),
    };
}

/// A disclosure as a verifier or holder reads it from a presentation: its
/// text borrowed and its digest on the stack, so that reading one copies
/// nothing but the claim itself.
pub(crate) struct Parsed<'a> {
    /// The encoded form as sent.
    pub encoded: &'a str,
    /// base64url(SHA-256(encoded)).
    pub digest: Digest,
    /// The claim name, or `None` for an array element.
    pub name: Option<String>,
    /// The claim value.
    pub value: Value,
    /// Whether the payload has referenced it yet (while resolving).
    pub used: bool,
}

impl<'a> Parsed<'a> {
    /// Decodes and checks one disclosure.
    pub(crate) fn parse(encoded: &'a str) -> Result<Self, SdJwtError> {
        // On the stack, in a buffer sized to the disclosure; very large
        // ones go to the heap.
        let parts = if encoded.len() <= 256 {
            b64::with_decoded::<192, _>(encoded, read_parts)
        } else {
            b64::with_decoded::<768, _>(encoded, read_parts)
        };
        let Parts { name, value } =
            parts.ok_or(SdJwtError::MalformedDisclosure("not base64url"))??;
        Ok(Parsed {
            encoded,
            digest: Digest::of(encoded.as_bytes()),
            name,
            value,
            used: false,
        })
    }
}

/// Reads a disclosure's JSON straight from the text (no array of `Value`s,
/// no salt copy); only a malformed one goes the long way, to say what is
/// wrong with it.
fn read_parts(bytes: &[u8]) -> Result<Parts, SdJwtError> {
    jws::from_json::<Parts>(bytes).map_err(|_| why_malformed(bytes))
}

/// What is wrong with a disclosure the fast reader refused.
fn why_malformed(bytes: &[u8]) -> SdJwtError {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(bytes) else {
        return SdJwtError::MalformedDisclosure("not a JSON array");
    };
    SdJwtError::MalformedDisclosure(match items.as_slice() {
        [salt, ..] if !salt.is_string() => "salt must be a string",
        [_, name, _] if !name.is_string() => "claim name must be a string",
        _ => "must have 2 or 3 elements",
    })
}

/// `[salt, name, value]` or `[salt, value]`, read element by element.
struct Parts {
    name: Option<String>,
    value: Value,
}

/// A salt: any JSON string, checked without being kept.
struct Salt;

impl<'de> serde::Deserialize<'de> for Salt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Salt;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a salt string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Salt, E> {
                Ok(Salt)
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for Parts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Parts;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a disclosure array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Parts, A::Error> {
                use serde::de::Error;
                seq.next_element::<Salt>()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let second: Value = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                let Some(value) = seq.next_element::<Value>()? else {
                    return Ok(Parts {
                        name: None,
                        value: second,
                    });
                };
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(4, &self));
                }
                match second {
                    Value::String(name) => Ok(Parts {
                        name: Some(name),
                        value,
                    }),
                    _ => Err(A::Error::custom("claim name must be a string")),
                }
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9901_example_digest() {
        // RFC 9901 §4.2.1 example: the given_name disclosure and its digest.
        let d = Disclosure::parse(
            "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
        )
        .unwrap();
        assert_eq!(d.name.as_deref(), Some("family_name"));
        assert_eq!(d.value, "Möbius");
        assert_eq!(d.digest, "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0");
    }

    #[test]
    fn rejects_malformed() {
        let enc = |s: &str| b64::encode(s);
        let why = |s: &str| match Disclosure::parse(&enc(s)) {
            Err(SdJwtError::MalformedDisclosure(m)) => m,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(why("{}"), "not a JSON array");
        assert_eq!(why("[1, \"n\", 2]"), "salt must be a string");
        assert_eq!(why("[\"s\", 5, 2]"), "claim name must be a string");
        assert_eq!(why("[\"s\"]"), "must have 2 or 3 elements");
        assert_eq!(why("[\"s\", \"n\", 2, 3]"), "must have 2 or 3 elements");
        assert_eq!(why("[\"s\", \"n\", 2] x"), "not a JSON array");
        // Bytes that are not UTF-8 are not JSON text.
        match Disclosure::parse(&b64::encode(b"[\"s\", \"n\", \"\xff\"]")) {
            Err(SdJwtError::MalformedDisclosure(m)) => assert_eq!(m, "not a JSON array"),
            other => panic!("{other:?}"),
        }
        // Escapes in the salt and the name are read as JSON strings.
        let d = Disclosure::parse(&enc("[\"s\\u0041\", \"n\\\"q\", {\"a\": [1]}]")).unwrap();
        assert_eq!(d.name.as_deref(), Some("n\"q"));
        assert_eq!(d.value, serde_json::json!({"a": [1]}));
        assert!(Disclosure::parse("!!").is_err());
        assert!(Disclosure::parse(&enc("{}")).is_err());
        assert!(Disclosure::parse(&enc("[\"s\"]")).is_err());
        assert!(Disclosure::parse(&enc("[1, \"n\", 2]")).is_err());
        assert!(Disclosure::parse(&enc("[\"s\", 5, 2]")).is_err());
        assert!(Disclosure::parse(&enc("[\"s\", \"n\", 2, 3]")).is_err());
        assert!(Disclosure::parse(&enc("[\"s\", \"n\", 2]"))
            .unwrap()
            .name
            .is_some());
        assert!(Disclosure::parse(&enc("[\"s\", 2]"))
            .unwrap()
            .name
            .is_none());
    }
}
