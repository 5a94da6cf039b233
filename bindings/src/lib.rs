//! Satchel's Kotlin and Swift surface (uniffi proc-macros, library mode).
//!
//! This crate only converts and delegates: every rule lives in
//! `satchel-core`. Every call that touches the network, the key store or
//! the database is `async` (Kotlin `suspend`, Swift `async`): it runs on the
//! SDK's blocking pool, never on the caller's thread, and a cancelled
//! coroutine or task stops it at its next safe point with nothing
//! half-written. Value constructors and pure accessors stay synchronous.
//! Objects are `Send + Sync`; Kotlin objects are `AutoCloseable`.

mod devices;
mod error;
mod exchange;
mod keystore;
mod observe;
mod records;
mod relying;
mod server;
mod transport;
mod wallet_authz;
mod wallet_calls;

use std::{path::PathBuf, sync::Arc};

pub use devices::{
    DeviceInfo, EnrolmentOffer, ImportReport, SyncListener, SyncProgress, SyncReport,
};
pub use error::{KeyStoreError, SatchelError};
pub use exchange::{fetch_request, is_sensitive_claim, post_response};
pub use keystore::{file_key_store, in_memory_key_store, KeyAlgorithm, PlatformKeyStore};
pub use observe::{ListenerError, WalletChange, WalletListener, WalletSubscription};
pub use records::{
    Credential, CredentialFilter, CredentialStatus, ImportOutcome, Space, SpaceKind,
    VerifiedPresentation,
};
pub use relying::{
    CredentialRequest, RelyingParty, RequestSpec, TrustRegistry, UseReceipt, VerifiedAuthorization,
};
use satchel_core::{self as core, runtime, sd_jwt, Jwk};
pub use server::{AnchorReport, SatchelServer};
pub use transport::{
    https_transport, HttpHeader, HttpRequest, HttpResponse, HttpTransport, NetworkSettings,
    TransportError,
};
pub use wallet_authz::{
    AgentRole, ApprovalChoice, Approved, Authorization, AuthorizationState, Candidate, Delegation,
    DelegationScope, Member, MemberRole, ProvenanceActivity, ProvenanceAgent, ProvenanceEvent,
    QueryMatch, RequestReview, RpTrust, Selection, Withdrawal,
};

uniffi::setup_scaffolding!();

/// Runs core work on the SDK's blocking pool; dropping the future (a
/// cancelled coroutine or task) cancels the work at its next safe point.
pub(crate) async fn run<T, F>(f: F) -> Result<T, SatchelError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, SatchelError> + Send + 'static,
{
    runtime::run_blocking(f).await
}

fn jwk(json: &str) -> Result<Jwk, SatchelError> {
    Ok(Jwk::from_json(json)?)
}

/// The wallet: spaces and their credentials, encrypted on the device.
/// Open one per file and share it across threads and screens.
#[derive(uniffi::Object)]
pub struct Wallet {
    pub(crate) inner: Arc<core::Wallet>,
}

impl Wallet {
    /// Runs `f` with the core wallet on the blocking pool.
    pub(crate) async fn with<T, F>(&self, f: F) -> Result<T, SatchelError>
    where
        T: Send + 'static,
        F: FnOnce(&core::Wallet) -> Result<T, SatchelError> + Send + 'static,
    {
        let inner = self.inner.clone();
        run(move || f(&inner)).await
    }

    /// Runs an OpenID4VCI receipt `f` with the parsed `offer`, over
    /// `transport` (default: the built-in HTTPS stack).
    pub(crate) async fn with_offer<F>(
        &self,
        offer: String,
        registry: Arc<TrustRegistry>,
        transport: Option<Arc<dyn HttpTransport>>,
        f: F,
    ) -> Result<Credential, SatchelError>
    where
        F: FnOnce(
                &core::Wallet,
                &core::issuance::CredentialOffer,
                &dyn core::client::Transport,
                &core::registry::Registry,
                i64,
            ) -> Result<core::Credential, core::WalletError>
            + Send
            + 'static,
    {
        let transport = transport::transport_for(transport)?;
        self.with(move |w| {
            let offer = core::issuance::CredentialOffer::parse(&offer)?;
            Ok(f(
                w,
                &offer,
                transport.as_ref(),
                &registry.inner,
                core::unix_now(),
            )?
            .into())
        })
        .await
    }
}

