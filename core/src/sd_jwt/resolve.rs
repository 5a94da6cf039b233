//! Replaces digests in an issuer-signed payload with the disclosed claims,
//! enforcing the processing rules of RFC 9901 §7.1 step 3–5.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::{
    disclosure::Parsed, path::Step, ClaimPath, PathElement, SdJwtError, MAX_DEPTH, SD_ALG,
    VC_NEVER_DISCLOSABLE,
};
use crate::jws::{self, JoseError};

/// An issuer-signed payload as the resolver reads it: the claims, and the
/// top-level `_sd` (where nearly every digest sits) and `_sd_alg` kept
/// aside, borrowed from the payload text rather than copied into `Value`s.
pub(crate) struct Payload<'a> {
    claims: Map<String, Value>,
    sd: Option<Digests<'a>>,
    /// `_sd_alg`: its text if it is a string.
    sd_alg: Option<MaybeStr<'a>>,
}

/// An `_sd` member: its elements in order (`None` for one that is not a
/// string, refused when the resolver reaches it), or not an array.
enum Digests<'a> {
    List(Vec<Option<Cow<'a, str>>>),
    NotArray,
}

impl<'a> Payload<'a> {
    /// Reads a payload, which must be a JSON object.
    pub(crate) fn read(json: &'a [u8]) -> Result<Self, JoseError> {
        jws::from_json(json).map_err(|_| JoseError::NotObject("payload"))
    }
}

impl<'de> serde::Deserialize<'de> for Payload<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Payload<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Payload<'de>, A::Error> {
                let mut claims = Map::new();
                let (mut sd, mut sd_alg) = (None, None);
                // A repeated member keeps its last value, as for any JSON object read here.
                while let Some(Text(key)) = m.next_key()? {
                    match key.as_ref() {
                        "_sd" => sd = Some(m.next_value()?),
                        "_sd_alg" => sd_alg = Some(m.next_value()?),
                        _ => {
                            claims.insert(key.into_owned(), m.next_value()?);
                        }
                    }
                }
                Ok(Payload { claims, sd, sd_alg })
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON string, borrowed from the text when it holds no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> serde::de::Visitor<'de> for TextVisitor {
    type Value = Text<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

/// Visits any JSON value, keeping only a string: `_sd` and its elements
/// may be anything in a hostile payload, and a wrong one is reported by
/// what it is (a [`SdJwtError::Malformed`]), not as broken JSON. What is
/// not kept is still read as a `Value`, so it is held to the same rules
/// (nesting limit, number range, UTF-8) as every other member.
macro_rules! other_kinds {
    ($other:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut m: A,
        ) -> Result<Self::Value, A::Error> {
            while m.next_entry::<String, Value>()?.is_some() {}
            Ok($other)
        }
    };
}

/// Any JSON value, kept only if it is a string (borrowed from the text
/// when it holds no escapes): an `_sd` element, or a key-binding member
/// compared with what the verifier expects.
pub(crate) struct MaybeStr<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for MaybeStr<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = MaybeStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(Some(Cow::Owned(v))))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<MaybeStr<'de>, A::Error> {
                while seq.next_element::<Value>()?.is_some() {}
                Ok(MaybeStr(None))
            }
            other_kinds!(MaybeStr(None));
        }
        d.deserialize_any(V)
    }
}

impl From<Value> for Digests<'_> {
    /// An `_sd` member met below the top level, already read as a value.
    fn from(v: Value) -> Self {
        let Value::Array(items) = v else {
            return Digests::NotArray;
        };
        Digests::List(
            items
                .into_iter()
                .map(|item| match item {
                    Value::String(d) => Some(Cow::Owned(d)),
                    _ => None,
                })
                .collect(),
        )
    }
}

impl<'de> serde::Deserialize<'de> for Digests<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Digests<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an _sd member")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Digests<'de>, A::Error> {
                let mut list = Vec::with_capacity(16);
                while let Some(MaybeStr(d)) = seq.next_element()? {
                    list.push(d);
                }
                Ok(Digests::List(list))
            }
            fn visit_str<E>(self, _: &str) -> Result<Digests<'de>, E> {
                Ok(Digests::NotArray)
            }
            other_kinds!(Digests::NotArray);
        }
        d.deserialize_any(V)
    }
}

