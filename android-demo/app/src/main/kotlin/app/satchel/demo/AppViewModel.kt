package app.satchel.demo

import android.app.Application
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import app.satchel.SatchelException
import app.satchel.Space
import app.satchel.demo.model.DisplaySettings
import app.satchel.demo.model.SatchelSession
import app.satchel.demo.sync.SyncWorker
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

/** The app's state across screens: the session, the spaces, the settings, a link to open. */
class AppViewModel(app: Application) : AndroidViewModel(app) {
    val container = (app as SatchelApp).container

    sealed interface Start {
        data object Loading : Start

        data class Failed(val reason: String) : Start

        /** The wallet holds no space yet: onboarding. */
        data class Empty(val session: SatchelSession) : Start

        /** `current` is the space the wallet, consent and log screens show. */
        data class Ready(val session: SatchelSession, val spaces: List<Space>, val current: Space) : Start
    }

    private val start = MutableStateFlow<Start>(Start.Loading)
    val starts: StateFlow<Start> = start.asStateFlow()
    private val display = MutableStateFlow(container.preferences.display)
    val displays: StateFlow<DisplaySettings> = display.asStateFlow()
    private val link = MutableStateFlow<String?>(null)

    /** A link the system opened the app with, until a screen takes it. */
    val links: StateFlow<String?> = link.asStateFlow()

    init {
        reload()
    }

    /** Opens the session and reads the spaces again (after onboarding, joining, importing). */
    fun reload(select: String? = null) {
        viewModelScope.launch {
            start.value = try {
                val session = container.session()
                val spaces = session.wallet.spaces()
                val previous = (start.value as? Start.Ready)?.current?.id
                val current = spaces.firstOrNull { it.id == (select ?: previous) } ?: spaces.firstOrNull()
                if (current == null) Start.Empty(session) else Start.Ready(session, spaces, current)
            } catch (e: SatchelException) {
                Start.Failed(e.message ?: e.javaClass.simpleName)
            }
        }
    }

    fun select(space: Space) {
        val s = start.value as? Start.Ready ?: return
        start.value = s.copy(current = space)
    }

    fun setDisplay(settings: DisplaySettings) {
        container.preferences.display = settings
        display.value = settings
    }

    fun switchServer(url: String) {
        viewModelScope.launch {
            start.value = Start.Loading
            container.switchServer(url)
            reload()
        }
    }

    fun open(uri: String) {
        link.value = uri
    }

    /** Takes the pending link (once). */
    fun takeLink(): String? = link.value.also { link.value = null }

    /** Something changed on this device: sync soon, in the background. */
    fun changed() = SyncWorker.now(getApplication())
}
