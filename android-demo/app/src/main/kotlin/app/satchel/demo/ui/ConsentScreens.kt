package app.satchel.demo.ui

import android.content.Intent
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Anchor
import androidx.compose.material.icons.filled.Block
import androidx.compose.material.icons.filled.CheckCircle
import androidx.compose.material.icons.filled.Error
import androidx.compose.material.icons.filled.Schedule
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.satchel.AuthorizationState
import app.satchel.SatchelException
import app.satchel.demo.model.AuthorizationsModel
import app.satchel.demo.model.ConsentLogModel
import app.satchel.demo.model.Label
import app.satchel.demo.model.SatchelSession
import app.satchel.demo.model.TimelineEntry
import app.satchel.demo.model.TraceModel
import java.text.DateFormat
import java.util.Date
import kotlinx.coroutines.launch

/** Authorisations: active, used n of m, withdrawn; withdraw in one tap. */
@Composable
fun AuthorizationsScreen(session: SatchelSession, spaceId: String, changed: () -> Unit) {
    val display = LocalDisplay.current
    val model = remember(session, spaceId, display) { AuthorizationsModel(session, spaceId, display) }
    val list by model.states.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var message by remember { mutableStateOf<String?>(null) }
    var failure by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(model) { model.refresh() }
    Screen(t(Label.TAB_AUTHORIZATIONS)) {
        message?.let { Notice(it) }
        failure?.let { Failure(it) }
        if (list.isEmpty()) Text(t(Label.AUTHORIZATIONS_EMPTY))
        for (a in list) {
            Card(Modifier.fillMaxWidth()) {
                Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
                    Text(a.relyingParty, style = MaterialTheme.typography.titleLarge)
                    Text(a.purpose)
                    val icon = when (a.state) {
                        AuthorizationState.ACTIVE -> Icons.Filled.CheckCircle
                        AuthorizationState.WITHDRAWN -> Icons.Filled.Block
                        AuthorizationState.EXPIRED -> Icons.Filled.Schedule
                    }
                    IconLine(icon, a.stateText, emphasis = a.state == AuthorizationState.ACTIVE)
                    Text(a.usesText)
                    if (a.state == AuthorizationState.ACTIVE) {
                        val description = t(Label.WITHDRAW_DESCRIPTION, a.relyingParty)
                        OutlinedButton(
                            onClick = {
                                scope.launch {
                                    model.withdraw(a.id).fold(
                                        onSuccess = {
                                            message = Label.WITHDRAWN.text(display.language)
                                            failure = null
                                            changed()
                                        },
                                        onFailure = { failure = it.reason() },
                                    )
                                }
                            },
                            modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget).semantics { contentDescription = description },
                        ) { Text(t(Label.WITHDRAW)) }
                    }
                }
            }
        }
    }
}

/** "Where did my data go": the provenance timeline of one credential, and the record to share. */
@Composable
fun TraceScreen(session: SatchelSession, credentialId: String, onBack: () -> Unit) {
    val display = LocalDisplay.current
    val model = remember(session, display) { TraceModel(session, display) }
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var entries by remember { mutableStateOf<List<TimelineEntry>?>(null) }
    var failure by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(credentialId) {
        try {
            entries = model.timeline(credentialId)
        } catch (e: SatchelException) {
            failure = e.reason()
        }
    }
    Screen(t(Label.TRACE_TITLE), onBack = onBack) {
        failure?.let { Failure(it) }
        val list = entries
        when {
            list == null && failure == null -> Busy()
            list != null && list.size <= 1 -> Text(t(Label.TRACE_EMPTY))
        }
        for (e in list.orEmpty()) {
            Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
                Text(DateFormat.getDateTimeInstance().format(Date(e.time * 1000)), style = MaterialTheme.typography.labelLarge)
                Text(e.what, style = MaterialTheme.typography.titleMedium)
                if (e.who.isNotEmpty()) Text(t(Label.TRACE_BY, e.who.joinToString("、")))
            }
        }
        if (!list.isNullOrEmpty()) {
            SecondaryAction(t(Label.TRACE_SHARE)) {
                scope.launch {
                    val json = model.provJson(credentialId)
                    val send = Intent(Intent.ACTION_SEND).setType("application/json").putExtra(Intent.EXTRA_TEXT, json)
                    context.startActivity(Intent.createChooser(send, null))
                }
            }
        }
    }
}

/** The consent log: verified here, with the latest checkpoint it is anchored in. */
@Composable
fun ConsentLogScreen(session: SatchelSession, spaceId: String, logKey: suspend () -> String) {
    val model = remember(session, spaceId) { ConsentLogModel(session, spaceId) }
    val view by model.states.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var busy by remember { mutableStateOf(false) }
    var failure by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(model) {
        // Verified here at once; the anchors are checked too when the server answers.
        model.verify()
        try {
            model.load(logKey())
        } catch (e: SatchelException) {
            failure = e.reason()
        }
    }
    Screen(t(Label.TAB_LOG)) {
        val v = view
        when {
            v == null -> Busy()
            v.verified -> IconLine(Icons.Filled.CheckCircle, t(Label.LOG_VERIFIED, v.records.toInt()), emphasis = true)
            else -> IconLine(Icons.Filled.Error, t(Label.LOG_BROKEN), emphasis = true)
        }
        val anchored = v?.anchoredRecords
        val size = v?.checkpointSize
        if (anchored != null && size != null) {
            IconLine(Icons.Filled.Anchor, t(Label.LOG_ANCHORED, anchored.toInt(), size.toLong()))
        } else if (v != null) {
            Text(t(Label.LOG_NOT_ANCHORED))
        }
        failure?.let { Failure(it) }
        if (busy) Busy()
        PrimaryAction(t(Label.LOG_ANCHOR), enabled = !busy) {
            scope.launch {
                busy = true
                failure = try {
                    model.anchor(logKey())
                    null
                } catch (e: SatchelException) {
                    e.reason()
                }
                busy = false
            }
        }
        SecondaryAction(t(Label.LOG_VERIFY)) { scope.launch { model.verify() } }
    }
}
