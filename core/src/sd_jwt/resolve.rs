//! Replaces digests in an issuer-signed payload with the disclosed claims,
//! enforcing the processing rules of RFC 9901 §7.1 step 3–5.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{ClaimPath, Disclosure, PathElement, SdJwtError, SD_ALG, VC_NEVER_DISCLOSABLE};

/// The outcome of resolving: processed claims and, if asked, the claim path
/// of every disclosure (in input order).
pub(crate) struct Resolved {
    pub claims: Map<String, Value>,
    pub paths: Vec<ClaimPath>,
}

struct Resolver<'a> {
    disclosures: &'a [Disclosure],
    by_digest: HashMap<&'a str, usize>,
    used: Vec<bool>,
    seen: HashSet<String>,
    vc: bool,
    record_paths: bool,
    paths: Vec<ClaimPath>,
}

/// Resolves `payload` with `disclosures`. With `vc`, SD-JWT VC's
/// never-disclosable claims are enforced. With `record_paths`, the path of
/// each disclosure is returned (holders use it to choose what to disclose).
pub(crate) fn resolve(
    mut payload: Map<String, Value>,
    disclosures: &[Disclosure],
    vc: bool,
    record_paths: bool,
) -> Result<Resolved, SdJwtError> {
    match payload.remove("_sd_alg") {
        None => {}
        Some(Value::String(alg)) if alg == SD_ALG => {}
        Some(other) => {
            return Err(SdJwtError::UnsupportedSdAlg(match other {
                Value::String(s) => s.chars().take(32).collect(),
                _ => "non-string".into(),
            }))
        }
    }
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    for (i, d) in disclosures.iter().enumerate() {
        if by_digest.insert(d.digest.as_str(), i).is_some() {
            return Err(SdJwtError::DuplicateDisclosure);
        }
    }
    let mut r = Resolver {
        disclosures,
        by_digest,
        used: vec![false; disclosures.len()],
        seen: HashSet::new(),
        vc,
        record_paths,
        paths: vec![ClaimPath::default(); if record_paths { disclosures.len() } else { 0 }],
    };
    let mut path = Vec::new();
    let claims = r.object(payload, &mut path, 0)?;
    if r.used.iter().any(|u| !u) {
        return Err(SdJwtError::UnreferencedDisclosure);
    }
    Ok(Resolved {
        claims,
        paths: r.paths,
    })
}

/// Deeper nesting than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

impl Resolver<'_> {
    fn value(
        &mut self,
        v: Value,
        path: &mut Vec<PathElement>,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::Malformed("claims nested too deeply".into()));
        }
        Ok(match v {
            Value::Object(m) => Value::Object(self.object(m, path, depth + 1)?),
            Value::Array(a) => Value::Array(self.array(a, path, depth + 1)?),
            other => other,
        })
    }

    fn take(&mut self, digest: &str) -> Result<Option<usize>, SdJwtError> {
        if !self.seen.insert(digest.to_owned()) {
            return Err(SdJwtError::DuplicateDigest);
        }
        Ok(self.by_digest.get(digest).copied())
    }

    fn object(
        &mut self,
        mut map: Map<String, Value>,
        path: &mut Vec<PathElement>,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        let sd = map.remove("_sd");
        let mut out = Map::with_capacity(map.len());
        for (k, v) in map {
            path.push(PathElement::Key(k.clone()));
            let v = self.value(v, path, depth)?;
            path.pop();
            out.insert(k, v);
        }
        let Some(sd) = sd else { return Ok(out) };
        let Value::Array(digests) = sd else {
            return Err(SdJwtError::Malformed("_sd must be an array".into()));
        };
        for d in digests {
            let Value::String(d) = d else {
                return Err(SdJwtError::Malformed("_sd must hold strings".into()));
            };
            let Some(i) = self.take(&d)? else { continue };
            let disclosure = &self.disclosures[i];
            let Some(name) = disclosure.name.clone() else {
                return Err(SdJwtError::DisclosureKindMismatch);
            };
            if name == "_sd" || name == "..." {
                return Err(SdJwtError::ReservedClaimName(name));
            }
            if self.vc && path.is_empty() && VC_NEVER_DISCLOSABLE.contains(&name.as_str()) {
                return Err(SdJwtError::NotDisclosable(name));
            }
            if out.contains_key(&name) {
                return Err(SdJwtError::ClaimCollision(name));
            }
            self.used[i] = true;
            path.push(PathElement::Key(name.clone()));
            if self.record_paths {
                self.paths[i] = ClaimPath(path.clone());
            }
            let v = self.value(disclosure.value.clone(), path, depth)?;
            path.pop();
            out.insert(name, v);
        }
        Ok(out)
    }

    fn array(
        &mut self,
        items: Vec<Value>,
        path: &mut Vec<PathElement>,
        depth: usize,
    ) -> Result<Vec<Value>, SdJwtError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // Positions count the elements a holder sees (decoys excluded).
            path.push(PathElement::Index(out.len()));
            match item {
                Value::Object(o) if o.len() == 1 && o.contains_key("...") => {
                    let Some(Value::String(d)) = o.get("...") else {
                        return Err(SdJwtError::Malformed(
                            "array digest must be a string".into(),
                        ));
                    };
                    if let Some(i) = self.take(d)? {
                        let disclosure = &self.disclosures[i];
                        if disclosure.name.is_some() {
                            return Err(SdJwtError::DisclosureKindMismatch);
                        }
                        self.used[i] = true;
                        if self.record_paths {
                            self.paths[i] = ClaimPath(path.clone());
                        }
                        out.push(self.value(disclosure.value.clone(), path, depth)?);
                    }
                    // An unmatched digest is a decoy or an undisclosed element: dropped.
                }
                other => out.push(self.value(other, path, depth)?),
            }
            path.pop();
        }
        Ok(out)
    }
}
