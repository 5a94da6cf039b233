package app.satchel.test

import app.satchel.ApprovalChoice
import app.satchel.AuthorizationState
import app.satchel.CredentialFilter
import app.satchel.KeyAlgorithm
import app.satchel.KeyStoreException
import app.satchel.RelyingParty
import app.satchel.SatchelException
import app.satchel.Selection
import app.satchel.SoftwareIssuer
import app.satchel.SpaceKind
import app.satchel.Wallet
import app.satchel.WalletChange
import app.satchel.WalletListener
import app.satchel.changes
import app.satchel.inMemoryKeyStore
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** The async surface itself: suspending key stores, cancellation, listeners. */
class AsyncTest {
    private suspend fun walletWithCard(keys: JcaKeyStore): Triple<Wallet, String, String> {
        val wallet = Wallet.open(tempDb(), keys)
        val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
        val issuer = SoftwareIssuer.generate(KeyAlgorithm.ES256)
        val card = wallet.importCredential(space.id, issuer.issue(idCardClaims(nowSeconds()), listOf("name", "age_over_18"), space.holderJwk), issuer.publicJwk())
        return Triple(wallet, space.id, card.id)
    }

    @Test
    fun aBatchImportGivesOneOutcomePerToken(): Unit = runBlocking {
        val wallet = Wallet.open(tempDb(), JcaKeyStore())
        val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
        val issuer = SoftwareIssuer.generate(KeyAlgorithm.ES256)
        val good = (1..40).map { issuer.issue(idCardClaims(nowSeconds()), listOf("name"), space.holderJwk) }
        val outcomes = wallet.importCredentials(space.id, good + "not a credential", issuer.publicJwk())
        assertEquals(41, outcomes.size)
        assertTrue(outcomes.take(40).all { it.credential != null && it.error == null })
        assertTrue(outcomes.last().credential == null && !outcomes.last().error.isNullOrBlank(), outcomes.last().toString())
        assertEquals(40, wallet.credentials(space.id, CredentialFilter()).size)
        wallet.close()
    }

    @Test
    fun signingSuspendsUntilTheUserConfirms(): Unit = runBlocking {
        val keys = JcaKeyStore()
        val (wallet, _, cardId) = walletWithCard(keys)
        val prompt = CompletableDeferred<String>()
        val userConfirms = CompletableDeferred<Unit>()
        keys.confirm = { alias -> prompt.complete(alias); userConfirms.await() }
        val presenting = async(Dispatchers.Default) { wallet.present(cardId, listOf("name"), BANK, "nonce-1") }
        val alias = withTimeout(10_000) { prompt.await() }
        assertTrue(alias.startsWith("satchel.space."), alias)
        // The call waits for the user; the SDK holds none of our threads.
        repeat(5) { yield() }
        assertFalse(presenting.isCompleted)
        userConfirms.complete(Unit)
        assertEquals(2, presenting.await().count { it == '~' }, "one disclosure and a key-binding JWT")
        wallet.close()
    }

    @Test
    fun dismissingThePromptIsACancelledError(): Unit = runBlocking {
        val keys = JcaKeyStore()
        val (wallet, _, cardId) = walletWithCard(keys)
        keys.confirm = { throw KeyStoreException.UserCancelled() }
        assertFailsWith<SatchelException.Cancelled> { wallet.present(cardId, listOf("name"), BANK, "n") }
        keys.confirm = { throw IllegalStateException("keystore daemon died") }
        val e = assertFailsWith<SatchelException.KeyStore> { wallet.present(cardId, listOf("name"), BANK, "n") }
        assertTrue(e.message!!.contains("keystore daemon died"), e.message)
        wallet.close()
    }

