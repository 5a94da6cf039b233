package app.satchel.demo.model

import app.satchel.SatchelException
import app.satchel.Space
import app.satchel.SpaceKind
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** Onboarding: create a personal or an enterprise space and register it. */
class OnboardingModel(private val session: SatchelSession) {
    /** What the screen shows. */
    sealed interface State {
        /** Nothing yet: ask for a name and a kind. */
        data object Empty : State

        /** Working. */
        data object Creating : State

        /** Done. */
        data class Ready(val space: Space) : State

        /** Failed, with a readable reason; the person may try again. */
        data class Failed(val reason: String) : State
    }

    private val state = MutableStateFlow<State>(State.Empty)
    val states: StateFlow<State> = state.asStateFlow()

    /** Creates the space, registers it with the server, and publishes there. */
    suspend fun create(name: String, kind: SpaceKind): State {
        if (name.isBlank()) return State.Failed("name").also { state.value = it }
        state.value = State.Creating
        state.value = try {
            val space = session.wallet.createSpace(name.trim(), kind)
            session.wallet.setStatusBase("${session.serverUrl}/status")
            session.server.registerSpace(session.wallet, space.id)
            State.Ready(space)
        } catch (e: SatchelException) {
            State.Failed(e.message ?: e.toString())
        }
        return state.value
    }
}
