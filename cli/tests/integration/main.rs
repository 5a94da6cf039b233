//! The `satchel` binary driven as integrators drive it.

mod authz;
mod devices;
mod remote;
mod sd_jwt;
mod spec;
mod wallet;

use std::{path::Path, process::Command};

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn satchel(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_satchel"))
        .current_dir(dir)
        .env("SATCHEL_PASSPHRASE", "correct horse battery staple")
        .args(args)
        .output()
        .expect("run satchel");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = satchel(dir, args);
    assert_eq!(out.code, 0, "satchel {args:?} failed: {}", out.stderr);
    out.stdout
}

/// Runs and expects a rejection: exit 1 with exactly one line on stderr.
pub fn rejected(dir: &Path, args: &[&str]) -> String {
    let out = satchel(dir, args);
    assert_eq!(
        out.code, 1,
        "satchel {args:?} should be rejected; stdout: {}",
        out.stdout
    );
    assert_eq!(
        out.stderr.trim_end().lines().count(),
        1,
        "one-line reason: {:?}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    out.stderr
}

pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The README's main job: the story on the embedded server.
#[test]
fn demo_runs_the_story_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = satchel(dir.path(), &["demo"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for step in [
        "[1]", "[2]", "[3]", "[4]", "[5]", "[6]", "[7]", "[8]", "[9]", "[10]", "[11]", "[12]",
    ] {
        assert!(out.stdout.contains(step), "{step} missing:\n{}", out.stdout);
    }
    assert!(out.stdout.contains("no claim in plaintext"));
    assert!(out
        .stdout
        .contains("issue → import → present → authorize → use → use"));
}
