import Satchel
import SatchelDemoModel
import SwiftUI

/// Opening, onboarding until a space exists, then the tabs.
struct RootView: View {
    @EnvironmentObject private var state: AppState

    var body: some View {
        switch state.phase {
        case .opening:
            WorkingNote()
        case let .failed(reason):
            Form {
                Section {
                    FailureNote(reason: reason)
                    Button(state.t(.retry)) { Task { await state.reopen() } }
                        .primaryAction()
                        .accessibilityLabel(state.t(.retry))
                }
                Section(state.t(.settingsServer)) {
                    ServerAddressField()
                }
            }
        case let .ready(session):
            if let space = state.currentSpace {
                MainTabs(session: session, space: space)
                    .id(state.screenKey)
            } else {
                OnboardingScreen(session: session)
                    .id(state.screenKey)
            }
        }
    }
}

/// The tabs: wallet, consents, consent log, devices, business, settings.
/// Scans and opened links are shown over them as one sheet.
struct MainTabs: View {
    let session: SatchelSession
    let space: Space
    @EnvironmentObject private var state: AppState

    var body: some View {
        TabView(selection: $state.tab) {
            WalletScreen(session: session, spaceId: space.id, settings: state.settings)
                .tabItem { SwiftUI.Label(state.t(.tabWallet), systemImage: "wallet.pass") }
                .tag(AppState.Tab.wallet)
            AuthorizationsScreen(session: session, spaceId: space.id, settings: state.settings)
                .tabItem { SwiftUI.Label(state.t(.tabAuthorizations), systemImage: "hand.raised") }
                .tag(AppState.Tab.authorizations)
            ConsentLogScreen(session: session, spaceId: space.id)
                .tabItem { SwiftUI.Label(state.t(.tabLog), systemImage: "list.bullet.clipboard") }
                .tag(AppState.Tab.log)
            DevicesScreen(session: session, space: space, settings: state.settings)
                .tabItem { SwiftUI.Label(state.t(.tabDevices), systemImage: "iphone.and.arrow.forward") }
                .tag(AppState.Tab.devices)
            EnterpriseScreen(session: session, settings: state.settings)
                .tabItem { SwiftUI.Label(state.t(.tabEnterprise), systemImage: "building.2") }
                .tag(AppState.Tab.enterprise)
            SettingsScreen()
                .tabItem { SwiftUI.Label(state.t(.tabSettings), systemImage: "gearshape") }
                .tag(AppState.Tab.settings)
        }
        .sheet(item: $state.sheet) { sheet in
            switch sheet {
            case let .scan(title):
                QRScanSheet(title: state.t(title)) { state.handle(link: $0) }
            case let .link(link):
                LinkSheet(session: session, spaceId: space.id, link: link)
            }
        }
        .alert(state.t(.failed, state.linkFailure ?? ""), isPresented: Binding(get: { state.linkFailure != nil }, set: { if !$0 { state.linkFailure = nil } })) {
            Button(state.t(.done)) { state.linkFailure = nil }
                .accessibilityLabel(state.t(.done))
        }
    }
}

/// What a scanned code or an opened link leads to, in the space shown.
struct LinkSheet: View {
    let session: SatchelSession
    let spaceId: String
    let link: IncomingLink
    @EnvironmentObject private var state: AppState

    var body: some View {
        NavigationStack {
            Group {
                switch link {
                case let .credentialOffer(offer):
                    ReceiveView(session: session, spaceId: spaceId, settings: state.settings, offer: offer)
                case let .presentationRequest(request):
                    ReviewScreen(session: session, spaceId: spaceId, settings: state.settings, scanned: request)
                case let .enrolment(uri):
                    ApproveDeviceView(session: session, spaceId: spaceId, settings: state.settings, scanned: uri)
                }
            }
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button(state.t(.done)) { state.sheet = nil }
                        .accessibilityLabel(state.t(.done))
                }
            }
        }
    }
}

/// Receiving the credential behind a scanned or opened offer.
struct ReceiveView: View {
    let offer: String
    @StateObject private var model: WalletViewModel
    @EnvironmentObject private var state: AppState
    @State private var received: CardView?
    @State private var working = true

    init(session: SatchelSession, spaceId: String, settings: DisplaySettings, offer: String) {
        self.offer = offer
        _model = StateObject(wrappedValue: WalletViewModel(session: session, spaceId: spaceId, settings: settings))
    }

    var body: some View {
        VStack(spacing: 20) {
            if working {
                WorkingNote()
            } else if let received {
                DoneNote(text: state.t(.received, received.title))
                CardRow(card: received)
                Button(state.t(.done)) { state.sheet = nil }
                    .primaryAction()
                    .accessibilityLabel(state.t(.done))
            } else if let error = model.error {
                FailureNote(reason: error)
                Button(state.t(.done)) { state.sheet = nil }
                    .primaryAction()
                    .accessibilityLabel(state.t(.done))
            }
            Spacer()
        }
        .padding()
        .navigationTitle(state.t(.scanOffer))
        .task {
            received = await model.receive(offer: offer)
            working = false
        }
    }
}
