package app.satchel.demo.model

import app.satchel.AuthorizationState
import app.satchel.CredentialRequest
import app.satchel.CredentialStatus
import app.satchel.RelyingParty
import app.satchel.RequestSpec
import app.satchel.SatchelException
import app.satchel.SpaceKind
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking

/** The citizen's journey through the screens' models, against the real server. */
class CitizenJourneyTest {
    private val zh = DisplaySettings(Language.ZH)

    private suspend fun citizen(): Pair<SatchelSession, String> {
        val session = Env.session("citizen")
        val ready = OnboardingModel(session).create("王小明的空间", SpaceKind.PERSONAL)
        return session to assertIs<OnboardingModel.State.Ready>(ready).space.id
    }

    private fun request(bank: RelyingParty, vct: String, responseUri: String, maxUses: UInt = 2u): String {
        val now = nowSeconds()
        return bank.createRequest(
            RequestSpec(
                credentials = listOf(CredentialRequest("id_card", listOf(vct), listOf("name", "age_over_18"), listOf("id_number"))),
                purpose = "IdentityVerification",
                notBefore = now - 60,
                notAfter = now + 30 * 86_400,
                maxUses = maxUses,
                controllerName = "示例银行 Example Bank",
                responseUri = responseUri,
                sensitive = true,
            ),
        )
    }

    @Test
    fun onboardingCreatesAndRegistersASpace(): Unit = runBlocking {
        val (session, spaceId) = citizen()
        session.use {
            assertEquals(spaceId, it.space(SpaceKind.PERSONAL)?.id)
            // Registered: publishing the status list on the server works.
            it.wallet.publishStatusList(spaceId, it.server)
        }
    }

    @Test
    fun onboardingRefusesABlankName(): Unit = runBlocking {
        Env.session("blank").use { session ->
            assertIs<OnboardingModel.State.Failed>(OnboardingModel(session).create("  ", SpaceKind.PERSONAL))
            assertTrue(session.wallet.spaces().isEmpty())
        }
    }

    @Test
    fun receivesAnIdCardByScanningAnOffer(): Unit = runBlocking {
        val (session, spaceId) = citizen()
        session.use {
            val cards = WalletModel(it, spaceId, zh)
            val card = cards.receive(Env.offer()).getOrThrow()
            assertEquals("居民身份证", card.title)
            assertEquals(CredentialStatus.VALID, card.status)
            assertEquals("有效", card.statusText)
            assertTrue(card.accessibilityLabel(Language.ZH).contains("有效"), "status in words for the screen reader")
            assertEquals(listOf(card.id), cards.states.value.map { c -> c.id })
        }
    }

    @Test
    fun aBadOrUsedOfferIsAReadableFailure(): Unit = runBlocking {
        val (session, spaceId) = citizen()
        session.use {
            val cards = WalletModel(it, spaceId, zh)
            val failed = cards.receive("openid-credential-offer://?credential_offer=%7B%7D").exceptionOrNull()
            assertIs<SatchelException.InvalidInput>(failed)
            val offer = Env.offer()
            cards.receive(offer).getOrThrow()
            assertIs<SatchelException.Rejected>(cards.receive(offer).exceptionOrNull(), "a pre-authorised code is single use")
        }
    }

    /** A citizen with an ID card, a registered bank and its request, loaded for review. */
    private class Reviewing(
        val session: SatchelSession,
        val spaceId: String,
        val card: CardView,
        val bank: RelyingParty,
        val jws: String,
        val review: ReviewModel,
        val endpoint: ResponseEndpoint,
    )

    private fun reviewing(block: suspend (Reviewing) -> Unit): Unit = runBlocking {
        val (session, spaceId) = citizen()
        session.use {
            val card = WalletModel(it, spaceId, zh).receive(Env.offer()).getOrThrow()
            val bank = Env.bank()
            ResponseEndpoint().use { endpoint ->
                val jws = request(bank, it.wallet.credential(card.id).vct, endpoint.uri)
                val review = ReviewModel(it, spaceId, zh)
                review.load("openid4vp://?client_id=${Env.BANK}&request=$jws")
                block(Reviewing(it, spaceId, card, bank, jws, review, endpoint))
            }
        }
    }

