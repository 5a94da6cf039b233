//! The shipped FFI library: how each platform's build is made, and how
//! big it is.
//!
//! A shipped build asks cargo for exactly one crate type (`cargo rustc
//! --crate-type`): built beside the `rlib` that the workspace's Rust tests
//! link, the cdylib keeps code LTO would otherwise drop and is 1 MiB
//! larger (docs/PERFORMANCE.md). Shared libraries also pack their relative
//! relocations (RELR), which ELF loaders apply from a bitmap instead of one
//! 24-byte entry each.

use std::{env, path::PathBuf, process::Command};

use crate::{cargo, run, Result};

/// The profile `cargo xtask size` measures: `release` with its symbols
/// kept, so the size can be attributed to crates; the shipped file is the
/// same code stripped.
pub(crate) const SIZE_PROFILE: &str = "release-syms";

/// The performance issue's ceiling for the stripped library.
const TARGET_MIB: f64 = 3.5;

/// Where the library goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    /// A shared library for this machine (the JVM tests and benchmarks).
    Host,
    /// A shared library for Android; cargo-ndk adds each ABI's `--target`.
    Android,
    /// A static library for one Apple target, linked into the app.
    Apple(&'static str),
}

/// Appends to `cmd` (cargo, or cargo-ndk wrapping cargo) the arguments that
/// build the FFI crate as the shipped library for `platform`.
pub(crate) fn shipped_args(cmd: &mut Command, platform: Platform, profile: &str) {
    cmd.args(["rustc", "-p", "satchel-ffi", "--lib", "--crate-type"]);
    cmd.arg(match platform {
        Platform::Apple(_) => "staticlib",
        Platform::Host | Platform::Android => "cdylib",
    });
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    match platform {
        Platform::Apple(target) => {
            cmd.args(["--target", target]);
        }
        // API 28+ reads RELR under Android's own dynamic tags.
        Platform::Android => {
            cmd.args([
                "--",
                "-C",
                "link-arg=-Wl,--pack-dyn-relocs=android+relr",
                "-C",
                "link-arg=-Wl,--use-android-relr-tags",
            ]);
        }
        Platform::Host if cfg!(target_os = "linux") => {
            cmd.args(["--", "-C", "link-arg=-Wl,-z,pack-relative-relocs"]);
        }
        Platform::Host => {}
    }
}

/// Builds the shipped library for the host or an Apple target and returns
/// its path.
pub(crate) fn shipped_library(platform: Platform, profile: &str) -> Result<PathBuf> {
    let mut build = cargo();
    shipped_args(&mut build, platform, profile);
    run(&mut build)?;
    Ok(match platform {
        Platform::Apple(t) => PathBuf::from(format!("target/{t}/{profile}/libsatchel_ffi.a")),
        Platform::Host | Platform::Android => PathBuf::from(format!(
            "target/{profile}/libsatchel_ffi.{}",
            if cfg!(target_os = "macos") {
                "dylib"
            } else {
                "so"
            }
        )),
    })
}

/// Prints the stripped size of the release FFI library and the share of
/// its code each crate (or SQLite's C) holds, from the symbol table.
pub(crate) fn size(by_crate: bool) -> Result {
    let lib = shipped_library(Platform::Host, SIZE_PROFILE)?;
    let stripped = lib.with_file_name("libsatchel_ffi.stripped.so");
    run(Command::new("strip")
        .args(["--strip-all", "-o"])
        .arg(&stripped)
        .arg(&lib))?;
    let bytes = std::fs::metadata(&stripped)
        .map_err(|e| e.to_string())?
        .len();
    let mib = bytes as f64 / 1048576.0;
    println!(
        "size: stripped release FFI library {mib:.2} MiB ({bytes} bytes, {}); target {TARGET_MIB} MiB: {}",
        env::consts::ARCH,
        if mib <= TARGET_MIB { "met" } else { "not met" }
    );
    if !by_crate {
        return Ok(());
    }
    let out = Command::new("nm")
        .args(["--size-sort", "-S", "-C", "--defined-only"])
        .arg(&lib)
        .output()
        .map_err(|e| format!("nm: {e}"))?;
    let mut by_crate: std::collections::BTreeMap<String, u64> = Default::default();
    let mut total = 0u64;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut parts = line.splitn(4, ' ');
        let (_, Some(size), Some(kind), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !matches!(kind, "t" | "T" | "r" | "R" | "d" | "D") {
            continue;
        }
        let size = u64::from_str_radix(size, 16).unwrap_or(0);
        total += size;
        *by_crate.entry(crate_of(name)).or_default() += size;
    }
    let mut rows: Vec<_> = by_crate.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!("size: symbols by crate (code and read-only data; LTO inlining blurs the edges)");
    for (name, size) in rows.iter().take(25) {
        println!(
            "size:   {name:<28} {:>8.1} KiB  {:>5.1} %",
            *size as f64 / 1024.0,
            *size as f64 * 100.0 / total.max(1) as f64
        );
    }
    Ok(())
}

/// The crate a demangled symbol belongs to (`<T as path::Trait>` counts
/// for T's crate); C symbols of SQLite are grouped.
fn crate_of(symbol: &str) -> String {
    let s = symbol.trim_start_matches('<').trim_start_matches('&');
    if s.starts_with("sqlite3") || s.starts_with("fts5") || s.starts_with("sqlite") {
        return "sqlite (C)".into();
    }
    if s.starts_with("ring_core")
        || s.starts_with("GFp")
        || s.starts_with("p256_")
        || s.starts_with("x25519")
    {
        return "ring (C/asm)".into();
    }
    match s.split_once("::") {
        Some((head, _)) if !head.contains(' ') && !head.is_empty() => head.to_string(),
        _ => "other (C, std glue)".into(),
    }
}