/// What the resolver notes about where each disclosure sits.
#[derive(Clone, Copy)]
pub(crate) enum Record<'r> {
    /// Its claim path (a verifier reports what was disclosed).
    Paths,
    /// Whether one of these paths leads to it or into it (a holder choosing
    /// what to present): nothing is copied.
    RelatedTo(&'r [ClaimPath]),
}

/// The outcome of resolving: processed claims and, in input order, each
/// disclosure's claim path ([`Record::Paths`]) or whether it is related to
/// a requested path ([`Record::RelatedTo`]); the other list is empty.
pub(crate) struct Resolved {
    pub claims: Map<String, Value>,
    pub paths: Vec<ClaimPath>,
    pub related: Vec<bool>,
}

/// Where the resolver stands: the steps down from the claims, each held on
/// the stack of the level that took it.
struct At<'a> {
    up: Option<&'a At<'a>>,
    step: Step<'a>,
    /// The length of the path down to here.
    len: usize,
}

impl<'a> At<'a> {
    fn below(up: Option<&'a At<'a>>, step: Step<'a>) -> Self {
        At {
            up,
            step,
            len: up.map_or(0, |a| a.len) + 1,
        }
    }
}

/// The claim path down to `at`.
fn path_of(at: &At<'_>) -> ClaimPath {
    let mut steps = vec![PathElement::AllElements; at.len];
    let mut cur = Some(at);
    while let Some(a) = cur {
        // Each level is one shorter than the one below it.
        if let Some(slot) = a.len.checked_sub(1).and_then(|i| steps.get_mut(i)) {
            *slot = a.step.to_element();
        }
        cur = a.up;
    }
    ClaimPath(steps)
}

/// Whether `pattern` and the path down to `at` lead into one another
/// ([`ClaimPath::related_to`] without building the path).
fn leads(pattern: &ClaimPath, at: &At<'_>) -> bool {
    let mut cur = Some(at);
    while let Some(a) = cur {
        let element = a.len.checked_sub(1).and_then(|i| pattern.0.get(i));
        if element.is_some_and(|e| !e.matches(a.step)) {
            return false;
        }
        cur = a.up;
    }
    true
}

struct Resolver<'a, 'b, 'p, 'r> {
    /// Names and values are moved out as they are placed (each at most once).
    disclosures: &'a mut [Parsed<'b>],
    /// Disclosure indices sorted by digest, for binary search.
    by_digest: Vec<usize>,
    /// Every digest met in the payload that matched no disclosure (decoys,
    /// undisclosed claims): checked for repeats once at the end.
    unmatched: Vec<Cow<'p, str>>,
    vc: bool,
    record: Record<'r>,
    paths: Vec<ClaimPath>,
    related: Vec<bool>,
}

