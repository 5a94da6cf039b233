package app.satchel.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Block
import androidx.compose.material.icons.filled.CheckCircle
import androidx.compose.material.icons.filled.Schedule
import androidx.compose.material.icons.filled.Warning
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.clearAndSetSemantics
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.satchel.CredentialStatus
import app.satchel.demo.model.CardView
import app.satchel.demo.model.Label
import app.satchel.demo.model.SatchelSession
import app.satchel.demo.model.WalletModel
import java.text.DateFormat
import java.util.Date
import kotlinx.coroutines.launch

/** The wallet: a card per credential; scan an offer to receive one, or a request to answer it. */
@Composable
fun WalletScreen(session: SatchelSession, spaceId: String, scan: (ScanPurpose) -> Unit, trace: (String) -> Unit) {
    val display = LocalDisplay.current
    val model = remember(session, spaceId, display) { WalletModel(session, spaceId, display) }
    val cards by model.states.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var renaming by remember { mutableStateOf<CardView?>(null) }
    LaunchedEffect(model) {
        model.refresh()
        model.follow(this)
    }
    Screen(t(Label.TAB_WALLET)) {
        PrimaryAction(t(Label.SCAN_OFFER)) { scan(ScanPurpose.OFFER) }
        SecondaryAction(t(Label.SCAN_REQUEST), always = true) { scan(ScanPurpose.REQUEST) }
        if (cards.isEmpty()) Text(t(Label.WALLET_EMPTY))
        for (card in cards) {
            CredentialCard(card, trace = { trace(card.id) }, rename = { renaming = card })
        }
    }
    renaming?.let { card ->
        var text by remember(card.id) { mutableStateOf(card.label.orEmpty()) }
        AlertDialog(
            onDismissRequest = { renaming = null },
            title = { Text(t(Label.RENAME)) },
            text = {
                OutlinedTextField(value = text, onValueChange = { text = it }, label = { Text(t(Label.LABEL_HINT)) }, singleLine = true)
            },
            confirmButton = {
                TextButton(onClick = {
                    scope.launch { model.label(card.id, text) }
                    renaming = null
                }) { Text(t(Label.SAVE)) }
            },
            dismissButton = { TextButton(onClick = { renaming = null }) { Text(t(Label.CANCEL)) } },
        )
    }
}

/** One card: the type, the person's own name for it, issuer, status in words and icon, expiry. */
@Composable
private fun CredentialCard(card: CardView, trace: () -> Unit, rename: () -> Unit) {
    val lang = LocalDisplay.current.language
    val expiry = card.expiresAt?.let { t(Label.EXPIRES, DateFormat.getDateInstance().format(Date(it * 1000))) } ?: t(Label.NO_EXPIRY)
    Card(modifier = Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
            // TalkBack reads the card as one sentence rather than five fragments.
            Column(Modifier.clearAndSetSemantics { contentDescription = "${card.accessibilityLabel(lang)}, $expiry" }) {
                Text(card.label ?: card.title, style = MaterialTheme.typography.titleLarge)
                if (card.label != null) Text(card.title)
                Text(t(Label.ISSUED_BY, card.issuer))
                IconLine(statusIcon(card.status), card.statusText, emphasis = card.status != CredentialStatus.VALID)
                Text(expiry)
            }
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                TextButton(onClick = trace) { Text(t(Label.TRACE)) }
                if (!LocalDisplay.current.oneActionPerScreen) TextButton(onClick = rename) { Text(t(Label.RENAME)) }
            }
        }
    }
}

/** The status's icon: the shape says it as well as the words. */
fun statusIcon(status: CredentialStatus) = when (status) {
    CredentialStatus.VALID -> Icons.Filled.CheckCircle
    CredentialStatus.EXPIRED -> Icons.Filled.Schedule
    CredentialStatus.NOT_YET_VALID -> Icons.Filled.Schedule
    CredentialStatus.REVOKED -> Icons.Filled.Block
}

/** Receiving the credential behind an offer (scanned or opened as a link). */
@Composable
fun ReceiveScreen(session: SatchelSession, spaceId: String, offer: String, done: () -> Unit) {
    val display = LocalDisplay.current
    val model = remember(session, spaceId, display) { WalletModel(session, spaceId, display) }
    var result by remember(offer) { mutableStateOf<Result<CardView>?>(null) }
    LaunchedEffect(offer) { result = model.receive(offer) }
    Screen(t(Label.SCAN_OFFER), onBack = done) {
        when (val r = result) {
            null -> Busy()

            else -> r.fold(
                onSuccess = { Notice(t(Label.RECEIVED, it.title)) },
                onFailure = {
                    IconLine(Icons.Filled.Warning, t(Label.FAILED, it.reason()))
                },
            )
        }
        if (result != null) PrimaryAction(t(Label.DONE), onClick = done)
    }
}

/** The camera screen for any purpose; `scanned` gets the code's text. */
@Composable
fun ScanScreen(purpose: ScanPurpose, onBack: () -> Unit, scanned: (String) -> Unit) {
    val title = when (purpose) {
        ScanPurpose.OFFER -> Label.SCAN_OFFER
        ScanPurpose.REQUEST -> Label.SCAN_REQUEST
        ScanPurpose.ENROL -> Label.DEVICE_SCAN_NEW
        ScanPurpose.MEMBER -> Label.MEMBER_KEY
        ScanPurpose.DELEGATION -> Label.HOLD_LICENCE
    }
    Screen(t(title), onBack = onBack) { app.satchel.demo.scan.QrScanner(scanned) }
}
