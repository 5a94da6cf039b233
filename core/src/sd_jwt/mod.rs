//! Selective Disclosure for JWTs (SD-JWT, RFC 9901) and SD-JWT-based
//! Verifiable Credentials (draft-ietf-oauth-sd-jwt-vc).
//!
//! - [`issue`]: an issuer conceals chosen claims (object properties and array
//!   elements, nested and recursive), adds decoys and signs.
//! - [`present`]: a holder keeps the disclosures a verifier needs and adds a
//!   key-binding JWT (`kb+jwt`) over `aud`, `nonce`, `iat`, `sd_hash`.
//! - [`verify`]: a verifier applies every rule of RFC 9901 §7.1–7.3 and, for
//!   SD-JWT VC, the `typ`/`vct`/never-disclosable rules.

mod disclosure;
mod issue;
mod path;
mod present;
mod resolve;
mod verify;

pub use disclosure::Disclosure;
pub use issue::{issue, issue_vc, IssueOptions};
pub use path::{ClaimPath, PathElement};
pub use present::{present, KeyBinding};
pub use verify::constant_time_eq;
pub(crate) use verify::verify_disclosures;
pub use verify::{
    verify, verify_delegated, verify_presentation, DelegatedKeyBinding, KeyBindingCheck, TypPolicy,
    VerifiedSdJwt, VerifyOptions,
};

use crate::{jws::JoseError, JwkError};

/// The `typ` of an SD-JWT VC issuer-signed JWT.
pub const VC_TYP: &str = "dc+sd-jwt";
/// The `typ` of a key-binding JWT.
pub const KB_TYP: &str = "kb+jwt";
/// The only `_sd_alg` Satchel issues and accepts.
pub const SD_ALG: &str = "sha-256";
/// Claims SD-JWT VC never allows to be selectively disclosable.
pub const VC_NEVER_DISCLOSABLE: [&str; 6] = ["iss", "nbf", "exp", "cnf", "vct", "status"];
/// Claims nested deeper than this are refused, when issuing and when
/// resolving, so hostile input cannot exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 64;
/// Largest SD-JWT accepted, in bytes: refuses absurd inputs before any work.
pub const MAX_TOKEN_LEN: usize = 256 * 1024;

/// Why an SD-JWT was refused. Messages name claims only by their names,
/// never by value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdJwtError {
    /// The compact form is broken (no `~`, empty parts, too large…).
    #[error("malformed SD-JWT: {0}")]
    Malformed(String),
    /// The issuer-signed JWT or key-binding JWT failed JOSE checks.
    #[error("issuer-signed JWT rejected: {0}")]
    Jose(#[from] JoseError),
    /// A key problem (e.g. `cnf.jwk` unusable).
    #[error("key rejected: {0}")]
    Key(#[from] JwkError),
    /// `typ` is not what the policy requires.
    #[error("wrong typ: expected {expected}, found {found}")]
    WrongTyp {
        /// What the policy requires.
        expected: String,
        /// What the header says (or `none`).
        found: String,
    },
    /// `_sd_alg` names a hash other than sha-256.
    #[error("unsupported _sd_alg {0}")]
    UnsupportedSdAlg(String),
    /// A disclosure is not base64url of a 2- or 3-element JSON array.
    #[error("malformed disclosure: {0}")]
    MalformedDisclosure(&'static str),
    /// The same disclosure was sent twice.
    #[error("duplicate disclosure")]
    DuplicateDisclosure,
    /// A digest appears more than once in the payload and disclosures.
    #[error("digest appears more than once")]
    DuplicateDigest,
    /// A disclosure is not referenced from the issuer's `_sd` / `...` digests.
    #[error("disclosure is not referenced by the issuer-signed JWT")]
    UnreferencedDisclosure,
    /// A disclosure uses a reserved claim name (`_sd`, `...`).
    #[error("disclosure uses the reserved claim name {0}")]
    ReservedClaimName(String),
    /// A disclosed claim name already exists at that level.
    #[error("disclosed claim {0} collides with an existing claim")]
    ClaimCollision(String),
    /// An object-property disclosure referenced from an array, or vice versa.
    #[error("disclosure kind does not match where it is referenced")]
    DisclosureKindMismatch,
    /// An SD-JWT VC claim that must never be selectively disclosable was.
    #[error("claim {0} must not be selectively disclosable")]
    NotDisclosable(String),
    /// SD-JWT VC without a string `vct`.
    #[error("SD-JWT VC without vct")]
    MissingVct,
    /// `exp` has passed.
    #[error("expired")]
    Expired,
    /// `nbf` (or `iat`) is in the future.
    #[error("not yet valid")]
    NotYetValid,
    /// A time claim is not a number.
    #[error("claim {0} must be a number")]
    BadTimeClaim(&'static str),
    /// Key binding was required but no key-binding JWT was presented.
    #[error("key binding required but no key-binding JWT presented")]
    KeyBindingMissing,
    /// The credential has no `cnf.jwk` holder key.
    #[error("credential has no holder key (cnf.jwk)")]
    NoHolderKey,
    /// The key-binding JWT `typ` is not `kb+jwt`.
    #[error("key-binding JWT typ must be kb+jwt")]
    KbWrongTyp,
    /// The key-binding JWT signature does not verify with `cnf.jwk`.
    #[error("key-binding JWT rejected: {0}")]
    KbSignature(JoseError),
    /// The key-binding JWT `nonce` does not match.
    #[error("key-binding JWT nonce does not match")]
    KbNonce,
    /// The key-binding JWT `aud` does not match.
    #[error("key-binding JWT audience does not match")]
    KbAudience,
    /// The key-binding JWT `sd_hash` does not match the presentation.
    #[error("key-binding JWT sd_hash does not match the presentation")]
    KbSdHash,
    /// The key-binding JWT `iat` is missing, too old or in the future.
    #[error("key-binding JWT iat is missing, stale or in the future")]
    KbIat,
    /// Issuing: a claim path names a claim that does not exist.
    #[error("no claim at path {0}")]
    ClaimNotFound(String),
    /// Issuing: the input is not acceptable (e.g. a protected claim made disclosable).
    #[error("cannot issue: {0}")]
    InvalidIssueInput(String),
}

#[cfg(test)]
mod tests;
