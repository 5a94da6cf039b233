import Satchel
import SatchelDemoModel
import SwiftUI

/// Settings: the language (中文 / English), elder mode, the server address,
/// and whether this phone keeps the keys in secure hardware.
struct SettingsScreen: View {
    @EnvironmentObject private var state: AppState

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    Picker(state.t(.settingsLanguage), selection: $state.settings.language) {
                        ForEach(Language.allCases, id: \.self) { lang in
                            Text(Words.languageName(lang)).tag(lang)
                        }
                    }
                    .pickerStyle(.segmented)
                    .accessibilityLabel(state.t(.settingsLanguage))
                    Toggle(isOn: $state.settings.elderMode) {
                        Text(state.t(.settingsElder)).font(.body)
                    }
                    .accessibilityLabel(state.t(.settingsElder))
                    .accessibilityValue(state.t(state.settings.elderMode ? .fieldOn : .fieldOff))
                } header: {
                    Text(state.t(.settingsLanguage))
                }
                Section(state.t(.settingsServer)) {
                    ServerAddressField()
                }
                Section {
                    switch state.hardwareBacked {
                    case .some(true):
                        StatusBadge(text: state.t(.settingsHardware), systemImage: "lock.shield.fill", tint: .green)
                    case .some(false):
                        StatusBadge(text: state.t(.settingsSoftware), systemImage: "lock.open.fill", tint: .orange)
                    case .none:
                        WorkingNote()
                    }
                } footer: {
                    Text(state.t(.appName))
                }
            }
            .navigationTitle(state.t(.tabSettings))
        }
    }
}

/// The server address and "Save" (the session reconnects). Also offered
/// when opening failed, so a mistyped address can be put right.
struct ServerAddressField: View {
    @EnvironmentObject private var state: AppState
    @StateObject private var activity = Activity()
    @State private var server = ""

    var body: some View {
        TextField(AppState.defaultServer, text: $server)
            .font(.body.monospaced())
            .keyboardType(.URL)
            .textInputAutocapitalization(.never)
            .autocorrectionDisabled()
            .accessibilityLabel(state.t(.settingsServer))
            .onAppear { server = state.serverUrl }
        Button(state.t(.save)) {
            activity.run(state.settings.language) { try await state.changeServer(server) }
        }
        .disabled(server == state.serverUrl || activity.busy)
        .accessibilityLabel(state.t(.save) + " " + state.t(.settingsServer))
        ActivityNotes(activity: activity)
    }
}
