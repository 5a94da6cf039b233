package app.satchel.test

import app.satchel.ApprovalChoice
import app.satchel.AuthorizationState
import app.satchel.DelegationScope
import app.satchel.KeyAlgorithm
import app.satchel.MemberRole
import app.satchel.ProvenanceActivity
import app.satchel.RelyingParty
import app.satchel.RpTrust
import app.satchel.SatchelException
import app.satchel.Selection
import app.satchel.SoftwareIssuer
import app.satchel.SpaceKind
import app.satchel.TrustRegistry
import app.satchel.Wallet
import app.satchel.inMemoryKeyStore
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

class AuthorizationTest {
    private val gdgaId = "https://gdga.example"

    @Test
    fun requestApproveVerifyUseWithdrawRefused(): Unit = runBlocking {
        Wallet.open(tempDb(), JcaKeyStore()).use { wallet ->
            val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
            val gdga = SoftwareIssuer.generate(KeyAlgorithm.ES256)
            val card = wallet.importCredential(space.id, gdga.issue(idCardClaims(nowSeconds()), listOf("name", "id_number", "age_over_18"), space.holderJwk), gdga.publicJwk())
            val bank = RelyingParty.generate(BANK, null)
            val registry = registry(listOf(gdgaId to gdga), bank)

            val request = bank.createRequest(spec(card.vct, listOf("name", "age_over_18"), listOf("id_number")))
            val review = wallet.reviewRequest(space.id, request, registry)
            assertEquals(RpTrust.TRUSTED, review.trust)
            assertEquals("Example Bank", review.rpName)
            assertEquals("Consent", review.legalBasis, "legal basis defaults to consent")
            assertEquals(30u, review.retentionDays, "retention defaults to 30 days")
            assertTrue(review.sensitive)
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
            assertEquals(AuthorizationState.WITHDRAWN, wallet.authorizations(space.id)[0].state)
            bank.updateStatusList(withdrawal.statusUri, withdrawal.statusListToken)
            val refused = assertFailsWith<SatchelException.Rejected> { bank.recordUse(verified.id, "IdentityVerification") }
            assertTrue(refused.message!!.contains("withdrawn"), refused.message)

            assertEquals(2u, wallet.verifyConsentLog(space.id))
            assertTrue(wallet.exportConsentLog(space.id).contains("dpv:ConsentWithdrawn"))
            assertEquals(1, wallet.consentReceipts(space.id).size)
            val trace = wallet.trace(card.id)
            assertEquals(
                listOf(
                    ProvenanceActivity.ISSUE, ProvenanceActivity.IMPORT, ProvenanceActivity.PRESENT,
                    ProvenanceActivity.AUTHORIZE, ProvenanceActivity.USE, ProvenanceActivity.WITHDRAW,
                ),
                trace.map { it.activity },
            )
            assertEquals(gdgaId, trace[0].agents[0].id)
            assertTrue(wallet.traceProvJson(card.id).contains("wasInvalidatedBy"))
        }
    }

    @Test
    fun badRequestsAndOverreachingSelectionsAreTypedErrors(): Unit = runBlocking {
        Wallet.open(tempDb(), inMemoryKeyStore()).use { wallet ->
            val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
            val gdga = SoftwareIssuer.generate(KeyAlgorithm.ES256)
            val card = wallet.importCredential(space.id, gdga.issue(idCardClaims(nowSeconds()), listOf("name", "id_number"), space.holderJwk), gdga.publicJwk())
            val bank = RelyingParty.generate(BANK, null)
            val registry = registry(listOf(gdgaId to gdga), bank)
            val request = bank.createRequest(spec(card.vct, listOf("name")))

            assertFailsWith<SatchelException.Rejected> { wallet.reviewRequest(space.id, request.dropLast(4), registry) }
            assertFailsWith<SatchelException.InvalidInput> { TrustRegistry.fromJson("[]") }
            assertFailsWith<SatchelException.InvalidInput> { bank.createRequest(spec(card.vct, listOf("name")).copy(purpose = "Gossip")) }
            assertFailsWith<SatchelException.InvalidInput> { bank.createRequest(spec(card.vct, listOf("name")).copy(requestTtlSeconds = 0)) }
            // Granting a claim that was not asked for is refused.
            assertFailsWith<SatchelException.Rejected> {
                wallet.approve(space.id, request, registry, ApprovalChoice(listOf(Selection("q1", card.id, listOf("id_number")))))
            }
            assertFailsWith<SatchelException.InvalidInput> { bank.verifyResponse(request, "not json", registry) }
            assertFailsWith<SatchelException.NotFound> { wallet.withdraw("no-such-authorisation") }
            assertTrue(wallet.authorizations(space.id).isEmpty())
        }
    }

