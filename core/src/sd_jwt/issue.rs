//! Issuing SD-JWTs: conceal the claims at the given paths, add decoys, sign.

use serde_json::{Map, Value};

use super::{
    disclosure, path::same_name, ClaimPath, PathElement, SdJwtError, MAX_DEPTH, SD_ALG,
    VC_NEVER_DISCLOSABLE, VC_TYP,
};
use crate::{
    b64::{self, Digest},
    jws, Signer,
};

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
    decoys: usize,
    /// The encoded disclosures, each followed by `~`: the SD-JWT's tail.
    tail: String,
    /// One disclosure's JSON text, reused from one to the next.
    json: Vec<u8>,
}

/// Random bytes drawn from the operating system 4 KiB at a time and kept
/// per thread: a credential needs a salt per disclosure and a seed per
/// decoy, and one system call for a dozen credentials costs less than one
/// for each. Bytes are handed out once and wiped from the pool as they go.
struct RandomPool {
    block: Box<[u8; POOL_BYTES]>,
    at: usize,
}

const POOL_BYTES: usize = 4096;

thread_local! {
    static POOL: std::cell::RefCell<RandomPool> = std::cell::RefCell::new(RandomPool::new());
}

impl RandomPool {
    fn new() -> Self {
        RandomPool {
            block: Box::new(b64::random_bytes()),
            at: 0,
        }
    }

    /// The next `N` bytes, never handed out twice.
    fn take<const N: usize>(&mut self) -> [u8; N] {
        const { assert!(N <= POOL_BYTES) };
        if self.at + N > POOL_BYTES {
            *self.block = b64::random_bytes();
            self.at = 0;
        }
        let mut out = [0u8; N];
        let taken = &mut self.block[self.at..self.at + N];
        out.copy_from_slice(taken);
        taken.fill(0);
        self.at += N;
        out
    }

    /// A fresh 128-bit salt, base64url (22 characters).
    fn salt(&mut self) -> [u8; 22] {
        let mut out = [0u8; 22];
        // 16 bytes are always 22 base64url characters without padding.
        let _ = b64::encode_slice(self.take::<16>(), &mut out);
        out
    }
}

/// A salt from this thread's pool.
fn salt() -> [u8; 22] {
    POOL.with(|pool| pool.borrow_mut().salt())
}

/// `N` random bytes from this thread's pool.
fn random<const N: usize>() -> [u8; N] {
    POOL.with(|pool| pool.borrow_mut().take::<N>())
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
///
/// Claims that a verifier would read as SD-JWT structure are refused with
/// [`SdJwtError::InvalidIssueInput`]: `_sd` anywhere, `_sd_alg` at the top,
/// an array element that is an object whose only member is `...`, and
/// nesting deeper than 64 levels.
pub fn issue(
    claims: &Map<String, Value>,
    disclosable: &[ClaimPath],
    options: &IssueOptions,
    signer: &dyn Signer,
) -> Result<String, SdJwtError> {
    if claims.contains_key("_sd_alg") {
        return Err(reserved());
    }
    no_reserved_names_in(claims, 0)?;
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
        decoys: options.decoys,
        // Room for typical disclosures, so the tail seldom grows.
        tail: String::with_capacity(disclosable.len() * 96),
        json: Vec::with_capacity(128),
    };
    let all: Vec<usize> = (0..disclosable.len()).collect();
    let mut payload = c.object(claims, &all, 0);
    if let Some(i) = c.matched.iter().position(|m| !m) {
        return Err(SdJwtError::ClaimNotFound(disclosable[i].to_string()));
    }
    if let Node::Object { sd_alg, .. } = &mut payload {
        *sd_alg = true;
    }
    // Room for a typical credential's claims, so the text seldom grows:
    // the signed JWT (base64 of up to 2 KiB of claims and its signature)
    // and the disclosures after it, in one buffer.
    let mut out = String::with_capacity(2048 * 4 / 3 + 256 + c.tail.len());
    let kid = options.kid.as_deref();
    jws::sign_typed_into(&mut out, &options.typ, kid, &payload, 2048, signer)?;
    out.push('~');
    out.push_str(&c.tail);
    Ok(out)
}

