//! Verifying SD-JWTs and SD-JWT VCs (RFC 9901 §7.1–7.3).

use serde_json::{Map, Value};

use super::{
    disclosure::Parsed,
    resolve::{resolve, MaybeStr, Payload, Record},
    SdJwtError, KB_TYP, MAX_TOKEN_LEN, VC_TYP,
};
use crate::{b64, jws, Jwk, VerifyingKey};

/// Which `typ` the issuer-signed JWT must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypPolicy {
    /// SD-JWT VC: `typ` must be `dc+sd-jwt`; `vct` required; `iss nbf exp cnf
    /// vct status` never selectively disclosable.
    SdJwtVc,
    /// Plain SD-JWT: any `typ` (or none).
    Any,
    /// Plain SD-JWT with exactly this `typ`.
    Exactly(String),
}

/// What the verifier expects of the key-binding JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingCheck {
    /// The verifier's identifier, expected in `aud`.
    pub audience: String,
    /// The nonce the verifier issued for this presentation.
    pub nonce: String,
    /// Oldest acceptable `iat`, in seconds before `now`.
    pub max_age: i64,
    /// Latest acceptable `iat`, in seconds after `now` (clock skew).
    pub max_future: i64,
}

impl KeyBindingCheck {
    /// Expect `audience` and `nonce`, with `iat` at most 5 minutes old and at
    /// most 1 minute ahead.
    pub fn new(audience: &str, nonce: &str) -> Self {
        KeyBindingCheck {
            audience: audience.into(),
            nonce: nonce.into(),
            max_age: 300,
            max_future: 60,
        }
    }
}

/// Verification policy and clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// `typ` policy.
    pub typ: TypPolicy,
    /// The current time, seconds since the Unix epoch (caller-supplied clock).
    pub now: i64,
    /// Allowed clock skew in seconds for `exp`, `nbf`, `iat`.
    pub leeway: i64,
    /// `Some` to require and check key binding; `None` not to require it.
    pub key_binding: Option<KeyBindingCheck>,
}

impl KeyBindingCheck {
    /// Checks the key-binding JWT against `key` instead of the credential's
    /// `cnf.jwk`: for an agent presenting a credential under a delegation
    /// whose `cnf.jwk` is `key` (the caller has verified that delegation).
    pub fn with_delegated_key(self, key: crate::Jwk) -> DelegatedKeyBinding {
        DelegatedKeyBinding { check: self, key }
    }
}

/// A key-binding check with the key taken from a delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedKeyBinding {
    /// What to check.
    pub check: KeyBindingCheck,
    /// The agent key that must have signed the key-binding JWT.
    pub key: crate::Jwk,
}

/// Verifies a presentation whose key-binding JWT was signed by a delegated
/// agent key rather than the credential's own holder key. Key binding is
/// required; `options.key_binding` is ignored.
pub fn verify_delegated(
    token: &str,
    issuer_key: &VerifyingKey,
    options: &VerifyOptions,
    delegated: &DelegatedKeyBinding,
) -> Result<VerifiedSdJwt, SdJwtError> {
    let mut verified = verify_disclosures(token, issuer_key, options)?;
    let compact = split(token)?;
    let kb = compact.kb_jwt.ok_or(SdJwtError::KeyBindingMissing)?;
    verify_key_binding(
        kb,
        &delegated.key.verifying_key()?,
        compact.sd_input,
        &delegated.check,
        options.now,
    )?;
    verified.key_bound = true;
    Ok(verified)
}

impl VerifyOptions {
    /// SD-JWT VC policy at `now`, key binding not required, 60 s leeway.
    pub fn vc(now: i64) -> Self {
        VerifyOptions {
            typ: TypPolicy::SdJwtVc,
            now,
            leeway: 60,
            key_binding: None,
        }
    }

    /// Requires key binding for `audience` and `nonce`.
    pub fn with_key_binding(mut self, audience: &str, nonce: &str) -> Self {
        self.key_binding = Some(KeyBindingCheck::new(audience, nonce));
        self
    }
}

/// Verifies an SD-JWT VC presentation the way a relying party does:
/// SD-JWT VC `typ`, 60 s leeway, and with `key_binding` (audience, nonce)
/// a required key-binding JWT.
pub fn verify_presentation(
    presentation: &str,
    issuer_key: &crate::VerifyingKey,
    key_binding: Option<(&str, &str)>,
    now: i64,
) -> Result<VerifiedSdJwt, SdJwtError> {
    let mut options = VerifyOptions::vc(now);
    if let Some((audience, nonce)) = key_binding {
        options = options.with_key_binding(audience, nonce);
    }
    verify(presentation, issuer_key, &options)
}

/// A verified SD-JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedSdJwt {
    /// The processed claims: digests resolved, `_sd`, `_sd_alg`, `...` removed.
    pub claims: Map<String, Value>,
    /// The holder key from `cnf.jwk`, if any.
    pub holder_key: Option<Jwk>,
    /// Whether a key-binding JWT was checked.
    pub key_bound: bool,
    /// How many disclosures were presented.
    pub disclosure_count: usize,
    /// The claim path of every presented disclosure.
    pub disclosed: Vec<super::ClaimPath>,
}

