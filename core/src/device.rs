//! Device certificates: how a device that does not hold a space's key
//! shows that its own key belongs to the space (ADR 0008).
//!
//! A certificate is a compact JWS (`typ` `satchel-device+jwt`) whose payload
//! binds a device key to a space: `{space_id, sub, jwk, iat, iss}`, `iss`
//! being the thumbprint of the key that signed it. A chain lists
//! certificates leaf first; each is signed by the key the next certifies,
//! and the last by the space key. A device signs with its own key and puts
//! its chain in the JWS header (`satchel_dc`), so a verifier that knows only
//! the space key can check the signature.

use serde_json::{json, Map, Value};

use crate::{
    jws::{self, DecodedJws, JoseError},
    Jwk, Signer,
};

/// `typ` of a device certificate.
pub const DEVICE_CERT_TYP: &str = "satchel-device+jwt";
/// The JWS header member that carries a signer's certificate chain.
pub const CHAIN_HEADER: &str = "satchel_dc";
/// Longest chain accepted (space key → device → device → device).
pub const MAX_CHAIN: usize = 4;

/// Why a certificate or a chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// A certificate is not a well-formed `satchel-device+jwt`.
    #[error("malformed device certificate: {0}")]
    Malformed(&'static str),
    /// A signature in the chain does not verify.
    #[error("device certificate: {0}")]
    Jose(#[from] JoseError),
    /// The chain does not end at the space key, is too long, or names
    /// another space.
    #[error("device chain: {0}")]
    Chain(&'static str),
    /// A device in the chain has been removed from the space.
    #[error("device {0} was removed from the space")]
    Removed(String),
}

/// A verified device certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCertificate {
    /// The space.
    pub space_id: String,
    /// The device id.
    pub device_id: String,
    /// The device's public key.
    pub key: Jwk,
    /// Thumbprint of the key that signed the certificate.
    pub issuer: String,
    /// When it was signed.
    pub issued_at: i64,
    /// The device's HPKE public key (base64url SEC1 P-256), to which new
    /// sync keys are sealed after a rotation.
    pub enc: Option<String>,
    /// The compact certificate.
    pub token: String,
}

/// Signs a certificate for `device_key` as device `device_id` of
/// `space_id`, with `issuer` (the space key or an enrolled device's key).
pub fn certify(
    space_id: &str,
    device_id: &str,
    device_key: &Jwk,
    issuer: &dyn Signer,
    now: i64,
) -> Result<String, JoseError> {
    certify_with_enc(space_id, device_id, device_key, None, issuer, now)
}

/// [`certify`], also naming the device's HPKE key (`enc`).
pub fn certify_with_enc(
    space_id: &str,
    device_id: &str,
    device_key: &Jwk,
    enc: Option<&str>,
    issuer: &dyn Signer,
    now: i64,
) -> Result<String, JoseError> {
    let mut payload = json!({
        "space_id": space_id,
        "sub": device_id,
        "jwk": device_key.to_value(),
        "iat": now,
        "iss": issuer.public_jwk().thumbprint(),
    });
    if let Some(enc) = enc {
        payload["enc"] = json!(enc);
    }
    jws::sign(jws::header_with_typ(DEVICE_CERT_TYP), &payload, issuer)
}

/// Reads a certificate's claims without checking it (for display, and for
/// the `enc` key of a device already verified through the server).
pub fn peek(token: &str) -> Result<DeviceCertificate, DeviceError> {
    read(token).map(|(_, c)| c)
}

/// Reads a certificate without checking its signature.
fn read(token: &str) -> Result<(DecodedJws<'_>, DeviceCertificate), DeviceError> {
    let jwt = jws::decode(token)?;
    if !jwt.header.typ_is(DEVICE_CERT_TYP) {
        return Err(DeviceError::Malformed("wrong typ"));
    }
    let p = jwt.payload_object()?;
    let text = |name: &'static str| {
        p.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(DeviceError::Malformed(name))
    };
    let key = p
        .get("jwk")
        .ok_or(DeviceError::Malformed("jwk"))
        .and_then(|v| Jwk::from_value(v).map_err(|_| DeviceError::Malformed("jwk")))?;
    let cert = DeviceCertificate {
        space_id: text("space_id")?,
        device_id: text("sub")?,
        issuer: text("iss")?,
        issued_at: p
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or(DeviceError::Malformed("iat"))?,
        key,
        enc: p.get("enc").and_then(Value::as_str).map(str::to_owned),
        token: token.to_owned(),
    };
    Ok((jwt, cert))
}

