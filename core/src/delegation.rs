//! Enterprise delegation: a company's space issues an SD-JWT VC to a named
//! agent's key saying which licences the agent may present, for which
//! purposes, to whom, and until when. The agent presents the licence (its
//! key-binding JWT signed with the agent key) together with the delegation;
//! the verifier checks the chain licence holder = delegator → agent.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{
    authz::AuthzError,
    sd_jwt::{self, IssueOptions},
    status_list::StatusReference,
    Jwk, Signer,
};

/// The `vct` of a delegation credential.
pub const DELEGATION_VCT: &str = "urn:satchel:delegation";

/// What an agent may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationScope {
    /// Licence types (`vct`) the agent may present.
    pub credential_types: Vec<String>,
    /// DPV purposes.
    pub purposes: Vec<String>,
    /// Relying parties (`client_id`).
    pub audiences: Vec<String>,
    /// Valid from, Unix seconds.
    pub not_before: i64,
    /// Valid until, Unix seconds.
    pub not_after: i64,
}

/// Issues a delegation credential from the enterprise key to `agent_key`.
pub fn issue_delegation(
    enterprise: &dyn Signer,
    enterprise_name: &str,
    agent_name: &str,
    agent_key: &Jwk,
    scope: &DelegationScope,
    status: Option<&StatusReference>,
    now: i64,
) -> Result<String, AuthzError> {
    if scope.credential_types.is_empty() || scope.purposes.is_empty() || scope.audiences.is_empty()
    {
        return Err(AuthzError::Malformed(
            "a delegation names licences, purposes and audiences".into(),
        ));
    }
    if scope.not_after <= scope.not_before {
        return Err(AuthzError::Malformed("delegation window is empty".into()));
    }
    let mut claims = json!({
        "iss": format!("urn:satchel:enterprise:{}", enterprise.public_jwk().thumbprint()),
        "vct": DELEGATION_VCT,
        "iat": now,
        "nbf": scope.not_before,
        "exp": scope.not_after,
        "cnf": {"jwk": agent_key.to_value()},
        "delegator": {"name": enterprise_name},
        "agent": {"name": agent_name, "role": "agent"},
        "scope": {
            "credential_types": scope.credential_types,
            "purposes": scope.purposes,
            "audiences": scope.audiences,
        },
    });
    if let Some(s) = status {
        claims["status"] = s.to_claim();
    }
    let claims: Map<String, Value> = claims.as_object().cloned().unwrap_or_default();
    let options = IssueOptions {
        decoys: 0,
        ..IssueOptions::default()
    };
    Ok(sd_jwt::issue(&claims, &[], &options, enterprise)?)
}

/// Checks that verified delegation claims cover presenting a `licence_vct`
/// to `audience` for `purpose`.
pub fn check_scope(
    delegation: &Map<String, Value>,
    licence_vct: &str,
    purpose: &str,
    audience: &str,
) -> Result<(), AuthzError> {
    if delegation.get("vct").and_then(Value::as_str) != Some(DELEGATION_VCT) {
        return Err(AuthzError::DelegationScope("not a delegation credential"));
    }
    let scope = delegation
        .get("scope")
        .ok_or(AuthzError::DelegationScope("no scope"))?;
    let has = |name: &str, wanted: &str| {
        scope
            .get(name)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(wanted)))
    };
    let purpose = purpose.strip_prefix("dpv:").unwrap_or(purpose);
    if !has("credential_types", licence_vct) {
        return Err(AuthzError::DelegationScope("licence type"));
    }
    if !has("purposes", purpose) {
        return Err(AuthzError::DelegationScope("purpose"));
    }
    if !has("audiences", audience) {
        return Err(AuthzError::DelegationScope("audience"));
    }
    Ok(())
}

/// Start of the text a company hands its agent (by QR code or by sharing).
pub const HAND_OVER_PREFIX: &str = "satchel-delegation:";

/// The text a company hands its agent: [`HAND_OVER_PREFIX`], the delegation
/// JWS, a line break, the licence as an SD-JWT. Both apps write and read
/// it; Satchel verifies both parts when the agent stores them, this only
/// joins them.
pub fn hand_over(delegation: &str, licence: &str) -> String {
    format!("{HAND_OVER_PREFIX}{delegation}\n{licence}")
}

/// Splits a hand-over into the delegation and the licence; `None` for
/// anything that is not one (a missing prefix, not two parts, a blank part,
/// whitespace inside a part).
pub fn read_hand_over(text: &str) -> Option<(&str, &str)> {
    let (delegation, licence) = text
        .trim()
        .strip_prefix(HAND_OVER_PREFIX)?
        .split_once('\n')?;
    let well_formed = |p: &str| !p.is_empty() && !p.chars().any(char::is_whitespace);
    (well_formed(delegation) && well_formed(licence)).then_some((delegation, licence))
}

#[cfg(test)]
mod hand_over_tests {
    use super::*;

    #[test]
    fn a_hand_over_round_trips_and_nothing_else_reads_as_one() {
        let text = hand_over("d.e.f", "a.b.c~d1~");
        assert_eq!(
            read_hand_over(&format!(" {text}\n")),
            Some(("d.e.f", "a.b.c~d1~"))
        );
        for bad in [
            "",
            "satchel-delegation:only-one-part",
            "d.e.f\na.b.c~",
            "satchel-delegation:d.e.f a.b.c~",
            "satchel-delegation:d.e.f\na.b\nc~",
            "satchel-delegation:\na.b.c~",
        ] {
            assert_eq!(read_hand_over(bad), None, "{bad:?}");
        }
    }
}
