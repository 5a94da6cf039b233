package app.satchel.test

import app.satchel.ApprovalChoice
import app.satchel.HttpHeader
import app.satchel.HttpRequest
import app.satchel.HttpResponse
import app.satchel.HttpTransport
import app.satchel.NetworkSettings
import app.satchel.RelyingParty
import app.satchel.SatchelException
import app.satchel.SatchelServer
import app.satchel.Selection
import app.satchel.SpaceKind
import app.satchel.TransportException
import app.satchel.TrustRegistry
import app.satchel.Wallet
import app.satchel.WalletChange
import app.satchel.changes
import app.satchel.httpsTransport
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.future.await
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest as JavaRequest
import java.net.http.HttpResponse as JavaResponse
import kotlin.concurrent.thread
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** An HttpTransport over the JDK's async HttpClient, as an app would write one over OkHttp. */
class JdkTransport : HttpTransport {
    private val client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()
    var sent = 0
        private set

    override suspend fun send(request: HttpRequest): HttpResponse {
        sent++
        try {
            val builder = JavaRequest.newBuilder(URI.create(request.url))
                .method(request.method, JavaRequest.BodyPublishers.ofByteArray(request.body))
            for (h in request.headers) builder.header(h.name, h.value)
            val answer = client.sendAsync(builder.build(), JavaResponse.BodyHandlers.ofByteArray()).await()
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

    private fun operator(method: String, path: String, body: String): Pair<Int, String> {
        val request = JavaRequest.newBuilder(URI.create(server + path))
            .header("Authorization", "Bearer $admin")
            .header("Content-Type", "application/json")
            .method(method, JavaRequest.BodyPublishers.ofString(body))
            .build()
        val answer = http.send(request, JavaResponse.BodyHandlers.ofString())
        return answer.statusCode() to answer.body()
    }

    private fun offer(issuer: String, subject: String): String {
        val (_, body) = operator("POST", "/v1/admin/issuers/$issuer/offers", """{"subject": "$subject"}""")
        return Regex("\"credential_offer_uri\":\"([^\"]+)\"").find(body)!!.groupValues[1]
    }

    private fun registry() = TrustRegistry.fromSigned(get("/v1/registry"), get("/v1/registry/key"), null)

    /** An offer from `issuer`, and a registry that trusts it. */
    private fun offerFrom(issuer: String): Pair<String, TrustRegistry> {
        val key = app.satchel.SoftwareIssuer.generate(app.satchel.KeyAlgorithm.ES256).publicJwk()
        val offer = """{"credential_issuer": "$issuer", "credential_configuration_ids": ["id-card"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "code-1"}}}"""
        return offer to TrustRegistry.fromJson("""{"issuers": [{"id": "$issuer", "name": "Issuer", "keys": [$key]}]}""")
    }

    @Test
    fun receivesAnIdCardOverTheBuiltInNetworkStack(): Unit = runBlocking {
        Wallet.open(tempDb(), JcaKeyStore()).use { wallet ->
            val space = wallet.createSpace("我的空间", SpaceKind.PERSONAL)
            val offerUri = offer("public-security", "citizen-1")
            val card = wallet.receiveCredential(space.id, offerUri, registry(), null)
            assertTrue(card.vct.endsWith("/vct/resident-id-card"), card.vct)
            assertTrue(card.claimsJson.contains("王小明"))
            // The pre-authorised code is single use.
            val used = assertFailsWith<SatchelException.Rejected> { wallet.receiveCredential(space.id, offerUri, registry(), null) }
            assertTrue(used.message!!.contains("invalid_grant"), used.message)
            assertFailsWith<SatchelException.InvalidInput> { wallet.receiveCredential(space.id, "not an offer", registry(), null) }
        }
    }

    @Test
    fun receivesThroughTheAppsOwnHttpStack(): Unit = runBlocking {
        Wallet.open(tempDb(), JcaKeyStore()).use { wallet ->
            val space = wallet.createSpace("我的空间", SpaceKind.PERSONAL)
            val transport = JdkTransport()
            val card = wallet.receiveCredential(space.id, offer("public-security", "citizen-1"), registry(), transport)
            assertTrue(transport.sent >= 4, "offer, metadata, token, nonce and credential went through the app's stack")
            assertEquals(
                listOf(app.satchel.ProvenanceActivity.ISSUE, app.satchel.ProvenanceActivity.IMPORT),
                wallet.trace(card.id).map { it.activity },
            )
        }
    }

    @Test
    fun aFailingTransportIsANetworkError(): Unit = runBlocking {
        Wallet.open(tempDb(), JcaKeyStore()).use { wallet ->
            val space = wallet.createSpace("我的空间", SpaceKind.PERSONAL)
            val offline = object : HttpTransport {
                override suspend fun send(request: HttpRequest): HttpResponse = throw TransportException.Failed("no network")
            }
            val down = assertFailsWith<SatchelException.Network> {
                wallet.receiveCredential(space.id, offer("public-security", "citizen-2"), registry(), offline)
            }
            assertTrue(down.message!!.contains("no network"), down.message)
            // An app transport that crashes is an error too, not a crash.
            val crashing = object : HttpTransport {
                override suspend fun send(request: HttpRequest): HttpResponse = throw IllegalStateException("OkHttp bug")
            }
            assertFailsWith<SatchelException.Network> {
                wallet.receiveCredential(space.id, offer("public-security", "citizen-2"), registry(), crashing)
            }
            assertTrue(wallet.credentials(space.id, app.satchel.CredentialFilter()).isEmpty())
        }
    }

    @Test
    fun aServerThatNeverAnswersTimesOut(): Unit = runBlocking {
        // Accepts connections and never answers.
        val silent = ServerSocket(0)
        val held = mutableListOf<java.net.Socket>()
        val acceptor = thread(isDaemon = true) { runCatching { while (true) held.add(silent.accept()) } }
        try {
            Wallet.open(tempDb(), JcaKeyStore()).use { wallet ->
                val space = wallet.createSpace("我的空间", SpaceKind.PERSONAL)
                val impatient = httpsTransport(NetworkSettings(timeoutMs = 300u))
                val (offerJson, trusting) = offerFrom("http://127.0.0.1:${silent.localPort}")
                val started = System.nanoTime()
                val e = assertFailsWith<SatchelException.Network> { wallet.receiveCredential(space.id, offerJson, trusting, impatient) }
                assertTrue(e.message!!.contains("timed out"), e.message)
                assertTrue(System.nanoTime() - started < 10_000_000_000, "gave up on time")
                // The app's own stack timing out is reported the same way.
                val slowApp = object : HttpTransport {
                    override suspend fun send(request: HttpRequest): HttpResponse {
                        delay(100)
                        throw TransportException.Failed("timed out after 100 ms")
                    }
                }
                assertFailsWith<SatchelException.Network> { wallet.receiveCredential(space.id, offerJson, trusting, slowApp) }
            }
        } finally {
            silent.close()
            acceptor.join(1000)
            held.forEach { it.close() }
        }
    }

    @Test
    fun plainHttpIsOnlyForLoopback(): Unit = runBlocking {
        Wallet.open(tempDb(), JcaKeyStore()).use { wallet ->
            val space = wallet.createSpace("我的空间", SpaceKind.PERSONAL)
            val (remote, trusting) = offerFrom("http://issuer.example")
            val e = assertFailsWith<SatchelException.Network> { wallet.receiveCredential(space.id, remote, trusting, null) }
            assertTrue(e.message!!.contains("https"), e.message)
            assertFailsWith<SatchelException.Network> { httpsTransport(NetworkSettings(extraRootsPem = listOf("not a certificate"))) }
        }
    }

    @Test
    fun theCitizenJourneyThroughTheAsyncSurface(): Unit = runBlocking {
        val keys = JcaKeyStore()
        Wallet.open(tempDb(), keys).use { wallet ->
            // 2. A space on the phone, registered with the server under a device key.
            wallet.setStatusBase("$server/status")
            val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
            val phone = SatchelServer.connect(server, "phone-${System.nanoTime()}", "device-key", keys, null)
            phone.registerSpace(wallet, space.id)
            val changes = mutableListOf<WalletChange>()
            val watching = launch(Dispatchers.Unconfined) { wallet.changes().take(6).toList(changes) }

            // 1 + 4. A bank registered with the operator; the phone trusts the signed registry.
            val bank = RelyingParty.generate("https://bank.example", null)
            val rp = """{"client_id": "https://bank.example", "name": "Bank", "keys": [${bank.publicJwk()}], "allowed_purposes": ["IdentityVerification"]}"""
            assertEquals(204, operator("PUT", "/v1/admin/relying-parties/https%3A%2F%2Fbank.example", rp).first)
            val registry = registry()

            // 3. The ID card through OpenID4VCI, over the built-in HTTPS stack.
            val card = wallet.receiveCredential(space.id, offer("public-security", "citizen-1"), registry, null)

            // 5. Review, then approve a subset while the key store asks the user.
            val request = bank.createRequest(spec(card.vct, listOf("name"), listOf("id_number")))
            val review = wallet.reviewRequest(space.id, request, registry)
            assertEquals(app.satchel.RpTrust.TRUSTED, review.trust)
            keys.confirm = { delay(50) } // the user takes a moment to confirm
            val approved = wallet.approve(space.id, request, registry, ApprovalChoice(listOf(Selection("q1", card.id, listOf("name")))))
            keys.confirm = null

            // 6. The bank verifies and uses once; the citizen keeps the receipt.
            val verified = bank.verifyResponse(request, approved.responseJson, registry)
            assertFalse(verified.claimsJson.contains("id_number"))
            val use = bank.recordUse(verified.id, "IdentityVerification")
            assertTrue(wallet.recordUseReceipt(approved.authorizationId, use.receipt))

            // 7. Withdrawal, published to the server; the bank fetches the list and is refused.
            val withdrawal = wallet.withdraw(approved.authorizationId)
            val uri = wallet.publishStatusList(space.id, phone)
            assertEquals(withdrawal.statusUri, uri)
            bank.fetchStatusList(uri, null)
            assertFailsWith<SatchelException.Rejected> { bank.recordUse(verified.id, "IdentityVerification") }

            // 8. The consent log anchored and proven; another log's key is refused.
            val logKey = Regex("\"verifier_key\":\"([^\"]+)\"").find(get("/v1/log/key"))!!.groupValues[1]
            assertEquals(2u, wallet.anchorConsentLog(space.id, phone, logKey).anchoredTotal)
            assertEquals(2u, wallet.verifyAnchors(space.id, phone, logKey).anchoredTotal)
            assertFailsWith<SatchelException.InvalidInput> { wallet.verifyAnchors(space.id, phone, "not-a-key") }

            // The app heard every step.
            withTimeout(10_000) { watching.join() }
            assertEquals(WalletChange.CredentialAdded(space.id, card.id), changes[0])
            assertTrue(changes.contains(WalletChange.AuthorizationChanged(space.id, approved.authorizationId, app.satchel.AuthorizationState.WITHDRAWN)))
            assertTrue(changes.last() is WalletChange.ConsentRecorded || changes.last() is WalletChange.AuthorizationChanged, changes.toString())

            // 12. Where did my ID card go?
            assertEquals(
                listOf("issue", "import", "present", "authorize", "use", "withdraw"),
                wallet.trace(card.id).map { it.activity.name.lowercase() },
            )
        }
    }

    @Test
    fun anotherLogsKeyIsRejected(): Unit = runBlocking {
        val keys = JcaKeyStore()
        Wallet.open(tempDb(), keys).use { wallet ->
            val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
            val phone = SatchelServer.connect(server, "phone-${System.nanoTime()}", "device-key", keys, JdkTransport())
            phone.registerSpace(wallet, space.id)
            val bank = RelyingParty.generate("https://other-bank.example", null)
            val request = bank.createRequest(spec("urn:any", listOf("name")))
            wallet.deny(space.id, request, registry())
            val logKey = Regex("\"verifier_key\":\"([^\"]+)\"").find(get("/v1/log/key"))!!.groupValues[1]
            assertEquals(1u, wallet.anchorConsentLog(space.id, phone, logKey).anchoredNow)
            // A well-formed key of another log: the server's checkpoints do not verify.
            val kp = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair()
            val raw = kp.public.encoded.takeLast(32).toByteArray()
            val digest = java.security.MessageDigest.getInstance("SHA-256")
                .digest("other.log".toByteArray() + "\n".toByteArray() + byteArrayOf(1) + raw)
            val otherKey = "other.log+" + digest.take(4).joinToString("") { "%02x".format(it) } + "+" +
                java.util.Base64.getEncoder().encodeToString(byteArrayOf(1) + raw)
            assertFailsWith<SatchelException.Rejected> { wallet.verifyAnchors(space.id, phone, otherKey) }
            // Registering twice is refused by the server, as a typed error.
            assertFailsWith<SatchelException.Rejected> { phone.registerSpace(wallet, space.id) }
        }
    }
}
