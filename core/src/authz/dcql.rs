//! The subset of DCQL (OpenID4VP 1.0 §6) Satchel uses: SD-JWT VC credential
//! queries by `vct`, claims by path, and `claim_sets` to mark which claims
//! are required (in every set) and which optional.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AuthzError;
use crate::{
    sd_jwt::{ClaimPath, VC_TYP},
    wallet::{Credential, CredentialStatus},
};

/// A DCQL query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// Credential queries.
    pub credentials: Vec<CredentialQuery>,
}

/// One credential query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Query id, unique in the query; keys the `vp_token`.
    pub id: String,
    /// Always `dc+sd-jwt` here.
    pub format: String,
    /// `{"vct_values": [...]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    /// Claims asked for.
    pub claims: Vec<ClaimQuery>,
    /// Acceptable combinations of claim ids; absent means all claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

/// One claim asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimQuery {
    /// Claim id (needed when `claim_sets` is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Claim path (JSON array form).
    pub path: Value,
}

/// How a credential query can be answered from the wallet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryMatch {
    /// The query id.
    pub query_id: String,
    /// Claims every claim set needs.
    pub required: Vec<ClaimPath>,
    /// Claims some claim sets leave out.
    pub optional: Vec<ClaimPath>,
    /// Credentials that can answer it.
    pub candidates: Vec<Candidate>,
}

/// One credential that can answer a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Credential id.
    pub credential_id: String,
    /// Its type.
    pub vct: String,
    /// Its issuer.
    pub issuer: Option<String>,
    /// Asked-for claims it has.
    pub available: Vec<ClaimPath>,
    /// Asked-for claims it lacks.
    pub missing: Vec<ClaimPath>,
}

impl DcqlQuery {
    /// Checks ids, format, paths and claim sets.
    pub fn validate(&self) -> Result<(), AuthzError> {
        if self.credentials.is_empty() {
            return Err(AuthzError::Malformed(
                "DCQL query asks for no credential".into(),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for q in &self.credentials {
            if !ids.insert(q.id.as_str()) {
                return Err(AuthzError::Malformed(format!(
                    "duplicate credential query id {}",
                    q.id
                )));
            }
            if q.format != VC_TYP {
                return Err(AuthzError::Malformed(format!(
                    "unsupported format {}",
                    q.format
                )));
            }
            if q.claims.is_empty() {
                return Err(AuthzError::Malformed(format!(
                    "query {} asks for no claim",
                    q.id
                )));
            }
            q.paths()?;
            for set in q.claim_sets.iter().flatten() {
                for id in set {
                    if !q.claims.iter().any(|c| c.id.as_deref() == Some(id)) {
                        return Err(AuthzError::Malformed(format!(
                            "claim set names unknown claim {id}"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The credential query with this id.
    pub fn query(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|q| q.id == id)
    }
}

impl CredentialQuery {
    /// An SD-JWT VC query for `vct_values` asking `required` claims and,
    /// optionally, `optional` ones (expressed as two claim sets: required
    /// only, and all).
    pub fn sd_jwt_vc(
        id: &str,
        vct_values: &[String],
        required: &[ClaimPath],
        optional: &[ClaimPath],
    ) -> Self {
        let claims: Vec<ClaimQuery> = required
            .iter()
            .chain(optional)
            .enumerate()
            .map(|(i, p)| ClaimQuery {
                id: Some(format!("c{i}")),
                path: p.to_json(),
            })
            .collect();
        let claim_sets = (!optional.is_empty()).then(|| {
            vec![
                (0..required.len()).map(|i| format!("c{i}")).collect(),
                claims.iter().filter_map(|c| c.id.clone()).collect(),
            ]
        });
        CredentialQuery {
            id: id.into(),
            format: VC_TYP.into(),
            meta: Some(serde_json::json!({ "vct_values": vct_values })),
            claims,
            claim_sets,
        }
    }

    /// The accepted `vct` values (empty: any).
    pub fn vct_values(&self) -> Vec<String> {
        self.meta
            .as_ref()
            .and_then(|m| m.get("vct_values"))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// All requested claim paths.
    pub fn paths(&self) -> Result<Vec<ClaimPath>, AuthzError> {
        self.claims
            .iter()
            .map(|c| {
                ClaimPath::from_json(&c.path).map_err(|e| AuthzError::Malformed(e.to_string()))
            })
            .collect()
    }

    /// Splits the requested paths into (required, optional).
    pub fn required_and_optional(&self) -> Result<(Vec<ClaimPath>, Vec<ClaimPath>), AuthzError> {
        let paths = self.paths()?;
        let Some(sets) = self.claim_sets.as_ref().filter(|s| !s.is_empty()) else {
            return Ok((paths, Vec::new()));
        };
        let (mut req, mut opt) = (Vec::new(), Vec::new());
        for (c, p) in self.claims.iter().zip(paths) {
            let in_all =
                c.id.as_ref()
                    .is_some_and(|id| sets.iter().all(|s| s.contains(id)));
            if in_all {
                req.push(p)
            } else {
                opt.push(p)
            }
        }
        Ok((req, opt))
    }

    /// Whether `path` was asked for (or lies inside a claim that was).
    pub fn covers(&self, path: &ClaimPath) -> Result<bool, AuthzError> {
        Ok(self
            .paths()?
            .iter()
            .any(|p| p.0.len() <= path.0.len() && p.related_to(&path.0)))
    }

    /// Matches this query against credentials.
    pub fn match_credentials(
        &self,
        credentials: &[Credential],
        now: i64,
    ) -> Result<QueryMatch, AuthzError> {
        let (required, optional) = self.required_and_optional()?;
        let vcts = self.vct_values();
        let candidates = credentials
            .iter()
            .filter(|c| {
                c.status(now) == CredentialStatus::Valid
                    && (vcts.is_empty() || vcts.contains(&c.vct))
            })
            .map(|c| {
                let claims = Value::Object(c.claims.clone());
                let (available, missing) = required
                    .iter()
                    .chain(&optional)
                    .cloned()
                    .partition(|p| p.exists_in(&claims));
                Candidate {
                    credential_id: c.id.clone(),
                    vct: c.vct.clone(),
                    issuer: c.issuer.clone(),
                    available,
                    missing,
                }
            })
            .collect();
        Ok(QueryMatch {
            query_id: self.id.clone(),
            required,
            optional,
            candidates,
        })
    }
}
