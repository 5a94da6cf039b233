import Satchel
import SatchelDemoModel
import SwiftUI

/// Review a request: who asks and whether the registry trusts them, the
/// purpose in plain words, each field with its own switch (a sensitive
/// field needs its own separate consent first), how long and how many
/// times, the PIPL flags; a warning with "go on anyway" when the registry
/// does not vouch for them; then approve (the Secure Enclave asks for Face
/// ID / Touch ID as the approval is signed) or refuse.
struct ReviewScreen: View {
    let scanned: String
    @StateObject private var model: ReviewViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @State private var uses: UInt32 = 0

    init(session: SatchelSession, spaceId: String, settings: DisplaySettings, scanned: String) {
        self.scanned = scanned
        _model = StateObject(wrappedValue: ReviewViewModel(session: session, spaceId: spaceId, settings: settings))
    }

    var body: some View {
        Form {
            if let outcome = model.outcome {
                Section { outcomeView(outcome) }
            } else if let review = model.state {
                whoAsks(review)
                if review.needsWarning {
                    warning
                } else {
                    fields(review)
                    terms(review)
                    decision(review)
                }
            }
            Section {
                ActivityNotes(activity: activity)
                if model.state == nil && activity.failure != nil {
                    Button(state.t(.retry)) { load() }
                        .accessibilityLabel(state.t(.retry))
                }
            }
        }
        .navigationTitle(state.t(.reviewTitle))
        .task { load() }
    }

    private func load() {
        activity.run(state.settings.language) {
            try await model.load(scanned: scanned)
            uses = model.state?.maxUses ?? 0
        }
    }

    private func whoAsks(_ review: ReviewState) -> some View {
        Section(state.t(.whoAsks)) {
            Text(review.relyingParty).font(.title3.weight(.semibold))
            StatusBadge(text: review.trustText,
                        systemImage: review.trusted ? "checkmark.shield.fill" : "exclamationmark.shield.fill",
                        tint: review.trusted ? .green : .orange)
            LabeledContent(state.t(.purpose)) {
                Text(review.purpose).font(.body)
            }
            .accessibilityElement(children: .combine)
        }
    }

    private var warning: some View {
        Section {
            SwiftUI.Label(state.t(.untrustedWarning), systemImage: "exclamationmark.triangle.fill")
                .font(.body)
                .foregroundStyle(.orange)
                .accessibilityLabel(state.t(.untrustedWarning))
            Button(state.t(.refuse)) { refuse() }
                .primaryAction()
                .accessibilityLabel(state.t(.refuse))
            Button(state.t(.continueAnyway)) { model.continueAnyway() }
                .accessibilityLabel(state.t(.continueAnyway))
        }
    }

    private func fields(_ review: ReviewState) -> some View {
        Section(state.t(.whatIsShared)) {
            ForEach(review.fields, id: \.path) { field in
                FieldRow(field: field,
                         toggle: { model.toggle(field.path) },
                         consent: { model.consentSeparately(field.path) })
            }
            if !review.missing.isEmpty {
                FailureNote(reason: state.t(.missing))
            }
        }
    }

    private func terms(_ review: ReviewState) -> some View {
        Section {
            LabeledContent(state.t(.window)) { Text(review.windowText).font(.body) }
                .accessibilityElement(children: .combine)
            LabeledContent(state.t(.uses)) { Text(review.usesText).font(.body) }
                .accessibilityElement(children: .combine)
            if review.maxUses > 1 {
                Stepper(value: $uses, in: 1 ... review.maxUses) {
                    Text(state.t(.pair, state.t(.uses), "\(uses)")).font(.body)
                }
                .accessibilityLabel(state.t(.uses))
                .accessibilityValue("\(uses)")
                .secondaryAction(state.settings)
            }
            if review.thirdParty { flag(.thirdParty, "person.2.fill") }
            if review.crossBorder { flag(.crossBorder, "globe.asia.australia.fill") }
            if review.sensitive { flag(.sensitiveRequest, "lock.fill") }
        }
    }

    private func flag(_ label: Label, _ icon: String) -> some View {
        SwiftUI.Label(state.t(label), systemImage: icon)
            .font(.body)
            .accessibilityLabel(state.t(label))
    }

    private func decision(_ review: ReviewState) -> some View {
        Section {
            Button {
                activity.run(state.settings.language) {
                    _ = try await model.approve(fewerUses: uses < review.maxUses ? uses : nil)
                }
            } label: {
                SwiftUI.Label(state.t(.approve), systemImage: "faceid").frame(maxWidth: .infinity)
            }
            .primaryAction()
            .disabled(!review.canApprove || activity.busy)
            .accessibilityLabel(state.t(.approve))
            .accessibilityHint(state.t(.biometricSubtitle))
            Button(role: .destructive) {
                refuse()
            } label: {
                Text(state.t(.refuse)).frame(maxWidth: .infinity)
            }
            .disabled(activity.busy)
            .accessibilityLabel(state.t(.refuse))
        }
    }

    private func refuse() {
        activity.run(state.settings.language) { try await model.refuse() }
    }

    @ViewBuilder
    private func outcomeView(_ outcome: ReviewViewModel.Outcome) -> some View {
        switch outcome {
        case .approved:
            DoneNote(text: state.t(.approved))
        case .refused:
            DoneNote(text: state.t(.refused))
        }
        Button(state.t(.done)) { state.sheet = nil }
            .primaryAction()
            .accessibilityLabel(state.t(.done))
    }
}

/// One field: its name, needed or optional, and its switch; a sensitive
/// field first shows why it is special and its own consent button.
struct FieldRow: View {
    let field: FieldChoice
    let toggle: () -> Void
    let consent: () -> Void
    @EnvironmentObject private var state: AppState

    var body: some View {
        let need = state.t(field.required ? .required : .optional)
        VStack(alignment: .leading, spacing: 8) {
            if field.sensitive && !field.separatelyConsented {
                Text(field.label).font(.body)
                Text(need).font(.footnote).foregroundStyle(.secondary)
                SwiftUI.Label(state.t(.sensitive), systemImage: "lock.fill")
                    .font(.footnote)
                    .accessibilityLabel(state.t(.sensitive))
                Button(state.t(.consentSeparately)) { consent() }
                    .buttonStyle(.bordered)
                    .accessibilityLabel(state.t(.pair, state.t(.consentSeparately), field.label))
            } else {
                Toggle(isOn: Binding(get: { field.on }, set: { _ in toggle() })) {
                    VStack(alignment: .leading, spacing: 2) {
                        Text(field.label).font(.body)
                        Text(need).font(.footnote).foregroundStyle(.secondary)
                    }
                }
                .accessibilityLabel("\(field.label), \(need)")
                .accessibilityValue(state.t(field.on ? .fieldOn : .fieldOff))
                if field.sensitive {
                    SwiftUI.Label(state.t(.sensitive), systemImage: "lock.fill")
                        .font(.footnote)
                        .accessibilityLabel(state.t(.sensitive))
                }
            }
        }
    }
}