impl VerifiedSdJwt {
    /// The `vct` claim, if any.
    pub fn vct(&self) -> Option<&str> {
        self.claims.get("vct").and_then(Value::as_str)
    }
}

/// The compact form split into its parts.
pub(crate) struct Compact<'a> {
    pub issuer_jwt: &'a str,
    /// The disclosures, `~`-separated (empty when there are none).
    disclosures: &'a str,
    /// How many disclosures there are.
    pub disclosure_count: usize,
    pub kb_jwt: Option<&'a str>,
    /// Everything up to and including the last `~`: what `sd_hash` covers.
    pub sd_input: &'a str,
}

impl<'a> Compact<'a> {
    /// The encoded disclosures, in order (none is empty).
    pub fn disclosures(&self) -> impl Iterator<Item = &'a str> {
        self.disclosures.split('~').filter(|d| !d.is_empty())
    }

    /// Every disclosure decoded and digested, in order.
    pub fn parse_disclosures(&self) -> Result<Vec<Parsed<'a>>, SdJwtError> {
        let mut out = Vec::with_capacity(self.disclosure_count);
        for d in self.disclosures() {
            out.push(Parsed::parse(d)?);
        }
        Ok(out)
    }
}

pub(crate) fn split(token: &str) -> Result<Compact<'_>, SdJwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(SdJwtError::Malformed(format!(
            "larger than {MAX_TOKEN_LEN} bytes"
        )));
    }
    let token = token.trim();
    let last = token
        .rfind('~')
        .ok_or_else(|| SdJwtError::Malformed("no ~ separator".into()))?;
    let (sd_input, kb) = (&token[..=last], &token[last + 1..]);
    let (issuer_jwt, disclosures, separated) = match sd_input[..last].split_once('~') {
        Some((jwt, rest)) => (jwt, rest, true),
        None => (&sd_input[..last], "", false),
    };
    if issuer_jwt.is_empty() {
        return Err(SdJwtError::Malformed("empty issuer JWT".into()));
    }
    let mut disclosure_count = 0;
    if separated {
        for d in disclosures.split('~') {
            if d.is_empty() {
                return Err(SdJwtError::Malformed("empty disclosure".into()));
            }
            disclosure_count += 1;
        }
    }
    Ok(Compact {
        issuer_jwt,
        disclosures,
        disclosure_count,
        kb_jwt: (!kb.is_empty()).then_some(kb),
        sd_input,
    })
}

fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, SdJwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or(SdJwtError::BadTimeClaim(name)),
        Some(_) => Err(SdJwtError::BadTimeClaim(name)),
    }
}

/// Verifies an SD-JWT (optionally with key binding) against the issuer key.
/// A key-binding JWT present where none is required is still checked
/// (signature by `cnf.jwk`, `sd_hash`).
pub fn verify(
    token: &str,
    issuer_key: &VerifyingKey,
    options: &VerifyOptions,
) -> Result<VerifiedSdJwt, SdJwtError> {
    verify_parts(token, issuer_key, options, true)
}

/// Verifies the issuer-signed part and the disclosures only, leaving the
/// key-binding JWT to the caller (a delegated key, or the wallet checking
/// the disclosures of a presentation it has just made).
pub(crate) fn verify_disclosures(
    token: &str,
    issuer_key: &VerifyingKey,
    options: &VerifyOptions,
) -> Result<VerifiedSdJwt, SdJwtError> {
    verify_parts(
        token,
        issuer_key,
        &VerifyOptions {
            key_binding: None,
            ..options.clone()
        },
        false,
    )
}

