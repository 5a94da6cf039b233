package app.satchel.test

import app.satchel.KeyAlgorithm
import app.satchel.KeyStoreException
import app.satchel.PlatformKeyStore
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.SecureRandom
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A PlatformKeyStore over the JVM's own crypto (JCA), written the way an app
 * writes one over Android Keystore: keys stay in the store, public keys are
 * exported as X.509 SubjectPublicKeyInfo and ECDSA signatures come out as DER.
 *
 * [confirm], when set, runs before every signature, as a BiometricPrompt
 * would: it may suspend for as long as the user takes, or throw
 * [KeyStoreException.UserCancelled].
 */
class JcaKeyStore : PlatformKeyStore {
    private val signing = ConcurrentHashMap<String, Pair<KeyAlgorithm, KeyPair>>()
    private val wrapping = ConcurrentHashMap<String, SecretKey>()
    private val random = SecureRandom()
    private val signs = AtomicInteger()
    val signCalls: Int get() = signs.get()

    @Volatile
    var confirm: (suspend (alias: String) -> Unit)? = null

    override suspend fun generateKey(alias: String, algorithm: KeyAlgorithm): ByteArray {
        if (signing.containsKey(alias)) throw KeyStoreException.Unsupported("alias exists: $alias")
        val pair = when (algorithm) {
            KeyAlgorithm.ES256 -> KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()
            KeyAlgorithm.ED25519 -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair()
        }
        signing[alias] = algorithm to pair
        return pair.public.encoded
    }

    override suspend fun publicKey(alias: String): ByteArray =
        (signing[alias] ?: throw KeyStoreException.NotFound(alias)).second.public.encoded

    override suspend fun sign(alias: String, message: ByteArray): ByteArray {
        val (algorithm, pair) = signing[alias] ?: throw KeyStoreException.NotFound(alias)
        confirm?.invoke(alias)
        signs.incrementAndGet()
        val sig = Signature.getInstance(if (algorithm == KeyAlgorithm.ES256) "SHA256withECDSA" else "Ed25519")
        sig.initSign(pair.private)
        sig.update(message)
        return sig.sign()
    }

    override suspend fun deleteKey(alias: String) {
        signing.remove(alias)
        wrapping.remove(alias)
    }

    override suspend fun wrapDataKey(alias: String, dataKey: ByteArray): ByteArray {
        val key = wrapping.computeIfAbsent(alias) { KeyGenerator.getInstance("AES").apply { init(256) }.generateKey() }
        val iv = ByteArray(12).also { random.nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key, GCMParameterSpec(128, iv))
        return iv + cipher.doFinal(dataKey)
    }

    override suspend fun unwrapDataKey(alias: String, wrapped: ByteArray): ByteArray {
        val key = wrapping[alias] ?: throw KeyStoreException.NotFound(alias)
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped.copyOfRange(0, 12)))
        return cipher.doFinal(wrapped.copyOfRange(12, wrapped.size))
    }

    override suspend fun isHardwareBacked(alias: String): Boolean {
        if (!signing.containsKey(alias) && !wrapping.containsKey(alias)) throw KeyStoreException.NotFound(alias)
        return false
    }
}
