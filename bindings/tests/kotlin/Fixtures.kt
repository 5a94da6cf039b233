package app.satchel.test

import app.satchel.CredentialRequest
import app.satchel.RelyingParty
import app.satchel.RequestSpec
import app.satchel.SoftwareIssuer
import app.satchel.TrustRegistry
import java.nio.file.Files

const val BANK = "https://bank.example"

fun nowSeconds(): Long = System.currentTimeMillis() / 1000

fun tempDb(): String = Files.createTempDirectory("satchel").resolve("wallet.db").toString()

fun idCardClaims(now: Long, iss: String = "https://gdga.example", vct: String = "urn:satchel:id-card") = """
    {"iss": "$iss", "vct": "$vct", "iat": $now, "exp": ${now + 86400},
     "name": "张三", "id_number": "440101199001011234", "age_over_18": true}
""".trimIndent()

/** A registry trusting `issuers` and the bank for IdentityVerification. */
fun registry(issuers: List<Pair<String, SoftwareIssuer>>, bank: RelyingParty): TrustRegistry {
    val iss = issuers.joinToString(",") { (id, key) -> """{"id": "$id", "name": "$id", "keys": [${key.publicJwk()}]}""" }
    return TrustRegistry.fromJson(
        """{"issuers": [$iss], "relying_parties": [{"client_id": "$BANK", "name": "Example Bank",
           "keys": [${bank.publicJwk()}], "allowed_purposes": ["IdentityVerification"]}]}""",
    )
}

/** A request for `claims` (and `optional` ones) of `vct`; every other term at its default. */
fun spec(vct: String, claims: List<String>, optional: List<String> = listOf(), maxUses: UInt = 2u): RequestSpec {
    val now = nowSeconds()
    return RequestSpec(
        credentials = listOf(CredentialRequest("q1", listOf(vct), claims, optional)),
        purpose = "IdentityVerification",
        notBefore = now - 60,
        notAfter = now + 86400,
        maxUses = maxUses,
        controllerName = "Example Bank",
        responseUri = "$BANK/response",
        sensitive = true,
    )
}
