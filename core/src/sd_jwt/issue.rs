//! Issuing SD-JWTs: conceal the claims at the given paths, add decoys, sign.

use serde_json::{Map, Value};

use super::{ClaimPath, Disclosure, PathElement, SdJwtError, SD_ALG, VC_NEVER_DISCLOSABLE, VC_TYP};
use crate::{b64, jws, Signer};

/// How to issue.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    /// The header `typ`; [`VC_TYP`] for an SD-JWT VC.
    pub typ: String,
    /// Enforce SD-JWT VC rules: `vct` present, protected claims never concealed.
    pub vc: bool,
    /// Decoy digests added to every `_sd` array (RFC 9901 §4.2.5).
    pub decoys: usize,
    /// Optional `kid` header.
    pub kid: Option<String>,
}

impl Default for IssueOptions {
    fn default() -> Self {
        IssueOptions {
            typ: VC_TYP.into(),
            vc: true,
            decoys: 2,
            kid: None,
        }
    }
}

struct Concealer<'p> {
    paths: &'p [ClaimPath],
    matched: Vec<bool>,
    disclosures: Vec<Disclosure>,
    decoys: usize,
    random: RandomPool,
}

/// Random bytes drawn from the operating system a block at a time: a
/// credential needs a salt per disclosure and a seed per decoy, and one
/// system call for all of them costs less than one each.
struct RandomPool {
    block: [u8; 256],
    at: usize,
}

impl RandomPool {
    fn new() -> Self {
        RandomPool {
            block: b64::random_bytes(),
            at: 0,
        }
    }

    /// The next `N` bytes, never handed out twice.
    fn take<const N: usize>(&mut self) -> [u8; N] {
        if self.at + N > self.block.len() {
            *self = RandomPool::new();
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&self.block[self.at..self.at + N]);
        self.at += N;
        out
    }

    /// A fresh 128-bit salt, base64url.
    fn salt(&mut self) -> String {
        b64::encode(self.take::<16>())
    }
}

/// Issues an SD-JWT VC over `claims` (a JSON object holding `vct`) bound
/// to `holder` (`cnf.jwk`) when given, with the default options.
pub fn issue_vc(
    claims_json: &str,
    disclosable: &[ClaimPath],
    holder: Option<&crate::Jwk>,
    signer: &dyn Signer,
) -> Result<String, SdJwtError> {
    let mut claims: Map<String, Value> = serde_json::from_str(claims_json)
        .map_err(|_| SdJwtError::InvalidIssueInput("claims must be a JSON object".into()))?;
    if let Some(h) = holder {
        claims.insert("cnf".into(), serde_json::json!({ "jwk": h.to_value() }));
    }
    issue(&claims, disclosable, &IssueOptions::default(), signer)
}

/// Issues an SD-JWT over `claims`, concealing each claim in `disclosable`.
/// A path that is a prefix of another makes the nested claim recursively
/// disclosable. Returns the compact SD-JWT with all disclosures.
pub fn issue(
    claims: &Map<String, Value>,
    disclosable: &[ClaimPath],
    options: &IssueOptions,
    signer: &dyn Signer,
) -> Result<String, SdJwtError> {
    if claims.contains_key("_sd") || claims.contains_key("_sd_alg") {
        return Err(SdJwtError::InvalidIssueInput(
            "claims may not contain _sd or _sd_alg".into(),
        ));
    }
    if options.vc {
        if !claims.get("vct").is_some_and(Value::is_string) {
            return Err(SdJwtError::MissingVct);
        }
        for p in disclosable {
            if let Some(PathElement::Key(k)) = p.0.first() {
                if p.0.len() == 1 && VC_NEVER_DISCLOSABLE.contains(&k.as_str()) {
                    return Err(SdJwtError::NotDisclosable(k.clone()));
                }
            }
        }
    }
    let mut c = Concealer {
        paths: disclosable,
        matched: vec![false; disclosable.len()],
        disclosures: Vec::new(),
        decoys: options.decoys,
        random: RandomPool::new(),
    };
    let all: Vec<usize> = (0..disclosable.len()).collect();
    let mut payload = c.object(claims.clone(), &all, 0);
    if let Some(i) = c.matched.iter().position(|m| !m) {
        return Err(SdJwtError::ClaimNotFound(disclosable[i].to_string()));
    }
    payload.insert("_sd_alg".into(), Value::String(SD_ALG.into()));
    let jwt = jws::sign_typed(
        &options.typ,
        options.kid.as_deref(),
        &Value::Object(payload),
        signer,
    )?;
    let mut out = jwt;
    out.push('~');
    for d in &c.disclosures {
        out.push_str(&d.encoded);
        out.push('~');
    }
    Ok(out)
}

