//! `cargo xtask bench-peers`: builds the peer benchmark workspace
//! (benches/peers, its own workspace and lock file) in release and runs its
//! driver, which prints the table and ratios. Nothing here judges a timing.

use std::process::Command;

use crate::{cargo, run, Result};

const MANIFEST: &str = "benches/peers/Cargo.toml";
const DRIVER: &str = "benches/peers/target/release/bench-peers";
/// One `cargo build` per package: features are unified across the packages
/// of one build, so building them together would give Satchel's binary the
/// serde_json features sd-jwt-rs (`preserve_order`) and ssi-sd-jwt
/// (`arbitrary_precision`) turn on. Built apart, each library gets exactly
/// the features it asks for.
const PACKAGES: [&str; 5] = [
    "peer-driver",
    "peer-satchel",
    "peer-sd-jwt-rs",
    "peer-ssi",
    "peer-ring",
];

pub(crate) fn bench_peers(rounds: usize) -> Result {
    for package in PACKAGES {
        run(cargo().args([
            "build",
            "--release",
            "--manifest-path",
            MANIFEST,
            "-p",
            package,
        ]))?;
    }
    run(Command::new(DRIVER).args(["--rounds", &rounds.to_string()]))
}
