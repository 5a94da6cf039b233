import Satchel
import SatchelDemoModel
import SwiftUI

/// The app's own texts, in the language the person chose
/// (`SatchelDemoModel.Label`). It shadows SwiftUI's `Label` view in this
/// module; the screens write `SwiftUI.Label` for an icon with a title.
typealias Label = SatchelDemoModel.Label

/// Elder mode's larger type: the system's Dynamic Type size, stepped up by
/// `DisplaySettings.typeScale`, so every `.font(.body)`-style text grows and
/// the person's own accessibility size still counts.
struct ElderScaled: ViewModifier {
    let scale: Double
    @Environment(\.dynamicTypeSize) private var base

    func body(content: Content) -> some View {
        content.dynamicTypeSize(Self.scaled(base, by: scale))
    }

    /// One Dynamic Type step is roughly 12% larger type.
    static func scaled(_ size: DynamicTypeSize, by scale: Double) -> DynamicTypeSize {
        let all = DynamicTypeSize.allCases
        guard let index = all.firstIndex(of: size) else { return size }
        let steps = Int(((scale - 1.0) / 0.12).rounded())
        return all[min(max(index + steps, 0), all.count - 1)]
    }
}

extension View {
    /// A secondary action: hidden in elder mode, which offers one primary
    /// action per screen.
    @ViewBuilder
    func secondaryAction(_ settings: DisplaySettings) -> some View {
        if settings.oneActionPerScreen {
            EmptyView()
        } else {
            self
        }
    }

    /// The screen's one primary action: large and prominent.
    func primaryAction() -> some View {
        buttonStyle(.borderedProminent).controlSize(.large)
    }
}

/// "That did not work: …", with an icon (never colour alone).
struct FailureNote: View {
    let reason: String
    @EnvironmentObject private var state: AppState

    var body: some View {
        let text = state.t(.failed, reason)
        SwiftUI.Label {
            Text(text).font(.callout)
        } icon: {
            Image(systemName: "exclamationmark.triangle.fill")
        }
        .foregroundStyle(.red)
        .accessibilityElement(children: .combine)
        .accessibilityLabel(text)
    }
}

/// A short confirmation ("Withdrawn…", "Stored in your wallet…"), with an icon.
struct DoneNote: View {
    let text: String

    var body: some View {
        SwiftUI.Label {
            Text(text).font(.callout)
        } icon: {
            Image(systemName: "checkmark.circle.fill")
        }
        .foregroundStyle(.green)
        .accessibilityElement(children: .combine)
        .accessibilityLabel(text)
    }
}

/// "Please wait…" while something runs.
struct WorkingNote: View {
    @EnvironmentObject private var state: AppState

    var body: some View {
        ProgressView {
            Text(state.t(.working)).font(.body)
        }
        .accessibilityLabel(state.t(.working))
    }
}

/// A status in words with its own icon; the colour only repeats it.
struct StatusBadge: View {
    let text: String
    let systemImage: String
    let tint: Color

    var body: some View {
        SwiftUI.Label(text, systemImage: systemImage)
            .font(.subheadline.weight(.semibold))
            .foregroundStyle(tint)
            .accessibilityLabel(text)
    }

    /// A credential's status.
    init(_ status: CredentialStatus, text: String) {
        self.text = text
        switch status {
        case .valid: systemImage = "checkmark.seal.fill"; tint = .green
        case .expired: systemImage = "clock.badge.xmark"; tint = .orange
        case .notYetValid: systemImage = "hourglass"; tint = .orange
        case .revoked: systemImage = "xmark.octagon.fill"; tint = .red
        }
    }

    /// An authorisation's state.
    init(_ state: AuthorizationState, text: String) {
        self.text = text
        switch state {
        case .active: systemImage = "checkmark.circle.fill"; tint = .green
        case .withdrawn: systemImage = "arrow.uturn.backward.circle.fill"; tint = .secondary
        case .expired: systemImage = "clock.fill"; tint = .secondary
        }
    }

    init(text: String, systemImage: String, tint: Color) {
        self.text = text
        self.systemImage = systemImage
        self.tint = tint
    }
}

/// Runs a screen's async actions: one at a time, with "please wait" and a
/// readable failure. Screens forward taps here; the work is the view model's.
@MainActor
final class Activity: ObservableObject {
    @Published private(set) var busy = false
    @Published var failure: String?

    /// Runs `work`, showing its failure (if any) in `lang`.
    func run(_ lang: Language, _ work: @escaping @MainActor () async throws -> Void) {
        guard !busy else { return }
        busy = true
        failure = nil
        Task { @MainActor in
            do {
                try await work()
            } catch {
                self.failure = Words.reason(error, lang)
            }
            self.busy = false
        }
    }
}

/// Busy and failure lines under a screen's content.
struct ActivityNotes: View {
    @ObservedObject var activity: Activity

    var body: some View {
        if activity.busy { WorkingNote() }
        if let failure = activity.failure { FailureNote(reason: failure) }
    }
}

/// Chooses which space the screens show, when the wallet holds more than one.
struct SpacePicker: View {
    @EnvironmentObject private var state: AppState

    var body: some View {
        if state.spaces.count > 1 {
            Picker(selection: Binding(get: { state.currentSpace?.id ?? "" }, set: { state.selectedSpaceId = $0 })) {
                ForEach(state.spaces, id: \.id) { space in
                    Text(space.name)
                        .accessibilityLabel("\(state.t(space.kind == .enterprise ? .spaceEnterprise : .spacePersonal)), \(space.name)")
                        .tag(space.id)
                }
            } label: {
                Text(state.t(.spacePersonal) + " / " + state.t(.spaceEnterprise))
            }
            .pickerStyle(.segmented)
            .accessibilityLabel(state.t(.spacePersonal) + " / " + state.t(.spaceEnterprise))
        }
    }
}
