package app.satchel.demo.keys

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import app.satchel.KeyAlgorithm
import app.satchel.KeyStoreException
import app.satchel.PlatformKeyStore
import java.security.GeneralSecurityException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory
import javax.crypto.spec.GCMParameterSpec
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Satchel's key store over the Android Keystore: private keys are made
 * inside it (in StrongBox when the device has one) and never leave it.
 *
 * - A space key (`satchel.space.<id>`) signs approvals and delegations, so
 *   it requires the user: it can sign only within [WINDOW_SECONDS] of the
 *   person proving themselves to [BiometricGate] (strong biometrics, or the
 *   screen lock on Android 11 and later). An approval signs several things
 *   with it (the key-binding JWT, the authorisation, the consent record), so
 *   a per-operation `CryptoObject` would ask three times; the short window
 *   asks once, as the iOS app's Secure Enclave store does.
 * - The device key (`satchel.device`, `satchel.space.<id>.device`) signs
 *   requests to the server, including background sync, so it does not.
 * - Wrapping keys (AES-256-GCM) seal the wallet's data key; they need no
 *   user either, or the wallet could not open for background sync.
 *
 * Only P-256 is offered: it is what StrongBox and the Secure Enclave hold.
 */
class AndroidPlatformKeyStore(private val context: Context, private val gate: BiometricGate) : PlatformKeyStore {
    private val keyStore: KeyStore by lazy { KeyStore.getInstance(PROVIDER).apply { load(null) } }

    private val hasStrongBox: Boolean
        get() = context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)

    override suspend fun generateKey(alias: String, algorithm: KeyAlgorithm): ByteArray = keystore {
        if (algorithm != KeyAlgorithm.ES256) throw KeyStoreException.Unsupported("only P-256 keys live in the Android Keystore")
        if (keyStore.containsAlias(alias)) throw KeyStoreException.Unsupported("a key already exists under $alias")
        val generate = { strongBox: Boolean ->
            val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
                .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
                .setDigests(KeyProperties.DIGEST_SHA256)
                .setIsStrongBoxBacked(strongBox)
                .apply { if (needsUser(alias)) requireUser(this) }
                .build()
            KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, PROVIDER).apply { initialize(spec) }.generateKeyPair()
        }
        val pair = if (hasStrongBox) {
            try {
                generate(true)
            } catch (e: StrongBoxUnavailableException) {
                generate(false)
            }
        } else {
            generate(false)
        }
        // X.509 SubjectPublicKeyInfo: Satchel reads it as it is.
        pair.public.encoded
    }

    override suspend fun publicKey(alias: String): ByteArray = keystore {
        val cert = keyStore.getCertificate(alias) ?: throw KeyStoreException.NotFound(alias)
        cert.publicKey.encoded
    }

    override suspend fun sign(alias: String, message: ByteArray): ByteArray {
        val sign = {
            val key = keyStore.getKey(alias, null) as? PrivateKey ?: throw KeyStoreException.NotFound(alias)
            val signature = Signature.getInstance("SHA256withECDSA")
            signature.initSign(key)
            signature.update(message)
            // DER, as the Keystore produces it: Satchel converts it for JOSE.
            signature.sign()
        }
        if (!needsUser(alias)) return keystore(sign)
        return try {
            keystore(sign, askedAlready = false)
        } catch (e: UserNotAuthenticatedException) {
            // Outside the window: ask the person, then sign once more.
            gate.confirm()
            keystore(sign)
        }
    }

    override suspend fun deleteKey(alias: String) = keystore {
        if (keyStore.containsAlias(alias)) keyStore.deleteEntry(alias)
    }

    override suspend fun wrapDataKey(alias: String, dataKey: ByteArray): ByteArray = keystore {
        val key = (keyStore.getKey(alias, null) as? SecretKey) ?: newWrappingKey(alias)
        val cipher = Cipher.getInstance(AES_GCM).apply { init(Cipher.ENCRYPT_MODE, key) }
        // The Keystore picks the nonce; it goes in front of the ciphertext.
        cipher.iv + cipher.doFinal(dataKey)
    }

    override suspend fun unwrapDataKey(alias: String, wrapped: ByteArray): ByteArray = keystore {
        val key = keyStore.getKey(alias, null) as? SecretKey ?: throw KeyStoreException.NotFound(alias)
        if (wrapped.size <= NONCE_BYTES) throw KeyStoreException.Platform("the wrapped key is truncated")
        val cipher = Cipher.getInstance(AES_GCM)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, wrapped, 0, NONCE_BYTES))
        cipher.doFinal(wrapped, NONCE_BYTES, wrapped.size - NONCE_BYTES)
    }

    override suspend fun isHardwareBacked(alias: String): Boolean = keystore {
        val key = keyStore.getKey(alias, null) ?: throw KeyStoreException.NotFound(alias)
        val info = when (key) {
            is PrivateKey -> java.security.KeyFactory.getInstance(key.algorithm, PROVIDER).getKeySpec(key, KeyInfo::class.java)
            is SecretKey -> SecretKeyFactory.getInstance(key.algorithm, PROVIDER).getKeySpec(key, KeyInfo::class.java) as KeyInfo
            else -> throw KeyStoreException.Unsupported("unknown key kind under $alias")
        }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            info.securityLevel == KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT ||
                info.securityLevel == KeyProperties.SECURITY_LEVEL_STRONGBOX
        } else {
            @Suppress("DEPRECATION")
            info.isInsideSecureHardware
        }
    }

    private fun newWrappingKey(alias: String): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER).apply { init(spec) }.generateKey()
    }

    private fun requireUser(builder: KeyGenParameterSpec.Builder) {
        // Not invalidated by a new fingerprint or face: a space is known by
        // its key, which must outlive a change of biometrics.
        builder.setUserAuthenticationRequired(true).setInvalidatedByBiometricEnrollment(false)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            builder.setUserAuthenticationParameters(WINDOW_SECONDS, KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL)
        } else {
            @Suppress("DEPRECATION")
            builder.setUserAuthenticationValidityDurationSeconds(WINDOW_SECONDS)
        }
    }

    /**
     * Runs Keystore work off the main thread and turns its failures into
     * Satchel's errors. With `askedAlready = false` a missing authentication
     * is passed on as it is, for [sign] to ask the person.
     */
    private suspend fun <T> keystore(block: () -> T, askedAlready: Boolean = true): T = withContext(Dispatchers.IO) {
        try {
            block()
        } catch (e: KeyStoreException) {
            throw e
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw KeyStoreException.Platform("the key was invalidated when the screen lock was removed")
        } catch (e: UserNotAuthenticatedException) {
            if (!askedAlready) throw e
            throw KeyStoreException.UserCancelled()
        } catch (e: GeneralSecurityException) {
            throw KeyStoreException.Platform(e.javaClass.simpleName)
        } catch (e: java.security.ProviderException) {
            throw KeyStoreException.Platform(e.javaClass.simpleName)
        }
    }

    companion object {
        private const val PROVIDER = "AndroidKeyStore"
        private const val AES_GCM = "AES/GCM/NoPadding"
        private const val NONCE_BYTES = 12
        private const val TAG_BITS = 128

        /** Seconds a space key can sign after the person proved themselves. */
        const val WINDOW_SECONDS = 15

        /** Space keys sign approvals and delegations: the person must be there. */
        fun needsUser(alias: String): Boolean = alias.startsWith("satchel.space.") && !alias.endsWith(".device")
    }
}