/// The payload, or a disclosed value, as it will be written: borrowed from
/// the claims except where claims below it are concealed, so issuing
/// copies no claim and builds no `Value` tree.
enum Node<'a> {
    /// A value written as it is.
    Same(&'a Value),
    /// An object with some of its claims concealed: the kept members, then
    /// `_sd` (the digests, sorted) and, at the top, `_sd_alg`.
    Object {
        kept: Vec<(&'a str, Node<'a>)>,
        sd: Vec<Digest>,
        sd_alg: bool,
    },
    /// An array with some of its elements concealed.
    Array(Vec<Node<'a>>),
    /// A concealed array element, `{"...": digest}`.
    Element(Digest),
}

impl serde::Serialize for Node<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Node::Same(v) => v.serialize(s),
            Node::Object { kept, sd, sd_alg } => {
                let extra = usize::from(!sd.is_empty()) + usize::from(*sd_alg);
                let mut m = s.serialize_map(Some(kept.len() + extra))?;
                for (k, v) in kept {
                    m.serialize_entry(k, v)?;
                }
                if !sd.is_empty() {
                    m.serialize_entry("_sd", sd)?;
                }
                if *sd_alg {
                    m.serialize_entry("_sd_alg", SD_ALG)?;
                }
                m.end()
            }
            Node::Array(items) => s.collect_seq(items),
            Node::Element(digest) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("...", digest)?;
                m.end()
            }
        }
    }
}

fn reserved() -> SdJwtError {
    SdJwtError::InvalidIssueInput(
        "claims may not contain _sd, _sd_alg or an array element {\"...\": …}".into(),
    )
}

/// [`no_reserved_names`] for an object's members.
fn no_reserved_names_in(map: &Map<String, Value>, depth: usize) -> Result<(), SdJwtError> {
    if map.contains_key("_sd") {
        return Err(reserved());
    }
    map.values()
        .try_for_each(|v| no_reserved_names(v, depth + 1))
}

/// Refuses what a verifier would read as SD-JWT structure rather than as a
/// claim: an `_sd` member anywhere, or an array element that is an object
/// whose only member is `...`.
fn no_reserved_names(v: &Value, depth: usize) -> Result<(), SdJwtError> {
    if depth > MAX_DEPTH {
        return Err(SdJwtError::InvalidIssueInput(
            "claims nested too deeply".into(),
        ));
    }
    match v {
        Value::Object(m) => no_reserved_names_in(m, depth),
        Value::Array(items) => items.iter().try_for_each(|item| {
            if matches!(item, Value::Object(o) if o.len() == 1 && o.contains_key("...")) {
                return Err(reserved());
            }
            no_reserved_names(item, depth + 1)
        }),
        _ => Ok(()),
    }
}

