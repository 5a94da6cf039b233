//! Claim paths (SD-JWT VC §"Claim Path"): a list of object keys, array
//! indices, and `null` for "every element".

use std::fmt;

use serde_json::Value;

use super::SdJwtError;

/// One step of a claim path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// An object property.
    Key(String),
    /// An array element by position.
    Index(usize),
    /// Every element of an array (`null` in JSON).
    AllElements,
}

/// A path to a claim, e.g. `["address", "street"]` or `["nationalities", null]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ClaimPath(pub Vec<PathElement>);

impl ClaimPath {
    /// A path of object keys.
    pub fn keys<S: AsRef<str>>(keys: &[S]) -> Self {
        ClaimPath(
            keys.iter()
                .map(|k| PathElement::Key(k.as_ref().to_owned()))
                .collect(),
        )
    }

    /// Parses the JSON array form: strings, non-negative integers, `null`.
    pub fn from_json(value: &Value) -> Result<Self, SdJwtError> {
        let items = value
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| SdJwtError::Malformed("claim path must be a non-empty array".into()))?;
        items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(PathElement::Key(s.clone())),
                Value::Null => Ok(PathElement::AllElements),
                Value::Number(n) => n
                    .as_u64()
                    .map(|i| PathElement::Index(i as usize))
                    .ok_or_else(|| SdJwtError::Malformed("claim path index must be >= 0".into())),
                _ => Err(SdJwtError::Malformed(
                    "claim path element must be string, int or null".into(),
                )),
            })
            .collect::<Result<_, _>>()
            .map(ClaimPath)
    }

    /// Parses the dotted text form used on the command line:
    /// `address.street`, `nationalities.0`, `nationalities.*`.
    pub fn parse_dotted(text: &str) -> Result<Self, SdJwtError> {
        if text.is_empty() || text.split('.').any(str::is_empty) {
            return Err(SdJwtError::Malformed(
                "a claim path is empty or has an empty segment".into(),
            ));
        }
        Ok(ClaimPath(
            text.split('.')
                .map(|p| match p {
                    "*" => PathElement::AllElements,
                    p if p.bytes().all(|b| b.is_ascii_digit()) => p
                        .parse()
                        .map(PathElement::Index)
                        .unwrap_or(PathElement::Key(p.into())),
                    p => PathElement::Key(p.to_owned()),
                })
                .collect(),
        ))
    }

    /// Parses several dotted paths (see [`ClaimPath::parse_dotted`]).
    pub fn parse_dotted_list<S: AsRef<str>>(texts: &[S]) -> Result<Vec<Self>, SdJwtError> {
        texts
            .iter()
            .map(|t| Self::parse_dotted(t.as_ref()))
            .collect()
    }

    /// The dotted text form (`address.street`, `nationalities.*`): the
    /// inverse of [`ClaimPath::parse_dotted`].
    pub fn to_dotted(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| match e {
                PathElement::Key(k) => k.clone(),
                PathElement::Index(i) => i.to_string(),
                PathElement::AllElements => "*".into(),
            })
            .collect();
        parts.join(".")
    }

    /// The JSON array form.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|e| match e {
                    PathElement::Key(k) => Value::String(k.clone()),
                    PathElement::Index(i) => Value::from(*i),
                    PathElement::AllElements => Value::Null,
                })
                .collect(),
        )
    }

    /// Whether one path leads into the other: `concrete` (keys and indices
    /// only) is matched by the first
    /// `concrete.len()` elements of this pattern, or this whole pattern is
    /// matched by a prefix of `concrete`.
    pub fn related_to(&self, concrete: &[PathElement]) -> bool {
        self.0
            .iter()
            .zip(concrete)
            .all(|(p, c)| p.matches(c.step()))
    }
}

/// A path element borrowed: what the resolver holds for each step down
/// (so it copies a claim name only into a path it records).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step<'a> {
    Key(&'a str),
    Index(usize),
    All,
}

impl Step<'_> {
    /// The owned element.
    pub(crate) fn to_element(self) -> PathElement {
        match self {
            Step::Key(k) => PathElement::Key(k.to_owned()),
            Step::Index(i) => PathElement::Index(i),
            Step::All => PathElement::AllElements,
        }
    }
}

impl PathElement {
    /// This element, borrowed.
    pub(crate) fn step(&self) -> Step<'_> {
        match self {
            PathElement::Key(k) => Step::Key(k),
            PathElement::Index(i) => Step::Index(*i),
            PathElement::AllElements => Step::All,
        }
    }

    /// Whether this element of a pattern matches `concrete`: the same key
    /// or index, or every element against an index.
    pub(crate) fn matches(&self, concrete: Step<'_>) -> bool {
        match (self, concrete) {
            (PathElement::Key(p), Step::Key(c)) => same_name(p, c),
            (PathElement::Index(p), Step::Index(c)) => *p == c,
            (PathElement::AllElements, Step::Index(_) | Step::All) => true,
            _ => false,
        }
    }
}

/// Whether claim names `a` and `b` are the same. Names mostly differ in
/// length or in their last character, so those are compared before the
/// whole text.
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().last() == b.as_bytes().last() && a == b
}

impl ClaimPath {
    /// Whether `claims` has a value at this path (for `null`, every element).
    pub fn exists_in(&self, claims: &Value) -> bool {
        fn walk(v: &Value, path: &[PathElement]) -> bool {
            let Some((first, rest)) = path.split_first() else {
                return true;
            };
            match (first, v) {
                (PathElement::Key(k), Value::Object(m)) => m.get(k).is_some_and(|c| walk(c, rest)),
                (PathElement::Index(i), Value::Array(a)) => {
                    a.get(*i).is_some_and(|c| walk(c, rest))
                }
                (PathElement::AllElements, Value::Array(a)) => {
                    !a.is_empty() && a.iter().all(|c| walk(c, rest))
                }
                _ => false,
            }
        }
        walk(claims, &self.0)
    }
}

impl serde::Serialize for ClaimPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for ClaimPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        ClaimPath::from_json(&v).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let p = ClaimPath::parse_dotted("a.0.*").unwrap();
        assert_eq!(
            p,
            ClaimPath::from_json(&serde_json::json!(["a", 0, null])).unwrap()
        );
        assert_eq!(p.to_json(), serde_json::json!(["a", 0, null]));
        assert!(ClaimPath::parse_dotted("a..b").is_err());
        assert!(ClaimPath::from_json(&serde_json::json!([])).is_err());
        assert!(ClaimPath::from_json(&serde_json::json!(["a", -1])).is_err());
        assert!(ClaimPath::from_json(&serde_json::json!([true])).is_err());
    }
}
