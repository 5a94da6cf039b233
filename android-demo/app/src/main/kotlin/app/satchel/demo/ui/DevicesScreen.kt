package app.satchel.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.PhoneAndroid
import androidx.compose.material3.Card
import androidx.compose.material3.LinearProgressIndicator
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
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.satchel.DeviceInfo
import app.satchel.SatchelException
import app.satchel.Space
import app.satchel.demo.model.DevicesModel
import app.satchel.demo.model.ExportModel
import app.satchel.demo.model.Label
import app.satchel.demo.model.SatchelSession
import kotlinx.coroutines.launch

/**
 * Devices: this space's devices, remove a lost one, add a new one (scan
 * its QR, show the code to compare), sync now; and the way to export.
 * `scanned` is an enrolment QR the scanner brought back; `consumed` clears it.
 */
@Composable
fun DevicesScreen(session: SatchelSession, space: Space, scanned: String?, consumed: () -> Unit, scan: () -> Unit, export: () -> Unit) {
    val model = remember(session) { DevicesModel(session) }
    val enrolment by model.enrolments.collectAsStateWithLifecycle()
    val progress by model.syncProgress.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var devices by remember { mutableStateOf<List<DeviceInfo>>(emptyList()) }
    var message by remember { mutableStateOf<String?>(null) }
    var failure by remember { mutableStateOf<String?>(null) }
    var syncing by remember { mutableStateOf(false) }
    val lang = LocalDisplay.current.language
    suspend fun attempt(work: suspend () -> String?) {
        try {
            message = work()
            failure = null
        } catch (e: SatchelException) {
            failure = e.reason()
        }
    }
    LaunchedEffect(space.id) {
        attempt {
            devices = model.list(space.id)
            null
        }
    }
    LaunchedEffect(scanned) {
        val uri = scanned ?: return@LaunchedEffect
        consumed()
        model.approve(space.id, uri)
    }
    Screen(t(Label.DEVICES_TITLE)) {
        message?.let { Notice(it) }
        failure?.let { Failure(it) }
        when (val e = enrolment) {
            is DevicesModel.Enrolment.Approved -> {
                Text(t(Label.DEVICE_COMPARE))
                Text(t(Label.DEVICE_CODE, e.code.chunked(3).joinToString(" ")), style = MaterialTheme.typography.displaySmall)
            }

            is DevicesModel.Enrolment.Failed -> Failure(e.reason)

            else -> Unit
        }
        PrimaryAction(t(Label.DEVICE_ADD), onClick = scan)
        for (device in devices.filter { it.removedAt == null }) {
            DeviceCard(device) {
                scope.launch {
                    attempt {
                        model.remove(space.id, device.deviceId)
                        devices = model.list(space.id)
                        Label.DEVICE_REMOVED.text(lang)
                    }
                }
            }
        }
        val p = progress
        if (syncing && p != null && p.toPush > 0u) {
            val description = t(Label.SYNC_PROGRESS, p.pushed.toLong(), p.toPush.toLong())
            LinearProgressIndicator(
                progress = { p.pushed.toFloat() / p.toPush.toFloat() },
                modifier = Modifier.fillMaxWidth().semantics { contentDescription = description },
            )
        } else if (syncing) {
            Busy()
        }
        SecondaryAction(t(Label.SYNC_NOW)) {
            scope.launch {
                syncing = true
                attempt {
                    val report = model.sync(space.id)
                    Label.SYNCED.text(lang, report.pushed.toLong(), report.pulled.toLong())
                }
                syncing = false
            }
        }
        SecondaryAction(t(Label.EXPORT_TITLE), onClick = export)
    }
}

@Composable
private fun DeviceCard(device: DeviceInfo, remove: () -> Unit) {
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
            IconLine(Icons.Filled.PhoneAndroid, device.deviceId, emphasis = device.thisDevice)
            if (device.thisDevice) {
                Text(t(Label.DEVICE_THIS))
            } else {
                val description = t(Label.DEVICE_REMOVE_DESCRIPTION, device.deviceId)
                OutlinedButton(
                    onClick = remove,
                    modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget).semantics { contentDescription = description },
                ) { Text(t(Label.DEVICE_REMOVE)) }
            }
        }
    }
}

/** Export the space as one sealed, signed file, saved where the person chooses. */
@Composable
fun ExportScreen(session: SatchelSession, space: Space, onBack: () -> Unit) {
    val model = remember(session) { ExportModel(session) }
    val context = androidx.compose.ui.platform.LocalContext.current
    val scope = rememberCoroutineScope()
    var passphrase by remember { mutableStateOf("") }
    var exported by remember { mutableStateOf<ByteArray?>(null) }
    var message by remember { mutableStateOf<String?>(null) }
    var failure by remember { mutableStateOf<String?>(null) }
    val lang = LocalDisplay.current.language
    val save = androidx.activity.compose.rememberLauncherForActivityResult(
        androidx.activity.result.contract.ActivityResultContracts.CreateDocument("application/octet-stream"),
    ) { uri ->
        val bytes = exported ?: return@rememberLauncherForActivityResult
        if (uri == null) return@rememberLauncherForActivityResult
        scope.launch {
            failure = try {
                kotlinx.coroutines.withContext(kotlinx.coroutines.Dispatchers.IO) {
                    context.contentResolver.openOutputStream(uri)?.use { it.write(bytes) } ?: throw java.io.FileNotFoundException()
                }
                message = Label.EXPORTED.text(lang, bytes.size)
                null
            } catch (e: java.io.IOException) {
                e.reason()
            }
        }
    }
    Screen(t(Label.EXPORT_TITLE), onBack = onBack) {
        Text(t(Label.EXPORT_EXPLAIN))
        PassphraseField(passphrase) { passphrase = it }
        message?.let { Notice(it) }
        failure?.let { Failure(it) }
        PrimaryAction(t(Label.EXPORT), enabled = passphrase.isNotEmpty()) {
            scope.launch {
                failure = try {
                    exported = model.export(space.id, passphrase)
                    save.launch("${space.name}.satchel")
                    null
                } catch (e: SatchelException) {
                    e.reason()
                }
            }
        }
    }
}
