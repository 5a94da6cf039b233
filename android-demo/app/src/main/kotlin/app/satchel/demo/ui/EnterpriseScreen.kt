package app.satchel.demo.ui

import android.content.Intent
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Badge
import androidx.compose.material3.Card
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
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
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.satchel.CredentialFilter
import app.satchel.Member
import app.satchel.MemberRole
import app.satchel.SatchelException
import app.satchel.Space
import app.satchel.demo.model.AgentModel
import app.satchel.demo.model.EnterpriseModel
import app.satchel.demo.model.Label
import app.satchel.demo.model.SatchelSession
import app.satchel.demo.model.Words
import app.satchel.demo.scan.QrCode
import kotlinx.coroutines.launch

/**
 * The business tab. For the company's space: members, adding one by the
 * key their app shows, delegating an agent to present the licence for a
 * purpose, to a party, for some days, and revoking. For the person as an
 * agent: their key to give the company, taking in a delegation, and
 * presenting the licence (the review screen answers the request).
 */
@Composable
fun EnterpriseScreen(
    session: SatchelSession,
    business: Space?,
    personal: Space?,
    scannedMember: String?,
    scannedDelegation: String?,
    consumed: (ScanPurpose) -> Unit,
    scan: (ScanPurpose) -> Unit,
    create: () -> Unit,
    present: () -> Unit,
) {
    Screen(t(Label.TAB_ENTERPRISE)) {
        if (business == null) {
            Text(t(Label.NOT_ENTERPRISE))
            PrimaryAction(t(Label.SPACE_ENTERPRISE), onClick = create)
        } else {
            Company(session, business, scannedMember, consumed, scan)
        }
        if (personal != null) {
            HorizontalDivider()
            Agent(session, personal, scannedDelegation, consumed, scan, present)
        }
    }
}

@Composable
private fun Company(session: SatchelSession, business: Space, scanned: String?, consumed: (ScanPurpose) -> Unit, scan: (ScanPurpose) -> Unit) {
    val model = remember(session, business.id) { EnterpriseModel(session, business.id) }
    val lang = LocalDisplay.current.language
    val members by model.states.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var failure by remember { mutableStateOf<String?>(null) }
    var newKey by remember { mutableStateOf<String?>(null) }
    var handOver by remember { mutableStateOf<Pair<String, String>?>(null) }
    LaunchedEffect(model) { model.refresh() }
    LaunchedEffect(scanned) {
        newKey = scanned ?: return@LaunchedEffect
        consumed(ScanPurpose.MEMBER)
    }
    suspend fun attempt(work: suspend () -> Unit) {
        failure = try {
            work()
            null
        } catch (e: SatchelException) {
            e.reason()
        }
    }
    Text(business.name, style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
    failure?.let { Failure(it) }
    Text(t(Label.MEMBERS), style = MaterialTheme.typography.titleMedium)
    for (m in members) IconLine(Icons.Filled.Badge, "${m.name} · ${t(roleLabel(m.role))}")
    val key = newKey
    if (key == null) {
        SecondaryAction(t(Label.MEMBER_ADD), always = true) { scan(ScanPurpose.MEMBER) }
    } else {
        AddMember { name, role -> scope.launch { attempt { model.addMember(name, role, key).also { newKey = null } } } }
    }
    val agents = members.filter { it.role == MemberRole.AGENT }
    if (agents.isNotEmpty()) {
        Delegate(agents) { member, purpose, audience, days ->
            scope.launch {
                attempt {
                    val licence = session.wallet.credentials(business.id, CredentialFilter())
                        .firstOrNull { it.vct.endsWith("business-licence") }
                        ?: throw SatchelException.NotFound(Label.NO_LICENCE.text(lang))
                    val delegation = model.delegate(member.id, listOf(licence.vct), purpose, audience, days)
                    handOver = delegation.id to model.handOver(delegation, licence.id)
                }
            }
        }
    }
    handOver?.let { (id, text) -> HandOverCard(text, revoke = { scope.launch { attempt { model.revoke(id).also { handOver = null } } } }) }
}

@Composable
private fun AddMember(add: (String, MemberRole) -> Unit) {
    var name by remember { mutableStateOf("") }
    var role by remember { mutableStateOf(MemberRole.AGENT) }
    OutlinedTextField(value = name, onValueChange = {
        name = it
    }, label = { Text(t(Label.ONBOARDING_NAME)) }, singleLine = true, modifier = Modifier.fillMaxWidth())
    Column(Modifier.selectableGroup()) {
        for (option in MemberRole.entries) {
            Choice(t(roleLabel(option)), selected = role == option) { role = option }
        }
    }
    PrimaryAction(t(Label.MEMBER_ADD), enabled = name.isNotBlank()) { add(name.trim(), role) }
}

@Composable
private fun Delegate(agents: List<Member>, delegate: (Member, String, String, Long) -> Unit) {
    val lang = LocalDisplay.current.language
    var agent by remember { mutableStateOf(agents.first()) }
    var audience by remember { mutableStateOf("") }
    var days by remember { mutableStateOf("7") }
    val purpose = "IdentityVerification"
    Text(t(Label.DELEGATE), style = MaterialTheme.typography.titleMedium)
    Column(Modifier.selectableGroup()) {
        for (a in agents) {
            Choice(a.name, selected = agent.id == a.id) { agent = a }
        }
    }
    Text(t(Label.PAIR, t(Label.DELEGATE_PURPOSE), Words.purpose(purpose, lang)))
    OutlinedTextField(
        value = audience,
        onValueChange = { audience = it },
        label = { Text(t(Label.DELEGATE_AUDIENCE)) },
        singleLine = true,
        modifier = Modifier.fillMaxWidth(),
    )
    OutlinedTextField(
        value = days,
        onValueChange = { v -> days = v.filter(Char::isDigit).take(3) },
        label = { Text(t(Label.DELEGATE_DAYS)) },
        keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Number),
        singleLine = true,
        modifier = Modifier.fillMaxWidth(),
    )
    val period = days.toLongOrNull()?.takeIf { it in 1..366 }
    PrimaryAction(t(Label.DELEGATE), enabled = audience.isNotBlank() && period != null) {
        delegate(agent, purpose, audience.trim(), period ?: return@PrimaryAction)
    }
}

