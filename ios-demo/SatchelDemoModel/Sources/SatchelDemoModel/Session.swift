import Foundation
import Satchel

/// One installation's Satchel: the wallet, its server connection (device key
/// in the Secure Enclave), and the server's signed registry.
public final class SatchelSession: @unchecked Sendable {
    public static let deviceKeyAlias = "satchel.device"
    public let wallet: Wallet
    public let server: SatchelServer
    public let serverUrl: String
    let transport: HttpTransport?
    private var cached: TrustRegistry?
    private let lock = NSLock()

    init(wallet: Wallet, server: SatchelServer, serverUrl: String, transport: HttpTransport?) {
        self.wallet = wallet
        self.server = server
        self.serverUrl = serverUrl
        self.transport = transport
    }

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
}
