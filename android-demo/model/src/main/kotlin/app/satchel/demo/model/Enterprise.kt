package app.satchel.demo.model

import app.satchel.Credential
import app.satchel.Delegation
import app.satchel.DelegationScope
import app.satchel.Member
import app.satchel.MemberRole
import app.satchel.readHandOver
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** The enterprise screens: members, delegating an agent for a purpose and a period. */
class EnterpriseModel(private val session: SatchelSession, private val spaceId: String) {
    private val members = MutableStateFlow<List<Member>>(emptyList())
    val states: StateFlow<List<Member>> = members.asStateFlow()

    suspend fun refresh(): List<Member> = session.wallet.members(spaceId).also { members.value = it }

    /** Adds a member by the key of their own wallet's space (scanned from their app). */
    suspend fun addMember(name: String, role: MemberRole, jwk: String): Member = session.wallet.addMember(spaceId, name, role, jwk).also { refresh() }

    /**
     * Delegates presenting `types` of the company's licences to an agent,
     * for `purpose`, to `audience`, for `days` days from now.
     */
    suspend fun delegate(memberId: String, types: List<String>, purpose: String, audience: String, days: Long): Delegation {
        val now = nowSeconds()
        return session.wallet.delegate(spaceId, memberId, DelegationScope(types, listOf(purpose), listOf(audience), now, now + days * 86_400))
    }

    /**
     * What the agent's app takes in (by QR code or by sharing): the
     * delegation and the licence it covers, as one text (Satchel's format,
     * the same in both apps).
     */
    suspend fun handOver(delegation: Delegation, licenceId: String): String =
        app.satchel.handOver(delegation.token, session.wallet.credentialToken(licenceId))

    /** Revokes a delegation and publishes it. */
    suspend fun revoke(delegationId: String) {
        session.wallet.revokeDelegation(delegationId)
        session.wallet.publishStatusList(spaceId, session.server)
    }
}

/** The agent's side: hold the company's licence under a delegation, then present it (through [ReviewModel]). */
class AgentModel(private val session: SatchelSession, private val spaceId: String) {
    /** Stores the licence the company shared, verified with its issuer's registered keys. */
    suspend fun hold(licence: String, delegationToken: String): Credential =
        session.wallet.importDelegatedCredentialFrom(spaceId, licence, delegationToken, session.registry())

    /** Stores what the company handed over (scanned or pasted); checked as [hold] checks it. */
    suspend fun hold(handOver: String): Credential {
        val parts = readHandOver(handOver)
        return hold(parts.licence, parts.delegation)
    }
}
