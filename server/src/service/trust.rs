//! The registry of trusted issuers and relying parties, served as a signed
//! document; usage metering and supervision; the request relay.

use satchel_core::{
    authz::{self, Authorization, AuthorizationResponse, DPV_PURPOSES},
    b64, jws,
    registry::{RegisteredIssuer, RegisteredRelyingParty, Registry},
    status_list::{StatusList, StatusReference, VALID},
    Jwk, Signer,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Service, ServiceError};
use crate::store::{Store, UsageRow};

/// How long a served registry document is valid.
const REGISTRY_TTL: i64 = 86_400;
/// How long a relayed request stays available.
const RELAY_TTL: i64 = 600;
/// Responses kept per relayed request.
pub const MAX_RESPONSES: usize = 8;

/// What the server keeps of a registered authorisation (no claims).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MeteredAuthorization {
    client_id: String,
    holder_key: Jwk,
    purpose: String,
    not_before: i64,
    not_after: i64,
    max_uses: u32,
    status: Option<StatusReference>,
}

/// A relayed request.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Relayed {
    client_id: String,
    request: String,
    exp: i64,
}

fn bad(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRequest(e.to_string())
}

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, ServiceError> {
    serde_json::from_str(body).map_err(|e| ServiceError::Storage(e.to_string()))
}

/// The QR payload that points a wallet at a relayed request (OpenID4VP
/// `request_uri`).
pub fn relay_qr(client_id: &str, request_uri: &str) -> String {
    use satchel_core::issuance::percent_encode;
    format!(
        "openid4vp://?client_id={}&request_uri={}",
        percent_encode(client_id),
        percent_encode(request_uri)
    )
}

impl<S: Store> Service<S> {
    /// The registered relying party with this `client_id`.
    pub fn relying_party(
        &self,
        client_id: &str,
    ) -> Result<Option<RegisteredRelyingParty>, ServiceError> {
        self.store
            .object("rp", client_id)?
            .map(|b| parse(&b))
            .transpose()
    }

    /// Registers (or replaces) a relying party. Operator only.
    pub fn put_relying_party(&self, rp: &RegisteredRelyingParty) -> Result<(), ServiceError> {
        if rp.client_id.is_empty() || rp.keys.is_empty() {
            return Err(bad("a relying party needs a client_id and a key"));
        }
        for k in &rp.keys {
            k.verifying_key().map_err(bad)?;
        }
        Ok(self.store.put_object(
            "rp",
            &rp.client_id,
            &serde_json::to_string(rp).map_err(bad)?,
            true,
        )?)
    }

    /// Registers (or replaces) an issuer.
    pub fn put_issuer(&self, issuer: &RegisteredIssuer) -> Result<(), ServiceError> {
        Ok(self.store.put_object(
            "issuer",
            &issuer.id,
            &serde_json::to_string(issuer).map_err(bad)?,
            true,
        )?)
    }

    /// The registry as it stands.
    pub fn registry(&self) -> Result<Registry, ServiceError> {
        let issuers = self
            .store
            .objects("issuer")?
            .iter()
            .map(|(_, b)| parse(b))
            .collect::<Result<_, _>>()?;
        let relying_parties = self
            .store
            .objects("rp")?
            .iter()
            .map(|(_, b)| parse(b))
            .collect::<Result<_, _>>()?;
        Ok(Registry {
            issuers,
            relying_parties,
        })
    }

    /// The registry signed by the operator key, valid for a day.
    pub fn signed_registry(&self, now: i64) -> Result<String, ServiceError> {
        self.registry()?
            .sign(now, now + REGISTRY_TTL, self.operator.as_ref())
            .map_err(|e| ServiceError::Storage(e.to_string()))
    }

    /// The operator's public key (verifies the registry).
    pub fn operator_jwk(&self) -> Jwk {
        self.operator.public_jwk()
    }

