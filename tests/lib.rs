//! Test support that is never shipped: end-to-end tests live in
//! `integration/`; [`fuzz_entries`] holds the entry points the fuzz
//! targets (`fuzz/`) and the regression run share.

pub mod fuzz_entries;
