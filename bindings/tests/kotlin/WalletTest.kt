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
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

class WalletTest {
    @Test
    fun kotlinKeyStoreImportPresentVerify(): Unit = runBlocking {
        val keys = JcaKeyStore()
        Wallet.open(tempDb(), keys).use { wallet ->
            val space = wallet.createSpace("我的空间", SpaceKind.PERSONAL)
            assertEquals(SpaceKind.PERSONAL, space.kind)
            assertTrue(space.holderJwk.contains("\"P-256\""))

            SoftwareIssuer.generate(KeyAlgorithm.ES256).use { issuer ->
                val sdJwt = issuer.issue(idCardClaims(nowSeconds()), listOf("name", "id_number", "age_over_18"), space.holderJwk)
                val credential = wallet.importCredential(space.id, sdJwt, issuer.publicJwk())
                assertEquals("urn:satchel:id-card", credential.vct)
                assertEquals(CredentialStatus.VALID, credential.status)
                assertTrue(credential.claimsJson.contains("440101199001011234"))

                val signsBefore = keys.signCalls
                val presentation = wallet.present(credential.id, listOf("name", "age_over_18"), BANK, "nonce-1")
                assertEquals(signsBefore + 1, keys.signCalls, "the key-binding JWT was signed by the Kotlin key store")

                val verified = verifyPresentation(presentation, issuer.publicJwk(), BANK, "nonce-1", null)
                assertTrue(verified.keyBound)
                assertTrue(verified.claimsJson.contains("张三"))
                assertFalse(verified.claimsJson.contains("440101199001011234"), "id_number was not disclosed")
                assertEquals(jwkThumbprint(space.holderJwk), jwkThumbprint(verified.holderJwk!!))
            }
        }
    }

    @Test
    fun filtersLabelsAndDeletion(): Unit = runBlocking {
        Wallet.open(tempDb(), inMemoryKeyStore()).use { wallet ->
            val space = wallet.createSpace("空间", SpaceKind.PERSONAL)
            val issuer = SoftwareIssuer.generate(KeyAlgorithm.ES256)
            val card = wallet.importCredential(space.id, issuer.issue(idCardClaims(nowSeconds()), listOf("name"), space.holderJwk), issuer.publicJwk())
            assertEquals(listOf(card.id), wallet.credentials(space.id, CredentialFilter(vct = "urn:satchel:id-card")).map { it.id })
            assertTrue(wallet.credentials(space.id, CredentialFilter(vct = "urn:other")).isEmpty())
            assertTrue(wallet.credentials(space.id, CredentialFilter(status = CredentialStatus.EXPIRED)).isEmpty())
            assertEquals("身份证", wallet.setLabel(card.id, "身份证").label)
            assertEquals(null, wallet.setLabel(card.id, null).label)
            wallet.deleteCredential(card.id)
            assertFailsWith<SatchelException.NotFound> { wallet.credential(card.id) }
        }
    }

    @Test
    fun spacesAreListedReopenedAndDeleted(): Unit = runBlocking {
        val keys = JcaKeyStore()
        val path = tempDb()
        val first = Wallet.open(path, keys).use { wallet ->
            val a = wallet.createSpace("个人", SpaceKind.PERSONAL)
            wallet.createSpace("公司", SpaceKind.ENTERPRISE)
            assertEquals(listOf("个人", "公司"), wallet.spaces().map { it.name })
            a
        }
        Wallet.open(path, keys).use { wallet ->
            assertEquals(2, wallet.spaces().size, "spaces survive a reopen")
            wallet.deleteSpace(first.id)
            assertEquals(listOf(SpaceKind.ENTERPRISE), wallet.spaces().map { it.kind })
            assertFailsWith<SatchelException.NotFound> { wallet.deleteSpace(first.id) }
            assertFailsWith<SatchelException.InvalidInput> { wallet.createSpace("  ", SpaceKind.PERSONAL) }
        }
    }

