//! Receiving credentials with OpenID4VCI 1.0, pre-authorised code flow:
//! offer → issuer metadata → token (§6) → nonce (§7) → proof JWT
//! (Appendix F.1, signed by the space's holder key) → credential (§8) →
//! verified import. The issuer must be in the trust registry.

use serde_json::{json, Value};

use crate::{
    client::{HttpRequest, Transport},
    jws,
    registry::TrustRegistry,
    wallet::{Credential, Wallet, WalletError},
};

/// The pre-authorised code grant type.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// A credential offer (§4.1.1) with a pre-authorised code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialOffer {
    /// The credential issuer identifier (an https or http URL).
    pub credential_issuer: String,
    /// The offered configuration.
    pub configuration_id: String,
    /// The pre-authorised code.
    pub pre_authorized_code: String,
}

pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes `s` for a URL component (RFC 3986: unreserved
/// characters stay, every other byte becomes `%XX`).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl CredentialOffer {
    /// Parses an offer: the JSON object, or an
    /// `openid-credential-offer://?credential_offer=…` URI.
    pub fn parse(text: &str) -> Result<Self, WalletError> {
        let bad = |m: &str| WalletError::InvalidInput(format!("credential offer: {m}"));
        let text = text.trim();
        let json_text = match text.split_once("credential_offer=") {
            Some((_, rest)) if !text.starts_with('{') => {
                percent_decode(rest.split('&').next().unwrap_or_default())
                    .ok_or_else(|| bad("bad URI encoding"))?
            }
            _ => text.to_owned(),
        };
        let v: Value = serde_json::from_str(&json_text).map_err(|_| bad("not JSON"))?;
        let credential_issuer = v
            .get("credential_issuer")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no credential_issuer"))?
            .to_owned();
        if !(credential_issuer.starts_with("https://") || credential_issuer.starts_with("http://"))
        {
            return Err(bad("credential_issuer must be a URL"));
        }
        let configuration_id = v
            .pointer("/credential_configuration_ids/0")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no credential_configuration_ids"))?
            .to_owned();
        let pre_authorized_code = v
            .get("grants")
            .and_then(|g| g.get(PRE_AUTHORIZED_GRANT))
            .and_then(|g| g.get("pre-authorized_code"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no pre-authorized code grant"))?
            .to_owned();
        Ok(CredentialOffer {
            credential_issuer,
            configuration_id,
            pre_authorized_code,
        })
    }
}

fn send(
    transport: &dyn Transport,
    method: &str,
    url: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<Value, WalletError> {
    let resp = transport
        .send(HttpRequest {
            method: method.into(),
            url: url.into(),
            headers,
            body,
        })
        .map_err(|e| {
            crate::wallet::remote::exchange_error(e, |other| {
                WalletError::Network(other.to_string())
            })
        })?;
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if resp.status >= 400 {
        let detail = v
            .get("error_description")
            .or_else(|| v.get("detail"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let code = v
            .get("error")
            .or_else(|| v.get("code"))
            .and_then(Value::as_str)
            .unwrap_or("error");
        return Err(WalletError::IssuerRefused(format!(
            "{} {code}: {detail}",
            resp.status
        )));
    }
    Ok(v)
}

/// The well-known URL of `issuer` for `suffix` (the suffix goes between
/// host and path, as RFC 8414 and OpenID4VCI §12.2.2 say).
fn well_known(issuer: &str, suffix: &str) -> String {
    let (scheme, rest) = issuer.split_once("://").unwrap_or(("https", issuer));
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    format!("{scheme}://{host}/.well-known/{suffix}{path}")
}

impl Wallet {
    /// Receives a credential offered with a pre-authorised code into
    /// `space_id`: the issuer must be registered in `registry`; the proof of
    /// possession is signed by the space's holder key; the credential is
    /// verified against the registered key before it is stored.
    pub fn receive_credential(
        &self,
        space_id: &str,
        offer: &CredentialOffer,
        transport: &dyn Transport,
        registry: &dyn TrustRegistry,
        now: i64,
    ) -> Result<Credential, WalletError> {
        let issuer = registry
            .issuer(&offer.credential_issuer)
            .ok_or_else(|| WalletError::UnknownIssuer(offer.credential_issuer.clone()))?;
        let space = self.space(space_id)?;
        let meta = send(
            transport,
            "GET",
            &well_known(&offer.credential_issuer, "openid-credential-issuer"),
            vec![],
            vec![],
        )?;
        if meta.get("credential_issuer").and_then(Value::as_str)
            != Some(offer.credential_issuer.as_str())
        {
            return Err(WalletError::InvalidInput(
                "issuer metadata names another issuer".into(),
            ));
        }
        let credential_endpoint = meta
            .get("credential_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| WalletError::InvalidInput("no credential_endpoint".into()))?;
        let nonce_endpoint = meta
            .get("nonce_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| WalletError::InvalidInput("no nonce_endpoint".into()))?;
        let as_base = meta
            .pointer("/authorization_servers/0")
            .and_then(Value::as_str)
            .unwrap_or(&offer.credential_issuer)
            .to_owned();
        let as_meta = send(
            transport,
            "GET",
            &well_known(&as_base, "oauth-authorization-server"),
            vec![],
            vec![],
        )?;
        let token_endpoint = as_meta
            .get("token_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| WalletError::InvalidInput("no token_endpoint".into()))?;

        let form = format!(
            "grant_type={}&pre-authorized_code={}",
            percent_encode(PRE_AUTHORIZED_GRANT),
            percent_encode(&offer.pre_authorized_code)
        );
        let token = send(
            transport,
            "POST",
            token_endpoint,
            vec![(
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            form.into_bytes(),
        )?;
        let access = token
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| WalletError::InvalidInput("no access_token".into()))?;
        let nonce = send(transport, "POST", nonce_endpoint, vec![], vec![])?;
        let c_nonce = nonce
            .get("c_nonce")
            .and_then(Value::as_str)
            .ok_or_else(|| WalletError::InvalidInput("no c_nonce".into()))?;

        // This device's key for the space: the space key where it was made,
        // the device's own key elsewhere (each device holds its own instance).
        let signer = self.signer(&space)?;
        let mut header = jws::header_with_typ("openid4vci-proof+jwt");
        header.insert("jwk".into(), space.signing_key().to_value());
        let proof = jws::sign(
            header,
            &json!({"aud": offer.credential_issuer, "iat": now, "nonce": c_nonce}),
            &signer,
        )
        .map_err(|e| match e {
            crate::jws::JoseError::SigningCancelled => WalletError::Cancelled,
            other => WalletError::KeyStore(crate::KeyStoreError::Platform(other.to_string())),
        })?;
        let body = json!({"credential_configuration_id": offer.configuration_id, "proofs": {"jwt": [proof]}});
        let issued = send(
            transport,
            "POST",
            credential_endpoint,
            vec![
                ("Authorization".into(), format!("Bearer {access}")),
                ("Content-Type".into(), "application/json".into()),
            ],
            body.to_string().into_bytes(),
        )?;
        let credential = issued
            .pointer("/credentials/0/credential")
            .and_then(Value::as_str)
            .ok_or_else(|| WalletError::InvalidInput("no credential in the answer".into()))?;
        let mut last = WalletError::UnknownIssuer(offer.credential_issuer.clone());
        for key in &issuer.keys {
            match self.import_credential(space_id, credential, Some(key), now) {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Re-issues a credential bound to another device's key to this device:
    /// receives `offer` (from the same issuer, for the same type) with this
    /// device's key. Both instances stay in the space; each device presents
    /// its own.
    pub fn reissue_credential(
        &self,
        credential_id: &str,
        offer: &CredentialOffer,
        transport: &dyn Transport,
        registry: &dyn TrustRegistry,
        now: i64,
    ) -> Result<Credential, WalletError> {
        let old = self.credential(credential_id)?;
        if old.issuer.as_deref() != Some(offer.credential_issuer.as_str()) {
            return Err(WalletError::InvalidInput(
                "the offer is from another issuer than the credential's".into(),
            ));
        }
        let new = self.receive_credential(&old.space_id, offer, transport, registry, now)?;
        if new.vct != old.vct {
            return Err(WalletError::InvalidInput(format!(
                "the issuer re-issued another type ({}); it was kept as a new credential",
                new.vct
            )));
        }
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offers_and_well_known_urls() {
        let json = r#"{"credential_issuer":"https://h/issuers/x","credential_configuration_ids":["id"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c0de"}}}"#;
        let o = CredentialOffer::parse(json).unwrap();
        assert_eq!(o.pre_authorized_code, "c0de");
        let uri = format!(
            "openid-credential-offer://?credential_offer={}",
            percent_encode(json)
        );
        assert_eq!(CredentialOffer::parse(&uri).unwrap(), o);
        assert!(CredentialOffer::parse("{}").is_err());
        assert!(CredentialOffer::parse("openid-credential-offer://?credential_offer=%zz").is_err());
        assert!(CredentialOffer::parse(
            r#"{"credential_issuer":"ftp://x","credential_configuration_ids":["a"],"grants":{}}"#
        )
        .is_err());
        assert_eq!(
            well_known("https://h/issuers/x", "jwt-vc-issuer"),
            "https://h/.well-known/jwt-vc-issuer/issuers/x"
        );
        assert_eq!(well_known("http://h:8/", "a"), "http://h:8/.well-known/a/");
    }
}