#[uniffi::export]
impl Wallet {
    /// Opens (or creates) the wallet database at `path`. Its data key is
    /// wrapped by `key_store`, which also holds every space's holder key.
    #[uniffi::constructor]
    pub async fn open(
        path: String,
        key_store: Arc<dyn PlatformKeyStore>,
    ) -> Result<Arc<Self>, SatchelError> {
        run(move || {
            let ks: Arc<dyn core::KeyStore> = Arc::new(keystore::ForeignKeyStore(key_store));
            let inner = core::Wallet::open(&PathBuf::from(path), ks)?;
            Ok(Arc::new(Wallet {
                inner: Arc::new(inner),
            }))
        })
        .await
    }

    /// Creates a space with a new ES256 holder key.
    pub async fn create_space(&self, name: String, kind: SpaceKind) -> Result<Space, SatchelError> {
        self.with(move |w| Ok(w.create_space(&name, kind.into())?.into()))
            .await
    }

    /// All spaces, oldest first.
    pub async fn spaces(&self) -> Result<Vec<Space>, SatchelError> {
        self.with(|w| Ok(w.spaces()?.into_iter().map(Into::into).collect()))
            .await
    }

    /// Deletes a space, its credentials and its holder key.
    pub async fn delete_space(&self, space_id: String) -> Result<(), SatchelError> {
        self.with(move |w| Ok(w.delete_space(&space_id)?)).await
    }

    /// Trusts an issuer key (JWK JSON) for credentials whose `iss` is `issuer`.
    pub async fn add_trusted_issuer(
        &self,
        issuer: String,
        issuer_jwk: String,
    ) -> Result<(), SatchelError> {
        let key = jwk(&issuer_jwk)?;
        self.with(move |w| Ok(w.add_trusted_issuer(&issuer, &key)?))
            .await
    }

    /// Verifies an SD-JWT VC as issued and stores it encrypted in the space.
    /// `issuer_jwk` (JWK JSON) overrides the trusted issuer keys.
    pub async fn import_credential(
        &self,
        space_id: String,
        sd_jwt: String,
        issuer_jwk: Option<String>,
    ) -> Result<Credential, SatchelError> {
        let key = issuer_jwk.as_deref().map(jwk).transpose()?;
        self.with(move |w| {
            Ok(
                w.import_credential(&space_id, &sd_jwt, key.as_ref(), core::unix_now())?
                    .into(),
            )
        })
        .await
    }

    /// Verifies many SD-JWT VCs (a restore, an issuer's batch) on every core
    /// and stores those that verify in one transaction; one outcome per
    /// token, in order. Much faster than one `import_credential` each.
    pub async fn import_credentials(
        &self,
        space_id: String,
        sd_jwts: Vec<String>,
        issuer_jwk: Option<String>,
    ) -> Result<Vec<ImportOutcome>, SatchelError> {
        let key = issuer_jwk.as_deref().map(jwk).transpose()?;
        self.with(move |w| {
            let results =
                w.import_credentials(&space_id, &sd_jwts, key.as_ref(), core::unix_now())?;
            Ok(results
                .into_iter()
                .map(|r| match r {
                    Ok(c) => ImportOutcome {
                        credential: Some(c.into()),
                        error: None,
                    },
                    Err(e) => ImportOutcome {
                        credential: None,
                        error: Some(SatchelError::from(e).to_string()),
                    },
                })
                .collect())
        })
        .await
    }

    /// A credential as issued (the SD-JWT VC with every disclosure), e.g.
    /// for a company to hand its licence to an agent it delegates.
    pub async fn credential_token(&self, credential_id: String) -> Result<String, SatchelError> {
        self.with(move |w| Ok(w.credential(&credential_id)?.token))
            .await
    }

    /// Credentials of a space that match `filter`, in import order.
    pub async fn credentials(
        &self,
        space_id: String,
        filter: CredentialFilter,
    ) -> Result<Vec<Credential>, SatchelError> {
        self.with(move |w| {
            let now = core::unix_now();
            let filter = filter.into_core(now);
            Ok(w.credentials(&space_id, &filter)?
                .into_iter()
                .map(|c| Credential::from_core(c, now))
                .collect())
        })
        .await
    }

    /// One credential.
    pub async fn credential(&self, credential_id: String) -> Result<Credential, SatchelError> {
        self.with(move |w| Ok(w.credential(&credential_id)?.into()))
            .await
    }

    /// Deletes a credential.
    pub async fn delete_credential(&self, credential_id: String) -> Result<(), SatchelError> {
        self.with(move |w| Ok(w.delete_credential(&credential_id)?))
            .await
    }

