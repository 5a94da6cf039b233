package app.satchel.demo.model

import app.satchel.ApprovalChoice
import app.satchel.Approved
import app.satchel.RequestReview
import app.satchel.RpTrust
import app.satchel.SatchelException
import app.satchel.Selection
import app.satchel.fetchRequest
import app.satchel.postResponse
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** One field the relying party asks for, with its own switch. */
data class FieldChoice(
    val queryId: String,
    val path: String,
    /** The field in plain words. */
    val label: String,
    val required: Boolean,
    /** Sensitive personal information: needs its own separate consent. */
    val sensitive: Boolean,
    val on: Boolean,
    /** For a sensitive field: the person gave the separate consent. */
    val separatelyConsented: Boolean,
)

/** Everything the review screen shows about a request. */
data class ReviewState(
    val request: String,
    val relyingParty: String,
    /** The registry trusts the relying party for this purpose. */
    val trusted: Boolean,
    val trustText: String,
    val purpose: String,
    val windowText: String,
    val maxUses: UInt,
    val usesText: String,
    val fields: List<FieldChoice>,
    /** The credential each query would be answered with. */
    val credentials: Map<String, String>,
    val sensitive: Boolean,
    val thirdParty: Boolean,
    val crossBorder: Boolean,
    val responseUri: String,
    val missing: List<String>,
) {
    /** Approval is possible: every required field on, every sensitive one consented separately. */
    val canApprove: Boolean
        get() = missing.isEmpty() && fields.filter { it.on }.all { !it.sensitive || it.separatelyConsented } &&
            fields.filter { it.required }.all { it.on }
}

/**
 * Review a relying party's request: who asks and whether the registry
 * trusts them, the purpose in plain words, a switch per field (sensitive
 * fields need their own consent), the window and the number of uses, the
 * PIPL flags; then approve after the biometric (the key store asks for it
 * when the authorisation is signed) or refuse.
 */
class ReviewModel(private val session: SatchelSession, private val spaceId: String, private val settings: DisplaySettings) {
    private val state = MutableStateFlow<ReviewState?>(null)
    val states: StateFlow<ReviewState?> = state.asStateFlow()
    private val lang get() = settings.language

    /**
     * Loads what was scanned (`openid4vp://…` or the request object itself),
     * judged against the server's registry as it is now.
     */
    suspend fun load(scanned: String): ReviewState {
        val request = fetchRequest(scanned, session.transport())
        val review = session.wallet.reviewRequest(spaceId, request, session.registry(refresh = true))
        return from(request, review).also { state.value = it }
    }

    private fun from(request: String, r: RequestReview): ReviewState {
        val fields = r.matches.flatMap { m ->
            m.required.map { field(m.queryId, it, true) } + m.optional.map { field(m.queryId, it, false) }
        }
        val credentials = r.matches.mapNotNull { m ->
            m.candidates.firstOrNull { it.missing.isEmpty() }?.let { m.queryId to it.credentialId }
        }.toMap()
        val missing = r.matches.filter { it.queryId !in credentials }.map { it.queryId }
        val trusted = r.trust == RpTrust.TRUSTED
        return ReviewState(
            request = request,
            relyingParty = r.rpName ?: r.controllerName,
            trusted = trusted,
            trustText = when (r.trust) {
                RpTrust.TRUSTED -> if (lang == Language.ZH) "已登记，可信" else "Registered and trusted"
                RpTrust.PURPOSE_NOT_ALLOWED -> if (lang == Language.ZH) "已登记，但未获准用于此目的" else "Registered, but not for this purpose"
                RpTrust.UNKNOWN -> if (lang == Language.ZH) "未登记，请谨慎" else "Not registered: be careful"
            },
            purpose = Words.purpose(r.purpose, lang),
            windowText = Words.window(r.notAfter, nowSeconds(), lang),
            maxUses = r.maxUses,
            usesText = if (lang == Language.ZH) "最多使用 ${r.maxUses} 次" else "At most ${r.maxUses} uses",
            fields = fields,
            credentials = credentials,
            sensitive = r.sensitive,
            thirdParty = r.thirdParty,
            crossBorder = r.crossBorder,
            responseUri = r.responseUri,
            missing = missing,
        )
    }

    private fun field(queryId: String, path: String, required: Boolean) = FieldChoice(
        queryId = queryId,
        path = path,
        label = Words.claim(path, lang),
        required = required,
        sensitive = Words.isSensitive(path),
        // Required fields start on; optional ones, and every sensitive one, start off.
        on = required && !Words.isSensitive(path),
        separatelyConsented = false,
    )

    /** Flips one field's switch. */
    fun toggle(path: String) = edit(path) { it.copy(on = !it.on) }

    /** The separate consent a sensitive field needs (PIPL art. 29). */
    fun consentSeparately(path: String) = edit(path) { it.copy(on = true, separatelyConsented = true) }

    private fun edit(path: String, f: (FieldChoice) -> FieldChoice) {
        val s = state.value ?: return
        state.value = s.copy(fields = s.fields.map { if (it.path == path) f(it) else it })
    }

    /**
     * Approves what is switched on (never more than asked), posts the
     * response to the relying party, and returns the approval. A relying
     * party the registry does not trust needs `acceptUntrusted`: the person
     * saw the warning and went on.
     */
    suspend fun approve(fewerUses: UInt? = null, acceptUntrusted: Boolean = false): Result<Approved> {
        val s = state.value ?: return Result.failure(IllegalStateException("nothing to review"))
        if (!s.canApprove) return Result.failure(IllegalStateException("switch on every required field and consent separately to sensitive ones"))
        val selections = s.fields.filter { it.on }.groupBy { it.queryId }.map { (query, fields) ->
            Selection(query, s.credentials.getValue(query), fields.map { it.path })
        }
        return try {
            val approved = session.wallet.approve(
                spaceId,
                s.request,
                session.registry(),
                ApprovalChoice(selections, fewerUses, null, acceptUntrusted),
            )
            postResponse(s.responseUri, approved.responseJson, session.transport())
            Result.success(approved)
        } catch (e: SatchelException) {
            Result.failure(e)
        }
    }

    /** Refuses: a signed refusal is kept in the consent log. */
    suspend fun refuse(): Result<Unit> {
        val s = state.value ?: return Result.failure(IllegalStateException("nothing to review"))
        return try {
            session.wallet.deny(spaceId, s.request, session.registry())
            Result.success(Unit)
        } catch (e: SatchelException) {
            Result.failure(e)
        }
    }
}

internal fun nowSeconds(): Long = System.currentTimeMillis() / 1000