    @Test
    fun cancellingAnApprovalMidwayLeavesNoTrace(): Unit = runBlocking {
        val keys = JcaKeyStore()
        val (wallet, spaceId, cardId) = walletWithCard(keys)
        val bank = RelyingParty.generate(BANK, null)
        val issuerFree = registry(listOf(), bank)
        val request = bank.createRequest(spec("urn:satchel:id-card", listOf("name")))
        val prompt = CompletableDeferred<Unit>()
        val userConfirms = CompletableDeferred<Unit>()
        keys.confirm = { prompt.complete(Unit); userConfirms.await() }
        val approving = launch(Dispatchers.Default) {
            wallet.approve(spaceId, request, issuerFree, ApprovalChoice(listOf(Selection("q1", cardId, listOf("name")))))
        }
        withTimeout(10_000) { prompt.await() }
        val signsBefore = keys.signCalls
        approving.cancelAndJoin()
        // The user confirms after the screen went away: the signature is not used.
        userConfirms.complete(Unit)
        keys.confirm = null
        // A later write waits for the abandoned one to finish rolling back.
        wallet.deny(spaceId, request, issuerFree)
        assertTrue(wallet.authorizations(spaceId).isEmpty(), "nothing was granted")
        assertEquals(1u, wallet.verifyConsentLog(spaceId), "only the refusal is in the consent log")
        assertTrue(keys.signCalls <= signsBefore + 2, "no authorisation was signed after cancellation")
        // The wallet works as before.
        val approved = wallet.approve(spaceId, request, issuerFree, ApprovalChoice(listOf(Selection("q1", cardId, listOf("name"))), acceptUntrusted = true))
        assertEquals(AuthorizationState.ACTIVE, wallet.authorizations(spaceId).single { it.id == approved.authorizationId }.state)
        wallet.close()
    }

    @Test
    fun changesArriveAsAFlow(): Unit = runBlocking {
        Wallet.open(tempDb(), inMemoryKeyStore()).use { wallet ->
            val received = mutableListOf<WalletChange>()
            // Unconfined: the flow's listener is registered before launch returns.
            val collecting = launch(Dispatchers.Unconfined) { wallet.changes().take(3).toList(received) }
            val space = wallet.createSpace("个人空间", SpaceKind.PERSONAL)
            val issuer = SoftwareIssuer.generate(KeyAlgorithm.ES256)
            val card = wallet.importCredential(space.id, issuer.issue(idCardClaims(nowSeconds()), listOf("name"), space.holderJwk), issuer.publicJwk())
            wallet.deleteSpace(space.id)
            withTimeout(10_000) { collecting.join() }
            assertEquals(
                listOf(
                    WalletChange.SpaceCreated(space.id),
                    WalletChange.CredentialAdded(space.id, card.id),
                    WalletChange.SpaceDeleted(space.id),
                ),
                received,
            )
            // The flow ended (take(3)); its listener is gone.
            wallet.createSpace("after", SpaceKind.PERSONAL)
            assertEquals(3, received.size)
        }
    }

    @Test
    fun aStoppedListenerHearsNothingMore(): Unit = runBlocking {
        Wallet.open(tempDb(), inMemoryKeyStore()).use { wallet ->
            val heard = mutableListOf<WalletChange>()
            val subscription = wallet.observe(object : WalletListener {
                override fun onChange(change: WalletChange) {
                    synchronized(heard) { heard.add(change) }
                }
            })
            val space = wallet.createSpace("a", SpaceKind.PERSONAL)
            assertEquals(listOf<WalletChange>(WalletChange.SpaceCreated(space.id)), synchronized(heard) { heard.toList() })
            subscription.stop()
            subscription.close()
            wallet.createSpace("b", SpaceKind.PERSONAL)
            assertEquals(1, synchronized(heard) { heard.size })
        }
    }

    @Test
    fun aThrowingListenerDoesNotFailTheChange(): Unit = runBlocking {
        Wallet.open(tempDb(), inMemoryKeyStore()).use { wallet ->
            wallet.observe(object : WalletListener {
                override fun onChange(change: WalletChange) = throw IllegalStateException("UI crashed")
            }).use {
                val space = wallet.createSpace("still saved", SpaceKind.PERSONAL)
                assertEquals(listOf(space.id), wallet.spaces().map { it.id })
            }
        }
    }

    @Test
    fun manyConcurrentCallsShareTheWallet(): Unit = runBlocking {
        val keys = JcaKeyStore()
        val (wallet, spaceId, cardId) = walletWithCard(keys)
        val presentations = (1..24).map { i ->
            async(Dispatchers.Default) { wallet.present(cardId, listOf("name"), BANK, "nonce-$i") }
        }.awaitAll()
        assertEquals(24, presentations.toSet().size)
        val labels = (1..8).map { i -> async(Dispatchers.Default) { wallet.setLabel(cardId, "label $i") } }.awaitAll()
        assertTrue(labels.all { it.label!!.startsWith("label ") })
        assertEquals(1, wallet.credentials(spaceId, app.satchel.CredentialFilter()).size)
        wallet.close()
    }
}
