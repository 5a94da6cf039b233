//! The trust registry: which issuers and relying parties are known, with
//! their keys and allowed purposes. A registry is a signed JSON document
//! (`satchel-registry+jwt`) published by an operator and verified with the
//! operator's key; the SDK also accepts any [`TrustRegistry`] implementation.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{jws, Jwk, Signer, VerifyingKey};

/// The `typ` of a signed registry document.
pub const REGISTRY_TYP: &str = "satchel-registry+jwt";

/// A registered credential issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredIssuer {
    /// The issuer identifier (`iss`).
    pub id: String,
    /// Display name, e.g. "广州市公安局".
    pub name: String,
    /// Signing keys.
    pub keys: Vec<Jwk>,
    /// Credential types (`vct`) it may issue; empty means any.
    #[serde(default)]
    pub credential_types: Vec<String>,
}

/// A registered relying party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredRelyingParty {
    /// The OpenID4VP `client_id`.
    pub client_id: String,
    /// Display name, e.g. "Example Bank".
    pub name: String,
    /// Keys its requests and use receipts are signed with.
    pub keys: Vec<Jwk>,
    /// DPV purposes it may ask for; empty means any.
    #[serde(default)]
    pub allowed_purposes: Vec<String>,
}

/// Who is trusted. Implementations must be cheap to query.
pub trait TrustRegistry: Send + Sync {
    /// The registered relying party with this `client_id`.
    fn relying_party(&self, client_id: &str) -> Option<RegisteredRelyingParty>;
    /// The registered issuer with this identifier.
    fn issuer(&self, id: &str) -> Option<RegisteredIssuer>;
}

/// Why a registry document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The document's signature or `typ` is wrong.
    #[error("registry rejected: {0}")]
    Jose(#[from] jws::JoseError),
    /// The `typ` is not `satchel-registry+jwt`.
    #[error("registry typ must be satchel-registry+jwt")]
    WrongTyp,
    /// The contents do not parse.
    #[error("malformed registry: {0}")]
    Malformed(String),
    /// The document has expired.
    #[error("registry expired")]
    Expired,
}

/// A registry document: lists of issuers and relying parties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Trusted issuers.
    #[serde(default)]
    pub issuers: Vec<RegisteredIssuer>,
    /// Trusted relying parties.
    #[serde(default)]
    pub relying_parties: Vec<RegisteredRelyingParty>,
}

impl Registry {
    /// Signs the registry as a `satchel-registry+jwt`, valid until `exp`.
    pub fn sign(&self, iat: i64, exp: i64, signer: &dyn Signer) -> Result<String, RegistryError> {
        let mut payload =
            serde_json::to_value(self).map_err(|e| RegistryError::Malformed(e.to_string()))?;
        payload["iat"] = Value::from(iat);
        payload["exp"] = Value::from(exp);
        Ok(jws::sign(
            jws::header_with_typ(REGISTRY_TYP),
            &payload,
            signer,
        )?)
    }

    /// A registry from its JSON contents (`{"issuers": [...],
    /// "relying_parties": [...]}`), for locally configured trust and tests.
    pub fn from_json(json: &str) -> Result<Registry, RegistryError> {
        let malformed = || RegistryError::Malformed("not a registry document".into());
        let value: Value = serde_json::from_str(json).map_err(|_| malformed())?;
        if !value.is_object() {
            return Err(malformed());
        }
        serde_json::from_value(value).map_err(|_| malformed())
    }

    /// Verifies a signed registry with the operator key at `now`.
    pub fn verify(
        token: &str,
        operator: &VerifyingKey,
        now: i64,
    ) -> Result<Registry, RegistryError> {
        let jwt = jws::decode(token.trim())?;
        if !jwt.header.typ_is(REGISTRY_TYP) {
            return Err(RegistryError::WrongTyp);
        }
        jwt.verify(operator)?;
        let payload = jwt.payload_object()?;
        if payload
            .get("exp")
            .and_then(Value::as_i64)
            .is_none_or(|exp| now >= exp)
        {
            return Err(RegistryError::Expired);
        }
        serde_json::from_value(Value::Object(payload))
            .map_err(|e| RegistryError::Malformed(e.to_string()))
    }
}

impl TrustRegistry for Registry {
    fn relying_party(&self, client_id: &str) -> Option<RegisteredRelyingParty> {
        self.relying_parties
            .iter()
            .find(|r| r.client_id == client_id)
            .cloned()
    }

    fn issuer(&self, id: &str) -> Option<RegisteredIssuer> {
        self.issuers.iter().find(|i| i.id == id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SoftwareKey;

    #[test]
    fn signed_registry_round_trip_and_refusals() {
        let op = SoftwareKey::generate_ed25519().unwrap();
        let reg = Registry {
            issuers: vec![],
            relying_parties: vec![RegisteredRelyingParty {
                client_id: "https://bank".into(),
                name: "Bank".into(),
                keys: vec![SoftwareKey::generate_es256().unwrap().public_jwk()],
                allowed_purposes: vec!["IdentityVerification".into()],
            }],
        };
        let token = reg.sign(100, 200, &op).unwrap();
        let vk = op.public_jwk().verifying_key().unwrap();
        let back = Registry::verify(&token, &vk, 150).unwrap();
        assert_eq!(back.relying_party("https://bank").unwrap().name, "Bank");
        assert!(back.relying_party("https://evil").is_none());
        assert_eq!(
            Registry::verify(&token, &vk, 200),
            Err(RegistryError::Expired)
        );
        let other = SoftwareKey::generate_ed25519()
            .unwrap()
            .public_jwk()
            .verifying_key()
            .unwrap();
        assert!(matches!(
            Registry::verify(&token, &other, 150),
            Err(RegistryError::Jose(_))
        ));
        let wrong = jws::sign(
            jws::header_with_typ("jwt"),
            &serde_json::json!({"exp": 300}),
            &op,
        )
        .unwrap();
        assert_eq!(
            Registry::verify(&wrong, &vk, 150),
            Err(RegistryError::WrongTyp)
        );
    }
}