    /// Sets (or with `null`/`nil` clears) a credential's label.
    pub async fn set_label(
        &self,
        credential_id: String,
        label: Option<String>,
    ) -> Result<Credential, SatchelError> {
        self.with(move |w| Ok(w.set_label(&credential_id, label.as_deref())?.into()))
            .await
    }

    /// Presents a credential to `audience`, disclosing only the claims at
    /// `claim_paths` (dotted: `address.street`, `nationalities.0`,
    /// `nationalities.*`), with a key-binding JWT over `nonce`.
    pub async fn present(
        &self,
        credential_id: String,
        claim_paths: Vec<String>,
        audience: String,
        nonce: String,
    ) -> Result<String, SatchelError> {
        let paths = records::claim_paths(&claim_paths)?;
        self.with(move |w| {
            Ok(w.present(&credential_id, &paths, &audience, &nonce, core::unix_now())?)
        })
        .await
    }

    /// Receives a credential offered with a pre-authorised code
    /// (OpenID4VCI 1.0; `offer` is the offer JSON or an
    /// `openid-credential-offer://` URI) into the space. The issuer must be
    /// in `registry`; the proof of possession is signed by the space's
    /// holder key; the credential is verified before it is stored.
    /// `transport` defaults to the built-in HTTPS stack.
    pub async fn receive_credential(
        &self,
        space_id: String,
        offer: String,
        registry: Arc<TrustRegistry>,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<Credential, SatchelError> {
        self.with_offer(offer, registry, transport, move |w, o, t, r, now| {
            w.receive_credential(&space_id, o, t, r, now)
        })
        .await
    }

    /// Where status lists are published: the server's `…/status`.
    pub async fn set_status_base(&self, base: String) -> Result<(), SatchelError> {
        self.with(move |w| Ok(w.set_status_base(&base)?)).await
    }
}

/// Verifies an SD-JWT VC presentation against the issuer key (JWK JSON).
/// With `audience` and `nonce`, a key-binding JWT is required and checked;
/// with neither, it is not required. `now` defaults to the system clock.
#[uniffi::export]
pub fn verify_presentation(
    presentation: String,
    issuer_jwk: String,
    audience: Option<String>,
    nonce: Option<String>,
    now: Option<i64>,
) -> Result<VerifiedPresentation, SatchelError> {
    let key_binding = match (&audience, &nonce) {
        (Some(a), Some(n)) => Some((a.as_str(), n.as_str())),
        (None, None) => None,
        _ => return Err(error::invalid("give both audience and nonce, or neither")),
    };
    let vk = jwk(&issuer_jwk)?.verifying_key()?;
    let now = now.unwrap_or_else(core::unix_now);
    Ok(sd_jwt::verify_presentation(&presentation, &vk, key_binding, now)?.into())
}

/// The RFC 7638 thumbprint of a public JWK (JSON).
#[uniffi::export]
pub fn jwk_thumbprint(jwk_json: String) -> Result<String, SatchelError> {
    Ok(jwk(&jwk_json)?.thumbprint())
}

/// An SD-JWT VC issuer with a software key: for businesses issuing their own
/// credentials (e.g. staff delegations), tests and demos.
#[derive(uniffi::Object)]
pub struct SoftwareIssuer {
    key: core::SoftwareKey,
}

#[uniffi::export]
impl SoftwareIssuer {
    /// A new issuer with a fresh key.
    #[uniffi::constructor]
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Arc<Self>, SatchelError> {
        Ok(Arc::new(SoftwareIssuer {
            key: core::SoftwareKey::generate(algorithm.into())?,
        }))
    }

    /// The issuer's public key as JWK JSON.
    pub fn public_jwk(&self) -> String {
        core::Signer::public_jwk(&self.key).to_value().to_string()
    }

    /// Issues an SD-JWT VC. `claims_json` is the JSON object of claims
    /// (must hold `vct`); `disclosable` lists the dotted paths to conceal;
    /// `holder_jwk` (JWK JSON) becomes `cnf.jwk`.
    pub fn issue(
        &self,
        claims_json: String,
        disclosable: Vec<String>,
        holder_jwk: Option<String>,
    ) -> Result<String, SatchelError> {
        let holder = holder_jwk.as_deref().map(jwk).transpose()?;
        Ok(sd_jwt::issue_vc(
            &claims_json,
            &records::claim_paths(&disclosable)?,
            holder.as_ref(),
            &self.key,
        )?)
    }
}
