//! Provenance (W3C PROV-DM): every import, presentation, authorisation,
//! use, delegation, withdrawal, expiry and deletion is an event linking
//! entities (credentials, presentations, authorisations, consent records,
//! use receipts), an activity and agents (issuer, holder, wallet, relying
//! party, agent). `trace` answers "where did my ID card go?"; the export is
//! PROV-JSON.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::rfc3339;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// The issuer issued the credential.
    Issue,
    /// The credential entered the wallet.
    Import,
    /// A presentation was made from the credential.
    Present,
    /// A data-use authorisation was signed.
    Authorize,
    /// A request was refused.
    Refuse,
    /// The relying party used the data (receipted).
    Use,
    /// An enterprise delegated presenting a licence to an agent.
    Delegate,
    /// An authorisation was withdrawn.
    Withdraw,
    /// An authorisation's window ended.
    Expire,
    /// The credential was deleted.
    Delete,
}

impl Activity {
    /// The stable name (as serialised): for logs, exports and display keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Issue => "issue",
            Activity::Import => "import",
            Activity::Present => "present",
            Activity::Authorize => "authorize",
            Activity::Refuse => "refuse",
            Activity::Use => "use",
            Activity::Delegate => "delegate",
            Activity::Withdraw => "withdraw",
            Activity::Expire => "expire",
            Activity::Delete => "delete",
        }
    }
}

/// The role an agent plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    /// Credential issuer.
    Issuer,
    /// The citizen or company holding the credential.
    Holder,
    /// The wallet software.
    Wallet,
    /// The relying party.
    RelyingParty,
    /// A staff member acting for a company.
    Agent,
}

impl AgentRole {
    /// The stable name (as serialised): for logs, exports and display keys.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRole::Issuer => "issuer",
            AgentRole::Holder => "holder",
            AgentRole::Wallet => "wallet",
            AgentRole::RelyingParty => "relying_party",
            AgentRole::Agent => "agent",
        }
    }
}

/// An agent taking part in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvAgent {
    /// Identifier (URL, URN).
    pub id: String,
    /// Role.
    pub role: AgentRole,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One provenance event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceEvent {
    /// Event (activity) id.
    pub id: String,
    /// When, Unix seconds.
    pub time: i64,
    /// What was done.
    pub activity: Activity,
    /// Credentials used or affected.
    pub credentials: Vec<String>,
    /// The entity generated (e.g. `presentation:…`, `authorization:…`, `use:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// The entity invalidated (e.g. a withdrawn authorisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidated: Option<String>,
    /// Agents involved.
    pub agents: Vec<ProvAgent>,
    /// For agents acting for a company: (agent id, company id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<(String, String)>,
    /// A short description (purpose, claim names; never claim values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn insert(map: &mut Map<String, Value>, section: &str, key: String, value: Value) {
    if let Some(Value::Object(s)) = map.get_mut(section) {
        s.insert(key, value);
    }
}

