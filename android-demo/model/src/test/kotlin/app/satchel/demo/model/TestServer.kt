package app.satchel.demo.model

import app.satchel.RelyingParty
import app.satchel.inMemoryKeyStore
import com.sun.net.httpserver.HttpServer
import java.net.InetSocketAddress
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** The real satchel-server `cargo xtask android-model-test` starts (with `--demo`). */
object Env {
    val server: String = System.getProperty("satchel.server") ?: error("run through cargo xtask (no satchel.server)")
    private val admin: String = System.getProperty("satchel.admin") ?: error("no satchel.admin")
    private val http = HttpClient.newHttpClient()
    const val BANK = "https://bank.demo.example"

    fun operator(method: String, path: String, body: String): String {
        val request = HttpRequest.newBuilder(URI.create(server + path))
            .header("Authorization", "Bearer $admin")
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body))
            .build()
        val answer = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(answer.statusCode() < 300) { "operator call failed: ${answer.statusCode()} ${answer.body()}" }
        return answer.body()
    }

    /** A credential offer from a demo issuer for a seeded subject. */
    fun offer(issuer: String = "public-security", subject: String = "citizen-1"): String {
        val body = operator("POST", "/v1/admin/issuers/$issuer/offers", """{"subject": "$subject"}""")
        return Regex("\"credential_offer_uri\":\"([^\"]+)\"").find(body)!!.groupValues[1]
    }

    /** A bank registered in the server's registry for identity verification. */
    suspend fun bank(): RelyingParty {
        val bank = RelyingParty.generate(BANK, null)
        operator(
            "PUT",
            "/v1/admin/relying-parties/https%3A%2F%2Fbank.demo.example",
            """{"client_id": "$BANK", "name": "示例银行 Example Bank", "keys": [${bank.publicJwk()}],
               "allowed_purposes": ["IdentityVerification"]}""",
        )
        return bank
    }

    /** A session on a fresh wallet file with an in-memory key store. */
    suspend fun session(name: String): SatchelSession = SatchelSession.open(
        Files.createTempDirectory("satchel-demo").resolve("$name.db").toString(),
        inMemoryKeyStore(),
        server,
        "$name-${System.nanoTime()}",
    )

    fun logKey(): String {
        val body = http.send(HttpRequest.newBuilder(URI.create("$server/v1/log/key")).build(), HttpResponse.BodyHandlers.ofString()).body()
        return Regex("\"verifier_key\":\"([^\"]+)\"").find(body)!!.groupValues[1]
    }
}

/** The bank's `direct_post` endpoint: collects what wallets post. */
class ResponseEndpoint : AutoCloseable {
    private val received = LinkedBlockingQueue<String>()
    private val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0).apply {
        createContext("/response") { exchange ->
            received.add(exchange.requestBody.readAllBytes().decodeToString())
            exchange.sendResponseHeaders(200, -1)
            exchange.close()
        }
        start()
    }
    val uri: String = "http://127.0.0.1:${server.address.port}/response"

    fun next(): String = received.poll(10, TimeUnit.SECONDS) ?: error("nothing was posted")

    override fun close() = server.stop(0)
}
