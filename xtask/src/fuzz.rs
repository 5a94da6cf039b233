//! `cargo xtask fuzz`: every cargo-fuzz target for N seconds; crashes kept
//! as regression inputs.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{files_with_extension, run, Result};

/// Runs each cargo-fuzz target for `seconds`, prints executions and
/// findings per target, and copies every crash into
/// `fuzz/regressions/<target>/` (which the normal test suite runs).
pub(crate) fn fuzz(seconds: u64, only: Option<&str>) -> Result {
    let fuzz_ok = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !fuzz_ok {
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let mut targets: Vec<String> = files_with_extension(Path::new("fuzz/fuzz_targets"), "rs")?
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|t| only.is_none_or(|o| o == t))
        .collect();
    targets.sort();
    if targets.is_empty() {
        return Err("no such fuzz target".into());
    }
    let mut failed = Vec::new();
    for t in &targets {
        let corpus = format!("fuzz/corpus/{t}");
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        let out = Command::new("cargo")
            .current_dir("fuzz")
            .args(["+nightly", "fuzz", "run", t])
            .arg(format!("corpus/{t}"))
            .arg(format!("seeds/{t}"))
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-print_final_stats=1",
                "-rss_limit_mb=2048",
                "-timeout=10",
            ])
            .output()
            .map_err(|e| format!("cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let execs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map(str::trim)
            .unwrap_or("?");
        let mut crashes = 0;
        if let Ok(entries) = std::fs::read_dir(format!("fuzz/artifacts/{t}")) {
            let keep = PathBuf::from(format!("fuzz/regressions/{t}"));
            for e in entries.flatten() {
                std::fs::create_dir_all(&keep).map_err(|e| e.to_string())?;
                let name = e.file_name();
                std::fs::copy(e.path(), keep.join(&name)).map_err(|e| e.to_string())?;
                let _ = std::fs::remove_file(e.path());
                crashes += 1;
            }
        }
        println!("fuzz: {t:<18} {seconds:>4} s  {execs:>12} executions  {crashes} crashes");
        if !out.status.success() || crashes > 0 {
            if crashes == 0 {
                eprintln!(
                    "{}",
                    log.lines().rev().take(20).collect::<Vec<_>>().join("\n")
                );
            }
            failed.push(t.clone());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found problems in {failed:?}; inputs saved in fuzz/regressions/"
        ))
    }
}