/// PROV-JSON (W3C PROV-JSON submission) of `events`.
pub fn to_prov_json(events: &[ProvenanceEvent]) -> Value {
    let mut doc = Map::new();
    doc.insert(
        "prefix".into(),
        json!({"satchel": "urn:satchel:", "dpv": "https://w3id.org/dpv#"}),
    );
    for section in [
        "entity",
        "activity",
        "agent",
        "wasGeneratedBy",
        "used",
        "wasAssociatedWith",
        "wasAttributedTo",
        "actedOnBehalfOf",
        "wasInvalidatedBy",
        "wasDerivedFrom",
    ] {
        doc.insert(section.into(), json!({}));
    }
    let mut n = 0;
    let mut rel = |doc: &mut Map<String, Value>, section: &str, value: Value| {
        n += 1;
        insert(doc, section, format!("_:{section}{n}"), value);
    };
    for e in events {
        let activity = format!("satchel:activity/{}", e.id);
        let time = rfc3339(e.time);
        let mut a = json!({"prov:type": format!("satchel:{}", serde_json::to_value(e.activity).unwrap_or_default().as_str().unwrap_or("")), "prov:startTime": time, "prov:endTime": time});
        if let Some(note) = &e.note {
            a["prov:label"] = Value::from(note.as_str());
        }
        insert(&mut doc, "activity", activity.clone(), a);
        for c in &e.credentials {
            let cred = format!("satchel:credential/{c}");
            insert(
                &mut doc,
                "entity",
                cred.clone(),
                json!({"prov:type": "satchel:Credential"}),
            );
            if e.activity == Activity::Issue || e.activity == Activity::Import {
                rel(
                    &mut doc,
                    "wasGeneratedBy",
                    json!({"prov:entity": cred, "prov:activity": activity, "prov:time": time}),
                );
            } else {
                rel(
                    &mut doc,
                    "used",
                    json!({"prov:activity": activity, "prov:entity": cred, "prov:time": time}),
                );
            }
            if let Some(g) = &e.generated {
                rel(
                    &mut doc,
                    "wasDerivedFrom",
                    json!({"prov:generatedEntity": format!("satchel:{g}"), "prov:usedEntity": cred}),
                );
            }
        }
        if let Some(g) = &e.generated {
            let ent = format!("satchel:{g}");
            insert(
                &mut doc,
                "entity",
                ent.clone(),
                json!({"prov:type": format!("satchel:{}", g.split(':').next().unwrap_or("Entity"))}),
            );
            rel(
                &mut doc,
                "wasGeneratedBy",
                json!({"prov:entity": ent, "prov:activity": activity, "prov:time": time}),
            );
        }
        if let Some(i) = &e.invalidated {
            let ent = format!("satchel:{i}");
            insert(
                &mut doc,
                "entity",
                ent.clone(),
                json!({"prov:type": format!("satchel:{}", i.split(':').next().unwrap_or("Entity"))}),
            );
            rel(
                &mut doc,
                "wasInvalidatedBy",
                json!({"prov:entity": ent, "prov:activity": activity, "prov:time": time}),
            );
        }
        for ag in &e.agents {
            let id = format!("satchel:agent/{}", ag.id);
            let mut v = json!({"prov:type": format!("satchel:{}", serde_json::to_value(ag.role).unwrap_or_default().as_str().unwrap_or(""))});
            if let Some(name) = &ag.name {
                v["prov:label"] = Value::from(name.as_str());
            }
            insert(&mut doc, "agent", id.clone(), v);
            rel(
                &mut doc,
                "wasAssociatedWith",
                json!({"prov:activity": activity, "prov:agent": id}),
            );
            if ag.role == AgentRole::Issuer {
                for c in &e.credentials {
                    rel(
                        &mut doc,
                        "wasAttributedTo",
                        json!({"prov:entity": format!("satchel:credential/{c}"), "prov:agent": id}),
                    );
                }
            }
        }
        if let Some((agent, company)) = &e.on_behalf_of {
            rel(
                &mut doc,
                "actedOnBehalfOf",
                json!({
                    "prov:delegate": format!("satchel:agent/{agent}"),
                    "prov:responsible": format!("satchel:agent/{company}"),
                    "prov:activity": activity,
                }),
            );
        }
    }
    Value::Object(doc)
}

#[cfg(test)]
mod name_tests {
    use super::{Activity, AgentRole};
    use crate::{AuthorizationState, MemberRole};

    fn serde_name<T: serde::Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn stable_names_are_the_serialised_names() {
        use Activity::*;
        for a in [
            Issue, Import, Present, Authorize, Refuse, Use, Delegate, Withdraw, Expire, Delete,
        ] {
            assert_eq!(a.as_str(), serde_name(a));
        }
        for r in [
            AgentRole::Issuer,
            AgentRole::Holder,
            AgentRole::Wallet,
            AgentRole::RelyingParty,
            AgentRole::Agent,
        ] {
            assert_eq!(r.as_str(), serde_name(r));
        }
        for s in [
            AuthorizationState::Active,
            AuthorizationState::Withdrawn,
            AuthorizationState::Expired,
        ] {
            assert_eq!(s.as_str(), serde_name(s));
        }
        for m in [
            MemberRole::LegalRepresentative,
            MemberRole::Administrator,
            MemberRole::Agent,
        ] {
            assert_eq!(m.as_str(), serde_name(m));
        }
    }
}
