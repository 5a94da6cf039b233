import Foundation
import Satchel
import SatchelDemoModel
import SwiftUI

/// The Satchel demo app: a citizen's and a business's digital space on the
/// phone. Launch registers the background sync, opens the session, and
/// routes the links the app is registered for:
/// `openid-credential-offer://` (receive a credential),
/// `openid4vp://` (review a request) and `satchel-enrol:` (approve a new
/// device of a space).
@main
struct SatchelDemoApp: App {
    @StateObject private var state: AppState
    @Environment(\.scenePhase) private var scenePhase

    init() {
        let state = AppState()
        // BGTaskScheduler wants its handlers before launch finishes.
        BackgroundSync.register(state)
        _state = StateObject(wrappedValue: state)
    }

    var body: some Scene {
        WindowGroup {
            RootView()
                .environmentObject(state)
                .modifier(ElderScaled(scale: state.settings.typeScale))
                .environment(\.locale, Locale(identifier: state.settings.language == .zh ? "zh-Hans" : "en"))
                .task { _ = await state.open() }
                .onOpenURL { url in state.handle(link: url.absoluteString) }
        }
        .onChange(of: scenePhase) { _, phase in
            if phase == .background { BackgroundSync.schedule() }
        }
    }

    /// Opens the wallet and connects to `serverUrl`. The wallet's database
    /// lives in Application Support under file protection `.complete` (it
    /// cannot be read while the phone is locked) and out of backups: its
    /// data key is wrapped by a Secure Enclave key that never leaves this
    /// phone, so a restored copy could not be opened anyway — moving a space
    /// is what export and device enrolment are for.
    static func openSession(serverUrl: String, keyStore: PlatformKeyStore, deviceId: String) async throws -> SatchelSession {
        let path = try walletPath()
        // Satchel's own HTTPS stack; plain http only when the person typed an
        // http:// address (a test server on the local network: loopback
        // needs no permission).
        let plain = serverUrl.lowercased().hasPrefix("http://")
        let transport = try httpsTransport(settings: NetworkSettings(allowPlainHttp: plain))
        return try await SatchelSession.open(path: path, keyStore: keyStore, serverUrl: serverUrl, deviceId: deviceId, transport: transport)
    }

    private static func walletPath() throws -> String {
        let files = FileManager.default
        let support = try files.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
        var directory = support.appendingPathComponent("Satchel", isDirectory: true)
        let protection: [FileAttributeKey: Any] = [.protectionKey: FileProtectionType.complete]
        try files.createDirectory(at: directory, withIntermediateDirectories: true, attributes: protection)
        // Files SQLite creates later (the WAL, the shared memory) inherit the directory's class.
        try files.setAttributes(protection, ofItemAtPath: directory.path)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try directory.setResourceValues(values)
        let database = directory.appendingPathComponent("wallet.db")
        for suffix in ["", "-wal", "-shm"] where files.fileExists(atPath: database.path + suffix) {
            try files.setAttributes(protection, ofItemAtPath: database.path + suffix)
        }
        return database.path
    }
}
