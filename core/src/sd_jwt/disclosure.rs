//! Disclosures (RFC 9901 §4.2): base64url of `[salt, name, value]` or
//! `[salt, value]`, identified by the base64url SHA-256 of that text.

use serde_json::Value;

use super::SdJwtError;
use crate::b64;

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
        let array = match name {
            Some(n) => serde_json::json!([salt, n, value]),
            None => serde_json::json!([salt, value]),
        };
        let encoded = b64::encode(array.to_string());
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
        let bytes = b64::decode(encoded).ok_or(SdJwtError::MalformedDisclosure("not base64url"))?;
        let Ok(Value::Array(mut items)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(SdJwtError::MalformedDisclosure("not a JSON array"));
        };
        if !items.first().is_some_and(Value::is_string) {
            return Err(SdJwtError::MalformedDisclosure("salt must be a string"));
        }
        let (name, value) = match items.len() {
            3 => {
                let value = items.pop().unwrap_or_default();
                match items.pop() {
                    Some(Value::String(name)) => (Some(name), value),
                    _ => {
                        return Err(SdJwtError::MalformedDisclosure(
                            "claim name must be a string",
                        ))
                    }
                }
            }
            2 => (None, items.pop().unwrap_or_default()),
            _ => return Err(SdJwtError::MalformedDisclosure("must have 2 or 3 elements")),
        };
        Ok(Disclosure {
            encoded: encoded.to_owned(),
            digest: b64::sha256_b64(encoded.as_bytes()),
            name,
            value,
        })
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
