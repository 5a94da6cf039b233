package app.satchel.demo

import android.content.Intent
import android.os.Bundle
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.viewModels
import androidx.compose.runtime.getValue
import androidx.fragment.app.FragmentActivity
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.satchel.demo.ui.SatchelNavigation
import app.satchel.demo.ui.SatchelTheme

/**
 * The only activity. A `FragmentActivity` because BiometricPrompt needs one;
 * it opens `openid-credential-offer://` and `openid4vp://` links.
 */
class MainActivity : FragmentActivity() {
    private val app: AppViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        if (savedInstanceState == null) handle(intent)
        setContent {
            val display by app.displays.collectAsStateWithLifecycle()
            SatchelTheme(display) { SatchelNavigation(app) }
        }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        handle(intent)
    }

    override fun onResume() {
        super.onResume()
        app.container.gate.attach(this)
    }

    override fun onPause() {
        app.container.gate.attach(null)
        super.onPause()
    }

    private fun handle(intent: Intent?) {
        val uri = intent?.takeIf { it.action == Intent.ACTION_VIEW }?.dataString ?: return
        app.open(uri)
    }
}
