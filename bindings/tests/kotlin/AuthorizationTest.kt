package app.satchel.test

import app.satchel.ApprovalChoice
import app.satchel.CredentialRequest
import app.satchel.DelegationScope
import app.satchel.KeyAlgorithm
import app.satchel.MemberRole
import app.satchel.RelyingParty
import app.satchel.RequestSpec
import app.satchel.RpTrust
import app.satchel.SatchelException
import app.satchel.Selection
import app.satchel.SoftwareIssuer
import app.satchel.SpaceKind
import app.satchel.TrustRegistry
import app.satchel.Wallet
import app.satchel.inMemoryKeyStore
import java.nio.file.Files
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

class AuthorizationTest {
    private val bankId = "https://bank.example"
    private val now = System.currentTimeMillis() / 1000

    private fun tempDb(): String = Files.createTempDirectory("satchel").resolve("wallet.db").toString()

    private fun registry(issuers: List<Pair<String, SoftwareIssuer>>, bank: RelyingParty): TrustRegistry {
        val iss = issuers.joinToString(",") { (id, key) -> """{"id": "$id", "name": "$id", "keys": [${key.publicJwk()}]}""" }
        return TrustRegistry.fromJson(
            """{"issuers": [$iss], "relying_parties": [{"client_id": "$bankId", "name": "Example Bank",
               "keys": [${bank.publicJwk()}], "allowed_purposes": ["IdentityVerification"]}]}"""
        )
    }

    private fun spec(vct: String, claims: List<String>, optional: List<String> = listOf()) = RequestSpec(
        credentials = listOf(CredentialRequest("q1", listOf(vct), claims, optional)),
        purpose = "IdentityVerification", legalBasis = "Consent",
        notBefore = now - 60, notAfter = now + 86400, maxUses = 2u, retentionDays = 30u,
        onwardTransfer = false, sensitive = true, thirdParty = false, crossBorder = false,
        controllerName = "Example Bank", controllerContact = "privacy@bank.example",
        responseUri = "$bankId/response", requestTtlSeconds = 600,
    )

    @Test
    fun requestApproveVerifyUseWithdrawRefused() {
        Wallet.open(tempDb(), JcaKeyStore()).use { wallet ->
            val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
            val gdga = SoftwareIssuer.generate(KeyAlgorithm.ES256)
            val claims = """{"iss": "https://gdga.example", "vct": "urn:id-card", "iat": $now, "exp": ${now + 86400},
                "name": "张三", "id_number": "440101199001011234", "age_over_18": true}"""
            val card = wallet.importCredential(space.id, gdga.issue(claims, listOf("name", "id_number", "age_over_18"), space.holderJwk), gdga.publicJwk())
            val bank = RelyingParty.generate(bankId, null)
            val registry = registry(listOf("https://gdga.example" to gdga), bank)

            val request = bank.createRequest(spec("urn:id-card", listOf("name", "age_over_18"), listOf("id_number")))
            val review = wallet.reviewRequest(space.id, request, registry)
            assertEquals(RpTrust.TRUSTED, review.trust)
            assertEquals("Example Bank", review.rpName)
            assertEquals(listOf("id_number"), review.matches[0].optional)
            assertEquals(card.id, review.matches[0].candidates[0].credentialId)

            // The citizen approves name and age only.
            val approved = wallet.approve(space.id, request, registry, ApprovalChoice(listOf(Selection("q1", card.id, listOf("name", "age_over_18")))))
            val verified = bank.verifyResponse(request, approved.responseJson, registry)
            assertTrue(verified.claimsJson.contains("张三"))
            assertFalse(verified.claimsJson.contains("440101199001011234"))

            val use = bank.recordUse(verified.id, "IdentityVerification")
            assertEquals(1u, use.remaining)
            assertTrue(wallet.recordUseReceipt(approved.authorizationId, use.receipt))
            assertFailsWith<SatchelException.Rejected> { bank.recordUse(verified.id, "Marketing") }

            val withdrawal = wallet.withdraw(approved.authorizationId)
            assertEquals("withdrawn", wallet.authorizations(space.id)[0].state)
            bank.updateStatusList(withdrawal.statusUri, withdrawal.statusListToken)
            val refused = assertFailsWith<SatchelException.Rejected> { bank.recordUse(verified.id, "IdentityVerification") }
            assertTrue(refused.message!!.contains("withdrawn"), refused.message)

            assertEquals(2u, wallet.verifyConsentLog(space.id))
            assertTrue(wallet.exportConsentLog(space.id).contains("dpv:ConsentWithdrawn"))
            assertEquals(1, wallet.consentReceipts(space.id).size)
            assertEquals(
                listOf("issue", "import", "present", "authorize", "use", "withdraw"),
                wallet.trace(card.id).map { it.activity },
            )
            assertTrue(wallet.traceProvJson(card.id).contains("wasInvalidatedBy"))

            // Bad requests and selections are typed errors.
            assertFailsWith<SatchelException.Rejected> { wallet.reviewRequest(space.id, request.dropLast(4), registry) }
            assertFailsWith<SatchelException.InvalidInput> { TrustRegistry.fromJson("[]") }
            val again = bank.createRequest(spec("urn:id-card", listOf("name")))
            assertFailsWith<SatchelException.Rejected> {
                wallet.approve(space.id, again, registry, ApprovalChoice(listOf(Selection("q1", card.id, listOf("id_number")))))
            }
            // An unregistered relying party needs the user's explicit acceptance.
            val stranger = RelyingParty.generate("https://unknown.example", null)
            val strangeRequest = stranger.createRequest(spec("urn:id-card", listOf("name")))
            assertEquals(RpTrust.UNKNOWN, wallet.reviewRequest(space.id, strangeRequest, registry).trust)
            assertFailsWith<SatchelException.Rejected> {
                wallet.approve(space.id, strangeRequest, registry, ApprovalChoice(listOf(Selection("q1", card.id, listOf("name")))))
            }
            val refusal = wallet.deny(space.id, strangeRequest, registry)
            assertTrue(refusal.count { it == '.' } == 2)
        }
    }

