//! Request authentication: every request carries
//! `Authorization: Satchel <JWS>`, a `satchel-req+jwt` signed by a device key
//! (`kid` = device id) or a registered relying party's key (`kid` =
//! `client_id`) over the method, path and query, the SHA-256 of the body,
//! the time and a single-use nonce (in the spirit of DPoP, RFC 9449).

use satchel_core::{b64, client::REQUEST_TYP, jws, Jwk};

use super::{Service, ServiceError};
use crate::store::{DeviceRow, Store};

/// What the signature must cover.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path and query, as sent.
    pub path_and_query: &'a str,
    /// The body bytes.
    pub body: &'a [u8],
}

/// One answer for an unknown key id and a bad signature, so the answer does
/// not tell which devices or relying parties exist.
const NOT_VERIFIED: &str = "request signature does not verify for its key id";

fn unauth(m: &str) -> ServiceError {
    ServiceError::Unauthenticated(m.to_owned())
}

impl<S: Store> Service<S> {
    /// Checks the request signature and replay protection; returns the
    /// device. With `new_device`, the key is taken from the registration
    /// body instead of the store.
    pub fn authenticate(
        &self,
        header: Option<&str>,
        parts: RequestParts<'_>,
        now: i64,
        new_device: Option<(&str, &Jwk)>,
    ) -> Result<DeviceRow, ServiceError> {
        let mut device = None;
        self.verify_signed(header, parts, now, |kid| {
            let (d, key) = self.device_key(kid, new_device)?;
            device = Some(d);
            Ok(vec![key])
        })?;
        let device = device.ok_or_else(|| unauth(NOT_VERIFIED))?;
        // Checked after the signature, so only the device itself learns it.
        if device.removed_at.is_some() {
            return Err(ServiceError::Forbidden(
                "this device was removed from its space".into(),
            ));
        }
        Ok(device)
    }

    /// Checks a request signed by a registered relying party; returns its `client_id`.
    pub fn authenticate_rp(
        &self,
        header: Option<&str>,
        parts: RequestParts<'_>,
        now: i64,
    ) -> Result<String, ServiceError> {
        self.verify_signed(header, parts, now, |kid| {
            let rp = self
                .relying_party(kid)?
                .ok_or_else(|| unauth(NOT_VERIFIED))?;
            Ok(rp.keys)
        })
    }

    fn device_key(
        &self,
        kid: &str,
        new_device: Option<(&str, &Jwk)>,
    ) -> Result<(DeviceRow, Jwk), ServiceError> {
        match new_device {
            Some((id, key)) => {
                if kid != id {
                    return Err(unauth("kid is not the registering device"));
                }
                Ok((
                    DeviceRow {
                        id: id.into(),
                        space_id: String::new(),
                        jwk: key.to_value().to_string(),
                        wrapped_key: None,
                        ..Default::default()
                    },
                    key.clone(),
                ))
            }
            None => {
                let d = self
                    .store
                    .device(kid)?
                    .ok_or_else(|| unauth(NOT_VERIFIED))?;
                let key =
                    Jwk::from_json(&d.jwk).map_err(|e| ServiceError::Storage(e.to_string()))?;
                Ok((d, key))
            }
        }
    }

    /// Verifies a `satchel-req+jwt` over the request with one of the keys
    /// `resolve` gives for its `kid`; returns the `kid`.
    fn verify_signed(
        &self,
        header: Option<&str>,
        parts: RequestParts<'_>,
        now: i64,
        resolve: impl FnOnce(&str) -> Result<Vec<Jwk>, ServiceError>,
    ) -> Result<String, ServiceError> {
        let token = header
            .and_then(|h| h.strip_prefix("Satchel "))
            .ok_or_else(|| unauth("missing Authorization: Satchel <signature>"))?;
        let jwt =
            jws::decode(token.trim()).map_err(|e| unauth(&format!("request signature: {e}")))?;
        if !jwt.header.typ_is(REQUEST_TYP) {
            return Err(unauth("request signature typ must be satchel-req+jwt"));
        }
        let kid = jwt
            .header
            .kid
            .clone()
            .ok_or_else(|| unauth("request signature without kid"))?;
        let keys = resolve(&kid)?;
        let verified = keys
            .iter()
            .any(|k| k.verifying_key().is_ok_and(|vk| jwt.verify(&vk).is_ok()));
        if !verified {
            return Err(unauth(NOT_VERIFIED));
        }
        let p = jwt
            .payload_object()
            .map_err(|e| unauth(&format!("request signature: {e}")))?;
        let s = |n: &str| p.get(n).and_then(|v| v.as_str());
        if s("htm") != Some(parts.method) || s("htu") != Some(parts.path_and_query) {
            return Err(unauth("signature is for another method or path"));
        }
        if s("bh") != Some(b64::sha256_b64(parts.body).as_str()) {
            return Err(unauth("signature is for another body"));
        }
        let iat = p
            .get("iat")
            .and_then(|v| v.as_i64())
            .ok_or_else(|| unauth("signature without iat"))?;
        if (now - iat).abs() > self.max_skew {
            return Err(unauth("signature too old or from the future"));
        }
        let nonce = s("jti")
            .filter(|j| (16..=128).contains(&j.len()))
            .ok_or_else(|| unauth("signature needs a jti of 16-128 characters"))?;
        if !self
            .store
            .use_nonce(&kid, nonce, now, now - 2 * self.max_skew)?
        {
            return Err(ServiceError::Replay);
        }
        Ok(kid)
    }
}
