package app.satchel.demo.model

import app.satchel.Credential
import app.satchel.CredentialFilter
import app.satchel.CredentialStatus
import app.satchel.SatchelException
import app.satchel.WalletChange
import app.satchel.changes
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.launchIn
import kotlinx.coroutines.flow.onEach

/** One card on the wallet screen. */
data class CardView(
    val id: String,
    /** The type in plain words (e.g. 居民身份证). */
    val title: String,
    val issuer: String,
    val status: CredentialStatus,
    /** The status in words (never by colour alone). */
    val statusText: String,
    val expiresAt: Long?,
    val label: String?,
) {
    /** What TalkBack / VoiceOver reads for the card. */
    fun accessibilityLabel(lang: Language): String =
        if (lang == Language.ZH) "$title，$issuer 签发，$statusText" else "$title, issued by $issuer, $statusText"
}

/** The wallet screen (a card per credential) and receiving by scanning an offer. */
class WalletModel(private val session: SatchelSession, private val spaceId: String, private val settings: DisplaySettings) {
    private val cards = MutableStateFlow<List<CardView>>(emptyList())
    val states: StateFlow<List<CardView>> = cards.asStateFlow()

    /** Reloads the cards. */
    suspend fun refresh(): List<CardView> {
        cards.value = session.wallet.credentials(spaceId, CredentialFilter()).map { view(it) }
        return cards.value
    }

    /** Keeps the cards fresh while `scope` lives (every committed change). */
    fun follow(scope: CoroutineScope) {
        session.wallet.changes()
            .filter {
                it is WalletChange.CredentialAdded || it is WalletChange.CredentialUpdated || it is WalletChange.CredentialRemoved ||
                    it is WalletChange.Synced
            }
            .onEach { refresh() }
            .launchIn(scope)
    }

    /** Receives the credential behind a scanned `openid-credential-offer://`. */
    suspend fun receive(offerUri: String): Result<CardView> = try {
        val c = session.wallet.receiveCredential(spaceId, offerUri, session.registry(), session.transport())
        refresh()
        Result.success(view(c))
    } catch (e: SatchelException) {
        Result.failure(e)
    }

    /** Sets or clears the person's own name for a card. */
    suspend fun label(id: String, label: String?) {
        session.wallet.setLabel(id, label?.takeIf { it.isNotBlank() })
        refresh()
    }

    private fun view(c: Credential) = CardView(
        id = c.id,
        title = Words.credentialType(c.vct, settings.language),
        issuer = c.issuer ?: "",
        status = c.status,
        statusText = Words.status(c.status, settings.language),
        expiresAt = c.expiresAt,
        label = c.label,
    )
}
