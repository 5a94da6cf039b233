//! Replaces digests in an issuer-signed payload with the disclosed claims,
//! enforcing the processing rules of RFC 9901 §7.1 step 3–5.

use serde_json::{Map, Value};

use super::{disclosure::Parsed, ClaimPath, PathElement, SdJwtError, SD_ALG, VC_NEVER_DISCLOSABLE};

/// The outcome of resolving: processed claims and, if asked, the claim path
/// of every disclosure (in input order).
pub(crate) struct Resolved {
    pub claims: Map<String, Value>,
    pub paths: Vec<ClaimPath>,
}

struct Resolver<'a, 'b> {
    /// Names and values are moved out as they are placed (each at most once).
    disclosures: &'a mut [Parsed<'b>],
    /// Disclosure indices sorted by digest, for binary search.
    by_digest: Vec<usize>,
    used: Vec<bool>,
    /// Every digest met in the payload that matched no disclosure (decoys,
    /// undisclosed claims): checked for repeats once at the end.
    unmatched: Vec<String>,
    vc: bool,
    record_paths: bool,
    paths: Vec<ClaimPath>,
}

/// Resolves `payload` with `disclosures`. With `vc`, SD-JWT VC's
/// never-disclosable claims are enforced. With `record_paths`, the path of
/// each disclosure is returned (holders use it to choose what to disclose).
pub(crate) fn resolve(
    mut payload: Map<String, Value>,
    disclosures: &mut [Parsed<'_>],
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
    // Sorted vectors rather than hash sets: a presentation holds a handful
    // of disclosures and digests, and sorting is linear-logarithmic for a
    // hostile one too.
    let mut by_digest: Vec<usize> = (0..disclosures.len()).collect();
    by_digest.sort_unstable_by(|&a, &b| disclosures[a].digest.cmp(&disclosures[b].digest));
    if by_digest
        .windows(2)
        .any(|w| disclosures[w[0]].digest == disclosures[w[1]].digest)
    {
        return Err(SdJwtError::DuplicateDisclosure);
    }
    let count = disclosures.len();
    let mut r = Resolver {
        disclosures,
        by_digest,
        used: vec![false; count],
        unmatched: Vec::new(),
        vc,
        record_paths,
        paths: vec![ClaimPath::default(); if record_paths { count } else { 0 }],
    };
    let mut path = Vec::new();
    let claims = r.object(payload, &mut path, 0)?;
    r.unmatched.sort_unstable();
    if r.unmatched.windows(2).any(|w| w[0] == w[1]) {
        return Err(SdJwtError::DuplicateDigest);
    }
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

impl Resolver<'_, '_> {
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

    /// The disclosure behind `digest`, if presented; a digest seen twice
    /// in the payload is refused.
    fn take(&mut self, digest: String) -> Result<Option<usize>, SdJwtError> {
        let disclosures = &*self.disclosures;
        match self
            .by_digest
            .binary_search_by(|&i| disclosures[i].digest.as_bytes().cmp(digest.as_bytes()))
        {
            // A digest that meets its disclosure a second time is a repeat.
            Ok(at) if self.used[self.by_digest[at]] => Err(SdJwtError::DuplicateDigest),
            Ok(at) => Ok(Some(self.by_digest[at])),
            Err(_) => {
                self.unmatched.push(digest);
                Ok(None)
            }
        }
    }

    /// Whether `v` may hold digests below it (only objects and arrays do).
    fn nested(v: &Value) -> bool {
        matches!(v, Value::Object(_) | Value::Array(_))
    }

    fn object(
        &mut self,
        mut map: Map<String, Value>,
        path: &mut Vec<PathElement>,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        let sd = map.remove("_sd");
        // Resolved in place; scalars hold no digests, so no path is built for them.
        for (k, v) in map.iter_mut() {
            if Self::nested(v) {
                path.push(PathElement::Key(k.clone()));
                *v = self.value(std::mem::take(v), path, depth)?;
                path.pop();
            }
        }
        let mut out = map;
        let Some(sd) = sd else { return Ok(out) };
        let Value::Array(digests) = sd else {
            return Err(SdJwtError::Malformed("_sd must be an array".into()));
        };
        for d in digests {
            let Value::String(d) = d else {
                return Err(SdJwtError::Malformed("_sd must hold strings".into()));
            };
            let Some(i) = self.take(d)? else { continue };
            let Some(name) = self.disclosures[i].name.take() else {
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
            let value = std::mem::take(&mut self.disclosures[i].value);
            let v = if self.record_paths || Self::nested(&value) {
                path.push(PathElement::Key(name.clone()));
                if self.record_paths {
                    self.paths[i] = ClaimPath(path.clone());
                }
                let v = self.value(value, path, depth)?;
                path.pop();
                v
            } else {
                value
            };
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
                Value::Object(mut o) if o.len() == 1 && o.contains_key("...") => {
                    let Some(Value::String(d)) = o.remove("...") else {
                        return Err(SdJwtError::Malformed(
                            "array digest must be a string".into(),
                        ));
                    };
                    if let Some(i) = self.take(d)? {
                        if self.disclosures[i].name.is_some() {
                            return Err(SdJwtError::DisclosureKindMismatch);
                        }
                        self.used[i] = true;
                        if self.record_paths {
                            self.paths[i] = ClaimPath(path.clone());
                        }
                        let value = std::mem::take(&mut self.disclosures[i].value);
                        out.push(self.value(value, path, depth)?);
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
