package app.satchel.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.selection.toggleable
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Lock
import androidx.compose.material.icons.filled.Public
import androidx.compose.material.icons.filled.Share
import androidx.compose.material.icons.filled.VerifiedUser
import androidx.compose.material.icons.filled.Warning
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.semantics.stateDescription
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.satchel.SatchelException
import app.satchel.demo.model.FieldChoice
import app.satchel.demo.model.Label
import app.satchel.demo.model.ReviewModel
import app.satchel.demo.model.ReviewState
import app.satchel.demo.model.SatchelSession
import kotlinx.coroutines.launch

private sealed interface Outcome {
    data object Reviewing : Outcome

    data object Working : Outcome

    data object Approved : Outcome

    data object Refused : Outcome

    data class Failed(val reason: String) : Outcome
}

/**
 * A relying party's request: who asks and whether the registry trusts
 * them, why, each field with its own switch (sensitive ones need their own
 * consent), how long and how many times, the PIPL flags. Approving signs
 * with the space key, so the biometric prompt comes up.
 */
@Composable
fun ReviewScreen(session: SatchelSession, spaceId: String, scanned: String, done: () -> Unit) {
    val display = LocalDisplay.current
    val model = remember(session, spaceId, display) { ReviewModel(session, spaceId, display) }
    val state by model.states.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var loadFailure by remember(scanned) { mutableStateOf<String?>(null) }
    var outcome by remember(scanned) { mutableStateOf<Outcome>(Outcome.Reviewing) }
    var acceptUntrusted by remember(scanned) { mutableStateOf(false) }
    LaunchedEffect(scanned) {
        loadFailure = try {
            model.load(scanned)
            null
        } catch (e: SatchelException) {
            e.reason()
        }
    }
    Screen(t(Label.REVIEW_TITLE), onBack = done) {
        val s = state
        when {
            loadFailure != null -> Failure(loadFailure.orEmpty())

            s == null -> Busy()

            outcome == Outcome.Approved -> Notice(t(Label.APPROVED))

            outcome == Outcome.Refused -> Notice(t(Label.REFUSED))

            else -> {
                Request(s, acceptUntrusted, onAcceptUntrusted = { acceptUntrusted = true }, model = model)
                (outcome as? Outcome.Failed)?.let { Failure(it.reason) }
                if (outcome == Outcome.Working) Busy()
                val ready = s.canApprove && (s.trusted || acceptUntrusted) && outcome != Outcome.Working
                PrimaryAction(t(Label.APPROVE), enabled = ready) {
                    scope.launch {
                        outcome = Outcome.Working
                        outcome = model.approve(acceptUntrusted = acceptUntrusted).fold(
                            onSuccess = { Outcome.Approved },
                            // Dismissing the biometric prompt just returns to the review.
                            onFailure = { if (it.isCancelled()) Outcome.Reviewing else Outcome.Failed(it.reason()) },
                        )
                    }
                }
                SecondaryAction(t(Label.REFUSE), always = true) {
                    scope.launch {
                        outcome = model.refuse().fold(onSuccess = { Outcome.Refused }, onFailure = { Outcome.Failed(it.reason()) })
                    }
                }
            }
        }
        if (loadFailure != null || outcome == Outcome.Approved || outcome == Outcome.Refused) PrimaryAction(t(Label.DONE), onClick = done)
    }
}

/** The person dismissed the biometric prompt. */
private fun Throwable.isCancelled() = this is SatchelException.Cancelled

@Composable
private fun Request(s: ReviewState, acceptUntrusted: Boolean, onAcceptUntrusted: () -> Unit, model: ReviewModel) {
    Text(t(Label.WHO_ASKS), style = MaterialTheme.typography.labelLarge)
    Text(s.relyingParty, style = MaterialTheme.typography.headlineSmall)
    IconLine(if (s.trusted) Icons.Filled.VerifiedUser else Icons.Filled.Warning, s.trustText, emphasis = !s.trusted)
    if (!s.trusted && !acceptUntrusted) {
        Text(t(Label.UNTRUSTED_WARNING), color = MaterialTheme.colorScheme.error)
        OutlinedButton(onClick = onAcceptUntrusted, modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget)) {
            Text(t(Label.CONTINUE_ANYWAY))
        }
    }
    Text(t(Label.PURPOSE), style = MaterialTheme.typography.labelLarge)
    Text(s.purpose, style = MaterialTheme.typography.titleMedium)
    Text(t(Label.PAIR, t(Label.WINDOW), s.windowText))
    Text(t(Label.PAIR, t(Label.USES), s.usesText))
    if (s.sensitive) IconLine(Icons.Filled.Lock, t(Label.SENSITIVE_REQUEST), emphasis = true)
    if (s.thirdParty) IconLine(Icons.Filled.Share, t(Label.THIRD_PARTY), emphasis = true)
    if (s.crossBorder) IconLine(Icons.Filled.Public, t(Label.CROSS_BORDER), emphasis = true)
    if (s.missing.isNotEmpty()) Failure(t(Label.MISSING))
    Text(t(Label.WHAT_IS_SHARED), style = MaterialTheme.typography.labelLarge)
    for (field in s.fields) FieldRow(field, model)
}

/** One field: its own switch; a sensitive field gets its own consent button first. */
@Composable
private fun FieldRow(field: FieldChoice, model: ReviewModel) {
    val state = if (field.on) t(Label.FIELD_ON) else t(Label.FIELD_OFF)
    val need = if (field.required) t(Label.REQUIRED) else t(Label.OPTIONAL)
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Row(
                verticalAlignment = Alignment.CenterVertically,
                modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget)
                    .toggleable(value = field.on, role = Role.Switch, onValueChange = { model.toggle(field.path) })
                    .semantics { stateDescription = state },
            ) {
                Column(Modifier.weight(1f)) {
                    Text(field.label, style = MaterialTheme.typography.titleMedium)
                    Text("$need · $state")
                }
                // The row is the control (a large target); the switch only shows its state.
                Switch(checked = field.on, onCheckedChange = null)
            }
            if (field.sensitive) {
                IconLine(Icons.Filled.Lock, t(Label.SENSITIVE))
                if (!field.separatelyConsented) {
                    OutlinedButton(
                        onClick = { model.consentSeparately(field.path) },
                        modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget),
                    ) { Text(t(Label.CONSENT_SEPARATELY)) }
                }
            }
        }
    }
}
