//! `cargo xtask …`: the project's build scripts, in Rust so they run the
//! same on every machine CI and developers use.

use std::{
    env,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use apps::{android, android_check, swift_check, xcframework};
use bench_peers::bench_peers;
use clap::{Parser, Subcommand};
use fuzz::fuzz;
use jvm::{android_model_test, ensure_kotlin_tools, kotlin_classpath, kotlin_test};

mod apps;
mod bench_peers;
mod fuzz;
mod jvm;
mod ship;

/// Hand-written Kotlin shipped with the generated code (e.g. `Flow` adapters).
const KOTLIN_SOURCES: &str = "bindings/kotlin";
pub(crate) const APPLE_TARGETS: [&str; 3] = [
    "aarch64-apple-ios",
    "aarch64-apple-ios-sim",
    "aarch64-apple-darwin",
];

#[derive(Parser)]
#[command(about = "Satchel build tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Everything CI runs: format and lint checks, Rust tests, bindings, Kotlin tests, the apps' checks; prints the shipped library's size.
    Test,
    /// Build the FFI library and generate Kotlin and Swift into target/bindings.
    Bindings {
        /// Build the size-optimised release library.
        #[arg(long)]
        release: bool,
    },
    /// Compile the Kotlin bindings and their tests and run them on the JVM.
    KotlinTest,
    /// Compile android-demo's pure-Kotlin `model` module and run its tests on the JVM.
    AndroidModelTest,
    /// Syntax-check the generated Swift, the Swift package sources and the C header.
    SwiftCheck,
    /// ktlint and a syntax check on every Kotlin file of android-demo (the app included).
    AndroidCheck,
    /// Build the Android native libraries (cargo-ndk; needs the NDK) and target/android/satchel.aar.
    Android,
    /// (macOS) Build SatchelFFI.xcframework for iOS, the simulator and macOS.
    Xcframework,
    /// Build the shipped FFI library (xtask/src/ship.rs); print its stripped size and what each crate adds.
    Size,
    /// Measure FFI calls from the JVM (sync vs suspend) on the release library.
    BenchFfi,
    /// Time SD-JWT VC verify/issue/present against sd-jwt-rs, ssi-sd-jwt and raw ring P-256 (benches/peers).
    BenchPeers {
        /// Interleaved rounds; each figure is the median across them.
        #[arg(long, default_value_t = 7)]
        rounds: usize,
    },
    /// Run every fuzz target (cargo-fuzz, nightly) for N seconds each; save crashes.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
    },
}

pub(crate) type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    if let Err(e) = env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let result = match cli.task {
        Task::Test => test_all(),
        Task::Bindings { release } => bindings(release).map(|_| ()),
        Task::KotlinTest => bindings(false).and_then(|lib| kotlin_test(&lib)),
        Task::AndroidModelTest => bindings(false).and_then(|lib| android_model_test(&lib)),
        Task::SwiftCheck => bindings(false).and_then(|_| swift_check()),
        Task::AndroidCheck => android_check(),
        Task::Android => android(),
        Task::Xcframework => xcframework(),
        Task::Size => ship::size(true),
        Task::BenchFfi => bench_ffi(),
        Task::BenchPeers { rounds } => bench_peers(rounds),
        Task::Fuzz { seconds, target } => fuzz(seconds, target.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub(crate) fn run(cmd: &mut Command) -> Result {
    eprintln!("xtask: $ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

pub(crate) fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub(crate) fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn test_all() -> Result {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args(["test", "--workspace", "--all-targets"]))?;
    let lib = bindings(false)?;
    kotlin_test(&lib)?;
    android_model_test(&lib)?;
    android_check()?;
    swift_check()?;
    // Printed, never judged: the size of what apps ship.
    ship::size(false)?;
    eprintln!("xtask: all tests passed");
    Ok(())
}

/// Builds the FFI library and generates the bindings; returns the library path.
fn bindings(release: bool) -> Result<PathBuf> {
    bindings_for(if release { "release" } else { "debug" })
}

/// The same, for a cargo profile (`debug`, `release`, `release-syms`).
fn bindings_for(profile: &str) -> Result<PathBuf> {
    // Tests link the debug build with every crate type; a release build is
    // the shipped library itself.
    let lib = if profile == "debug" {
        run(cargo().args(["build", "-p", "satchel-ffi", "--lib"]))?;
        PathBuf::from(format!(
            "target/debug/libsatchel_ffi.{}",
            if cfg!(target_os = "macos") {
                "dylib"
            } else {
                "so"
            }
        ))
    } else {
        ship::shipped_library(ship::Platform::Host, profile)?
    };
    run(cargo().args([
        "build",
        "-p",
        "satchel-ffi",
        "--features",
        "bindgen",
        "--bin",
        "uniffi-bindgen",
    ]))?;
    let bindgen = "target/debug/uniffi-bindgen";
    for (language, out) in [
        ("kotlin", "target/bindings/kotlin"),
        ("swift", "target/bindings/swift"),
    ] {
        let _ = std::fs::remove_dir_all(out);
        run(Command::new(bindgen)
            .args(["generate", "--library"])
            .arg(&lib)
            .args(["--language", language, "--out-dir", out, "--no-format"]))?;
    }
    // The hand-written Kotlin (Flow adapters) ships in the same package as
    // the generated code.
    for source in files_with_extension(Path::new(KOTLIN_SOURCES), "kt")? {
        let relative = source
            .strip_prefix(KOTLIN_SOURCES)
            .map_err(|e| e.to_string())?;
        let target = Path::new("target/bindings/kotlin").join(relative);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::copy(&source, &target).map_err(|e| e.to_string())?;
    }
    // The Swift package compiles the generated file from its Sources folder.
    let swift_src = Path::new("bindings/swift/Sources/Satchel");
    std::fs::create_dir_all(swift_src).map_err(|e| e.to_string())?;
    std::fs::copy(
        "target/bindings/swift/Satchel.swift",
        swift_src.join("Satchel.swift"),
    )
    .map_err(|e| e.to_string())?;
    eprintln!(
        "xtask: bindings in target/bindings/ (library {})",
        lib.display()
    );
    Ok(lib)
}

pub(crate) fn apt_install(packages: &[&str]) -> Result {
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.extend_from_slice(args);
        let mut cmd = Command::new(all[0]);
        cmd.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    apt(&["apt-get", "update", "-qq"])?;
    let mut args = vec!["apt-get", "install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    apt(&args)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

/// Every file under `dir` (recursively) whose name ends in `.ext`, sorted.
pub(crate) fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs the JVM-side FFI benchmark on the release library.
fn bench_ffi() -> Result {
    let home = ensure_kotlin_tools()?;
    let lib = bindings_for("release-syms")?;
    let cp = kotlin_classpath(&home);
    let classes = "target/kotlin-bench-classes";
    let _ = std::fs::remove_dir_all(classes);
    let mut sources = files_with_extension(Path::new("target/bindings/kotlin"), "kt")?;
    sources.extend(files_with_extension(
        Path::new("bindings/benches/kotlin"),
        "kt",
    )?);
    run(Command::new(home.join("bin/kotlinc"))
        .args(["-cp", &cp, "-d", classes])
        .args(&sources))?;
    let lib_dir = lib.parent().ok_or("library has no directory")?;
    run(Command::new("java")
        .arg(format!("-Djna.library.path={}", lib_dir.display()))
        .args([
            "-cp",
            &format!("{classes}:{cp}"),
            "app.satchel.bench.AsyncCallBenchKt",
        ]))
}
