import Foundation
import Satchel

/// One installation's Satchel: the wallet on this device, its connection to
/// the server (device key in the Secure Enclave), and the registry it
/// trusts. The app builds it once and hands it to the view models.
public final class SatchelSession: @unchecked Sendable {
    /// Key store alias of this installation's device key.
    public static let deviceKeyAlias = "satchel.device"
    public let wallet: Wallet
    public let server: SatchelServer
    public let serverUrl: String
    /// The transport the app passed, if any (nil: the built-in HTTPS stack).
    public let transport: HttpTransport?
    private var cached: TrustRegistry?
    private let lock = NSLock()

    init(wallet: Wallet, server: SatchelServer, serverUrl: String, transport: HttpTransport?) {
        self.wallet = wallet
        self.server = server
        self.serverUrl = serverUrl
        self.transport = transport
    }

    /// Opens the wallet at `path` and connects to `serverUrl` as `deviceId`.
    public static func open(path: String, keyStore: PlatformKeyStore, serverUrl: String, deviceId: String, transport: HttpTransport? = nil) async throws -> SatchelSession {
        let wallet = try await Wallet.open(path: path, keyStore: keyStore)
        let server = try await SatchelServer.connect(baseUrl: serverUrl, deviceId: deviceId, deviceKeyAlias: deviceKeyAlias, keyStore: keyStore, transport: transport)
        return SatchelSession(wallet: wallet, server: server, serverUrl: serverUrl, transport: transport)
    }

    /// The server's signed registry (fetched once unless `refresh`).
    public func registry(refresh: Bool = false) async throws -> TrustRegistry {
        if !refresh, let r = lock.withLock({ cached }) { return r }
        let fetched = try await TrustRegistry.fetch(serverUrl: serverUrl, operatorJwk: nil, transport: transport)
        lock.withLock { cached = fetched }
        return fetched
    }

    /// Every space this wallet holds.
    public func spaces() async throws -> [Space] { try await wallet.spaces() }

    /// The first space of a kind, if any: the apps hold one of each.
    public func space(kind: SpaceKind) async throws -> Space? {
        try await wallet.spaces().first { $0.kind == kind }
    }

    /// The transparency log's verifier key, pinned on first use: the key
    /// the server announced the first time is kept (per server address) and
    /// used from then on, so a server that later swaps its log key cannot
    /// make old anchors look fine. `pins` is where the pin lives.
    public func logKey(pins: UserDefaults = .standard) async throws -> String {
        let name = "satchel.logKey." + serverUrl
        if let pinned = pins.string(forKey: name) { return pinned }
        let announced = try await server.logKey()
        pins.set(announced, forKey: name)
        return announced
    }
}
