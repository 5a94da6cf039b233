// The Satchel demo app for Android. Before the first build run
// `cargo xtask android` at the repository root: it builds the native
// libraries and `target/android/satchel.aar` (see README.md).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "satchel-android-demo"
include(":model", ":app")
