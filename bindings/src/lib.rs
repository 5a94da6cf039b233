//! Satchel's Kotlin and Swift surface (uniffi proc-macros, library mode).
//!
//! This crate only converts and delegates: every rule lives in
//! `satchel-core`. Objects are `Send + Sync`; Kotlin objects are
//! `AutoCloseable`. Calls touch the local database and the key store, so
//! apps call them off the main thread (e.g. `Dispatchers.IO`).

mod authz;
mod error;
mod keystore;
mod records;
mod server;
mod transport;
mod wallet_authz;

use std::{path::PathBuf, sync::Arc};

pub use authz::{
    CredentialRequest, RelyingParty, RequestSpec, TrustRegistry, UseReceipt, VerifiedAuthorization,
};
pub use error::{KeyStoreError, SatchelError};
pub use keystore::{file_key_store, in_memory_key_store, KeyAlgorithm, PlatformKeyStore};
pub use records::{
    Credential, CredentialFilter, CredentialStatus, Space, SpaceKind, VerifiedPresentation,
};
use satchel_core::{
    self as core,
    sd_jwt::{self, IssueOptions, KeyBindingCheck, TypPolicy, VerifyOptions},
    Jwk, Signer,
};
pub use server::{AnchorReport, SatchelServer};
pub use transport::{HttpHeader, HttpRequest, HttpResponse, HttpTransport, TransportError};
pub use wallet_authz::{
    ApprovalChoice, Approved, Authorization, Candidate, Delegation, DelegationScope, Member,
    MemberRole, ProvenanceEvent, QueryMatch, RequestReview, RpTrust, Selection, Withdrawal,
};

uniffi::setup_scaffolding!();

fn jwk(json: &str) -> Result<Jwk, SatchelError> {
    Ok(Jwk::from_json(json)?)
}

fn now_or(now: Option<i64>) -> i64 {
    now.unwrap_or_else(core::unix_now)
}

/// The wallet: spaces and their credentials, encrypted on the device.
/// Open one per file and share it across threads.
#[derive(uniffi::Object)]
pub struct Wallet {
    pub(crate) inner: core::Wallet,
}

#[uniffi::export]
impl Wallet {
    /// Opens (or creates) the wallet database at `path`. Its data key is
    /// wrapped by `key_store`, which also holds every space's holder key.
    #[uniffi::constructor]
    pub fn open(
        path: String,
        key_store: Arc<dyn PlatformKeyStore>,
    ) -> Result<Arc<Self>, SatchelError> {
        let ks: Arc<dyn core::KeyStore> = Arc::new(keystore::ForeignKeyStore(key_store));
        Ok(Arc::new(Wallet {
            inner: core::Wallet::open(&PathBuf::from(path), ks)?,
        }))
    }

    /// Creates a space with a new ES256 holder key.
    pub fn create_space(&self, name: String, kind: SpaceKind) -> Result<Space, SatchelError> {
        Ok(self.inner.create_space(&name, kind.into())?.into())
    }

    /// All spaces, oldest first.
    pub fn spaces(&self) -> Result<Vec<Space>, SatchelError> {
        Ok(self.inner.spaces()?.into_iter().map(Into::into).collect())
    }

    /// Deletes a space, its credentials and its holder key.
    pub fn delete_space(&self, space_id: String) -> Result<(), SatchelError> {
        Ok(self.inner.delete_space(&space_id)?)
    }

    /// Trusts an issuer key (JWK JSON) for credentials whose `iss` is `issuer`.
    pub fn add_trusted_issuer(
        &self,
        issuer: String,
        issuer_jwk: String,
    ) -> Result<(), SatchelError> {
        Ok(self.inner.add_trusted_issuer(&issuer, &jwk(&issuer_jwk)?)?)
    }

    /// Verifies an SD-JWT VC as issued and stores it encrypted in the space.
    /// `issuer_jwk` (JWK JSON) overrides the trusted issuer keys.
    pub fn import_credential(
        &self,
        space_id: String,
        sd_jwt: String,
        issuer_jwk: Option<String>,
    ) -> Result<Credential, SatchelError> {
        let key = issuer_jwk.as_deref().map(jwk).transpose()?;
        Ok(self
            .inner
            .import_credential(&space_id, &sd_jwt, key.as_ref(), core::unix_now())?
            .into())
    }

    /// Credentials of a space that match `filter`, in import order.
    pub fn credentials(
        &self,
        space_id: String,
        filter: CredentialFilter,
    ) -> Result<Vec<Credential>, SatchelError> {
        let filter: core::CredentialFilter = filter.into();
        let now = if filter.now == 0 {
            core::unix_now()
        } else {
            filter.now
        };
        Ok(self
            .inner
            .credentials(&space_id, &filter)?
            .into_iter()
            .map(|c| Credential::from_core(c, now))
            .collect())
    }

    /// One credential.
    pub fn credential(&self, credential_id: String) -> Result<Credential, SatchelError> {
        Ok(self.inner.credential(&credential_id)?.into())
    }

    /// Deletes a credential.
    pub fn delete_credential(&self, credential_id: String) -> Result<(), SatchelError> {
        Ok(self.inner.delete_credential(&credential_id)?)
    }

    /// Sets (or with `null`/`nil` clears) a credential's label.
    pub fn set_label(
        &self,
        credential_id: String,
        label: Option<String>,
    ) -> Result<Credential, SatchelError> {
        Ok(self
            .inner
            .set_label(&credential_id, label.as_deref())?
            .into())
    }

    /// Presents a credential to `audience`, disclosing only the claims at
    /// `claim_paths` (dotted: `address.street`, `nationalities.0`,
    /// `nationalities.*`), with a key-binding JWT over `nonce`.
    pub fn present(
        &self,
        credential_id: String,
        claim_paths: Vec<String>,
        audience: String,
        nonce: String,
    ) -> Result<String, SatchelError> {
        Ok(self.inner.present(
            &credential_id,
            &records::claim_paths(&claim_paths)?,
            &audience,
            &nonce,
            core::unix_now(),
        )?)
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
    let key_binding = match (audience, nonce) {
        (Some(a), Some(n)) => Some(KeyBindingCheck::new(&a, &n)),
        (None, None) => None,
        _ => {
            return Err(SatchelError::InvalidInput(
                "give both audience and nonce, or neither".into(),
            ))
        }
    };
    let options = VerifyOptions {
        typ: TypPolicy::SdJwtVc,
        now: now_or(now),
        leeway: 60,
        key_binding,
    };
    let vk = jwk(&issuer_jwk)?.verifying_key()?;
    Ok(sd_jwt::verify(&presentation, &vk, &options)?.into())
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
        self.key.public_jwk().to_value().to_string()
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
        let mut claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&claims_json)
                .map_err(|_| SatchelError::InvalidInput("claims must be a JSON object".into()))?;
        if let Some(h) = holder_jwk {
            claims.insert(
                "cnf".into(),
                serde_json::json!({ "jwk": jwk(&h)?.to_value() }),
            );
        }
        Ok(sd_jwt::issue(
            &claims,
            &records::claim_paths(&disclosable)?,
            &IssueOptions::default(),
            &self.key,
        )?)
    }
}
