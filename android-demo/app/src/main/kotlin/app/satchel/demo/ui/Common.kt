package app.satchel.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ColumnScope
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material.icons.filled.Error
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.vector.ImageVector
import androidx.compose.ui.semantics.LiveRegionMode
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.liveRegion
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import app.satchel.SatchelException
import app.satchel.demo.model.Label

/** A screen: a title (a heading for TalkBack), an optional back arrow, scrolling content. */
@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun Screen(title: String, onBack: (() -> Unit)? = null, scroll: Boolean = true, content: @Composable ColumnScope.() -> Unit) {
    Scaffold(
        topBar = {
            TopAppBar(
                title = { Text(title, modifier = Modifier.semantics { heading() }) },
                navigationIcon = {
                    if (onBack != null) {
                        IconButton(onClick = onBack) { Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = t(Label.BACK)) }
                    }
                },
            )
        },
    ) { padding ->
        val base = Modifier.fillMaxSize().padding(padding).padding(horizontal = 16.dp)
        Column(
            modifier = if (scroll) base.verticalScroll(rememberScrollState()) else base,
            verticalArrangement = Arrangement.spacedBy(12.dp),
            content = content,
        )
    }
}

/** The one main thing to do on a screen. */
@Composable
fun PrimaryAction(text: String, enabled: Boolean = true, onClick: () -> Unit) {
    Button(onClick = onClick, enabled = enabled, modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget)) { Text(text) }
}

/** Another thing to do; hidden in elder mode, which keeps one action per screen. */
@Composable
fun SecondaryAction(text: String, always: Boolean = false, onClick: () -> Unit) {
    if (!always && LocalDisplay.current.oneActionPerScreen) return
    OutlinedButton(onClick = onClick, modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget)) { Text(text) }
}

/** A line with an icon that repeats what the text says (never meaning by colour alone). */
@Composable
fun IconLine(icon: ImageVector, text: String, emphasis: Boolean = false) {
    Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        Icon(icon, contentDescription = null)
        Text(text, style = if (emphasis) MaterialTheme.typography.titleMedium else MaterialTheme.typography.bodyLarge)
    }
}

/** One option of a radio group: the whole row is the control (a large target). */
@Composable
fun Choice(text: String, selected: Boolean, onClick: () -> Unit) {
    Row(
        verticalAlignment = Alignment.CenterVertically,
        modifier = Modifier.fillMaxWidth().heightIn(min = touchTarget).selectable(selected = selected, role = Role.RadioButton, onClick = onClick),
    ) {
        RadioButton(selected = selected, onClick = null)
        Text(text)
    }
}

/** The passphrase of an export file, hidden as it is typed. */
@Composable
fun PassphraseField(value: String, onChange: (String) -> Unit) {
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(t(Label.PASSPHRASE)) },
        visualTransformation = PasswordVisualTransformation(),
        keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password),
        singleLine = true,
        modifier = Modifier.fillMaxWidth(),
    )
}

/** A failure in words, announced by TalkBack as it appears. */
@Composable
fun Failure(reason: String) {
    Row(
        modifier = Modifier.semantics { liveRegion = LiveRegionMode.Polite },
        verticalAlignment = Alignment.CenterVertically,
        horizontalArrangement = Arrangement.spacedBy(8.dp),
    ) {
        Icon(Icons.Filled.Error, contentDescription = null, tint = MaterialTheme.colorScheme.error)
        Text(t(Label.FAILED, reason), color = MaterialTheme.colorScheme.error)
    }
}

/** Work in progress, with words for TalkBack. */
@Composable
fun Busy() {
    val words = t(Label.WORKING)
    CircularProgressIndicator(modifier = Modifier.semantics { contentDescription = words })
}

/** A success message, announced as it appears. */
@Composable
fun Notice(text: String) {
    Text(
        text,
        style = MaterialTheme.typography.titleMedium,
        modifier = Modifier.semantics { liveRegion = LiveRegionMode.Polite },
    )
}

/** Readable words for a failure: Satchel's message, never a stack trace. */
fun Throwable.reason(): String = when (this) {
    is SatchelException -> message?.takeIf { it.isNotBlank() } ?: javaClass.simpleName
    else -> message ?: javaClass.simpleName
}
