import Satchel
import SatchelDemoModel
import SwiftUI

/// The consents given: who, for what, active / used n of m / withdrawn, and
/// "Withdraw" in one tap (published at once, so the next use is refused).
/// "Scan a request" opens the camera for a new one.
struct AuthorizationsScreen: View {
    let settings: DisplaySettings
    @StateObject private var model: AuthorizationsViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @State private var withdrawn: String?

    init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.settings = settings
        _model = StateObject(wrappedValue: AuthorizationsViewModel(session: session, spaceId: spaceId, settings: settings))
    }

    var body: some View {
        NavigationStack {
            List {
                SpacePicker()
                if model.items.isEmpty && !activity.busy {
                    Text(state.t(.authorizationsEmpty)).font(.body).foregroundStyle(.secondary)
                }
                ForEach(model.items) { item in
                    AuthorizationRow(item: item) {
                        activity.run(settings.language) {
                            try await model.withdraw(item.id)
                            withdrawn = state.t(.withdrawn)
                        }
                    }
                    .disabled(activity.busy)
                }
                Section {
                    Button {
                        state.sheet = .scan(.scanRequest)
                    } label: {
                        SwiftUI.Label(state.t(.scanRequest), systemImage: "qrcode.viewfinder").frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .accessibilityLabel(state.t(.scanRequest))
                    if let withdrawn { DoneNote(text: withdrawn) }
                    ActivityNotes(activity: activity)
                }
            }
            .navigationTitle(state.t(.tabAuthorizations))
            .refreshable { try? await model.refresh() }
            .task {
                activity.run(settings.language) { try await model.refresh() }
                await model.follow()
            }
        }
    }
}

/// One authorisation: the relying party, the purpose, the state in words
/// with an icon, the uses; "Withdraw" while it is active.
struct AuthorizationRow: View {
    let item: AuthorizationView
    let withdraw: () -> Void
    @EnvironmentObject private var state: AppState

    var body: some View {
        VStack(alignment: .leading, spacing: 6) {
            VStack(alignment: .leading, spacing: 6) {
                Text(item.relyingParty).font(.headline)
                Text(item.purpose).font(.body)
                StatusBadge(item.state, text: item.stateText)
                Text(item.usesText).font(.subheadline).foregroundStyle(.secondary)
                if item.maxUses > 0 {
                    ProgressView(value: Double(min(item.used, item.maxUses)), total: Double(item.maxUses))
                        .accessibilityHidden(true)
                }
            }
            .accessibilityElement(children: .combine)
            if item.state == .active {
                Button(role: .destructive) {
                    withdraw()
                } label: {
                    SwiftUI.Label(state.t(.withdraw), systemImage: "hand.raised.slash")
                }
                .buttonStyle(.bordered)
                .accessibilityLabel(state.t(.withdrawDescription, item.relyingParty))
            }
        }
        .padding(.vertical, 4)
    }
}