impl Concealer<'_> {
    /// `active` lists the paths still being followed; `depth` how far along.
    fn value(&mut self, v: Value, active: &[usize], depth: usize) -> Value {
        if active.is_empty() {
            return v;
        }
        match v {
            Value::Object(m) => Value::Object(self.object(m, active, depth)),
            Value::Array(a) => Value::Array(self.array(a, active, depth)),
            other => other,
        }
    }

    fn object(
        &mut self,
        map: Map<String, Value>,
        active: &[usize],
        depth: usize,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        let mut digests = Vec::new();
        for (k, v) in map {
            let here: Vec<usize> = active
                .iter()
                .copied()
                .filter(
                    |&i| matches!(self.paths[i].0.get(depth), Some(PathElement::Key(p)) if *p == k),
                )
                .collect();
            let (exact, deeper): (Vec<usize>, Vec<usize>) = here
                .into_iter()
                .partition(|&i| self.paths[i].0.len() == depth + 1);
            let v = self.value(v, &deeper, depth + 1);
            if exact.is_empty() {
                out.insert(k, v);
            } else {
                exact.iter().for_each(|&i| self.matched[i] = true);
                let d = Disclosure::with_salt(&self.random.salt(), Some(&k), v);
                digests.push(d.digest.clone());
                self.disclosures.push(d);
            }
        }
        if !digests.is_empty() {
            for _ in 0..self.decoys {
                digests.push(b64::sha256_b64(&self.random.take::<32>()));
            }
            // Sorted so the order reveals nothing about the original claim order.
            digests.sort_unstable();
            out.insert(
                "_sd".into(),
                Value::Array(digests.into_iter().map(Value::String).collect()),
            );
        }
        out
    }

    fn array(&mut self, items: Vec<Value>, active: &[usize], depth: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(items.len());
        for (idx, v) in items.into_iter().enumerate() {
            let here: Vec<usize> = active
                .iter()
                .copied()
                .filter(|&i| match self.paths[i].0.get(depth) {
                    Some(PathElement::Index(j)) => *j == idx,
                    Some(PathElement::AllElements) => true,
                    _ => false,
                })
                .collect();
            let (exact, deeper): (Vec<usize>, Vec<usize>) = here
                .into_iter()
                .partition(|&i| self.paths[i].0.len() == depth + 1);
            let v = self.value(v, &deeper, depth + 1);
            if exact.is_empty() {
                out.push(v);
            } else {
                exact.iter().for_each(|&i| self.matched[i] = true);
                let d = Disclosure::with_salt(&self.random.salt(), None, v);
                let mut o = Map::new();
                o.insert("...".into(), Value::String(d.digest.clone()));
                self.disclosures.push(d);
                out.push(Value::Object(o));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::RandomPool;

    #[test]
    fn the_pool_refills_and_never_repeats_a_salt() {
        let mut pool = RandomPool::new();
        // 100 salts of 16 bytes cross the 256-byte block six times.
        let salts: std::collections::HashSet<String> = (0..100).map(|_| pool.salt()).collect();
        assert_eq!(salts.len(), 100);
        assert!(salts.iter().all(|s| s.len() == 22));
    }
}