    @Test
    fun reviewShowsWhoAsksThePurposeTheFieldsAndTheFlags() = reviewing { r ->
        val state = r.review.states.value!!
        assertEquals("示例银行 Example Bank", state.relyingParty)
        assertTrue(state.trusted)
        assertEquals("核实您的身份", state.purpose)
        assertEquals(listOf("姓名", "已满18周岁", "身份证号码"), state.fields.map { f -> f.label })
        val idNumber = state.fields.single { f -> f.path == "id_number" }
        assertTrue(idNumber.sensitive && !idNumber.on && !idNumber.required)
        assertTrue(state.sensitive, "the PIPL sensitive flag is shown")
        assertEquals("最多使用 2 次", state.usesText)
        assertTrue(state.canApprove)
    }

    @Test
    fun aSensitiveFieldNeedsItsOwnConsent() = reviewing { r ->
        r.review.toggle("id_number")
        assertFalse(r.review.states.value!!.canApprove, "switched on without its separate consent")
        assertTrue(r.review.approve().isFailure)
        r.review.consentSeparately("id_number")
        assertTrue(r.review.states.value!!.canApprove)
    }

    @Test
    fun approvingASubsetShowsTheBankOnlyThat() = reviewing { r ->
        r.review.toggle("age_over_18")
        assertFalse(r.review.states.value!!.canApprove, "a required field is off")
        r.review.toggle("age_over_18")
        r.review.approve().getOrThrow()
        val verified = r.bank.verifyResponse(r.jws, r.endpoint.next(), r.session.registry())
        assertTrue(verified.claimsJson.contains("王小明"))
        assertFalse(verified.claimsJson.contains("440106"), "the ID number was not approved")
    }

    @Test
    fun refusingKeepsASignedRefusal() = reviewing { r ->
        r.review.refuse().getOrThrow()
        assertEquals(1u, ConsentLogModel(r.session, r.spaceId).verify().records)
    }

    @Test
    fun theWholeJourneyEndsWithARefusedUse() = reviewing { r ->
        val it = r.session
        val approved = r.review.approve().getOrThrow()
        val verified = r.bank.verifyResponse(r.jws, r.endpoint.next(), it.registry())
        val use = r.bank.recordUse(verified.id, "IdentityVerification")
        it.wallet.recordUseReceipt(approved.authorizationId, use.receipt)

        val consents = AuthorizationsModel(it, r.spaceId, zh)
        val listed = consents.refresh().single()
        assertEquals("已使用 1 / 2 次", listed.usesText)
        assertEquals(AuthorizationState.ACTIVE, listed.state)

        val timeline = TraceModel(it, zh).timeline(r.card.id).map { e -> e.what }
        assertEquals(listOf("签发", "存入钱包", "出示", "授权使用", "被使用"), timeline)

        val uri = consents.withdraw(approved.authorizationId).getOrThrow()
        assertEquals("已撤回", consents.states.value.single().stateText)
        r.bank.fetchStatusList(uri, null)
        val refused = runCatching { r.bank.recordUse(verified.id, "IdentityVerification") }.exceptionOrNull()
        assertIs<SatchelException.Rejected>(refused)
        assertEquals("撤回授权", TraceModel(it, zh).timeline(r.card.id).last().what)
    }

    @Test
    fun theConsentLogVerifiesAndIsAnchored() = reviewing { r ->
        r.review.approve().getOrThrow()
        val log = ConsentLogModel(r.session, r.spaceId)
        assertTrue(log.verify().verified)
        val key = r.session.server.logKey()
        assertEquals(Env.logKey(), key)
        assertNull(log.load(key).anchoredRecords, "nothing anchored yet")
        val anchored = log.anchor(key)
        assertEquals(1u, anchored.anchoredRecords)
        assertNotNull(anchored.checkpointSize)
        // Opening the screen again checks the anchors made before.
        assertEquals(1u, ConsentLogModel(r.session, r.spaceId).load(key).anchoredRecords)
    }

    @Test
    fun englishWordsLabelsAndElderMode(): Unit = runBlocking {
        val en = DisplaySettings(Language.EN, elderMode = true)
        assertTrue(en.typeScale > 1f && en.oneActionPerScreen)
        assertEquals("Check who you are", Words.purpose("IdentityVerification", Language.EN))
        assertEquals("Used 1 of 3", Words.uses(1u, 3u, Language.EN))
        val (session, spaceId) = citizen()
        session.use {
            val cards = WalletModel(it, spaceId, en)
            val card = cards.receive(Env.offer()).getOrThrow()
            assertEquals("Resident ID card", card.title)
            cards.label(card.id, "My ID")
            assertEquals("My ID", cards.states.value.single().label)
        }
    }
}
