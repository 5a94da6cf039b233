package app.satchel.demo.ui

import android.net.Uri
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.satchel.SatchelException
import app.satchel.SpaceKind
import app.satchel.demo.model.DevicesModel
import app.satchel.demo.model.ExportModel
import app.satchel.demo.model.Label
import app.satchel.demo.model.OnboardingModel
import app.satchel.demo.model.SatchelSession
import app.satchel.demo.scan.QrCode
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

private enum class Way { CREATE, JOIN, IMPORT }

/**
 * Onboarding: create a personal or an enterprise space, join one from
 * another device, or import an exported space. `ready` gets the new space's id.
 */
@Composable
fun OnboardingScreen(session: SatchelSession, kind: SpaceKind, onBack: (() -> Unit)?, ready: (String) -> Unit) {
    var way by rememberSaveable { mutableStateOf(Way.CREATE) }
    val back = if (way == Way.CREATE) onBack else ({ way = Way.CREATE })
    Screen(t(Label.ONBOARDING_TITLE), onBack = back) {
        when (way) {
            Way.CREATE -> {
                CreateSpace(session, kind, ready)
                SecondaryAction(t(Label.JOIN_FROM_DEVICE)) { way = Way.JOIN }
                SecondaryAction(t(Label.IMPORT_SPACE)) { way = Way.IMPORT }
            }

            Way.JOIN -> JoinFromDevice(session, ready)

            Way.IMPORT -> ImportSpace(session, ready)
        }
    }
}

@Composable
private fun CreateSpace(session: SatchelSession, initial: SpaceKind, ready: (String) -> Unit) {
    val model = remember(session) { OnboardingModel(session) }
    val state by model.states.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var name by rememberSaveable { mutableStateOf("") }
    var kind by rememberSaveable { mutableStateOf(initial) }
    OutlinedTextField(
        value = name,
        onValueChange = { name = it },
        label = { Text(t(Label.ONBOARDING_NAME)) },
        singleLine = true,
        modifier = Modifier.fillMaxWidth(),
    )
    androidx.compose.foundation.layout.Column(Modifier.selectableGroup()) {
        for ((option, label) in listOf(SpaceKind.PERSONAL to Label.SPACE_PERSONAL, SpaceKind.ENTERPRISE to Label.SPACE_ENTERPRISE)) {
            Choice(t(label), selected = kind == option) { kind = option }
        }
    }
    when (val s = state) {
        OnboardingModel.State.Creating -> Busy()
        is OnboardingModel.State.Failed -> Failure(if (s.reason == "name") t(Label.ONBOARDING_NAME_MISSING) else s.reason)
        is OnboardingModel.State.Ready -> ready(s.space.id)
        OnboardingModel.State.Empty -> Unit
    }
    PrimaryAction(t(Label.CREATE), enabled = state != OnboardingModel.State.Creating) {
        scope.launch { model.create(name, kind) }
    }
}

/** The new device's side of enrolment: show the QR, compare the code, join. */
@Composable
private fun JoinFromDevice(session: SatchelSession, ready: (String) -> Unit) {
    val model = remember(session) { DevicesModel(session) }
    val state by model.enrolments.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    when (val s = state) {
        DevicesModel.Enrolment.Idle -> {
            Text(t(Label.DEVICE_SHOW_QR))
            PrimaryAction(t(Label.NEXT)) { scope.launch { model.request() } }
        }

        is DevicesModel.Enrolment.Showing -> {
            Text(t(Label.DEVICE_SHOW_QR))
            QrCode(s.uri, t(Label.DEVICE_SHOW_QR))
            PrimaryAction(t(Label.DEVICE_CHECK)) { scope.launch { model.check() } }
        }

        is DevicesModel.Enrolment.Compare -> {
            Notice(s.spaceName)
            Text(t(Label.DEVICE_CODE, s.code.chunked(3).joinToString(" ")), style = androidx.compose.material3.MaterialTheme.typography.displaySmall)
            Text(t(Label.DEVICE_COMPARE))
            PrimaryAction(t(Label.DEVICE_MATCH)) { scope.launch { model.confirm(s.code) } }
            SecondaryAction(t(Label.DEVICE_NO_MATCH), always = true) { scope.launch { model.request() } }
        }

        is DevicesModel.Enrolment.Joined -> {
            Notice(t(Label.DEVICE_JOINED))
            PrimaryAction(t(Label.DONE)) { ready(s.spaceId) }
        }

        is DevicesModel.Enrolment.Failed -> {
            Failure(s.reason)
            PrimaryAction(t(Label.RETRY)) { scope.launch { model.request() } }
        }

        is DevicesModel.Enrolment.Approved -> Unit
    }
}

/** Import an exported space: pick the file, give its passphrase. */
@Composable
private fun ImportSpace(session: SatchelSession, ready: (String) -> Unit) {
    val model = remember(session) { ExportModel(session) }
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var file by remember { mutableStateOf<Uri?>(null) }
    var passphrase by remember { mutableStateOf("") }
    var failure by remember { mutableStateOf<String?>(null) }
    var busy by remember { mutableStateOf(false) }
    val pick = rememberLauncherForActivityResult(ActivityResultContracts.OpenDocument()) { file = it }
    Text(t(Label.EXPORT_EXPLAIN))
    if (file == null) {
        PrimaryAction(t(Label.IMPORT_SPACE)) { pick.launch(arrayOf("*/*")) }
        return
    }
    PassphraseField(passphrase) { passphrase = it }
    failure?.let { Failure(it) }
    if (busy) Busy()
    PrimaryAction(t(Label.IMPORT_SPACE), enabled = !busy && passphrase.isNotEmpty()) {
        val uri = file ?: return@PrimaryAction
        scope.launch {
            busy = true
            failure = try {
                val input = withContext(Dispatchers.IO) { context.contentResolver.openInputStream(uri) }
                    ?: throw java.io.FileNotFoundException()
                val report = input.use { model.import(it, passphrase) }
                ready(report.space.id)
                null
            } catch (e: SatchelException) {
                e.reason()
            } catch (e: java.io.IOException) {
                e.reason()
            }
            busy = false
        }
    }
}
