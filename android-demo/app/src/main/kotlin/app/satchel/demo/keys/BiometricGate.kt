package app.satchel.demo.keys

import android.os.Build
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_STRONG
import androidx.biometric.BiometricManager.Authenticators.DEVICE_CREDENTIAL
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import app.satchel.KeyStoreException
import java.lang.ref.WeakReference
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext

/**
 * Waits for the person before a space key signs: shows BiometricPrompt on
 * the activity in front. A successful prompt opens the key's short
 * authentication window (see [AndroidPlatformKeyStore]), so one approval,
 * which signs a few things in a row, asks once.
 *
 * The prompt needs an activity on screen; a signature asked for without one
 * (e.g. from a background job) fails as cancelled instead of waiting.
 */
class BiometricGate {
    private var activity = WeakReference<FragmentActivity>(null)

    /** The words the prompt shows, in the language the person chose. */
    @Volatile
    var words: () -> Pair<String, String> = { "Satchel" to "" }

    /** Called by the activity when it comes to the front and goes away. */
    fun attach(activity: FragmentActivity?) {
        this.activity = WeakReference(activity)
    }

    suspend fun confirm(): Unit = withContext(Dispatchers.Main) {
        val host = activity.get() ?: throw KeyStoreException.UserCancelled()
        val (title, subtitle) = words()
        suspendCancellableCoroutine { cont ->
            val prompt = BiometricPrompt(
                host,
                ContextCompat.getMainExecutor(host),
                object : BiometricPrompt.AuthenticationCallback() {
                    override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                        cont.resume(Unit)
                    }

                    override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                        val cancelled = errorCode == BiometricPrompt.ERROR_USER_CANCELED ||
                            errorCode == BiometricPrompt.ERROR_NEGATIVE_BUTTON ||
                            errorCode == BiometricPrompt.ERROR_CANCELED
                        cont.resumeWithException(
                            if (cancelled) KeyStoreException.UserCancelled() else KeyStoreException.Platform(errString.toString()),
                        )
                    }
                    // A failed attempt (a finger not recognised) keeps the prompt up.
                },
            )
            val info = BiometricPrompt.PromptInfo.Builder()
                .setTitle(title)
                .setSubtitle(subtitle)
                .setConfirmationRequired(true)
                .apply {
                    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                        // The screen lock is offered too, for people who cannot use a sensor.
                        setAllowedAuthenticators(BIOMETRIC_STRONG or DEVICE_CREDENTIAL)
                    } else {
                        setAllowedAuthenticators(BIOMETRIC_STRONG)
                        setNegativeButtonText(host.getString(android.R.string.cancel))
                    }
                }
                .build()
            prompt.authenticate(info)
            cont.invokeOnCancellation { prompt.cancelAuthentication() }
        }
    }
}
