import Satchel
import SatchelDemoModel
import SwiftUI
import UniformTypeIdentifiers

/// A space as one sealed file, for `.fileExporter` / `.fileImporter`.
struct SpaceFile: FileDocument {
    static let readableContentTypes: [UTType] = [.data]
    let data: Data

    init(data: Data) {
        self.data = data
    }

    init(configuration: ReadConfiguration) throws {
        data = configuration.file.regularFileContents ?? Data()
    }

    func fileWrapper(configuration: WriteConfiguration) throws -> FileWrapper {
        FileWrapper(regularFileWithContents: data)
    }
}

/// Export the space: a passphrase (12 characters or more), then the sealed
/// file is saved where the person chooses.
struct ExportView: View {
    let space: Space
    @StateObject private var model: ExportViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @State private var passphrase = ""
    @State private var file: SpaceFile?
    @State private var saving = false
    @State private var exported: Int?

    init(session: SatchelSession, space: Space) {
        self.space = space
        _model = StateObject(wrappedValue: ExportViewModel(session: session))
    }

    var body: some View {
        Form {
            Section {
                Text(state.t(.exportExplain)).font(.body)
                SecureField(state.t(.passphrase), text: $passphrase)
                    .font(.body)
                    .textContentType(.newPassword)
                    .accessibilityLabel(state.t(.passphrase))
                Button(state.t(.export)) {
                    activity.run(state.settings.language) {
                        let sealed = try await model.export(spaceId: space.id, passphrase: passphrase)
                        file = SpaceFile(data: sealed)
                        saving = true
                    }
                }
                .primaryAction()
                .disabled(activity.busy)
                .accessibilityLabel(state.t(.export))
                if let exported { DoneNote(text: state.t(.exported, exported)) }
                ActivityNotes(activity: activity)
            }
        }
        .navigationTitle(state.t(.exportTitle))
        .fileExporter(isPresented: $saving, document: file, contentType: .data, defaultFilename: "\(space.name).satchel") { result in
            switch result {
            case .success:
                exported = file?.data.count
                passphrase = ""
            case let .failure(error):
                activity.failure = Words.reason(error, state.settings.language)
            }
        }
    }
}

/// Import a space file: choose it, give its passphrase, open it here (a
/// file larger than any export is refused before it is read whole).
struct ImportSpaceView: View {
    @StateObject private var model: ExportViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @State private var choosing = false
    @State private var file: URL?
    @State private var passphrase = ""
    @State private var imported: ImportReport?

    init(session: SatchelSession) {
        _model = StateObject(wrappedValue: ExportViewModel(session: session))
    }

    var body: some View {
        Form {
            Section {
                if let file {
                    Text(file.lastPathComponent).font(.body)
                    SecureField(state.t(.passphrase), text: $passphrase)
                        .font(.body)
                        .textContentType(.password)
                        .accessibilityLabel(state.t(.passphrase))
                    Button(state.t(.next)) { open(file) }
                        .primaryAction()
                        .disabled(activity.busy || passphrase.isEmpty)
                        .accessibilityLabel(state.t(.next))
                } else {
                    Button {
                        choosing = true
                    } label: {
                        SwiftUI.Label(state.t(.importSpace), systemImage: "doc.badge.plus").frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .accessibilityLabel(state.t(.importSpace))
                }
                if let imported { DoneNote(text: state.t(.imported, imported.space.name)) }
                ActivityNotes(activity: activity)
            }
        }
        .navigationTitle(state.t(.importSpace))
        .fileImporter(isPresented: $choosing, allowedContentTypes: [.data]) { result in
            switch result {
            case let .success(url):
                file = url
            case let .failure(error):
                activity.failure = Words.reason(error, state.settings.language)
            }
        }
    }

    private func open(_ url: URL) {
        activity.run(state.settings.language) {
            // A picked file outside the app's container is readable only inside this bracket.
            let scoped = url.startAccessingSecurityScopedResource()
            defer { if scoped { url.stopAccessingSecurityScopedResource() } }
            let report = try await model.importSpace(from: url, passphrase: passphrase)
            imported = report
            await state.reloadSpaces(select: report.space.id)
        }
    }
}
