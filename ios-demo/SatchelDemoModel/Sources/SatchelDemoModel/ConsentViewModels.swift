import Foundation
import Satchel

/// One authorisation on the authorisations screen.
public struct AuthorizationView: Identifiable, Equatable, Sendable {
    public let id: String
    public let relyingParty: String
    public let purpose: String
    public let state: AuthorizationState
    public let stateText: String
    public let usesText: String
}

/// Authorisations: active, used (n of m), withdrawn; withdraw in one tap.
@MainActor
public final class AuthorizationsViewModel: ObservableObject {
    @Published public private(set) var items: [AuthorizationView] = []
    private let session: SatchelSession
    private let spaceId: String
    private let settings: DisplaySettings

    public init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.session = session
        self.spaceId = spaceId
        self.settings = settings
    }

    public func refresh() async throws {
        let lang = settings.language
        items = try await session.wallet.authorizations(spaceId: spaceId).map {
            AuthorizationView(id: $0.id, relyingParty: $0.rpName ?? $0.clientId, purpose: Words.purpose($0.purpose, lang),
                              state: $0.state, stateText: Words.authorizationState($0.state, lang),
                              usesText: Words.uses($0.uses, $0.maxUses, lang))
        }
    }

    /// Withdraws and publishes at once: the relying party's next use is refused.
    public func withdraw(_ id: String) async throws {
        _ = try await session.wallet.withdraw(authorizationId: id)
        _ = try await session.wallet.publishStatusList(spaceId: spaceId, server: session.server)
        try await refresh()
    }
}

/// "Where did my data go": a credential's provenance timeline.
@MainActor
public final class TraceViewModel: ObservableObject {
    public struct Entry: Equatable, Sendable {
        public let time: Int64
        public let what: String
        public let who: [String]
    }

    @Published public private(set) var entries: [Entry] = []
    private let session: SatchelSession
    private let settings: DisplaySettings

    public init(session: SatchelSession, settings: DisplaySettings) {
        self.session = session
        self.settings = settings
    }

    public func load(credentialId: String) async throws {
        entries = try await session.wallet.trace(credentialId: credentialId).map {
            Entry(time: $0.time, what: Words.activity($0.activity, settings.language), who: $0.agents.map { $0.name ?? $0.id })
        }
    }
}

/// The consent log: verified, with the latest anchored checkpoint.
@MainActor
public final class ConsentLogViewModel: ObservableObject {
    @Published public private(set) var records: UInt32 = 0
    @Published public private(set) var anchoredRecords: UInt32?
    private let session: SatchelSession
    private let spaceId: String

    public init(session: SatchelSession, spaceId: String) {
        self.session = session
        self.spaceId = spaceId
    }

    public func verify() async throws { records = try await session.wallet.verifyConsentLog(spaceId: spaceId) }

    public func anchor(logKey: String) async throws {
        let report = try await session.wallet.anchorConsentLog(spaceId: spaceId, server: session.server, logKey: logKey)
        anchoredRecords = report.anchoredTotal
        try await verify()
    }
}

/// Devices: enrol a new device (QR + code), remove one, sync with progress
/// (BGTaskScheduler runs `sync`); export the space.
@MainActor
public final class DevicesViewModel: ObservableObject {
    public enum Enrolment: Equatable {
        case idle, showing(uri: String), compare(spaceName: String, code: String), approved(code: String), joined(spaceId: String), failed(String)
    }

    @Published public private(set) var enrolment: Enrolment = .idle
    @Published public private(set) var progress: SyncProgress?
    private let session: SatchelSession

    public init(session: SatchelSession) { self.session = session }

    private func step(_ f: () async throws -> Enrolment) async {
        do { enrolment = try await f() } catch { enrolment = .failed(error.localizedDescription) }
    }

    public func request() async { await step { .showing(uri: try await session.wallet.requestEnrolment(server: session.server)) } }

    public func approve(spaceId: String, scanned: String) async {
        await step { .approved(code: try await session.wallet.approveEnrolment(spaceId: spaceId, requestUri: scanned, server: session.server)) }
    }

    public func check() async {
        await step {
            let offer = try await session.wallet.enrolmentOffer(server: session.server)
            return .compare(spaceName: offer.spaceName, code: offer.code)
        }
    }

    public func confirm(code: String) async {
        await step {
            let space = try await session.wallet.completeEnrolment(server: session.server, confirmedCode: code)
            _ = try await sync(spaceId: space.id)
            return .joined(spaceId: space.id)
        }
    }

    public func sync(spaceId: String) async throws -> SyncReport {
        final class Listener: SyncListener, @unchecked Sendable {
            let report: (SyncProgress) -> Void
            init(_ report: @escaping (SyncProgress) -> Void) { self.report = report }
            func onProgress(progress: SyncProgress) { report(progress) }
        }
        return try await session.wallet.sync(spaceId: spaceId, server: session.server, listener: Listener { p in
            Task { @MainActor in self.progress = p }
        })
    }

    public func remove(spaceId: String, deviceId: String) async throws {
        try await session.wallet.removeDevice(spaceId: spaceId, deviceId: deviceId, server: session.server)
    }

    public func export(spaceId: String, passphrase: String) async throws -> Data {
        try await session.wallet.exportSpace(spaceId: spaceId, passphrase: passphrase)
    }
}

/// Enterprise: members, delegating an agent for a purpose and a period.
@MainActor
public final class EnterpriseViewModel: ObservableObject {
    @Published public private(set) var members: [Member] = []
    private let session: SatchelSession
    private let spaceId: String

    public init(session: SatchelSession, spaceId: String) {
        self.session = session
        self.spaceId = spaceId
    }

    public func refresh() async throws { members = try await session.wallet.members(spaceId: spaceId) }

    public func addMember(name: String, role: MemberRole, jwk: String) async throws -> Member {
        let m = try await session.wallet.addMember(spaceId: spaceId, name: name, role: role, jwk: jwk)
        try await refresh()
        return m
    }

    public func delegate(memberId: String, types: [String], purpose: String, audience: String, days: Int64) async throws -> Delegation {
        let now = Int64(Date().timeIntervalSince1970)
        return try await session.wallet.delegate(spaceId: spaceId, memberId: memberId,
                                                 scope: DelegationScope(credentialTypes: types, purposes: [purpose], audiences: [audience], notBefore: now, notAfter: now + days * 86_400))
    }
}
