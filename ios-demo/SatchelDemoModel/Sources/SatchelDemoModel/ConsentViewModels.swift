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
    public let used: UInt32
    public let maxUses: UInt32
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

    /// Reloads the list.
    public func refresh() async throws {
        let lang = settings.language
        items = try await session.wallet.authorizations(spaceId: spaceId).map {
            AuthorizationView(id: $0.id, relyingParty: $0.rpName ?? $0.clientId, purpose: Words.purpose($0.purpose, lang),
                              state: $0.state, stateText: Words.authorizationState($0.state, lang),
                              usesText: Words.uses($0.uses, $0.maxUses, lang), used: $0.uses, maxUses: $0.maxUses)
        }
    }

    /// Keeps the list fresh while the calling task lives (an authorisation
    /// granted, used, withdrawn or expired, here or on another device).
    public func follow() async {
        for await change in session.wallet.changes() {
            switch change {
            case .authorizationChanged, .synced: try? await refresh()
            default: continue
            }
        }
    }

    /// Withdraws in one tap and publishes it, so the relying party's next
    /// use is refused; returns where the status list is published.
    @discardableResult
    public func withdraw(_ id: String) async throws -> String {
        _ = try await session.wallet.withdraw(authorizationId: id)
        let uri = try await session.wallet.publishStatusList(spaceId: spaceId, server: session.server)
        try await refresh()
        return uri
    }
}

/// One step of "where did my data go".
public struct TimelineEntry: Identifiable, Equatable, Sendable {
    public let id: String
    public let time: Int64
    /// The moment in words.
    public let timeText: String
    public let what: String
    public let who: [String]
}

/// "Where did my data go": a credential's provenance timeline.
@MainActor
public final class TraceViewModel: ObservableObject {
    @Published public private(set) var entries: [TimelineEntry] = []
    /// The same as W3C PROV-JSON, to share (after ``load(credentialId:)``).
    @Published public private(set) var provJson: String?
    private let session: SatchelSession
    private let settings: DisplaySettings

    public init(session: SatchelSession, settings: DisplaySettings) {
        self.session = session
        self.settings = settings
    }

    /// Loads the timeline and its PROV-JSON.
    public func load(credentialId: String) async throws {
        let lang = settings.language
        entries = try await session.wallet.trace(credentialId: credentialId).map {
            TimelineEntry(id: $0.id, time: $0.time, timeText: Words.moment($0.time, lang), what: Words.activity($0.activity, lang),
                          who: $0.agents.map { $0.name ?? $0.id })
        }
        provJson = try await session.wallet.traceProvJson(credentialId: credentialId)
    }
}

/// What the consent log screen shows.
public struct ConsentLogView: Equatable, Sendable {
    /// Records verified here (0 when the log does not verify).
    public let records: UInt32
    public let verified: Bool
    /// Records covered by the latest anchored checkpoint, if any.
    public let anchoredRecords: UInt32?
    public let checkpointSize: UInt64?
}

/// The consent log: verified, with the latest anchored checkpoint.
@MainActor
public final class ConsentLogViewModel: ObservableObject {
    @Published public private(set) var view: ConsentLogView?
    private let session: SatchelSession
    private let spaceId: String

    public init(session: SatchelSession, spaceId: String) {
        self.session = session
        self.spaceId = spaceId
    }

    /// Verifies every record and chain here; a log that does not verify is
    /// shown as such, not as an error.
    @discardableResult
    public func verify() async -> ConsentLogView {
        let records: UInt32? = try? await session.wallet.verifyConsentLog(spaceId: spaceId)
        let next = ConsentLogView(records: records ?? 0, verified: records != nil,
                                  anchoredRecords: view?.anchoredRecords, checkpointSize: view?.checkpointSize)
        view = next
        return next
    }

    /// Verifies here, then checks the anchors already made (on any device
    /// of the space) against the log's latest checkpoint under the pinned
    /// log key. Throws when the log cannot be reached or an anchor does not
    /// hold, after showing the local verification.
    public func load() async throws {
        let local = await verify()
        let report = try await session.wallet.verifyAnchors(spaceId: spaceId, server: session.server, logKey: try await session.logKey())
        guard report.anchoredTotal > 0 else {
            // Never anchored: nothing to check yet.
            view = ConsentLogView(records: local.records, verified: local.verified, anchoredRecords: nil, checkpointSize: nil)
            return
        }
        view = ConsentLogView(records: local.records, verified: local.verified,
                              anchoredRecords: report.anchoredTotal, checkpointSize: report.checkpointSize)
    }

    /// Anchors the log in the server's transparency log under the pinned
    /// log key (``SatchelSession/logKey(pins:)``), or under `logKey`.
    @discardableResult
    public func anchor(logKey: String? = nil) async throws -> ConsentLogView {
        let key: String
        if let logKey { key = logKey } else { key = try await session.logKey() }
        let report = try await session.wallet.anchorConsentLog(spaceId: spaceId, server: session.server, logKey: key)
        let records = try await session.wallet.verifyConsentLog(spaceId: spaceId)
        let next = ConsentLogView(records: records, verified: true, anchoredRecords: report.anchoredTotal, checkpointSize: report.checkpointSize)
        view = next
        return next
    }
}
