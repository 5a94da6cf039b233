//! The public errors: few variants, each with a readable message that never
//! holds personal data, tokens or fragments of the input. [`public`] is the
//! one place core's rich errors become them; the core error stays attached
//! as the source for Rust-side diagnostics.

use std::borrow::Cow;

use satchel_core::{
    authz::AuthzError, client::ClientError, jws::JoseError, note::NoteError,
    registry::RegistryError, runtime::RuntimeError, sd_jwt::SdJwtError, JwkError,
    KeyStoreError as CoreKeyStoreError, WalletError,
};

type Source = Box<Failure>;

/// Everything that can go wrong in a Satchel call. In Kotlin this is the
/// sealed class `SatchelException`; in Swift the enum `SatchelError`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum SatchelError {
    /// The input is malformed or out of range (bad JSON, bad path, bad key).
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What is wrong.
        message: Cow<'static, str>,
        /// The core error.
        #[source]
        source: Source,
    },
    /// A credential, presentation, signature or request was checked and refused.
    #[error("rejected: {message}")]
    Rejected {
        /// Why.
        message: Cow<'static, str>,
        /// The core error.
        #[source]
        source: Source,
    },
    /// No such space, credential, authorisation or key.
    #[error("not found: {message}")]
    NotFound {
        /// What was looked for.
        message: Cow<'static, str>,
        /// The core error.
        #[source]
        source: Source,
    },
    /// The platform key store failed.
    #[error("key store: {message}")]
    KeyStore {
        /// What failed.
        message: Cow<'static, str>,
        /// The core error.
        #[source]
        source: Source,
    },
    /// The network failed (no connection, TLS, timeout, the app's transport).
    #[error("network: {message}")]
    Network {
        /// What failed.
        message: Cow<'static, str>,
        /// The core error.
        #[source]
        source: Source,
    },
    /// Local storage failed or a stored record failed its integrity check.
    #[error("storage: {message}")]
    Storage {
        /// What failed.
        message: Cow<'static, str>,
        /// The core error.
        #[source]
        source: Source,
    },
    /// The operation was cancelled (the user dismissed a key confirmation,
    /// or the caller stopped waiting). Nothing was committed.
    #[error("cancelled")]
    Cancelled {
        /// The core error.
        #[source]
        source: Source,
    },
    /// A bug in Satchel; nothing uncommitted was written.
    #[error("internal error: {message}")]
    Internal {
        /// What failed.
        message: Cow<'static, str>,
        /// The core error.
        #[source]
        source: Source,
    },
}

/// The public kind of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    InvalidInput,
    Rejected,
    NotFound,
    KeyStore,
    Network,
    Storage,
    Cancelled,
    Internal,
}

