import Foundation
import Satchel
import SatchelDemoModel
import SwiftUI

/// The app's own state: the session (opened once, reopened when the server
/// address changes), the settings the person chose, the spaces, which tab
/// and which space the screens show, and the sheet on top (a scanner or a
/// link being handled). Screens read it from the environment.
@MainActor
final class AppState: ObservableObject {
    /// Where opening the session stands.
    enum Phase {
        case opening
        case failed(String)
        case ready(SatchelSession)
    }

    /// The tabs, in order.
    enum Tab: Hashable {
        case wallet, authorizations, log, devices, enterprise, settings
    }

    /// What is shown over the tabs.
    enum Sheet: Identifiable {
        /// The camera, titled with the label; what it reads is routed as an ``IncomingLink``.
        case scan(Label)
        /// A scanned code or an opened link.
        case link(IncomingLink)

        var id: String {
            switch self {
            case let .scan(label): return "scan-\(label)"
            case let .link(link): return "link-\(link)"
            }
        }
    }

    static let defaultServer = "http://127.0.0.1:8480"

    @Published private(set) var phase: Phase = .opening
    @Published private(set) var spaces: [Space] = []
    @Published var selectedSpaceId: String?
    @Published var tab: Tab = .wallet
    @Published var sheet: Sheet?
    /// A scan or link the app could not read, in words.
    @Published var linkFailure: String?
    @Published private(set) var serverUrl: String
    /// Whether the device key lives in the Secure Enclave (nil until known).
    @Published private(set) var hardwareBacked: Bool?
    @Published var settings: DisplaySettings {
        didSet { settingsChanged() }
    }

    let keyStore: SecureEnclaveKeyStore
    private let defaults: UserDefaults
    private var opening: Task<SatchelSession?, Never>?

    init(defaults: UserDefaults = .standard) {
        self.defaults = defaults
        let language: Language = defaults.string(forKey: Keys.language) == "en" ? .en : .zh
        let settings = DisplaySettings(language: language, elderMode: defaults.bool(forKey: Keys.elderMode))
        self.settings = settings
        serverUrl = defaults.string(forKey: Keys.server) ?? Self.defaultServer
        keyStore = SecureEnclaveKeyStore(promptReason: Label.biometricSubtitle.text(settings.language))
    }

    private enum Keys {
        static let language = "settings.language"
        static let elderMode = "settings.elderMode"
        static let server = "settings.server"
        static let deviceId = "satchel.deviceId"
    }

    /// A label in the chosen language.
    func t(_ label: Label, _ args: CVarArg...) -> String { label.text(settings.language, arguments: args) }

    /// The space the screens show.
    var currentSpace: Space? { spaces.first { $0.id == selectedSpaceId } ?? spaces.first }

    /// The space of a kind, if this wallet holds one.
    func space(_ kind: SpaceKind) -> Space? { spaces.first { $0.kind == kind } }

    /// Rebuilds the screens (and their view models) when the language, the
    /// elder mode or the space changes.
    var screenKey: String { "\(settings.language)-\(settings.elderMode)-\(currentSpace?.id ?? "")" }

    /// This installation's device id, made once.
    private var deviceId: String {
        if let id = defaults.string(forKey: Keys.deviceId) { return id }
        let id = "ios-" + UUID().uuidString.lowercased()
        defaults.set(id, forKey: Keys.deviceId)
        return id
    }

    /// The open session, opening it if needed (the screens at launch and
    /// the background sync both come here; they share one opening).
    func open() async -> SatchelSession? {
        if case let .ready(session) = phase { return session }
        if let opening { return await opening.value }
        let task = Task { await self.openNow() }
        opening = task
        let session = await task.value
        opening = nil
        return session
    }

    private func openNow() async -> SatchelSession? {
        phase = .opening
        do {
            let session = try await SatchelDemoApp.openSession(serverUrl: serverUrl, keyStore: keyStore, deviceId: deviceId)
            spaces = try await session.spaces()
            selectedSpaceId = (space(.personal) ?? spaces.first)?.id
            hardwareBacked = try? await keyStore.isHardwareBacked(alias: SatchelSession.deviceKeyAlias)
            phase = .ready(session)
            return session
        } catch {
            phase = .failed(Words.reason(error, settings.language))
            return nil
        }
    }

    /// Tries again after a failed opening.
    func reopen() async {
        phase = .opening
        _ = await open()
    }

    /// Connects to another server: the session is opened again on the same wallet.
    func changeServer(_ url: String) async throws {
        let trimmed = url.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let parsed = URL(string: trimmed), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", parsed.host != nil
        else { throw SatchelError.InvalidInput(message: "not an http(s) address") }
        serverUrl = trimmed
        defaults.set(trimmed, forKey: Keys.server)
        phase = .opening
        _ = await open()
    }

    /// Reads the spaces again, selecting `select` when given.
    func reloadSpaces(select: String? = nil) async {
        guard case let .ready(session) = phase else { return }
        do {
            spaces = try await session.spaces()
            if let select { selectedSpaceId = select }
            if currentSpace?.id != selectedSpaceId { selectedSpaceId = currentSpace?.id }
        } catch {
            linkFailure = Words.reason(error, settings.language)
        }
    }

    /// Routes a scanned code or an opened link.
    func handle(link text: String) {
        do {
            let link = try IncomingLink(text)
            linkFailure = nil
            sheet = .link(link)
        } catch {
            sheet = nil
            linkFailure = Words.reason(error, settings.language)
        }
    }

    private func settingsChanged() {
        defaults.set(settings.language == .en ? "en" : "zh", forKey: Keys.language)
        defaults.set(settings.elderMode, forKey: Keys.elderMode)
        keyStore.setPromptReason(Label.biometricSubtitle.text(settings.language))
    }
}
