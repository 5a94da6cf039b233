//! End-to-end tests: the story through the same surface apps use (the FFI
//! crate's Rust API), with a key store implemented outside core.

mod anchoring;
mod devices;
mod fuzz_regressions;
mod story;
mod sync;
