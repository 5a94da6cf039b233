import Satchel
import SatchelDemoModel
import SwiftUI

/// "Where did my data go": a credential's provenance as a timeline (when,
/// what happened, who took part), and the same record as W3C PROV-JSON to
/// share.
struct TraceScreen: View {
    let credentialId: String
    let title: String
    @StateObject private var model: TraceViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState

    init(session: SatchelSession, settings: DisplaySettings, credentialId: String, title: String) {
        self.credentialId = credentialId
        self.title = title
        _model = StateObject(wrappedValue: TraceViewModel(session: session, settings: settings))
    }

    var body: some View {
        List {
            if model.entries.isEmpty && !activity.busy && activity.failure == nil {
                Text(state.t(.traceEmpty)).font(.body).foregroundStyle(.secondary)
            }
            ForEach(model.entries) { entry in
                TimelineRow(entry: entry)
            }
            Section {
                if let provJson = model.provJson {
                    ShareLink(item: provJson, subject: Text(state.t(.traceTitle)), message: Text(title)) {
                        SwiftUI.Label(state.t(.traceShare), systemImage: "square.and.arrow.up")
                            .frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .accessibilityLabel(state.t(.traceShare))
                }
                ActivityNotes(activity: activity)
            }
        }
        .navigationTitle(state.t(.traceTitle))
        .task { activity.run(state.settings.language) { try await model.load(credentialId: credentialId) } }
    }
}

/// One step: when, what happened, and who took part.
struct TimelineRow: View {
    let entry: TimelineEntry
    @EnvironmentObject private var state: AppState

    var body: some View {
        HStack(alignment: .top, spacing: 12) {
            Image(systemName: "circle.fill")
                .font(.caption2)
                .foregroundStyle(.tint)
                .padding(.top, 6)
                .accessibilityHidden(true)
            VStack(alignment: .leading, spacing: 4) {
                Text(entry.what).font(.headline)
                Text(entry.timeText).font(.subheadline).foregroundStyle(.secondary)
                if !entry.who.isEmpty {
                    Text(state.t(.traceBy, entry.who.joined(separator: state.settings.language == .zh ? "、" : ", ")))
                        .font(.subheadline)
                }
            }
        }
        .accessibilityElement(children: .combine)
    }
}