fn verify_parts(
    token: &str,
    issuer_key: &VerifyingKey,
    options: &VerifyOptions,
    check_unrequired_kb: bool,
) -> Result<VerifiedSdJwt, SdJwtError> {
    let compact = split(token)?;

    // §7.1 step 2: the issuer-signed JWT, typ, signature.
    let jwt = jws::decode(compact.issuer_jwt)?;
    match &options.typ {
        TypPolicy::Any => {}
        TypPolicy::SdJwtVc | TypPolicy::Exactly(_) => {
            let expected = match &options.typ {
                TypPolicy::Exactly(t) => t.as_str(),
                _ => VC_TYP,
            };
            if !jwt.header.typ_is(expected) {
                return Err(SdJwtError::WrongTyp {
                    expected: expected.into(),
                    found: jwt.header.typ.clone().unwrap_or_else(|| "none".into()),
                });
            }
        }
    }
    jwt.verify(issuer_key)?;
    let payload = Payload::read(&jwt.payload)?;

    // §7.1 step 3–5: disclosures.
    let mut disclosures = compact.parse_disclosures()?;
    let vc = options.typ == TypPolicy::SdJwtVc;
    let resolved = resolve(payload, &mut disclosures, vc, Record::Paths)?;
    let (claims, disclosed) = (resolved.claims, resolved.paths);
    if vc && !claims.get("vct").is_some_and(Value::is_string) {
        return Err(SdJwtError::MissingVct);
    }

    // Validity window.
    if let Some(exp) = time_claim(&claims, "exp")? {
        if options.now >= exp + options.leeway {
            return Err(SdJwtError::Expired);
        }
    }
    if let Some(nbf) = time_claim(&claims, "nbf")? {
        if nbf > options.now + options.leeway {
            return Err(SdJwtError::NotYetValid);
        }
    }
    if let Some(iat) = time_claim(&claims, "iat")? {
        if iat > options.now + options.leeway {
            return Err(SdJwtError::NotYetValid);
        }
    }

    // The holder key, parsed once for the key-binding check.
    let (holder_key, holder_verifier) = match claims.get("cnf").and_then(|c| c.get("jwk")) {
        Some(jwk) => {
            let (jwk, key) = Jwk::with_verifying_key(jwk)?;
            (Some(jwk), Some(key))
        }
        None => (None, None),
    };

    // §7.3: key binding. Whatever sits after the last `~` is a KB-JWT: even
    // when none is required it must be one, so a garbage slot or a cut-off
    // final `~` (which would silently drop the last disclosure) is refused.
    let key_bound = match &options.key_binding {
        None => {
            if let Some(kb) = compact.kb_jwt.filter(|_| check_unrequired_kb) {
                let holder = holder_verifier.as_ref().ok_or(SdJwtError::NoHolderKey)?;
                let jwt = jws::decode(kb).map_err(SdJwtError::KbSignature)?;
                verify_kb_signature_and_hash(&jwt, holder, compact.sd_input)?;
            }
            false
        }
        Some(check) => {
            let kb = compact.kb_jwt.ok_or(SdJwtError::KeyBindingMissing)?;
            let holder = holder_verifier.as_ref().ok_or(SdJwtError::NoHolderKey)?;
            verify_key_binding(kb, holder, compact.sd_input, check, options.now)?;
            true
        }
    };

    Ok(VerifiedSdJwt {
        claims,
        holder_key,
        key_bound,
        disclosure_count: disclosures.len(),
        disclosed,
    })
}

fn verify_key_binding(
    kb: &str,
    holder: &VerifyingKey,
    sd_input: &str,
    check: &KeyBindingCheck,
    now: i64,
) -> Result<(), SdJwtError> {
    let jwt = jws::decode(kb).map_err(SdJwtError::KbSignature)?;
    let claims = verify_kb_signature_and_hash(&jwt, holder, sd_input)?;
    let iat = claims
        .iat
        .as_ref()
        .and_then(Value::as_i64)
        .ok_or(SdJwtError::KbIat)?;
    if iat > now + check.max_future || iat < now - check.max_age {
        return Err(SdJwtError::KbIat);
    }
    if text(&claims.nonce) != Some(check.nonce.as_str()) {
        return Err(SdJwtError::KbNonce);
    }
    if text(&claims.aud) != Some(check.audience.as_str()) {
        return Err(SdJwtError::KbAudience);
    }
    Ok(())
}

/// The members of a key-binding JWT that §7.3 reads; others are skipped
/// without being kept. Each is any JSON value, so a wrong type is reported
/// as that member being wrong, not as a malformed token.
#[derive(serde::Deserialize)]
struct KbClaims<'a> {
    iat: Option<Value>,
    #[serde(borrow)]
    nonce: Option<MaybeStr<'a>>,
    #[serde(borrow)]
    aud: Option<MaybeStr<'a>>,
    #[serde(borrow)]
    sd_hash: Option<MaybeStr<'a>>,
}

/// A member's text, if it is a string.
fn text<'a>(member: &'a Option<MaybeStr<'_>>) -> Option<&'a str> {
    member.as_ref().and_then(|m| m.0.as_deref())
}

/// The parts of §7.3 that hold whoever the verifier is: a `kb+jwt` signed
/// by the holder key over exactly this presentation (`sd_hash`).
fn verify_kb_signature_and_hash<'a>(
    jwt: &'a jws::DecodedJws<'_>,
    holder: &VerifyingKey,
    sd_input: &str,
) -> Result<KbClaims<'a>, SdJwtError> {
    if !jwt.header.typ_is(KB_TYP) {
        return Err(SdJwtError::KbWrongTyp);
    }
    jwt.verify(holder).map_err(SdJwtError::KbSignature)?;
    let not_object = || SdJwtError::KbSignature(jws::JoseError::NotObject("payload"));
    if !jws::opens_object(&jwt.payload) {
        return Err(not_object());
    }
    let claims: KbClaims<'_> = jws::from_json(&jwt.payload).map_err(|_| not_object())?;
    let expected = b64::Digest::of(sd_input.as_bytes());
    let presented = text(&claims.sd_hash).unwrap_or_default();
    if !constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return Err(SdJwtError::KbSdHash);
    }
    Ok(claims)
}

/// Compares without an early exit, so timing does not reveal the matching prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
