//! The JVM side: kotlinc and JUnit (installed where missing), a satchel-server
//! for the tests, the binding tests and the android-demo model tests, and the
//! guards on the generated Kotlin.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{apt_install, cargo, files_with_extension, have, run, Result};

const KOTLIN_VERSION: &str = "2.4.20";

const JNA_JAR: &str = "/usr/share/java/jna.jar";

const JUNIT_CONSOLE: &str = "/usr/share/java/junit-platform-console-standalone.jar";

const JUNIT_API: &str = "/usr/share/java/junit-jupiter-api.jar";

const GENERATED_KOTLIN: &str = "target/bindings/kotlin/app/satchel/satchel_ffi.kt";

/// Installs JNA and JUnit from Debian, and kotlinc from npm, when missing.
pub(crate) fn ensure_kotlin_tools() -> Result<PathBuf> {
    if !have("java") || !Path::new(JNA_JAR).exists() || !Path::new(JUNIT_CONSOLE).exists() {
        apt_install(&["default-jdk-headless", "libjna-java", "junit5"])?;
    }
    let home = PathBuf::from(format!(".tools/kotlin-{KOTLIN_VERSION}"));
    if !home.join("bin/kotlinc").exists() {
        if !have("npm") {
            apt_install(&["npm"])?;
        }
        std::fs::create_dir_all(".tools").map_err(|e| e.to_string())?;
        // `npm pack` + tar keeps kotlinc's executable bits (npm install may skip scripts).
        run(Command::new("npm").args([
            "pack",
            &format!("kotlin-compiler@{KOTLIN_VERSION}"),
            "--pack-destination",
            ".tools",
        ]))?;
        let tgz = format!(".tools/kotlin-compiler-{KOTLIN_VERSION}.tgz");
        std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
        run(Command::new("tar")
            .args(["-xzf", &tgz, "--strip-components=1", "-C"])
            .arg(&home))?;
        let _ = std::fs::remove_file(tgz);
    }
    Ok(home)
}

/// A `satchel-server` for the binding tests, killed on drop.
struct TestServer {
    child: std::process::Child,
    url: String,
    admin_token: String,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn start_server() -> Result<TestServer> {
    run(cargo().args(["build", "-p", "satchel-server", "--bin", "satchel-server"]))?;
    let dir = PathBuf::from("target/kotlin-server");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (port, metrics) = (free_port()?, free_port()?);
    let url = format!("http://127.0.0.1:{port}");
    let admin_token = format!("kotlin-tests-{}", std::process::id());
    let child = Command::new("target/debug/satchel-server")
        .arg("--db")
        .arg(format!("sqlite:{}", dir.join("satchel.db").display()))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--metrics-listen",
            &format!("127.0.0.1:{metrics}"),
            "--public-url",
            &url,
        ])
        .arg("--log-key-file")
        .arg(dir.join("log.key"))
        .arg("--operator-key-file")
        .arg(dir.join("operator.jwk"))
        .args(["--admin-token", &admin_token, "--demo"])
        .spawn()
        .map_err(|e| format!("cannot start satchel-server: {e}"))?;
    let server = TestServer {
        child,
        url,
        admin_token,
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err("satchel-server did not start listening".into())
}

pub(crate) fn kotlin_test(lib: &Path) -> Result {
    check_kotlin_checksums()?;
    check_kotlin_suspend()?;
    // The package (generated code and the hand-written Kotlin shipped with
    // it), and the tests.
    jvm_tests(
        "kotlin",
        &["target/bindings/kotlin", "bindings/tests/kotlin"],
        "app.satchel.test",
        lib,
    )
}

/// The android-demo `model` module (pure Kotlin: the screens' state
/// holders and use cases) and its tests, on the JVM against a real server.
pub(crate) fn android_model_test(lib: &Path) -> Result {
    jvm_tests(
        "android-model",
        &[
            "target/bindings/kotlin",
            "android-demo/model/src/main/kotlin",
            "android-demo/model/src/test/kotlin",
        ],
        "app.satchel.demo.model",
        lib,
    )
}

