package app.satchel.test

import app.satchel.ApprovalChoice
import app.satchel.CredentialRequest
import app.satchel.HttpHeader
import app.satchel.HttpRequest
import app.satchel.HttpResponse
import app.satchel.HttpTransport
import app.satchel.RelyingParty
import app.satchel.RequestSpec
import app.satchel.SatchelException
import app.satchel.SatchelServer
import app.satchel.Selection
import app.satchel.SpaceKind
import app.satchel.TransportException
import app.satchel.TrustRegistry
import app.satchel.Wallet
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest as JavaRequest
import java.net.http.HttpResponse as JavaResponse
import java.nio.file.Files
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** An HttpTransport over the JDK's HttpClient, as an app would write one over OkHttp. */
class JdkTransport : HttpTransport {
    private val client = HttpClient.newHttpClient()

    override fun send(request: HttpRequest): HttpResponse {
        try {
            val builder = JavaRequest.newBuilder(URI.create(request.url))
                .method(request.method, JavaRequest.BodyPublishers.ofByteArray(request.body))
            for (h in request.headers) builder.header(h.name, h.value)
            val answer = client.send(builder.build(), JavaResponse.BodyHandlers.ofByteArray())
            val headers = answer.headers().map().flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
            return HttpResponse(answer.statusCode().toUShort(), headers, answer.body())
        } catch (e: java.io.IOException) {
            throw TransportException.Failed(e.toString())
        }
    }
}

/** Runs against the real satchel-server that `cargo xtask kotlin-test` starts. */
class ServerTest {
    private val server = System.getProperty("satchel.server") ?: error("run through cargo xtask kotlin-test (no satchel.server)")
    private val admin = System.getProperty("satchel.admin") ?: error("no satchel.admin")
    private val http = HttpClient.newHttpClient()

    private fun get(path: String): String =
        http.send(JavaRequest.newBuilder(URI.create(server + path)).build(), JavaResponse.BodyHandlers.ofString()).body()

    private fun offer(issuer: String, subject: String): String {
        val request = JavaRequest.newBuilder(URI.create("$server/v1/admin/issuers/$issuer/offers"))
            .header("Authorization", "Bearer $admin")
            .header("Content-Type", "application/json")
            .POST(JavaRequest.BodyPublishers.ofString("""{"subject": "$subject"}"""))
            .build()
        val body = http.send(request, JavaResponse.BodyHandlers.ofString()).body()
        return Regex("\"credential_offer_uri\":\"([^\"]+)\"").find(body)!!.groupValues[1]
    }

    @Test
    fun receivesAnIdCardThroughOpenId4VciWithTheAppsHttpStack() {
        val registry = TrustRegistry.fromSigned(get("/v1/registry"), get("/v1/registry/key"), null)
        Wallet.open(Files.createTempDirectory("satchel").resolve("w.db").toString(), JcaKeyStore()).use { wallet ->
            val space = wallet.createSpace("我的空间", SpaceKind.PERSONAL)
            val offerUri = offer("public-security", "citizen-1")
            val card = wallet.receiveCredential(space.id, offerUri, JdkTransport(), registry)
            assertTrue(card.vct.endsWith("/vct/resident-id-card"), card.vct)
            assertTrue(card.claimsJson.contains("王小明"))
            assertEquals(listOf("issue", "import"), wallet.trace(card.id).map { it.activity })

            // The pre-authorised code is single use; a broken network is a typed error.
            val used = assertFailsWith<SatchelException.Rejected> { wallet.receiveCredential(space.id, offerUri, JdkTransport(), registry) }
            assertTrue(used.message!!.contains("invalid_grant"), used.message)
            val offline = object : HttpTransport {
                override fun send(request: HttpRequest): HttpResponse = throw java.io.IOException("no network")
            }
            val down = assertFailsWith<SatchelException.Network> {
                wallet.receiveCredential(space.id, offer("public-security", "citizen-2"), offline, registry)
            }
            assertTrue(down.message!!.contains("no network"), down.message)
            assertFailsWith<SatchelException.InvalidInput> { wallet.receiveCredential(space.id, "not an offer", JdkTransport(), registry) }
        }
    }

