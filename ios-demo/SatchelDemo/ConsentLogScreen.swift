import Satchel
import SatchelDemoModel
import SwiftUI

/// The consent log: whether every record verifies here, the latest
/// anchored checkpoint (checked against the transparency log under the
/// pinned log key), "Anchor in the transparency log" (primary) and
/// "Verify again".
struct ConsentLogScreen: View {
    @StateObject private var model: ConsentLogViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState

    init(session: SatchelSession, spaceId: String) {
        _model = StateObject(wrappedValue: ConsentLogViewModel(session: session, spaceId: spaceId))
    }

    var body: some View {
        NavigationStack {
            List {
                SpacePicker()
                if let log = model.view {
                    Section {
                        if log.verified {
                            StatusBadge(text: state.t(.logVerified, log.records), systemImage: "checkmark.seal.fill", tint: .green)
                        } else {
                            StatusBadge(text: state.t(.logBroken), systemImage: "xmark.seal.fill", tint: .red)
                        }
                        if let anchored = log.anchoredRecords, let size = log.checkpointSize {
                            StatusBadge(text: state.t(.logAnchored, anchored, size), systemImage: "link.circle.fill", tint: .green)
                        } else {
                            StatusBadge(text: state.t(.logNotAnchored), systemImage: "link.badge.plus", tint: .secondary)
                        }
                    }
                }
                Section {
                    Button {
                        activity.run(state.settings.language) { _ = try await model.anchor() }
                    } label: {
                        SwiftUI.Label(state.t(.logAnchor), systemImage: "link").frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .disabled(activity.busy)
                    .accessibilityLabel(state.t(.logAnchor))
                    Button {
                        activity.run(state.settings.language) { try await model.load() }
                    } label: {
                        SwiftUI.Label(state.t(.logVerify), systemImage: "arrow.clockwise")
                    }
                    .disabled(activity.busy)
                    .accessibilityLabel(state.t(.logVerify))
                    .secondaryAction(state.settings)
                    ActivityNotes(activity: activity)
                }
            }
            .navigationTitle(state.t(.tabLog))
            .task { activity.run(state.settings.language) { try await model.load() } }
        }
    }
}