/// Verifies a chain (leaf first) up to `space_key`; every certificate must
/// name the same space, `space_id` when given. `is_removed` names devices
/// no longer in the space. Returns the leaf.
pub fn verify_chain(
    chain: &[String],
    space_id: Option<&str>,
    space_key: &Jwk,
    is_removed: &dyn Fn(&str) -> bool,
) -> Result<DeviceCertificate, DeviceError> {
    if chain.is_empty() || chain.len() > MAX_CHAIN {
        return Err(DeviceError::Chain("1 to 4 certificates"));
    }
    let read_all = chain
        .iter()
        .map(|c| read(c))
        .collect::<Result<Vec<_>, _>>()?;
    let root = space_key.thumbprint();
    let space_id = space_id.unwrap_or(&read_all[0].1.space_id);
    for (i, (jwt, cert)) in read_all.iter().enumerate() {
        if cert.space_id != space_id {
            return Err(DeviceError::Chain("a certificate names another space"));
        }
        if cert.key.thumbprint() == root {
            return Err(DeviceError::Chain("the space key is not a device"));
        }
        if is_removed(&cert.device_id) {
            return Err(DeviceError::Removed(cert.device_id.clone()));
        }
        let signer = match read_all.get(i + 1) {
            Some((_, parent)) => &parent.key,
            None => space_key,
        };
        if cert.issuer != signer.thumbprint() {
            return Err(DeviceError::Chain(
                "a certificate is not signed by the next",
            ));
        }
        jwt.verify(&signer.verifying_key().map_err(JoseError::from)?)?;
    }
    read_all
        .into_iter()
        .next()
        .map(|(_, c)| c)
        .ok_or(DeviceError::Chain("empty"))
}

/// A JWS header for a signature by a device of the space: `typ`, and the
/// signer's chain when it is not the space key itself.
pub fn header_for(typ: &str, chain: &[String]) -> Map<String, Value> {
    let mut header = jws::header_with_typ(typ);
    if !chain.is_empty() {
        header.insert(CHAIN_HEADER.into(), json!(chain));
    }
    header
}

/// Who signed a JWS for a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedBy {
    /// The space key itself.
    SpaceKey,
    /// An enrolled device (its verified certificate).
    Device(Box<DeviceCertificate>),
}

/// Verifies `jwt` as signed for `space_id`: by `space_key` itself when the
/// header carries no chain, otherwise by the key the chain certifies.
pub fn verify_for_space(
    jwt: &DecodedJws<'_>,
    space_id: Option<&str>,
    space_key: &Jwk,
    is_removed: &dyn Fn(&str) -> bool,
) -> Result<SignedBy, DeviceError> {
    match chain_of(jwt)? {
        None => {
            jwt.verify(&space_key.verifying_key().map_err(JoseError::from)?)?;
            Ok(SignedBy::SpaceKey)
        }
        Some(chain) => {
            let leaf = verify_chain(&chain, space_id, space_key, is_removed)?;
            jwt.verify(&leaf.key.verifying_key().map_err(JoseError::from)?)?;
            Ok(SignedBy::Device(Box::new(leaf)))
        }
    }
}