    @Test
    fun typedExceptionsForBadInput(): Unit = runBlocking {
        Wallet.open(tempDb(), inMemoryKeyStore()).use { wallet ->
            val space = wallet.createSpace("space", SpaceKind.ENTERPRISE)
            val issuer = SoftwareIssuer.generate(KeyAlgorithm.ED25519)
            val now = nowSeconds()
            val sdJwt = issuer.issue(idCardClaims(now), listOf("name"), space.holderJwk)

            assertFailsWith<SatchelException.NotFound> { wallet.importCredential("no-such-space", sdJwt, issuer.publicJwk()) }
            assertFailsWith<SatchelException.InvalidInput> { wallet.importCredential(space.id, sdJwt, "{not json") }
            assertFailsWith<SatchelException.Rejected> { wallet.importCredential(space.id, "garbage~", issuer.publicJwk()) }
            val stranger = SoftwareIssuer.generate(KeyAlgorithm.ED25519)
            val e = assertFailsWith<SatchelException.Rejected> { wallet.importCredential(space.id, sdJwt, stranger.publicJwk()) }
            assertTrue(e.message!!.contains("signature"), e.message)
            assertFailsWith<SatchelException.Rejected> { wallet.importCredential(space.id, sdJwt, null) }

            val credential = wallet.importCredential(space.id, sdJwt, issuer.publicJwk())
            assertFailsWith<SatchelException.InvalidInput> { wallet.present(credential.id, listOf("shoe_size"), BANK, "n") }
            val badPath = assertFailsWith<SatchelException.InvalidInput> { wallet.present(credential.id, listOf("a..b"), BANK, "n") }
            assertFalse(badPath.message!!.contains("a..b"), "messages never echo input")

            val presentation = wallet.present(credential.id, listOf("name"), BANK, "n-1")
            assertFailsWith<SatchelException.Rejected> { verifyPresentation(presentation, issuer.publicJwk(), BANK, "other-nonce", null) }
            assertFailsWith<SatchelException.Rejected> { verifyPresentation(presentation, issuer.publicJwk(), "https://evil", "n-1", null) }
            assertFailsWith<SatchelException.Rejected> { verifyPresentation(presentation, issuer.publicJwk(), BANK, "n-1", now + 7200) }
            assertFailsWith<SatchelException.Rejected> { verifyPresentation(presentation.dropLast(5), issuer.publicJwk(), BANK, "n-1", null) }
            assertFailsWith<SatchelException.InvalidInput> { verifyPresentation(presentation, issuer.publicJwk(), BANK, null, null) }
            assertFailsWith<SatchelException.InvalidInput> { jwkThumbprint("""{"kty":"RSA"}""") }
            assertFailsWith<SatchelException.InvalidInput> { issuer.issue("[1,2]", listOf(), null) }
            assertFailsWith<SatchelException.Rejected> { issuer.issue("""{"name": "x"}""", listOf(), null) }
        }
    }

    @Test
    fun failingKeyStoreIsAnErrorNotACrash(): Unit = runBlocking {
        val failing = object : PlatformKeyStore by JcaKeyStore() {
            override suspend fun generateKey(alias: String, algorithm: KeyAlgorithm): ByteArray =
                throw IllegalStateException("StrongBox unavailable")
        }
        Wallet.open(tempDb(), failing).use { wallet ->
            val e = assertFailsWith<SatchelException.KeyStore> { wallet.createSpace("x", SpaceKind.PERSONAL) }
            assertTrue(e.message!!.contains("StrongBox unavailable"), e.message)
        }
        val missing = object : PlatformKeyStore by JcaKeyStore() {
            override suspend fun unwrapDataKey(alias: String, wrapped: ByteArray): ByteArray = throw KeyStoreException.NotFound(alias)
        }
        val path = tempDb()
        Wallet.open(path, JcaKeyStore()).close()
        assertFailsWith<SatchelException.NotFound> { Wallet.open(path, missing) }
    }
}
