package app.satchel.demo.ui

import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.foundation.selection.toggleable
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Memory
import androidx.compose.material.icons.filled.Warning
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.text.input.KeyboardType
import app.satchel.KeyStoreException
import app.satchel.SpaceKind
import app.satchel.demo.AppViewModel
import app.satchel.demo.model.Label
import app.satchel.demo.model.Language
import app.satchel.demo.model.SatchelSession

/**
 * Settings: the language, the elder mode, which space the wallet shows,
 * the server, and whether this device keeps its keys in secure hardware.
 * Every control is shown in elder mode too: settings are where it is
 * turned off again.
 */
@Composable
fun SettingsScreen(app: AppViewModel, ready: AppViewModel.Start.Ready) {
    val display = LocalDisplay.current
    var server by remember { mutableStateOf(app.container.preferences.serverUrl) }
    var hardware by remember { mutableStateOf<Boolean?>(null) }
    LaunchedEffect(Unit) {
        // The device key exists once the session is open.
        hardware = try {
            app.container.keyStore.isHardwareBacked(SatchelSession.DEVICE_KEY_ALIAS)
        } catch (e: KeyStoreException) {
            null
        }
    }
    Screen(t(Label.TAB_SETTINGS)) {
        Text(t(Label.SETTINGS_LANGUAGE), style = MaterialTheme.typography.titleMedium)
        Column(Modifier.selectableGroup()) {
            for ((lang, name) in listOf(Language.ZH to "中文", Language.EN to "English")) {
                Choice(name, selected = display.language == lang) { app.setDisplay(display.copy(language = lang)) }
            }
        }
        Row(
            verticalAlignment = Alignment.CenterVertically,
            modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget)
                .toggleable(value = display.elderMode, role = Role.Switch) { app.setDisplay(display.copy(elderMode = it)) },
        ) {
            Text(t(Label.SETTINGS_ELDER), modifier = Modifier.weight(1f))
            Switch(checked = display.elderMode, onCheckedChange = null)
        }
        if (ready.spaces.size > 1) {
            Text(t(Label.TAB_WALLET), style = MaterialTheme.typography.titleMedium)
            Column(Modifier.selectableGroup()) {
                for (space in ready.spaces) {
                    val kind = if (space.kind == SpaceKind.ENTERPRISE) t(Label.SPACE_ENTERPRISE) else t(Label.SPACE_PERSONAL)
                    Choice("${space.name} · $kind", selected = space.id == ready.current.id) { app.select(space) }
                }
            }
        }
        when (hardware) {
            true -> IconLine(Icons.Filled.Memory, t(Label.SETTINGS_HARDWARE))
            false -> IconLine(Icons.Filled.Warning, t(Label.SETTINGS_SOFTWARE))
            null -> Unit
        }
        OutlinedTextField(
            value = server,
            onValueChange = { server = it.trim() },
            label = { Text(t(Label.SETTINGS_SERVER)) },
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Uri),
            singleLine = true,
            modifier = Modifier.fillMaxWidth(),
        )
        if (server != app.container.preferences.serverUrl) {
            PrimaryAction(t(Label.SAVE), enabled = server.startsWith("https://") || server.startsWith("http://")) { app.switchServer(server) }
        }
    }
}