    /// A relying party registers an authorisation it verified, for metering.
    pub fn register_authorization(
        &self,
        client_id: &str,
        authorization: &str,
    ) -> Result<String, ServiceError> {
        let jwt = jws::decode(authorization.trim()).map_err(bad)?;
        if !jwt.header.typ_is(authz::AUTHORIZATION_TYP) {
            return Err(bad("not a satchel-authz+jwt"));
        }
        let header: Value = serde_json::from_slice(
            &b64::decode(authorization.split('.').next().unwrap_or_default()).unwrap_or_default(),
        )
        .unwrap_or_default();
        let holder = Jwk::from_value(
            header
                .get("jwk")
                .ok_or_else(|| bad("authorisation without holder key"))?,
        )
        .map_err(bad)?;
        jwt.verify(&holder.verifying_key().map_err(bad)?)
            .map_err(bad)?;
        let a: Authorization =
            serde_json::from_value(Value::Object(jwt.payload_object().map_err(bad)?))
                .map_err(bad)?;
        if a.aud != client_id {
            return Err(ServiceError::Forbidden(
                "the authorisation is for another relying party".into(),
            ));
        }
        if a.iss != Authorization::holder_urn(&holder.thumbprint()) {
            return Err(bad("authorisation issuer is not its signing key"));
        }
        // Meter only what a holder of this server signed: the signer must
        // be the key of a space registered here, whose status list (where a
        // withdrawal would show) is published here.
        let space_key = a
            .status_reference()
            .and_then(|r| {
                r.uri
                    .strip_prefix(&format!("{}/", self.status_base))
                    .map(str::to_owned)
            })
            .map(|space_id| self.store.space(&space_id))
            .transpose()?
            .flatten()
            .and_then(|space| Jwk::from_json(&space.jwk).ok());
        if space_key.is_none_or(|k| k.thumbprint() != holder.thumbprint()) {
            self.store.record_refusal(
                &a.jti,
                client_id,
                satchel_core::unix_now(),
                "authorisation not signed by a space of this server",
            )?;
            return Err(ServiceError::Forbidden(
                "the authorisation is not signed by a space registered here, with its status published here"
                    .into(),
            ));
        }
        let m = MeteredAuthorization {
            client_id: client_id.into(),
            holder_key: holder,
            purpose: a.purpose.clone(),
            not_before: a.nbf,
            not_after: a.exp,
            max_uses: a.max_uses,
            status: a.status_reference(),
        };
        match self.store.put_object(
            "authz",
            &a.jti,
            &serde_json::to_string(&m).map_err(bad)?,
            false,
        ) {
            Ok(()) => Ok(a.jti),
            // The same relying party registering again is idempotent; another
            // one cannot take over (or shadow) an authorisation id.
            Err(crate::store::StoreError::Conflict) => {
                let existing: Option<MeteredAuthorization> = self
                    .store
                    .object("authz", &a.jti)?
                    .and_then(|t| serde_json::from_str(&t).ok());
                match existing {
                    Some(e) if e.client_id == client_id => Ok(a.jti),
                    _ => Err(ServiceError::Conflict(
                        "this authorisation id is registered by another relying party".into(),
                    )),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Counts one use against the authorisation's limit, window, purpose
    /// and withdrawal status; refusals are recorded for the auditor.
    pub fn meter_use(
        &self,
        client_id: &str,
        authorization_id: &str,
        purpose: &str,
        now: i64,
    ) -> Result<(u32, u32), ServiceError> {
        let m: MeteredAuthorization = self
            .store
            .object("authz", authorization_id)?
            .map(|b| parse(&b))
            .transpose()?
            .ok_or_else(|| {
                ServiceError::NotFound("unknown authorisation: register it first".into())
            })?;
        if m.client_id != client_id {
            return Err(ServiceError::Forbidden(
                "the authorisation is for another relying party".into(),
            ));
        }
        let refuse = |reason: &str| -> Result<(u32, u32), ServiceError> {
            self.store
                .record_refusal(authorization_id, client_id, now, reason)?;
            Err(ServiceError::Forbidden(format!("use refused: {reason}")))
        };
        if authz::dpv_term(purpose, DPV_PURPOSES).is_none()
            || authz::dpv_term(purpose, DPV_PURPOSES) != authz::dpv_term(&m.purpose, DPV_PURPOSES)
        {
            return refuse("another purpose than authorised");
        }
        if now < m.not_before || now >= m.not_after {
            return refuse("outside the authorised window");
        }
        if let Some(r) = &m.status {
            if let Some(space) = r.uri.strip_prefix(&format!("{}/", self.status_base)) {
                if let Some(token) = self.store.status_list(space)? {
                    // Accepted at publication: signed by the space key or
                    // an enrolled device of the space.
                    let list = StatusList::from_space_token(
                        &token,
                        &m.holder_key,
                        &r.uri,
                        now,
                        satchel_core::status_list::MAX_LIST_BYTES,
                        &|_| false,
                    )
                    .map_err(|e| ServiceError::Storage(e.to_string()))?;
                    if list
                        .get(r.idx)
                        .map_err(|e| ServiceError::Storage(e.to_string()))?
                        != VALID
                    {
                        return refuse("after withdrawal");
                    }
                }
            }
        }
        match self
            .store
            .record_use(authorization_id, client_id, m.max_uses, now)?
        {
            Some(n) => Ok((n, m.max_uses - n)),
            None => refuse("over the authorised number of uses"),
        }
    }

    /// Uses and flagged anomalies (refused attempts), for supervision.
    pub fn audit(&self, client_id: Option<&str>) -> Result<Value, ServiceError> {
        let rows: Vec<UsageRow> = self.store.usage(client_id)?;
        let (uses, anomalies): (Vec<&UsageRow>, Vec<&UsageRow>) =
            rows.iter().partition(|r| r.kind == "use");
        Ok(json!({"uses": uses, "anomalies": anomalies}))
    }

    /// A registered relying party hands over a signed request whose `state`
    /// is the relay id and whose `response_uri` is this server's
    /// `/r/{state}/response`; returns the id and the request URI (for a link
    /// or QR code).
    pub fn relay_request(
        &self,
        client_id: &str,
        request: &str,
        now: i64,
    ) -> Result<(String, String), ServiceError> {
        let registry = self.registry()?;
        let parsed = authz::parse_request(request, &registry, now).map_err(bad)?;
        if parsed.request.client_id != client_id
            || !matches!(parsed.trust, authz::RpTrust::Trusted { .. })
        {
            return Err(ServiceError::Forbidden(
                "relay only your own requests, for purposes you are registered for".into(),
            ));
        }
        // The relay id is the request's `state`, so the relying party can put
        // the relay's response URI into the request before signing it.
        let id = parsed.request.state.clone().unwrap_or_default();
        if !(16..=64).contains(&id.len())
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "a relayed request needs a state of 16-64 URL-safe characters (the relay id)",
            ));
        }
        if parsed.request.response_uri != format!("{}/r/{id}/response", self.public_url) {
            return Err(bad(
                "a relayed request's response_uri must be this server's /r/{state}/response",
            ));
        }
        let r = Relayed {
            client_id: client_id.into(),
            request: parsed.jws,
            exp: now + RELAY_TTL,
        };
        self.store.put_object(
            "request",
            &id,
            &serde_json::to_string(&r).map_err(bad)?,
            false,
        )?;
        Ok((id.clone(), format!("{}/r/{id}", self.public_url)))
    }

    fn relayed(&self, id: &str, now: i64) -> Result<Relayed, ServiceError> {
        let r: Relayed = self
            .store
            .object("request", id)?
            .map(|b| parse(&b))
            .transpose()?
            .ok_or_else(|| ServiceError::NotFound("no such request".into()))?;
        if now >= r.exp {
            return Err(ServiceError::NotFound("request expired".into()));
        }
        Ok(r)
    }

    /// The relayed request object (public: the wallet fetches it).
    pub fn relayed_request(&self, id: &str, now: i64) -> Result<String, ServiceError> {
        Ok(self.relayed(id, now)?.request)
    }

    /// The wallet's `direct_post` of its response. Anyone who saw the QR
    /// code can post, so the first answer does not win: up to
    /// [`MAX_RESPONSES`] are kept and the relying party verifies each.
    pub fn post_response(&self, id: &str, body: &str, now: i64) -> Result<(), ServiceError> {
        self.relayed(id, now)?;
        let _: AuthorizationResponse =
            serde_json::from_str(body).map_err(|e| bad(format!("response: {e}")))?;
        for n in 0..MAX_RESPONSES {
            match self
                .store
                .put_object("response", &format!("{id}/{n}"), body, false)
            {
                Ok(()) => return Ok(()),
                Err(crate::store::StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Conflict(
            "this request has received too many responses".into(),
        ))
    }

    /// The relying party collects (and so removes) the responses to its request.
    pub fn take_responses(&self, client_id: &str, id: &str) -> Result<Vec<Value>, ServiceError> {
        let r: Relayed = self
            .store
            .object("request", id)?
            .map(|b| parse(&b))
            .transpose()?
            .ok_or_else(|| ServiceError::NotFound("no such request".into()))?;
        if r.client_id != client_id {
            return Err(ServiceError::Forbidden("not your request".into()));
        }
        let mut out = Vec::new();
        for n in 0..MAX_RESPONSES {
            if let Some(body) = self.store.take_object("response", &format!("{id}/{n}"))? {
                out.push(
                    serde_json::from_str(&body)
                        .map_err(|e| ServiceError::Storage(e.to_string()))?,
                );
            }
        }
        if out.is_empty() {
            return Err(ServiceError::NotFound("no response yet".into()));
        }
        Ok(out)
    }
}

impl<S: Store> Service<S> {
    /// Removes expired single-use codes, nonces, access tokens, relayed
    /// requests and their uncollected responses. Returns how many went.
    pub fn sweep(&self, now: i64) -> Result<usize, ServiceError> {
        let expired = |body: &str| {
            serde_json::from_str::<Value>(body)
                .ok()
                .and_then(|v| v.get("exp").and_then(Value::as_i64))
                .is_none_or(|exp| now >= exp)
        };
        let mut gone = 0;
        for kind in ["c_nonce", "preauth", "access", "request"] {
            for (id, body) in self.store.objects(kind)? {
                if expired(&body) && self.store.take_object(kind, &id)?.is_some() {
                    gone += 1;
                    if kind == "request" {
                        for n in 0..MAX_RESPONSES {
                            gone += usize::from(
                                self.store
                                    .take_object("response", &format!("{id}/{n}"))?
                                    .is_some(),
                            );
                        }
                    }
                }
            }
        }
        Ok(gone)
    }
}