/// Resolves `payload` with `disclosures`. With `vc`, SD-JWT VC's
/// never-disclosable claims are enforced. `record` says what is noted of
/// each disclosure's place.
pub(crate) fn resolve(
    payload: Payload<'_>,
    disclosures: &mut [Parsed<'_>],
    vc: bool,
    record: Record<'_>,
) -> Result<Resolved, SdJwtError> {
    let Payload {
        claims: payload,
        sd,
        sd_alg,
    } = payload;
    match sd_alg {
        None => {}
        Some(MaybeStr(Some(alg))) if alg == SD_ALG => {}
        Some(MaybeStr(Some(other))) => {
            return Err(SdJwtError::UnsupportedSdAlg(
                other.chars().take(32).collect(),
            ))
        }
        Some(MaybeStr(None)) => return Err(SdJwtError::UnsupportedSdAlg("non-string".into())),
    }
    // Sorted vectors rather than hash sets: a presentation holds a handful
    // of disclosures and digests, and sorting is linear-logarithmic for a
    // hostile one too.
    let mut by_digest: Vec<usize> = (0..disclosures.len()).collect();
    let digest = |i: usize| disclosures[i].digest.as_bytes();
    by_digest.sort_unstable_by(|&a, &b| digest_order(digest(a), digest(b)));
    if by_digest
        .windows(2)
        .any(|w| digest_order(digest(w[0]), digest(w[1])).is_eq())
    {
        return Err(SdJwtError::DuplicateDisclosure);
    }
    let count = disclosures.len();
    let mut r = Resolver {
        disclosures,
        by_digest,
        // Room for a credential's decoys and undisclosed claims.
        unmatched: Vec::with_capacity(16),
        vc,
        record,
        paths: match record {
            Record::Paths => vec![ClaimPath::default(); count],
            Record::RelatedTo(_) => Vec::new(),
        },
        related: match record {
            Record::Paths => Vec::new(),
            Record::RelatedTo(_) => vec![false; count],
        },
    };
    let claims = r.object(payload, sd, None, 0)?;
    r.unmatched
        .sort_unstable_by(|a, b| digest_order(a.as_bytes(), b.as_bytes()));
    if r.unmatched
        .windows(2)
        .any(|w| digest_order(w[0].as_bytes(), w[1].as_bytes()).is_eq())
    {
        return Err(SdJwtError::DuplicateDigest);
    }
    if r.disclosures.iter().any(|d| !d.used) {
        return Err(SdJwtError::UnreferencedDisclosure);
    }
    Ok(Resolved {
        claims,
        paths: r.paths,
        related: r.related,
    })
}

/// Orders digests as their bytes do, comparing an 8-byte prefix first:
/// digests are uniformly random, so nearly every comparison ends there,
/// without a call to compare 43 bytes. (A shorter text is padded with
/// zeros, which sort before every byte, so the order stays the bytes'.)
fn digest_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    fn prefix(d: &[u8]) -> u64 {
        // A fixed-size load for every real digest; only a short text is
        // copied (a variable-length copy is a library call).
        if let Some(p) = d.first_chunk::<8>() {
            return u64::from_be_bytes(*p);
        }
        let mut p = [0u8; 8];
        p[..d.len()].copy_from_slice(d);
        u64::from_be_bytes(p)
    }
    prefix(a).cmp(&prefix(b)).then_with(|| a.cmp(b))
}

