import Satchel
import SatchelDemoModel
import SwiftUI

/// The first screen: create a personal or an enterprise space, join a
/// space from another device, or import a space file.
struct OnboardingScreen: View {
    let session: SatchelSession
    @EnvironmentObject private var state: AppState

    var body: some View {
        NavigationStack {
            Form {
                CreateSpaceForm(session: session, settings: state.settings, kinds: [.personal, .enterprise])
                Section {
                    NavigationLink {
                        JoinSpaceView(session: session, settings: state.settings)
                    } label: {
                        SwiftUI.Label(state.t(.joinFromDevice), systemImage: "qrcode.viewfinder").font(.body)
                    }
                    .accessibilityLabel(state.t(.joinFromDevice))
                    NavigationLink {
                        ImportSpaceView(session: session)
                    } label: {
                        SwiftUI.Label(state.t(.importSpace), systemImage: "square.and.arrow.down").font(.body)
                    }
                    .accessibilityLabel(state.t(.importSpace))
                }
            }
            .navigationTitle(state.t(.onboardingTitle))
        }
    }
}

/// A name, a kind (when there is a choice) and "Create": the space is made,
/// registered with the server, and shown.
struct CreateSpaceForm: View {
    let kinds: [SpaceKind]
    @StateObject private var model: OnboardingViewModel
    @EnvironmentObject private var state: AppState
    @State private var name = ""
    @State private var kind: SpaceKind

    init(session: SatchelSession, settings: DisplaySettings, kinds: [SpaceKind]) {
        self.kinds = kinds
        _kind = State(initialValue: kinds.first ?? .personal)
        _model = StateObject(wrappedValue: OnboardingViewModel(session: session, settings: settings))
    }

    var body: some View {
        Section {
            TextField(state.t(.onboardingName), text: $name)
                .font(.body)
                .textContentType(.name)
                .submitLabel(.done)
                .accessibilityLabel(state.t(.onboardingName))
            if kinds.count > 1 {
                Picker(kinds.map(kindText).joined(separator: " / "), selection: $kind) {
                    ForEach(kinds, id: \.self) { kind in
                        Text(kindText(kind)).tag(kind)
                    }
                }
                .pickerStyle(.segmented)
                .accessibilityLabel(kinds.map(kindText).joined(separator: " / "))
            }
            Button(state.t(.create)) {
                Task { await model.create(name: name, kind: kind) }
            }
            .primaryAction()
            .disabled(model.state == .creating)
            .accessibilityLabel(state.t(.create) + " " + kindText(kind))
            switch model.state {
            case .creating:
                WorkingNote()
            case .nameMissing:
                FailureNote(reason: state.t(.onboardingNameMissing))
            case let .failed(reason):
                FailureNote(reason: reason)
            case .empty, .ready:
                EmptyView()
            }
        }
        .onChange(of: model.state) { _, created in
            if case let .ready(spaceId) = created {
                Task { await state.reloadSpaces(select: spaceId) }
            }
        }
    }

    private func kindText(_ kind: SpaceKind) -> String {
        state.t(kind == .enterprise ? .spaceEnterprise : .spacePersonal)
    }
}
