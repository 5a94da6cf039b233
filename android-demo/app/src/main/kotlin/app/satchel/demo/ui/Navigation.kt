package app.satchel.demo.ui

import android.net.Uri
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.AccountBalanceWallet
import androidx.compose.material.icons.filled.Business
import androidx.compose.material.icons.filled.Devices
import androidx.compose.material.icons.filled.History
import androidx.compose.material.icons.filled.Settings
import androidx.compose.material.icons.filled.VerifiedUser
import androidx.compose.material3.Icon
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.vector.ImageVector
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.navigation.NavBackStackEntry
import androidx.navigation.NavHostController
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.currentBackStackEntryAsState
import androidx.navigation.compose.rememberNavController
import app.satchel.SpaceKind
import app.satchel.demo.AppViewModel
import app.satchel.demo.AppViewModel.Start
import app.satchel.demo.model.Label

/** The tabs along the bottom. */
private enum class Tab(val route: String, val label: Label, val icon: ImageVector) {
    WALLET("wallet", Label.TAB_WALLET, Icons.Filled.AccountBalanceWallet),
    CONSENTS("consents", Label.TAB_AUTHORIZATIONS, Icons.Filled.VerifiedUser),
    LOG("log", Label.TAB_LOG, Icons.Filled.History),
    DEVICES("devices", Label.TAB_DEVICES, Icons.Filled.Devices),
    BUSINESS("business", Label.TAB_ENTERPRISE, Icons.Filled.Business),
    SETTINGS("settings", Label.TAB_SETTINGS, Icons.Filled.Settings),
}

/** What a scan is for: the scanner screen hands its result to the right place. */
enum class ScanPurpose { OFFER, REQUEST, ENROL, MEMBER, DELEGATION }

/** The app: start-up, onboarding, then the tabs and the screens they open. */
@Composable
fun SatchelNavigation(app: AppViewModel) {
    val start by app.starts.collectAsStateWithLifecycle()
    when (val s = start) {
        Start.Loading -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) { Busy() }

        is Start.Failed -> Screen(t(Label.APP_NAME)) {
            Failure(s.reason)
            PrimaryAction(t(Label.RETRY)) { app.reload() }
        }

        is Start.Empty -> OnboardingScreen(s.session, SpaceKind.PERSONAL, onBack = null) { app.reload(it) }

        is Start.Ready -> Tabs(app, s)
    }
}

@Composable
private fun Tabs(app: AppViewModel, ready: Start.Ready) {
    val nav = rememberNavController()
    val link by app.links.collectAsStateWithLifecycle()
    LaunchedEffect(link) {
        val uri = app.takeLink() ?: return@LaunchedEffect
        when {
            uri.startsWith("openid-credential-offer:") -> nav.navigate("receive/${Uri.encode(uri)}")
            uri.startsWith("openid4vp:") -> nav.navigate("review/${Uri.encode(uri)}")
        }
    }
    val entry by nav.currentBackStackEntryAsState()
    val here = entry?.destination?.route
    Scaffold(
        bottomBar = {
            if (Tab.entries.any { it.route == here }) {
                NavigationBar {
                    for (tab in Tab.entries) {
                        NavigationBarItem(
                            selected = here == tab.route,
                            onClick = { nav.switchTo(tab.route) },
                            icon = { Icon(tab.icon, contentDescription = null) },
                            label = { Text(t(tab.label)) },
                        )
                    }
                }
            }
        },
    ) { padding ->
        NavHost(nav, startDestination = Tab.WALLET.route, modifier = Modifier.padding(padding)) {
            val session = ready.session
            val space = ready.current
            val back: () -> Unit = { nav.popBackStack() }
            composable(Tab.WALLET.route) {
                WalletScreen(
                    session,
                    space.id,
                    scan = { nav.navigate("scan/${it.name}") },
                    trace = { nav.navigate("trace/${Uri.encode(it)}") },
                )
            }
            composable(Tab.CONSENTS.route) { AuthorizationsScreen(session, space.id, changed = app::changed) }
            composable(Tab.LOG.route) { ConsentLogScreen(session, space.id, logKey = app.container::logKey) }
            composable(Tab.DEVICES.route) { e ->
                DevicesScreen(
                    session,
                    space,
                    scanned = e.scanned(ScanPurpose.ENROL),
                    consumed = { e.savedStateHandle[ScanPurpose.ENROL.name] = null },
                    scan = { nav.navigate("scan/${ScanPurpose.ENROL.name}") },
                    export = { nav.navigate("export") },
                )
            }
            composable(Tab.BUSINESS.route) { e ->
                EnterpriseScreen(
                    session,
                    business = ready.spaces.firstOrNull { it.kind == SpaceKind.ENTERPRISE },
                    personal = ready.spaces.firstOrNull { it.kind == SpaceKind.PERSONAL },
                    scannedMember = e.scanned(ScanPurpose.MEMBER),
                    scannedDelegation = e.scanned(ScanPurpose.DELEGATION),
                    consumed = { purpose -> e.savedStateHandle[purpose.name] = null },
                    scan = { nav.navigate("scan/${it.name}") },
                    create = { nav.navigate("onboarding") },
                    present = { nav.navigate("scan/${ScanPurpose.REQUEST.name}") },
                )
            }
            composable(Tab.SETTINGS.route) { SettingsScreen(app, ready) }
            composable("onboarding") {
                OnboardingScreen(session, SpaceKind.ENTERPRISE, onBack = back) {
                    app.reload(it)
                    nav.switchTo(Tab.BUSINESS.route)
                }
            }
            composable("scan/{purpose}") { e ->
                val purpose = ScanPurpose.valueOf(e.arguments?.getString("purpose") ?: ScanPurpose.OFFER.name)
                ScanScreen(purpose, onBack = back) { scanned ->
                    val arg = Uri.encode(scanned)
                    when (purpose) {
                        ScanPurpose.OFFER -> nav.replace("receive/$arg")

                        ScanPurpose.REQUEST -> nav.replace("review/$arg")

                        // The devices and business screens read what was scanned when they come back.
                        else -> {
                            nav.previousBackStackEntry?.savedStateHandle?.set(purpose.name, scanned)
                            nav.popBackStack()
                        }
                    }
                }
            }
            composable("receive/{offer}") { e -> ReceiveScreen(session, space.id, e.arguments?.getString("offer").orEmpty(), done = back) }
            composable("review/{request}") { e ->
                ReviewScreen(session, space.id, e.arguments?.getString("request").orEmpty(), done = {
                    app.changed()
                    back()
                })
            }
            composable("trace/{id}") { e -> TraceScreen(session, e.arguments?.getString("id").orEmpty(), onBack = back) }
            composable("export") { ExportScreen(session, space, onBack = back) }
        }
    }
}

/** What the scanner brought back to this screen for `purpose`, until the screen clears it. */
@Composable
private fun NavBackStackEntry.scanned(purpose: ScanPurpose): String? {
    val value by savedStateHandle.getStateFlow<String?>(purpose.name, null).collectAsStateWithLifecycle()
    return value
}

/** Goes to a tab, keeping one copy of each on the back stack. */
private fun NavHostController.switchTo(route: String) = navigate(route) {
    popUpTo(graph.startDestinationId) { saveState = true }
    launchSingleTop = true
    restoreState = true
}

/** Replaces the screen on top (the scanner) with `route`. */
private fun NavHostController.replace(route: String) {
    popBackStack()
    navigate(route)
}
