package app.satchel.demo

import android.content.Context
import android.net.Uri
import app.satchel.NetworkSettings
import app.satchel.demo.keys.AndroidPlatformKeyStore
import app.satchel.demo.keys.BiometricGate
import app.satchel.demo.model.Label
import app.satchel.demo.model.SatchelSession
import app.satchel.httpsTransport
import java.io.File
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/**
 * The app's single Satchel session and what it is built from: the Android
 * Keystore key store with its biometric gate, the preferences, the wallet
 * file. Activities, the view model and the sync worker share it.
 */
class AppContainer(private val context: Context) {
    val preferences = Preferences(context)
    val gate = BiometricGate().apply {
        words = {
            val lang = preferences.display.language
            Label.BIOMETRIC_TITLE.text(lang) to Label.BIOMETRIC_SUBTITLE.text(lang)
        }
    }
    val keyStore = AndroidPlatformKeyStore(context, gate)
    private val lock = Mutex()
    private var session: SatchelSession? = null

    /** The session, opened on first use. */
    suspend fun session(): SatchelSession = lock.withLock {
        session ?: open().also { session = it }
    }

    /** Connects to another server (settings); the wallet stays the same. */
    suspend fun switchServer(url: String) = lock.withLock {
        preferences.serverUrl = url
        session?.close()
        session = null
    }

    /** The log key for anchoring: pinned on first use, then always the same. */
    suspend fun logKey(): String = preferences.logKey ?: session().server.logKey().also { preferences.logKey = it }

    private suspend fun open(): SatchelSession {
        val url = preferences.serverUrl
        // The wallet is kept out of backups (see the manifest); the file is
        // private to the app and its contents sealed under a Keystore key.
        val db = File(context.noBackupFilesDir, "wallet.db").path
        return SatchelSession.open(db, keyStore, url, preferences.deviceId, transportFor(url))
    }

    /**
     * The built-in HTTPS stack; plain HTTP only to a developer's machine
     * (the emulator reaches the host as 10.0.2.2), which the network
     * security config allows too.
     */
    private fun transportFor(url: String) = Uri.parse(url).let { uri ->
        if (uri.scheme == "http" && uri.host in DEVELOPER_HOSTS) httpsTransport(NetworkSettings(allowPlainHttp = true)) else null
    }

    private companion object {
        val DEVELOPER_HOSTS = setOf("10.0.2.2", "localhost", "127.0.0.1")
    }
}