    @Test
    fun unknownRelyingPartyNeedsExplicitAcceptance(): Unit = runBlocking {
        Wallet.open(tempDb(), inMemoryKeyStore()).use { wallet ->
            val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
            val gdga = SoftwareIssuer.generate(KeyAlgorithm.ES256)
            val card = wallet.importCredential(space.id, gdga.issue(idCardClaims(nowSeconds()), listOf("name"), space.holderJwk), gdga.publicJwk())
            val registry = registry(listOf(gdgaId to gdga), RelyingParty.generate(BANK, null))
            val stranger = RelyingParty.generate("https://unknown.example", null)
            val request = stranger.createRequest(spec(card.vct, listOf("name")))
            assertEquals(RpTrust.UNKNOWN, wallet.reviewRequest(space.id, request, registry).trust)
            val choice = ApprovalChoice(listOf(Selection("q1", card.id, listOf("name"))))
            assertFailsWith<SatchelException.Rejected> { wallet.approve(space.id, request, registry, choice) }
            val refusal = wallet.deny(space.id, request, registry)
            assertEquals(2, refusal.count { it == '.' })
            // With the user's explicit acceptance it goes through.
            wallet.approve(space.id, request, registry, choice.copy(acceptUntrusted = true, maxUses = 1u))
            assertEquals(1u, wallet.authorizations(space.id).single().maxUses)
            assertEquals(2u, wallet.verifyConsentLog(space.id))
        }
    }

    @Test
    fun agentPresentsACompanyLicenceUnderADelegation(): Unit = runBlocking {
        val company = Wallet.open(tempDb(), inMemoryKeyStore())
        val agentWallet = Wallet.open(tempDb(), JcaKeyStore())
        val enterprise = company.createSpace("广州某某科技有限公司", SpaceKind.ENTERPRISE)
        val samr = SoftwareIssuer.generate(KeyAlgorithm.ES256)
        val now = nowSeconds()
        val licenceClaims = """{"iss": "https://samr.example", "vct": "urn:business-licence", "iat": $now, "exp": ${now + 86400},
            "company_name": "广州某某科技有限公司", "uscc": "91440101MA5XXXXXXX"}"""
        val licence = samr.issue(licenceClaims, listOf("company_name", "uscc"), enterprise.holderJwk)
        company.importCredential(enterprise.id, licence, samr.publicJwk())

        val agentSpace = agentWallet.createSpace("经办人", SpaceKind.PERSONAL)
        val member = company.addMember(enterprise.id, "张三", MemberRole.AGENT, agentSpace.holderJwk)
        assertEquals(MemberRole.AGENT, member.role)
        val delegation = company.delegate(
            enterprise.id, member.id,
            DelegationScope(listOf("urn:business-licence"), listOf("IdentityVerification"), listOf(BANK), now - 60, now + 7 * 86400),
        )
        val held = agentWallet.importDelegatedCredential(agentSpace.id, licence, delegation.token, samr.publicJwk())

        val bank = RelyingParty.generate(BANK, null)
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
