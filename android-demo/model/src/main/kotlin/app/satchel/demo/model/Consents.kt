package app.satchel.demo.model

import app.satchel.AuthorizationState
import app.satchel.SatchelException
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** One authorisation on the authorisations screen. */
data class AuthorizationView(
    val id: String,
    val relyingParty: String,
    val purpose: String,
    val state: AuthorizationState,
    val stateText: String,
    val usesText: String,
    val used: UInt,
    val maxUses: UInt,
)

/** The authorisations screen: active, used (n of m), withdrawn; withdraw in one tap. */
class AuthorizationsModel(private val session: SatchelSession, private val spaceId: String, private val settings: DisplaySettings) {
    private val list = MutableStateFlow<List<AuthorizationView>>(emptyList())
    val states: StateFlow<List<AuthorizationView>> = list.asStateFlow()

    suspend fun refresh(): List<AuthorizationView> {
        val lang = settings.language
        list.value = session.wallet.authorizations(spaceId).map {
            AuthorizationView(
                id = it.id,
                relyingParty = it.rpName ?: it.clientId,
                purpose = Words.purpose(it.purpose, lang),
                state = it.state,
                stateText = Words.authorizationState(it.state, lang),
                usesText = Words.uses(it.uses, it.maxUses, lang),
                used = it.uses,
                maxUses = it.maxUses,
            )
        }
        return list.value
    }

    /** Withdraws in one tap and publishes it, so the relying party's next use is refused. */
    suspend fun withdraw(id: String): Result<String> = try {
        session.wallet.withdraw(id)
        val uri = session.wallet.publishStatusList(spaceId, session.server)
        refresh()
        Result.success(uri)
    } catch (e: SatchelException) {
        Result.failure(e)
    }
}

/** One step of "where did my data go". */
data class TimelineEntry(val time: Long, val what: String, val who: List<String>)

/** "Where did my data go": the provenance timeline of a credential. */
class TraceModel(private val session: SatchelSession, private val settings: DisplaySettings) {
    suspend fun timeline(credentialId: String): List<TimelineEntry> = session.wallet.trace(credentialId).map { e ->
        TimelineEntry(e.time, Words.activity(e.activity, settings.language), e.agents.map { it.name ?: it.id })
    }

    /** The same as W3C PROV-JSON, to share. */
    suspend fun provJson(credentialId: String): String = session.wallet.traceProvJson(credentialId)
}

/** What the consent log screen shows. */
data class ConsentLogView(val records: UInt, val verified: Boolean, val anchoredRecords: UInt?, val checkpointSize: ULong?)

/** The consent log: verified, with the latest anchored checkpoint. */
class ConsentLogModel(private val session: SatchelSession, private val spaceId: String) {
    private val state = MutableStateFlow<ConsentLogView?>(null)
    val states: StateFlow<ConsentLogView?> = state.asStateFlow()

    /** Verifies every record and chain here. */
    suspend fun verify(): ConsentLogView {
        val view = try {
            ConsentLogView(session.wallet.verifyConsentLog(spaceId), true, null, null)
        } catch (e: SatchelException) {
            ConsentLogView(0u, false, null, null)
        }
        state.value = view
        return view
    }

    /**
     * Verifies here, then checks the anchors already made (on any device of
     * the space) against the log's latest checkpoint; a failed check throws.
     */
    suspend fun load(logKey: String): ConsentLogView {
        val local = verify()
        val report = session.wallet.verifyAnchors(spaceId, session.server, logKey)
        val view = if (report.anchoredTotal ==
            0u
        ) {
            local
        } else {
            local.copy(anchoredRecords = report.anchoredTotal, checkpointSize = report.checkpointSize)
        }
        state.value = view
        return view
    }

    /** Anchors the log in the server's transparency log; `logKey` is pinned by the app. */
    suspend fun anchor(logKey: String): ConsentLogView {
        val report = session.wallet.anchorConsentLog(spaceId, session.server, logKey)
        val view = ConsentLogView(session.wallet.verifyConsentLog(spaceId), true, report.anchoredTotal, report.checkpointSize)
        state.value = view
        return view
    }
}