/// Every core error a binding call can meet (the source of a
/// [`SatchelError`], for Rust-side diagnostics).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Wallet(#[from] WalletError),
    #[error(transparent)]
    Authz(#[from] AuthzError),
    #[error(transparent)]
    SdJwt(#[from] SdJwtError),
    #[error(transparent)]
    Jose(#[from] JoseError),
    #[error(transparent)]
    Jwk(#[from] JwkError),
    #[error(transparent)]
    KeyStore(#[from] CoreKeyStoreError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// Input the bindings themselves refuse.
    #[error("{0}")]
    Input(&'static str),
}

/// Shorthand for a binding's own input error.
pub(crate) fn invalid(message: &'static str) -> SatchelError {
    public(Failure::Input(message))
}

/// The message of a variant whose text is fixed or built only from ids the
/// SDK made itself.
fn shown(e: &impl std::fmt::Display) -> Cow<'static, str> {
    Cow::Owned(e.to_string())
}

/// A machine-readable error code as a remote party sent it, kept only if it
/// looks like one (`[a-z_]`, at most 64).
fn code_only(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .take(64)
        .collect()
}

/// `"400 invalid_grant: …"` → `"400 invalid_grant"`: an HTTP status and an
/// error code, nothing else of the remote text.
fn status_and_code(text: &str) -> String {
    let mut words = text.split([' ', ':', ')']).filter(|w| !w.is_empty());
    let status: String = words
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .take(3)
        .collect();
    format!("{status} {}", code_only(words.next().unwrap_or_default()))
        .trim()
        .to_owned()
}

/// The outline of a text a remote party wrote: what comes before its
/// first `:` (a status and a code, or our own context), in plain
/// characters, at most 120 of them.
fn outline(text: &str) -> String {
    text.split(':')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || " _-()'.,".contains(*c))
        .take(120)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn fixed(text: &'static str) -> Cow<'static, str> {
    Cow::Borrowed(text)
}

/// The one map from core errors to public ones. Exhaustive: a new core
/// variant does not compile until it is placed here. Variants that carry
/// text from outside (a remote party's document, a parser's message that
/// may quote input) get a fixed message.
fn classify(f: &Failure) -> (Kind, Cow<'static, str>) {
    use Kind::*;
    match f {
        Failure::Input(m) => (InvalidInput, fixed(m)),
        Failure::Wallet(e) => match e {
            WalletError::Storage(m) => (Storage, Cow::Owned(m.clone())),
            WalletError::Integrity(_) | WalletError::NewerSchema(_) => (Storage, shown(e)),
            WalletError::NotFound { kind, .. } => (NotFound, Cow::Owned(format!("no such {kind}"))),
            WalletError::Credential(inner) => classify(&Failure::SdJwt(inner.clone())),
            WalletError::KeyStore(inner) => classify(&Failure::KeyStore(inner.clone())),
            WalletError::UnknownIssuer(_) => (
                Rejected,
                fixed("the credential's issuer is not trusted: supply its key or trust it"),
            ),
            WalletError::HolderMismatch | WalletError::BoundElsewhere(_) => (Rejected, shown(e)),
            WalletError::InvalidInput(m) => (InvalidInput, Cow::Owned(m.clone())),
            WalletError::Authz(inner) => classify(&Failure::Authz(inner.clone())),
            WalletError::Network(m) => (Network, Cow::Owned(m.clone())),
            WalletError::Cancelled => (Cancelled, fixed("cancelled")),
            // Text from a remote party: only its outline (status, code).
            WalletError::IssuerRefused(m) => (
                Rejected,
                Cow::Owned(format!("issuer refused: {}", status_and_code(m))),
            ),
            WalletError::ServerRefused(m) => (
                Rejected,
                Cow::Owned(format!(
                    "server refused: {}",
                    status_and_code(m.split('(').nth(1).unwrap_or_default())
                )),
            ),
            WalletError::Anchoring(m) => {
                (Rejected, Cow::Owned(format!("anchoring: {}", outline(m))))
            }
        },
        Failure::SdJwt(e) => match e {
            SdJwtError::Jose(inner) | SdJwtError::KbSignature(inner) => {
                signing_or(Rejected, classify(&Failure::Jose(inner.clone())))
            }
            SdJwtError::Key(inner) => classify(&Failure::Jwk(inner.clone())),
            SdJwtError::ClaimNotFound(_) => (
                InvalidInput,
                fixed("a chosen claim path is not in the credential"),
            ),
            SdJwtError::InvalidIssueInput(_) => (InvalidInput, shown(e)),
            SdJwtError::Malformed(_) => (Rejected, fixed("malformed SD-JWT")),
            SdJwtError::WrongTyp { .. } => (Rejected, fixed("the SD-JWT has the wrong typ")),
            SdJwtError::UnsupportedSdAlg(_) => (Rejected, fixed("unsupported _sd_alg")),
            SdJwtError::ReservedClaimName(_) => {
                (Rejected, fixed("a disclosure uses a reserved claim name"))
            }
            SdJwtError::ClaimCollision(_) => (
                Rejected,
                fixed("a disclosed claim collides with an existing claim"),
            ),
            SdJwtError::NotDisclosable(_) => (
                InvalidInput,
                fixed("iss, nbf, exp, cnf, vct and status must not be selectively disclosable"),
            ),
            SdJwtError::MalformedDisclosure(_)
            | SdJwtError::DuplicateDisclosure
            | SdJwtError::DuplicateDigest
            | SdJwtError::UnreferencedDisclosure
            | SdJwtError::DisclosureKindMismatch
            | SdJwtError::MissingVct
            | SdJwtError::Expired
            | SdJwtError::NotYetValid
            | SdJwtError::BadTimeClaim(_)
            | SdJwtError::KeyBindingMissing
            | SdJwtError::NoHolderKey
            | SdJwtError::KbWrongTyp
            | SdJwtError::KbNonce
            | SdJwtError::KbAudience
            | SdJwtError::KbSdHash
            | SdJwtError::KbIat => (Rejected, shown(e)),
        },
        Failure::Jose(e) => match e {
            JoseError::Signing(_) => (KeyStore, shown(e)),
            JoseError::SigningCancelled => (Cancelled, fixed("cancelled")),
            JoseError::Key(inner) => classify(&Failure::Jwk(inner.clone())),
            JoseError::UnsupportedAlg(_) => (Rejected, fixed("unsupported JWS algorithm")),
            JoseError::Malformed(_)
            | JoseError::BadBase64(_)
            | JoseError::NotObject(_)
            | JoseError::AlgNone
            | JoseError::AlgKeyMismatch
            | JoseError::CriticalHeader
            | JoseError::BadSignature => (Rejected, shown(e)),
        },
        Failure::Jwk(e) => match e {
            JwkError::Malformed(_) => (InvalidInput, fixed("malformed JWK")),
            JwkError::Unsupported(_) => (InvalidInput, fixed("unsupported key type or curve")),
            JwkError::InvalidKey(_) | JwkError::PrivateKeyPresent => (InvalidInput, shown(e)),
        },
        Failure::KeyStore(e) => match e {
            CoreKeyStoreError::Cancelled => (Cancelled, fixed("cancelled")),
            CoreKeyStoreError::NotFound(_) => (NotFound, shown(e)),
            CoreKeyStoreError::AlreadyExists(_)
            | CoreKeyStoreError::Unsupported(_)
            | CoreKeyStoreError::WrongPassphrase
            | CoreKeyStoreError::UnwrapFailed
            | CoreKeyStoreError::Io(_)
            | CoreKeyStoreError::Platform(_) => (KeyStore, shown(e)),
        },
        Failure::Client(e) => match e {
            ClientError::Transport(m) => (Network, Cow::Owned(m.clone())),
            ClientError::Cancelled => (Cancelled, fixed("cancelled")),
            ClientError::Server { status, code, .. } => (
                if *status == 404 { NotFound } else { Rejected },
                Cow::Owned(format!("server refused: {status} {}", code_only(code))),
            ),
            ClientError::Proof(_) => (Rejected, fixed("a proof from the server did not verify")),
            ClientError::Malformed(_) => (Rejected, fixed("the server's answer is malformed")),
            ClientError::Signing(_) => (KeyStore, shown(e)),
        },
        Failure::Registry(e) => match e {
            RegistryError::Jose(inner) => {
                signing_or(Rejected, classify(&Failure::Jose(inner.clone())))
            }
            RegistryError::Malformed(_) => (InvalidInput, fixed("not a registry document")),
            RegistryError::WrongTyp | RegistryError::Expired => (Rejected, shown(e)),
        },
        Failure::Note(e) => match e {
            NoteError::Unverified(_) => (
                Rejected,
                fixed("the checkpoint is not signed by the pinned log key"),
            ),
            NoteError::Malformed(_) | NoteError::WrongOrigin => (Rejected, shown(e)),
        },
        Failure::Runtime(e) => match e {
            RuntimeError::Cancelled => (Cancelled, fixed("cancelled")),
            RuntimeError::Start(_) | RuntimeError::Panicked => (Internal, shown(e)),
        },
        Failure::Authz(e) => match e {
            AuthzError::Jose(inner) => {
                signing_or(Rejected, classify(&Failure::Jose(inner.clone())))
            }
            AuthzError::Key(inner) => classify(&Failure::Jwk(inner.clone())),
            AuthzError::Presentation(inner) => classify(&Failure::SdJwt(inner.clone())),
            AuthzError::Malformed(_) => {
                (InvalidInput, fixed("malformed request, response or query"))
            }
            AuthzError::StatusList(_) => (Rejected, fixed("status list rejected")),
            AuthzError::UnknownTerm(_) => {
                (InvalidInput, fixed("unknown DPV purpose or legal basis"))
            }
            AuthzError::UntrustedKey(_) => (
                Rejected,
                fixed("the request is not signed by a key registered for its relying party"),
            ),
            AuthzError::NotRequested(_) => {
                (Rejected, fixed("the grant covers something not requested"))
            }
            AuthzError::NotGranted(_) => (Rejected, fixed("a claim was disclosed but not granted")),
            AuthzError::UnknownAuthorization(_) => (NotFound, fixed("no such authorisation")),
            AuthzError::Storage(m) => (Storage, Cow::Owned(m.clone())),
            AuthzError::WrongTyp(_)
            | AuthzError::UntrustedRelyingParty
            | AuthzError::RequestExpired
            | AuthzError::Mismatch(_)
            | AuthzError::OutsideWindow
            | AuthzError::Withdrawn
            | AuthzError::CredentialRevoked
            | AuthzError::UsesExhausted(_)
            | AuthzError::PurposeMismatch
            | AuthzError::DelegationScope(_) => (Rejected, shown(e)),
        },
    }
}

/// A JOSE failure inside another check: a signing failure keeps its kind
/// (key store, cancelled); any other is `kind`.
fn signing_or(
    kind: Kind,
    (inner, message): (Kind, Cow<'static, str>),
) -> (Kind, Cow<'static, str>) {
    match inner {
        Kind::KeyStore | Kind::Cancelled => (inner, message),
        _ => (kind, message),
    }
}

/// Maps a core failure to the public error, keeping it as the source.
pub(crate) fn public(f: Failure) -> SatchelError {
    let (kind, message) = classify(&f);
    let source: Source = Box::new(f);
    match kind {
        Kind::InvalidInput => SatchelError::InvalidInput { message, source },
        Kind::Rejected => SatchelError::Rejected { message, source },
        Kind::NotFound => SatchelError::NotFound { message, source },
        Kind::KeyStore => SatchelError::KeyStore { message, source },
        Kind::Network => SatchelError::Network { message, source },
        Kind::Storage => SatchelError::Storage { message, source },
        Kind::Cancelled => SatchelError::Cancelled { source },
        Kind::Internal => SatchelError::Internal { message, source },
    }
}

macro_rules! from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for SatchelError {
            fn from(e: $t) -> Self {
                public(Failure::from(e))
            }
        }
    )*};
}

from_core!(
    WalletError,
    AuthzError,
    SdJwtError,
    JoseError,
    JwkError,
    CoreKeyStoreError,
    ClientError,
    RegistryError,
    NoteError,
    RuntimeError
);

/// An error a platform key store reports to Satchel. In Kotlin,
/// `KeyStoreException`; throw it (or any exception) from a `PlatformKeyStore`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeyStoreError {
    /// No key under the alias.
    #[error("no key under alias {alias}")]
    NotFound {
        /// The alias asked for.
        alias: String,
    },
    /// The key store cannot do this (e.g. Ed25519 in the Secure Enclave).
    #[error("unsupported: {reason}")]
    Unsupported {
        /// What is not supported.
        reason: String,
    },
    /// The user dismissed the confirmation the key needs (biometric or
    /// device credential prompt).
    #[error("the user cancelled")]
    UserCancelled,
    /// Anything else the platform reported.
    #[error("platform error: {reason}")]
    Platform {
        /// The platform's description (no key material).
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyStoreError::Platform { reason: e.reason }
    }
}

impl From<KeyStoreError> for CoreKeyStoreError {
    fn from(e: KeyStoreError) -> Self {
        match e {
            KeyStoreError::NotFound { alias } => CoreKeyStoreError::NotFound(alias),
            KeyStoreError::Unsupported { reason } => CoreKeyStoreError::Unsupported(reason),
            KeyStoreError::UserCancelled => CoreKeyStoreError::Cancelled,
            KeyStoreError::Platform { reason } => CoreKeyStoreError::Platform(reason),
        }
    }
}

impl From<CoreKeyStoreError> for KeyStoreError {
    fn from(e: CoreKeyStoreError) -> Self {
        match e {
            CoreKeyStoreError::NotFound(alias) => KeyStoreError::NotFound { alias },
            CoreKeyStoreError::Unsupported(reason) => KeyStoreError::Unsupported { reason },
            CoreKeyStoreError::Cancelled => KeyStoreError::UserCancelled,
            other @ (CoreKeyStoreError::AlreadyExists(_)
            | CoreKeyStoreError::WrongPassphrase
            | CoreKeyStoreError::UnwrapFailed
            | CoreKeyStoreError::Io(_)
            | CoreKeyStoreError::Platform(_)) => KeyStoreError::Platform {
                reason: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_never_quote_remote_text() {
        let secret = "wang-xiaoming-440106199003071234";
        let cases: Vec<SatchelError> = vec![
            SdJwtError::Malformed(secret.into()).into(),
            SdJwtError::ClaimCollision(secret.into()).into(),
            SdJwtError::WrongTyp {
                expected: "dc+sd-jwt".into(),
                found: secret.into(),
            }
            .into(),
            JwkError::Malformed(secret.into()).into(),
            AuthzError::Malformed(secret.into()).into(),
            AuthzError::NotGranted(secret.into()).into(),
            RegistryError::Malformed(secret.into()).into(),
            ClientError::Malformed(secret.into()).into(),
            WalletError::UnknownIssuer(secret.into()).into(),
            WalletError::NotFound {
                kind: "credential",
                id: secret.into(),
            }
            .into(),
            NoteError::Unverified(secret.into()).into(),
            WalletError::IssuerRefused(format!("400 invalid_grant: {secret}")).into(),
            WalletError::ServerRefused(format!("server refused (403 forbidden): {secret}")).into(),
            WalletError::Anchoring(format!("the log did not verify: {secret}")).into(),
            ClientError::Server {
                status: 409,
                code: secret.into(),
                detail: secret.into(),
            }
            .into(),
        ];
        for e in cases {
            assert!(!e.to_string().contains(secret), "{e}");
            // The core error is kept for diagnostics.
            assert!(std::error::Error::source(&e).is_some());
        }
    }

    #[test]
    fn kinds_follow_the_cause() {
        let kind = |e: SatchelError| match e {
            SatchelError::InvalidInput { .. } => "input",
            SatchelError::Rejected { .. } => "rejected",
            SatchelError::NotFound { .. } => "not found",
            SatchelError::KeyStore { .. } => "key store",
            SatchelError::Network { .. } => "network",
            SatchelError::Storage { .. } => "storage",
            SatchelError::Cancelled { .. } => "cancelled",
            SatchelError::Internal { .. } => "internal",
        };
        assert_eq!(
            kind(ClientError::Transport("down".into()).into()),
            "network"
        );
        assert_eq!(kind(CoreKeyStoreError::Cancelled.into()), "cancelled");
        assert_eq!(kind(RuntimeError::Panicked.into()), "internal");
        assert_eq!(
            kind(WalletError::Credential(SdJwtError::Expired).into()),
            "rejected"
        );
        assert_eq!(
            kind(WalletError::Authz(AuthzError::UnknownAuthorization("x".into())).into()),
            "not found"
        );
        assert_eq!(
            kind(AuthzError::Jose(JoseError::Signing("hw".into())).into()),
            "key store"
        );
    }
}