/// Compiles the Kotlin under `dirs` with kotlinc and runs the JUnit tests
/// of `package` against a satchel-server started for them; prints
/// `<label>: N passed, N failed`.
fn jvm_tests(label: &str, dirs: &[&str], package: &str, lib: &Path) -> Result {
    let home = ensure_kotlin_tools()?;
    let server = start_server()?;
    let cp = kotlin_classpath(&home);
    let classes = format!("target/{label}-classes");
    let _ = std::fs::remove_dir_all(&classes);
    let mut sources = Vec::new();
    for dir in dirs {
        sources.extend(files_with_extension(Path::new(dir), "kt")?);
    }
    run(Command::new(home.join("bin/kotlinc"))
        .args(["-Werror", "-cp", &cp, "-d", &classes])
        .args(&sources))?;
    let lib_dir = lib.parent().ok_or("library has no directory")?;
    let report = format!("target/{label}-test-report");
    let _ = std::fs::remove_dir_all(&report);
    let status = Command::new("java")
        .arg(format!("-Djna.library.path={}", lib_dir.display()))
        .arg(format!("-Dsatchel.server={}", server.url))
        .arg(format!("-Dsatchel.admin={}", server.admin_token))
        .args([
            "-jar",
            JUNIT_CONSOLE,
            "--disable-banner",
            "--details=tree",
            "--reports-dir",
            &report,
        ])
        .args([
            "-cp",
            &format!("{classes}:{cp}"),
            "--select-package",
            package,
        ])
        .status()
        .map_err(|e| format!("cannot start java: {e}"))?;
    let (passed, failed) = junit_counts(&report);
    println!("{label}: {passed} passed, {failed} failed");
    if status.success() && failed == 0 && passed > 0 {
        Ok(())
    } else {
        Err(format!("{label} tests failed"))
    }
}

/// The generated Kotlin must carry the fixes for uniffi-rs issue 2939
/// (false API checksum mismatches on 32-bit ARM and AArch64 Android): the
/// checksum is read as an `Int` and masked to 16 bits. See ADR 0005.
fn check_kotlin_checksums() -> Result {
    let kotlin = std::fs::read_to_string(GENERATED_KOTLIN).map_err(|e| e.to_string())?;
    let checks = kotlin
        .lines()
        .filter(|l| l.contains("uniffi_satchel_ffi_checksum_"))
        .filter(|l| l.contains("!="))
        .collect::<Vec<_>>();
    if checks.is_empty() {
        return Err("no checksum checks found in the generated Kotlin".into());
    }
    if let Some(bad) = checks.iter().find(|l| !l.contains("and 0xFFFF")) {
        return Err(format!(
            "generated Kotlin compares an unmasked checksum (uniffi-rs issue 2939): {}",
            bad.trim()
        ));
    }
    println!("kotlin: {} checksum checks masked to 16 bits", checks.len());
    Ok(())
}

pub(crate) fn kotlin_classpath(home: &Path) -> String {
    let jars = [
        "kotlin-stdlib",
        "kotlin-test",
        "kotlin-test-junit5",
        "kotlinx-coroutines-core-jvm",
    ];
    let mut cp: Vec<String> = jars
        .iter()
        .map(|j| format!("{}/lib/{j}.jar", home.display()))
        .collect();
    cp.extend([JNA_JAR.to_string(), JUNIT_API.to_string()]);
    cp.join(":")
}

/// Calls that do no I/O and may stay synchronous; every other method of the
/// objects below must be `suspend` in the generated Kotlin (network, key
/// store or database behind it). See ADR 0004.
const SYNC_ALLOWED: &[(&str, &[&str])] = &[
    ("Wallet", &["observe"]),
    ("SatchelServer", &[]),
    (
        "RelyingParty",
        &["createRequest", "publicJwk", "updateStatusList"],
    ),
];

fn check_kotlin_suspend() -> Result {
    let kotlin = std::fs::read_to_string(GENERATED_KOTLIN).map_err(|e| e.to_string())?;
    let mut checked = 0;
    for (object, allowed) in SYNC_ALLOWED {
        let start = format!("public interface {object}Interface {{");
        let body = kotlin
            .split_once(&start)
            .and_then(|(_, rest)| rest.split_once("\n}"))
            .map(|(body, _)| body)
            .ok_or_else(|| format!("no {object} interface in the generated Kotlin"))?;
        for line in body.lines().map(str::trim) {
            let Some(rest) = line
                .strip_prefix("fun `")
                .or(line.strip_prefix("suspend fun `"))
            else {
                continue;
            };
            let name = rest.split('`').next().unwrap_or_default();
            checked += 1;
            if !line.starts_with("suspend ") && !allowed.contains(&name) {
                return Err(format!(
                    "{object}.{name} is not suspend in the generated Kotlin"
                ));
            }
        }
    }
    println!(
        "kotlin: {checked} methods of Wallet, SatchelServer and RelyingParty checked for suspend"
    );
    Ok(())
}

/// Counts test cases in JUnit's XML report.
fn junit_counts(dir: &str) -> (usize, usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    let (mut total, mut failed) = (0, 0);
    for e in entries.flatten() {
        let Ok(xml) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        total += xml.matches("<testcase ").count();
        failed += xml.matches("<failure").count() + xml.matches("<error").count();
    }
    (total - failed.min(total), failed)
}
