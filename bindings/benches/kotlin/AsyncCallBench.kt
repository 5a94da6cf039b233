package app.satchel.bench

import app.satchel.CredentialFilter
import app.satchel.KeyAlgorithm
import app.satchel.SoftwareIssuer
import app.satchel.SpaceKind
import app.satchel.Wallet
import app.satchel.inMemoryKeyStore
import app.satchel.jwkThumbprint
import kotlinx.coroutines.runBlocking
import java.nio.file.Files

/**
 * The cost of crossing into Satchel from the JVM, measured in one run:
 * a synchronous FFI call, and `suspend` calls that hop to the SDK's
 * blocking pool and back, interleaved round by round. Run by
 * `cargo xtask bench-ffi`; prints medians of per-call microseconds.
 */
fun main(): Unit = runBlocking {
    val wallet = Wallet.open(Files.createTempDirectory("satchel-bench").resolve("w.db").toString(), inMemoryKeyStore())
    val space = wallet.createSpace("bench", SpaceKind.PERSONAL)
    val issuer = SoftwareIssuer.generate(KeyAlgorithm.ES256)
    val now = System.currentTimeMillis() / 1000
    val claims = """{"iss": "https://i", "vct": "urn:id", "exp": ${now + 86400}, "name": "张三"}"""
    val card = wallet.importCredential(space.id, issuer.issue(claims, listOf("name"), space.holderJwk), issuer.publicJwk())
    val jwk = space.holderJwk

    val cases: List<Pair<String, suspend () -> Unit>> = listOf(
        "sync FFI call: jwkThumbprint" to { jwkThumbprint(jwk) },
        "suspend FFI call: Wallet.credential" to { wallet.credential(card.id) },
        "suspend FFI call: Wallet.credentials (1 of 1)" to { wallet.credentials(space.id, CredentialFilter()) },
    )
    val perCall = cases.associate { it.first to mutableListOf<Double>() }
    val iterations = 2000
    repeat(9) { round ->
        for ((name, call) in cases) {
            val started = System.nanoTime()
            repeat(iterations) { call() }
            val micros = (System.nanoTime() - started) / 1000.0 / iterations
            if (round > 0) perCall.getValue(name).add(micros) // round 0 warms up
        }
    }
    val medians = perCall.mapValues { (_, v) -> v.sorted()[v.size / 2] }
    val base = medians.getValue(cases[0].first)
    for ((name, m) in medians) {
        println("ffi-bench: %-48s %8.2f µs  (%.1f × the sync call)".format(name, m, m / base))
    }
    wallet.close()
}
