#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod authz;
pub mod b64;
pub mod client;
pub mod consent;
pub mod delegation;
pub mod der;
pub mod device;
pub mod enrol;
pub mod issuance;
pub mod jwk;
pub mod jws;
pub mod keystore;
pub mod net;
pub mod note;
pub mod private_file;
pub mod provenance;
pub mod registry;
pub mod runtime;
pub mod sd_jwt;
pub mod software_keystore;
pub mod status_list;
pub mod tlog;
pub mod wallet;

mod clock;

pub use clock::{rfc3339, unix_now};
pub use jwk::{Jwk, JwkError, VerifyingKey};
pub use jws::{Alg, JoseError, Signer};
pub use keystore::{KeyAlgorithm, KeyStore, KeyStoreError, KeyStoreSigner};
pub use sd_jwt::constant_time_eq;
pub use software_keystore::{SoftwareKey, SoftwareKeyStore};
pub use wallet::{
    AnchorReport, Approved, AuthorizationState, Credential, CredentialFilter, CredentialStatus,
    DeviceEntry, EnrolmentOffer, ImportReport, Member, MemberRole, Observation, Space, SpaceDevice,
    SpaceKind, StoredAuthorization, StoredDelegation, UseRecord, Wallet, WalletChange, WalletError,
    WalletObserver,
};