    @Test
    fun agentPresentsACompanyLicenceUnderADelegation() {
        val company = Wallet.open(tempDb(), inMemoryKeyStore())
        val agentWallet = Wallet.open(tempDb(), JcaKeyStore())
        val enterprise = company.createSpace("广州某某科技有限公司", SpaceKind.ENTERPRISE)
        val samr = SoftwareIssuer.generate(KeyAlgorithm.ES256)
        val licenceClaims = """{"iss": "https://samr.example", "vct": "urn:business-licence", "iat": $now, "exp": ${now + 86400},
            "company_name": "广州某某科技有限公司", "uscc": "91440101MA5XXXXXXX"}"""
        val licence = samr.issue(licenceClaims, listOf("company_name", "uscc"), enterprise.holderJwk)
        company.importCredential(enterprise.id, licence, samr.publicJwk())

        val agentSpace = agentWallet.createSpace("经办人", SpaceKind.PERSONAL)
        val member = company.addMember(enterprise.id, "张三", MemberRole.AGENT, agentSpace.holderJwk)
        val delegation = company.delegate(
            enterprise.id, member.id,
            DelegationScope(listOf("urn:business-licence"), listOf("IdentityVerification"), listOf(bankId), now - 60, now + 7 * 86400),
        )
        val held = agentWallet.importDelegatedCredential(agentSpace.id, licence, delegation.token, samr.publicJwk())

        val bank = RelyingParty.generate(bankId, null)
        val registry = registry(listOf("https://samr.example" to samr), bank)
        val request = bank.createRequest(spec("urn:business-licence", listOf("company_name", "uscc")))
        val approved = agentWallet.approve(agentSpace.id, request, registry, ApprovalChoice(listOf(Selection("q1", held.id, listOf("uscc")))))
        val verified = bank.verifyResponse(request, approved.responseJson, registry)
        assertTrue(verified.claimsJson.contains("91440101MA5XXXXXXX"))
        assertTrue(verified.delegatedByJson.contains("\"q1\""))
        val agentAuthorization = Regex("\"satchel_authorization\":\"([^\"]+)\"").find(approved.responseJson)!!.groupValues[1]
        company.recordAgentAction(delegation.id, agentAuthorization)

        // Revoked: the bank refuses the same response.
        val token = company.revokeDelegation(delegation.id)
        bank.updateStatusList(company.statusUri(enterprise.id), token)
        assertFailsWith<SatchelException.Rejected> { bank.verifyResponse(request, approved.responseJson, registry) }
        company.close()
        agentWallet.close()
    }
}