impl Concealer<'_> {
    /// Appends the disclosure of `value` (named in an object, unnamed in
    /// an array) to the tail; returns its digest. Serialised straight from
    /// the borrowed parts, encoded into the tail, digested in place.
    fn disclose(&mut self, name: Option<&str>, value: &impl serde::Serialize) -> Digest {
        let salt = salt();
        // Base64url characters are ASCII.
        let salt = std::str::from_utf8(&salt).unwrap_or_default();
        self.json.clear();
        disclosure::write_text(salt, name, value, &mut self.json);
        let start = self.tail.len();
        b64::encode_into(&self.json, &mut self.tail);
        let digest = Digest::of(&self.tail.as_bytes()[start..]);
        self.tail.push('~');
        digest
    }

    /// Conceals `v` as a disclosure, first concealing the claims below it
    /// that `deeper` paths name; returns its digest.
    fn conceal(&mut self, name: Option<&str>, v: &Value, deeper: &[usize], depth: usize) -> Digest {
        if deeper.is_empty() {
            return self.disclose(name, v);
        }
        let v = self.value(v, deeper, depth + 1);
        self.disclose(name, &v)
    }

    /// Of the paths `here` (those naming this claim at `depth`): whether one
    /// ends there (it is marked as found), and those that go deeper.
    fn split(&mut self, here: impl Iterator<Item = usize>, depth: usize) -> (bool, Vec<usize>) {
        let mut exact = false;
        let mut deeper = Vec::new();
        for i in here {
            if self.paths[i].0.len() == depth + 1 {
                self.matched[i] = true;
                exact = true;
            } else {
                deeper.push(i);
            }
        }
        (exact, deeper)
    }

    /// The payload form of `v`: itself, or with the claims at the active
    /// paths below it concealed. `active` lists the paths still being
    /// followed; `depth` how far along.
    fn value<'a>(&mut self, v: &'a Value, active: &[usize], depth: usize) -> Node<'a> {
        if active.is_empty() {
            return Node::Same(v);
        }
        match v {
            Value::Object(m) => self.object(m, active, depth),
            Value::Array(a) => Node::Array(self.array(a, active, depth)),
            other => Node::Same(other),
        }
    }

    fn object<'a>(
        &mut self,
        map: &'a Map<String, Value>,
        active: &[usize],
        depth: usize,
    ) -> Node<'a> {
        let mut kept = Vec::with_capacity(map.len());
        let mut sd = Vec::new();
        for (k, v) in map {
            let paths = self.paths;
            let here = active.iter().copied().filter(
                |&i| matches!(paths[i].0.get(depth), Some(PathElement::Key(p)) if same_name(p, k)),
            );
            let (exact, deeper) = self.split(here, depth);
            if !exact {
                kept.push((k.as_str(), self.value(v, &deeper, depth + 1)));
            } else {
                sd.push(self.conceal(Some(k), v, &deeper, depth));
            }
        }
        if !sd.is_empty() {
            for _ in 0..self.decoys {
                sd.push(Digest::of(&random::<32>()));
            }
            // Sorted so the order reveals nothing about the original claim order.
            sd.sort_unstable();
        }
        Node::Object {
            kept,
            sd,
            sd_alg: false,
        }
    }

    fn array<'a>(&mut self, items: &'a [Value], active: &[usize], depth: usize) -> Vec<Node<'a>> {
        let mut out = Vec::with_capacity(items.len());
        for (idx, v) in items.iter().enumerate() {
            let paths = self.paths;
            let here = active
                .iter()
                .copied()
                .filter(|&i| match paths[i].0.get(depth) {
                    Some(PathElement::Index(j)) => *j == idx,
                    Some(PathElement::AllElements) => true,
                    _ => false,
                });
            let (exact, deeper) = self.split(here, depth);
            if !exact {
                out.push(self.value(v, &deeper, depth + 1));
            } else {
                out.push(Node::Element(self.conceal(None, v, &deeper, depth)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::RandomPool;
    use crate::b64;

    #[test]
    fn the_pool_refills_and_never_repeats_a_salt() {
        let mut pool = RandomPool::new();
        // 300 salts of 16 bytes cross the 4 KiB block once.
        let salts: std::collections::HashSet<[u8; 22]> = (0..300).map(|_| pool.salt()).collect();
        assert_eq!(salts.len(), 300);
        assert!(salts
            .iter()
            .all(|s| b64::decode(std::str::from_utf8(s).unwrap()).unwrap().len() == 16));
        // What was handed out is wiped; what is left is not.
        assert!(pool.at > 0 && pool.block[..pool.at].iter().all(|&b| b == 0));
        assert!(pool.block[pool.at..].iter().any(|&b| b != 0));
    }
}
