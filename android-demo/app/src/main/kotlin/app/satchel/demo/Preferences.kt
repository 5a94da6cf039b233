package app.satchel.demo

import android.content.Context
import app.satchel.demo.model.DisplaySettings
import app.satchel.demo.model.Language
import java.util.Locale
import java.util.UUID

/**
 * What the app remembers outside the wallet: the display settings, the
 * server, this installation's device id and the transparency log's key
 * once it was first fetched. Nothing here is secret or personal.
 */
class Preferences(context: Context) {
    private val prefs = context.getSharedPreferences("satchel-demo", Context.MODE_PRIVATE)

    var display: DisplaySettings
        get() = DisplaySettings(
            language = prefs.getString(LANGUAGE, null)?.let { Language.valueOf(it) } ?: systemLanguage(),
            elderMode = prefs.getBoolean(ELDER, false),
        )
        set(value) {
            prefs.edit().putString(LANGUAGE, value.language.name).putBoolean(ELDER, value.elderMode).apply()
        }

    var serverUrl: String
        get() = prefs.getString(SERVER, null) ?: BuildConfig.DEFAULT_SERVER
        set(value) {
            // Another server has another log: forget the pinned key with it.
            prefs.edit().putString(SERVER, value.trimEnd('/')).remove(LOG_KEY).apply()
        }

    /** This installation's device id (made once). */
    val deviceId: String
        get() = prefs.getString(DEVICE, null) ?: "android-${UUID.randomUUID()}".also { prefs.edit().putString(DEVICE, it).apply() }

    /** The log key pinned the first time it was fetched from this server. */
    var logKey: String?
        get() = prefs.getString(LOG_KEY, null)
        set(value) {
            prefs.edit().putString(LOG_KEY, value).apply()
        }

    private fun systemLanguage() = if (Locale.getDefault().language == "zh") Language.ZH else Language.EN

    private companion object {
        const val LANGUAGE = "language"
        const val ELDER = "elder"
        const val SERVER = "server"
        const val DEVICE = "device"
        const val LOG_KEY = "log_key"
    }
}
