package app.satchel.test

import app.satchel.CredentialFilter
import app.satchel.CredentialStatus
import app.satchel.KeyAlgorithm
import app.satchel.KeyStoreException
import app.satchel.PlatformKeyStore
import app.satchel.SatchelException
import app.satchel.SoftwareIssuer
import app.satchel.SpaceKind
import app.satchel.Wallet
import app.satchel.inMemoryKeyStore
import app.satchel.jwkThumbprint
import app.satchel.verifyPresentation
import java.nio.file.Files
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

class WalletTest {
    private val bank = "https://bank.example"

    private fun tempDb(): String = Files.createTempDirectory("satchel").resolve("wallet.db").toString()

    private fun idCardClaims(now: Long) = """
        {"iss": "https://gdga.example", "vct": "urn:satchel:id-card", "iat": $now, "exp": ${now + 3600},
         "name": "张三", "id_number": "440101199001011234", "age_over_18": true}
    """.trimIndent()

    @Test
    fun kotlinKeyStoreImportPresentVerify() {
        val keys = JcaKeyStore()
        Wallet.open(tempDb(), keys).use { wallet ->
            val space = wallet.createSpace("我的空间", SpaceKind.PERSONAL)
            assertEquals(SpaceKind.PERSONAL, space.kind)
            assertTrue(space.holderJwk.contains("\"P-256\""))

            SoftwareIssuer.generate(KeyAlgorithm.ES256).use { issuer ->
                val now = System.currentTimeMillis() / 1000
                val sdJwt = issuer.issue(idCardClaims(now), listOf("name", "id_number", "age_over_18"), space.holderJwk)
                val credential = wallet.importCredential(space.id, sdJwt, issuer.publicJwk())
                assertEquals("urn:satchel:id-card", credential.vct)
                assertEquals(CredentialStatus.VALID, credential.status)
                assertTrue(credential.claimsJson.contains("440101199001011234"))

                val listed = wallet.credentials(space.id, CredentialFilter(vct = "urn:satchel:id-card"))
                assertEquals(listOf(credential.id), listed.map { it.id })
                assertTrue(wallet.credentials(space.id, CredentialFilter(vct = "urn:other")).isEmpty())

                val signsBefore = keys.signCalls
                val presentation = wallet.present(credential.id, listOf("name", "age_over_18"), bank, "nonce-1")
                assertEquals(signsBefore + 1, keys.signCalls, "the key-binding JWT was signed by the Kotlin key store")

                val verified = verifyPresentation(presentation, issuer.publicJwk(), bank, "nonce-1", null)
                assertTrue(verified.keyBound)
                assertTrue(verified.claimsJson.contains("张三"))
                assertFalse(verified.claimsJson.contains("440101199001011234"), "id_number was not disclosed")
                assertEquals(jwkThumbprint(space.holderJwk), jwkThumbprint(verified.holderJwk!!))

                val labelled = wallet.setLabel(credential.id, "身份证")
                assertEquals("身份证", labelled.label)
                wallet.deleteCredential(credential.id)
                assertFailsWith<SatchelException.NotFound> { wallet.credential(credential.id) }
            }
        }
    }

    @Test
    fun typedExceptionsForBadInput() {
        Wallet.open(tempDb(), inMemoryKeyStore()).use { wallet ->
            val space = wallet.createSpace("space", SpaceKind.ENTERPRISE)
            val issuer = SoftwareIssuer.generate(KeyAlgorithm.ED25519)
            val now = System.currentTimeMillis() / 1000
            val sdJwt = issuer.issue(idCardClaims(now), listOf("name"), space.holderJwk)

            assertFailsWith<SatchelException.NotFound> { wallet.importCredential("no-such-space", sdJwt, issuer.publicJwk()) }
            assertFailsWith<SatchelException.InvalidInput> { wallet.importCredential(space.id, sdJwt, "{not json") }
            assertFailsWith<SatchelException.Rejected> { wallet.importCredential(space.id, "garbage~", issuer.publicJwk()) }
            val stranger = SoftwareIssuer.generate(KeyAlgorithm.ED25519)
            val e = assertFailsWith<SatchelException.Rejected> { wallet.importCredential(space.id, sdJwt, stranger.publicJwk()) }
            assertTrue(e.message!!.contains("signature"), e.message)
            assertFailsWith<SatchelException.Rejected> { wallet.importCredential(space.id, sdJwt, null) }

            val credential = wallet.importCredential(space.id, sdJwt, issuer.publicJwk())
            assertFailsWith<SatchelException.InvalidInput> { wallet.present(credential.id, listOf("shoe_size"), bank, "n") }
            assertFailsWith<SatchelException.InvalidInput> { wallet.present(credential.id, listOf("a..b"), bank, "n") }

            val presentation = wallet.present(credential.id, listOf("name"), bank, "n-1")
            assertFailsWith<SatchelException.Rejected> { verifyPresentation(presentation, issuer.publicJwk(), bank, "other-nonce", null) }
            assertFailsWith<SatchelException.Rejected> { verifyPresentation(presentation, issuer.publicJwk(), "https://evil", "n-1", null) }
            assertFailsWith<SatchelException.Rejected> { verifyPresentation(presentation, issuer.publicJwk(), bank, "n-1", now + 7200) }
            assertFailsWith<SatchelException.Rejected> { verifyPresentation(presentation.dropLast(5), issuer.publicJwk(), bank, "n-1", null) }
            assertFailsWith<SatchelException.InvalidInput> { verifyPresentation(presentation, issuer.publicJwk(), bank, null, null) }
            assertFailsWith<SatchelException.InvalidInput> { jwkThumbprint("""{"kty":"RSA"}""") }
            assertFailsWith<SatchelException.InvalidInput> { issuer.issue("[1,2]", listOf(), null) }
            assertFailsWith<SatchelException.Rejected> { issuer.issue("""{"name": "x"}""", listOf(), null) }
        }
    }

    @Test
    fun failingKeyStoreIsAnErrorNotACrash() {
        val failing = object : PlatformKeyStore by JcaKeyStore() {
            override fun generateKey(alias: String, algorithm: KeyAlgorithm): ByteArray =
                throw IllegalStateException("StrongBox unavailable")
        }
        Wallet.open(tempDb(), failing).use { wallet ->
            val e = assertFailsWith<SatchelException.KeyStore> { wallet.createSpace("x", SpaceKind.PERSONAL) }
            assertTrue(e.message!!.contains("StrongBox unavailable"), e.message)
        }
        val missing = object : PlatformKeyStore by JcaKeyStore() {
            override fun unwrapDataKey(alias: String, wrapped: ByteArray): ByteArray = throw KeyStoreException.NotFound(alias)
        }
        val path = tempDb()
        Wallet.open(path, JcaKeyStore()).close()
        assertFailsWith<SatchelException.KeyStore> { Wallet.open(path, missing) }
    }
}
