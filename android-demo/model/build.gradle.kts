// The screens' state holders: plain Kotlin, no Android imports, so they are
// compiled and tested on the JVM (`cargo xtask android-model-test` does the
// same with kotlinc, as Gradle cannot run on the CI machines).
plugins {
    alias(libs.plugins.kotlin.jvm)
}

kotlin {
    jvmToolchain(17)
}

// The Kotlin bindings, compiled by `cargo xtask android` from the code
// uniffi generates; the app gets the same classes (and the native
// libraries) from satchel.aar.
val satchelBindings = files("../../target/android/satchel-bindings.jar")

dependencies {
    compileOnly(satchelBindings)
    compileOnly(libs.jna)
    implementation(libs.kotlinx.coroutines.core)

    testImplementation(satchelBindings)
    testImplementation(libs.jna)
    testImplementation(libs.kotlin.test.junit5)
    testImplementation(libs.junit.jupiter)
}

tasks.test {
    useJUnitPlatform()
    // The tests talk to a real satchel-server and load the host library:
    // `cargo xtask android-model-test` sets both up; by hand, pass them.
    systemProperty("jna.library.path", rootDir.resolve("../target/debug").path)
    System.getProperty("satchel.server")?.let { systemProperty("satchel.server", it) }
    System.getProperty("satchel.admin")?.let { systemProperty("satchel.admin", it) }
}
