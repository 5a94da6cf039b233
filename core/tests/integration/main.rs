//! Integration tests of satchel-core through its public API: the
//! authorisation flow, the consent log, provenance, delegation, and
//! snapshots of every serialised format.

mod authz;
mod consent;
mod delegation;
mod fixture;
mod observe;
mod portable;
mod snapshots;