/** The delegation for the agent: a QR code when it fits in one, and always the share sheet. */
@Composable
private fun HandOverCard(text: String, revoke: () -> Unit) {
    val context = LocalContext.current
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Notice(t(Label.DELEGATED))
            QrCode(text, t(Label.DELEGATED))
            SecondaryAction(t(Label.SHARE), always = true) {
                context.startActivity(Intent.createChooser(Intent(Intent.ACTION_SEND).setType("text/plain").putExtra(Intent.EXTRA_TEXT, text), null))
            }
            SecondaryAction(t(Label.REVOKE), always = true, onClick = revoke)
        }
    }
}

@Composable
private fun Agent(
    session: SatchelSession,
    personal: Space,
    scanned: String?,
    consumed: (ScanPurpose) -> Unit,
    scan: (ScanPurpose) -> Unit,
    present: () -> Unit,
) {
    val model = remember(session, personal.id) { AgentModel(session, personal.id) }
    val lang = LocalDisplay.current.language
    var message by remember { mutableStateOf<String?>(null) }
    var failure by remember { mutableStateOf<String?>(null) }
    var pasted by remember { mutableStateOf("") }
    val scope = rememberCoroutineScope()
    fun take(text: String) = scope.launch {
        try {
            val held = model.hold(text)
            message = Label.RECEIVED.text(lang, Words.credentialType(held.vct, lang))
            failure = null
        } catch (e: SatchelException) {
            failure = e.reason()
        }
    }
    LaunchedEffect(scanned) {
        val text = scanned ?: return@LaunchedEffect
        consumed(ScanPurpose.DELEGATION)
        take(text)
    }
    Text(t(Label.HOLD_LICENCE), style = MaterialTheme.typography.titleMedium, modifier = Modifier.semantics { heading() })
    Text(t(Label.MEMBER_KEY))
    QrCode(personal.holderJwk, t(Label.MEMBER_KEY))
    message?.let { Notice(it) }
    failure?.let { Failure(it) }
    SecondaryAction(t(Label.HOLD_LICENCE), always = true) { scan(ScanPurpose.DELEGATION) }
    OutlinedTextField(value = pasted, onValueChange = { pasted = it }, label = { Text(t(Label.HOLD_LICENCE)) }, modifier = Modifier.fillMaxWidth())
    if (pasted.isNotBlank()) SecondaryAction(t(Label.SAVE), always = true) { take(pasted) }
    PrimaryAction(t(Label.PRESENT_AS_AGENT), onClick = present)
}

private fun roleLabel(role: MemberRole) = when (role) {
    MemberRole.LEGAL_REPRESENTATIVE -> Label.ROLE_LEGAL_REPRESENTATIVE
    MemberRole.ADMINISTRATOR -> Label.ROLE_ADMIN
    MemberRole.AGENT -> Label.ROLE_AGENT
}