    private fun put(path: String, body: String): Int =
        http.send(
            JavaRequest.newBuilder(URI.create(server + path))
                .header("Authorization", "Bearer $admin")
                .header("Content-Type", "application/json")
                .PUT(JavaRequest.BodyPublishers.ofString(body))
                .build(),
            JavaResponse.BodyHandlers.ofString(),
        ).statusCode()

    @Test
    fun withdrawalIsPublishedAndTheConsentLogAnchored() {
        val keys = JcaKeyStore()
        val now = System.currentTimeMillis() / 1000
        Wallet.open(Files.createTempDirectory("satchel").resolve("w.db").toString(), keys).use { wallet ->
            wallet.setStatusBase("$server/status")
            val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
            val phone = SatchelServer(server, "phone-${System.nanoTime()}", "device-key", keys, JdkTransport())
            phone.registerSpace(wallet, space.id)

            // A bank registered with the operator; the registry the phone trusts comes signed from the server.
            val bank = RelyingParty.generate("https://bank.example", null)
            val rp = """{"client_id": "https://bank.example", "name": "Bank", "keys": [${bank.publicJwk()}], "allowed_purposes": ["IdentityVerification"]}"""
            assertEquals(204, put("/v1/admin/relying-parties/https%3A%2F%2Fbank.example", rp))
            val registry = TrustRegistry.fromSigned(get("/v1/registry"), get("/v1/registry/key"), null)
            val card = wallet.receiveCredential(space.id, offer("public-security", "citizen-1"), JdkTransport(), registry)

            val spec = RequestSpec(
                credentials = listOf(CredentialRequest("q1", listOf(card.vct), listOf("name"), listOf())),
                purpose = "IdentityVerification", legalBasis = "Consent",
                notBefore = now - 60, notAfter = now + 86400, maxUses = 2u, retentionDays = 30u,
                onwardTransfer = false, sensitive = false, thirdParty = false, crossBorder = false,
                controllerName = "Bank", controllerContact = "", responseUri = "https://bank.example/r", requestTtlSeconds = 600,
            )
            val request = bank.createRequest(spec)
            val approved = wallet.approve(space.id, request, registry, ApprovalChoice(listOf(Selection("q1", card.id, listOf("name")))))
            val verified = bank.verifyResponse(request, approved.responseJson, registry)
            val withdrawal = wallet.withdraw(approved.authorizationId)
            phone.publishStatusList(space.id, withdrawal.statusListToken)
            assertEquals(withdrawal.statusListToken, get("/status/${space.id}"))
            bank.updateStatusList(withdrawal.statusUri, get("/status/${space.id}"))
            assertFailsWith<SatchelException.Rejected> { bank.recordUse(verified.id, "IdentityVerification") }

            // Anchor the consent log (given, withdrawn) and prove it.
            val logKey = Regex("\"verifier_key\":\"([^\"]+)\"").find(get("/v1/log/key"))!!.groupValues[1]
            val report = wallet.anchorConsentLog(space.id, phone, logKey)
            assertEquals(2u, report.anchoredTotal)
            assertEquals(2u, wallet.verifyAnchors(space.id, phone, logKey).anchoredTotal)
            assertFailsWith<SatchelException.InvalidInput> { wallet.verifyAnchors(space.id, phone, "not-a-key") }
            // A well-formed key of another log: the server's checkpoints do not verify.
            val kp = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair()
            val raw = kp.public.encoded.takeLast(32).toByteArray()
            val digest = java.security.MessageDigest.getInstance("SHA-256")
                .digest("other.log".toByteArray() + "\n".toByteArray() + byteArrayOf(1) + raw)
            val otherKey = "other.log+" + digest.take(4).joinToString("") { "%02x".format(it) } + "+" +
                java.util.Base64.getEncoder().encodeToString(byteArrayOf(1) + raw)
            assertFailsWith<SatchelException.Rejected> { wallet.verifyAnchors(space.id, phone, otherKey) }
        }
    }
}