/// The chain in a JWS header, if any.
pub fn chain_of(jwt: &DecodedJws<'_>) -> Result<Option<Vec<String>>, DeviceError> {
    match &jwt.header.chain {
        None => Ok(None),
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_CHAIN => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or(DeviceError::Malformed("chain entries must be strings")),
        Some(_) => Err(DeviceError::Chain("1 to 4 certificates")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SoftwareKey;

    fn key() -> SoftwareKey {
        SoftwareKey::generate_es256().unwrap()
    }

    #[test]
    fn a_chain_to_the_space_key_verifies_and_everything_else_does_not() {
        let (space, a, b) = (key(), key(), key());
        let root = space.public_jwk();
        let cert_a = certify("s1", "dev-a", &a.public_jwk(), &space, 1).unwrap();
        let cert_b = certify("s1", "dev-b", &b.public_jwk(), &a, 2).unwrap();
        let none = |_: &str| false;
        let leaf =
            verify_chain(&[cert_b.clone(), cert_a.clone()], Some("s1"), &root, &none).unwrap();
        assert_eq!(leaf.device_id, "dev-b");
        assert_eq!(leaf.key, b.public_jwk());
        assert_eq!(
            verify_chain(std::slice::from_ref(&cert_a), Some("s1"), &root, &none)
                .unwrap()
                .device_id,
            "dev-a"
        );
        // Missing link, wrong space, other root, wrong order, removed device.
        assert!(matches!(
            verify_chain(std::slice::from_ref(&cert_b), Some("s1"), &root, &none),
            Err(DeviceError::Chain(_))
        ));
        assert!(matches!(
            verify_chain(std::slice::from_ref(&cert_a), Some("s2"), &root, &none),
            Err(DeviceError::Chain(_))
        ));
        assert!(verify_chain(
            std::slice::from_ref(&cert_a),
            Some("s1"),
            &key().public_jwk(),
            &none
        )
        .is_err());
        assert!(verify_chain(&[cert_a.clone(), cert_b.clone()], Some("s1"), &root, &none).is_err());
        assert_eq!(
            verify_chain(&[cert_b.clone(), cert_a.clone()], Some("s1"), &root, &|d| d
                == "dev-a"),
            Err(DeviceError::Removed("dev-a".into()))
        );
        assert!(verify_chain(&[], Some("s1"), &root, &none).is_err());
        assert!(verify_chain(&vec![cert_a.clone(); 5], Some("s1"), &root, &none).is_err());
        // A tampered certificate (another key swapped in) fails its signature.
        let forged = {
            let mut parts: Vec<String> = cert_a.split('.').map(str::to_owned).collect();
            let mut p: Value =
                serde_json::from_slice(&crate::b64::decode(&parts[1]).unwrap()).unwrap();
            p["jwk"] = key().public_jwk().to_value();
            parts[1] = crate::b64::encode(p.to_string());
            parts.join(".")
        };
        assert!(matches!(
            verify_chain(&[forged], Some("s1"), &root, &none),
            Err(DeviceError::Jose(JoseError::BadSignature))
        ));
        assert!(matches!(
            verify_chain(&["x.y.z".into()], Some("s1"), &root, &none),
            Err(DeviceError::Jose(_))
        ));
    }

    #[test]
    fn signatures_by_the_space_key_or_a_certified_device_verify_for_the_space() {
        let (space, a) = (key(), key());
        let root = space.public_jwk();
        let chain = vec![certify("s1", "dev-a", &a.public_jwk(), &space, 1).unwrap()];
        let none = |_: &str| false;
        let by_device = jws::sign(header_for("x+jwt", &chain), &json!({"n": 1}), &a).unwrap();
        let by_space = jws::sign(header_for("x+jwt", &[]), &json!({"n": 1}), &space).unwrap();
        let check = |t: &str| verify_for_space(&jws::decode(t).unwrap(), Some("s1"), &root, &none);
        assert!(matches!(check(&by_device), Ok(SignedBy::Device(c)) if c.device_id == "dev-a"));
        assert_eq!(check(&by_space), Ok(SignedBy::SpaceKey));
        // A device key without a chain, or with a chain for another key.
        let bare = jws::sign(header_for("x+jwt", &[]), &json!({"n": 1}), &a).unwrap();
        assert!(check(&bare).is_err());
        let other = jws::sign(header_for("x+jwt", &chain), &json!({"n": 1}), &key()).unwrap();
        assert!(matches!(
            check(&other),
            Err(DeviceError::Jose(JoseError::BadSignature))
        ));
        // A chain header of the wrong shape.
        let mut h = jws::header_with_typ("x+jwt");
        h.insert(CHAIN_HEADER.into(), json!("not-a-list"));
        let odd = jws::sign(h, &json!({}), &a).unwrap();
        assert!(check(&odd).is_err());
        assert!(verify_for_space(
            &jws::decode(&by_device).unwrap(),
            Some("s1"),
            &root,
            &|_| true
        )
        .is_err());
    }
}
