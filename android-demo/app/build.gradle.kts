plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "app.satchel.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "app.satchel.demo"
        minSdk = 28
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // The server the app talks to unless the person changes it in
        // settings; 10.0.2.2 is the host machine seen from the emulator.
        buildConfigField("String", "DEFAULT_SERVER", "\"http://10.0.2.2:8480\"")
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        // The native library is already stripped by `cargo xtask android`.
        jniLibs.keepDebugSymbols += "**/libsatchel_ffi.so"
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // Kotlin bindings and native libraries, built by `cargo xtask android`.
    implementation(files("../../target/android/satchel.aar"))
    implementation("${libs.jna.get()}@aar")
    implementation(project(":model"))

    implementation(libs.kotlinx.coroutines.android)
    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.activity.compose)
    implementation(libs.androidx.lifecycle.viewmodel.compose)
    implementation(libs.androidx.lifecycle.runtime.compose)
    implementation(libs.androidx.navigation.compose)
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.ui)
    implementation(libs.compose.ui.tooling.preview)
    implementation(libs.compose.material3)
    implementation(libs.compose.material.icons)
    implementation(libs.camerax.camera2)
    implementation(libs.camerax.lifecycle)
    implementation(libs.camerax.view)
    implementation(libs.androidx.biometric)
    implementation(libs.androidx.work.runtime.ktx)
    implementation(libs.zxing.core)
}