impl<'p> Resolver<'_, '_, 'p, '_> {
    fn value(&mut self, v: Value, at: Option<&At<'_>>, depth: usize) -> Result<Value, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::Malformed("claims nested too deeply".into()));
        }
        Ok(match v {
            Value::Object(mut m) => {
                let sd = m.remove("_sd").map(Digests::from);
                Value::Object(self.object(m, sd, at, depth + 1)?)
            }
            Value::Array(a) => Value::Array(self.array(a, at, depth + 1)?),
            other => other,
        })
    }

    /// Notes where disclosure `i` was placed.
    fn note(&mut self, i: usize, at: &At<'_>) {
        match self.record {
            Record::Paths => {
                if let Some(slot) = self.paths.get_mut(i) {
                    *slot = path_of(at);
                }
            }
            Record::RelatedTo(patterns) => {
                if let Some(slot) = self.related.get_mut(i) {
                    *slot = patterns.iter().any(|p| leads(p, at));
                }
            }
        }
    }

    /// The disclosure behind `digest`, if presented; a digest seen twice
    /// in the payload is refused.
    fn take(&mut self, digest: Cow<'p, str>) -> Result<Option<usize>, SdJwtError> {
        let disclosures = &*self.disclosures;
        match self.by_digest.binary_search_by(|&i| {
            digest_order(disclosures[i].digest.as_bytes(), digest.as_bytes())
        }) {
            // A digest that meets its disclosure a second time is a repeat.
            Ok(at) if disclosures[self.by_digest[at]].used => Err(SdJwtError::DuplicateDigest),
            Ok(at) => Ok(Some(self.by_digest[at])),
            Err(_) => {
                self.unmatched.push(digest);
                Ok(None)
            }
        }
    }

    /// Resolves an object whose `_sd` member (if any) was taken out as `sd`.
    fn object(
        &mut self,
        mut map: Map<String, Value>,
        sd: Option<Digests<'p>>,
        at: Option<&At<'_>>,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        // Resolved in place; scalars hold no digests.
        for (k, v) in map.iter_mut() {
            if matches!(v, Value::Object(_) | Value::Array(_)) {
                let here = At::below(at, Step::Key(k));
                *v = self.value(std::mem::take(v), Some(&here), depth)?;
            }
        }
        let mut out = map;
        let digests = match sd {
            None => return Ok(out),
            Some(Digests::List(digests)) => digests,
            Some(Digests::NotArray) => {
                return Err(SdJwtError::Malformed("_sd must be an array".into()))
            }
        };
        for d in digests {
            let Some(d) = d else {
                return Err(SdJwtError::Malformed("_sd must hold strings".into()));
            };
            let Some(i) = self.take(d)? else { continue };
            let Some(name) = self.disclosures[i].name.take() else {
                return Err(SdJwtError::DisclosureKindMismatch);
            };
            if name == "_sd" || name == "..." {
                return Err(SdJwtError::ReservedClaimName(name));
            }
            if self.vc && at.is_none() && VC_NEVER_DISCLOSABLE.contains(&name.as_str()) {
                return Err(SdJwtError::NotDisclosable(name));
            }
            if out.contains_key(&name) {
                return Err(SdJwtError::ClaimCollision(name));
            }
            self.disclosures[i].used = true;
            let value = std::mem::take(&mut self.disclosures[i].value);
            let v = {
                let here = At::below(at, Step::Key(&name));
                self.note(i, &here);
                self.value(value, Some(&here), depth)?
            };
            out.insert(name, v);
        }
        Ok(out)
    }

    fn array(
        &mut self,
        items: Vec<Value>,
        at: Option<&At<'_>>,
        depth: usize,
    ) -> Result<Vec<Value>, SdJwtError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // Positions count the elements a holder sees (decoys excluded).
            let here = At::below(at, Step::Index(out.len()));
            match item {
                Value::Object(mut o) if o.len() == 1 && o.contains_key("...") => {
                    let Some(Value::String(d)) = o.remove("...") else {
                        return Err(SdJwtError::Malformed(
                            "array digest must be a string".into(),
                        ));
                    };
                    if let Some(i) = self.take(Cow::Owned(d))? {
                        if self.disclosures[i].name.is_some() {
                            return Err(SdJwtError::DisclosureKindMismatch);
                        }
                        self.disclosures[i].used = true;
                        self.note(i, &here);
                        let value = std::mem::take(&mut self.disclosures[i].value);
                        out.push(self.value(value, Some(&here), depth)?);
                    }
                    // An unmatched digest is a decoy or an undisclosed element: dropped.
                }
                other => out.push(self.value(other, Some(&here), depth)?),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{digest_order, leads, path_of, At, ClaimPath, JoseError, Payload, Step};

    #[test]
    fn a_payload_must_be_utf8() {
        assert!(Payload::read(br#"{"a": "\u00e9"}"#).is_ok());
        assert!(matches!(
            Payload::read(b"{\"a\": \"\xe9\"}"),
            Err(JoseError::NotObject("payload"))
        ));
    }

    #[test]
    fn places_match_paths_as_built_paths_do() {
        // address.1.street, built step by step as the resolver does.
        let a = At::below(None, Step::Key("address"));
        let b = At::below(Some(&a), Step::Index(1));
        let c = At::below(Some(&b), Step::Key("street"));
        let built = path_of(&c);
        assert_eq!(built, ClaimPath::parse_dotted("address.1.street").unwrap());
        assert_eq!(path_of(&a), ClaimPath::keys(&["address"]));
        for pattern in [
            "address",
            "address.1",
            "address.*",
            "address.1.street",
            "address.*.street",
            "address.1.street.more",
            "address.0",
            "address.1.city",
            "addresses",
            "address.street",
            "*",
            "0",
        ] {
            let p = ClaimPath::parse_dotted(pattern).unwrap();
            for (at, path) in [(&a, path_of(&a)), (&b, path_of(&b)), (&c, built.clone())] {
                assert_eq!(
                    leads(&p, at),
                    p.related_to(&path.0),
                    "{pattern} vs {path:?}"
                );
            }
        }
    }

    #[test]
    fn digests_order_as_their_bytes_do() {
        let texts: [&[u8]; 10] = [
            b"",
            b"a",
            b"a\0",
            b"ab",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefghi",
            b"abcdefgi",
            b"b",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(digest_order(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }
}
