import Foundation
import Satchel

/// Onboarding: create a personal or an enterprise space and register it.
@MainActor
public final class OnboardingViewModel: ObservableObject {
    public enum State: Equatable {
        case empty, creating, ready(spaceId: String), failed(String)
    }

    @Published public private(set) var state: State = .empty
    private let session: SatchelSession

    public init(session: SatchelSession) { self.session = session }

    public func create(name: String, kind: SpaceKind) async {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { state = .failed("name"); return }
        state = .creating
        do {
            let space = try await session.wallet.createSpace(name: trimmed, kind: kind)
            try await session.wallet.setStatusBase(base: session.serverUrl + "/status")
            try await session.server.registerSpace(wallet: session.wallet, spaceId: space.id)
            state = .ready(spaceId: space.id)
        } catch {
            state = .failed(error.localizedDescription)
        }
    }
}

/// One card on the wallet screen.
public struct CardView: Identifiable, Equatable, Sendable {
    public let id: String
    public let title: String
    public let issuer: String
    public let status: CredentialStatus
    public let statusText: String
    public let expiresAt: Int64?
    public let label: String?

    /// What VoiceOver reads.
    public func accessibilityLabel(_ lang: Language) -> String {
        lang == .zh ? "\(title)，\(issuer) 签发，\(statusText)" : "\(title), issued by \(issuer), \(statusText)"
    }
}

/// The wallet screen (a card per credential) and receiving by scanning an offer.
@MainActor
public final class WalletViewModel: ObservableObject {
    @Published public private(set) var cards: [CardView] = []
    @Published public private(set) var error: String?
    private let session: SatchelSession
    private let spaceId: String
    private let settings: DisplaySettings

    public init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.session = session
        self.spaceId = spaceId
        self.settings = settings
    }

    public func refresh() async throws {
        let filter = CredentialFilter(vct: nil, issuer: nil, status: nil, expiresBefore: nil)
        cards = try await session.wallet.credentials(spaceId: spaceId, filter: filter).map(view)
    }

    /// Receives the credential behind a scanned `openid-credential-offer://`.
    @discardableResult
    public func receive(offer: String) async -> CardView? {
        do {
            let c = try await session.wallet.receiveCredential(spaceId: spaceId, offer: offer, registry: try await session.registry(), transport: session.transport)
            try await refresh()
            error = nil
            return view(c)
        } catch {
            self.error = error.localizedDescription
            return nil
        }
    }

    public func label(id: String, label: String?) async throws {
        _ = try await session.wallet.setLabel(credentialId: id, label: label?.isEmpty == true ? nil : label)
        try await refresh()
    }

    private func view(_ c: Credential) -> CardView {
        CardView(id: c.id, title: Words.credentialType(c.vct, settings.language), issuer: c.issuer ?? "",
                 status: c.status, statusText: Words.status(c.status, settings.language), expiresAt: c.expiresAt, label: c.label)
    }
}

/// One field the relying party asks for, with its own switch.
public struct FieldChoice: Equatable, Sendable {
    public let queryId: String
    public let path: String
    public let label: String
    public let required: Bool
    public let sensitive: Bool
    public var on: Bool
    public var separatelyConsented: Bool
}

/// What the review screen shows.
public struct ReviewState: Equatable, Sendable {
    public let request: String
    public let relyingParty: String
    public let trusted: Bool
    public let purpose: String
    public let maxUses: UInt32
    public var fields: [FieldChoice]
    public let credentials: [String: String]
    public let sensitive: Bool
    public let thirdParty: Bool
    public let crossBorder: Bool
    public let responseUri: String
    public let missing: [String]

    /// Every required field on, every sensitive field consented separately.
    public var canApprove: Bool {
        missing.isEmpty && fields.filter(\.required).allSatisfy(\.on)
            && fields.filter(\.on).allSatisfy { !$0.sensitive || $0.separatelyConsented }
    }
}

/// Review a request; approve after Face ID / Touch ID (the Secure Enclave
/// key store asks when the authorisation is signed) or refuse.
@MainActor
public final class ReviewViewModel: ObservableObject {
    @Published public private(set) var state: ReviewState?
    private let session: SatchelSession
    private let spaceId: String
    private let settings: DisplaySettings

    public init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.session = session
        self.spaceId = spaceId
        self.settings = settings
    }

    /// Loads what was scanned (`openid4vp://…` or the request object).
    public func load(scanned: String) async throws {
        let request = try await fetchRequest(scanned: scanned, transport: session.transport)
        let r = try await session.wallet.reviewRequest(spaceId: spaceId, request: request, registry: try await session.registry(refresh: true))
        let lang = settings.language
        var fields: [FieldChoice] = []
        var credentials: [String: String] = [:]
        for m in r.matches {
            for p in m.required {
                fields.append(FieldChoice(queryId: m.queryId, path: p, label: Words.claim(p, lang), required: true,
                                          sensitive: Words.isSensitive(p), on: !Words.isSensitive(p), separatelyConsented: false))
            }
            for p in m.optional {
                fields.append(FieldChoice(queryId: m.queryId, path: p, label: Words.claim(p, lang), required: false,
                                          sensitive: Words.isSensitive(p), on: false, separatelyConsented: false))
            }
            if let c = m.candidates.first(where: { $0.missing.isEmpty }) { credentials[m.queryId] = c.credentialId }
        }
        state = ReviewState(
            request: request, relyingParty: r.rpName ?? r.controllerName, trusted: r.trust == .trusted,
            purpose: Words.purpose(r.purpose, lang), maxUses: r.maxUses, fields: fields, credentials: credentials,
            sensitive: r.sensitive, thirdParty: r.thirdParty, crossBorder: r.crossBorder, responseUri: r.responseUri,
            missing: r.matches.map(\.queryId).filter { credentials[$0] == nil })
    }

    public func toggle(_ path: String) { edit(path) { $0.on.toggle() } }

    /// The separate consent a sensitive field needs (PIPL art. 29).
    public func consentSeparately(_ path: String) { edit(path) { $0.on = true; $0.separatelyConsented = true } }

    private func edit(_ path: String, _ f: (inout FieldChoice) -> Void) {
        guard var s = state else { return }
        s.fields = s.fields.map { field in
            var copy = field
            if copy.path == path { f(&copy) }
            return copy
        }
        state = s
    }

    /// Approves what is on, posts the response; `acceptUntrusted` only after
    /// the person saw the warning.
    public func approve(acceptUntrusted: Bool = false) async throws -> Approved {
        guard let s = state, s.canApprove else { throw ReviewError.notReady }
        let grouped = Dictionary(grouping: s.fields.filter(\.on), by: \.queryId)
        let selections = grouped.compactMap { query, fields -> Selection? in
            guard let credential = s.credentials[query] else { return nil }
            return Selection(queryId: query, credentialId: credential, claims: fields.map(\.path))
        }
        let approved = try await session.wallet.approve(
            spaceId: spaceId, request: s.request, registry: try await session.registry(),
            choice: ApprovalChoice(selections: selections, maxUses: nil, notAfter: nil, acceptUntrusted: acceptUntrusted))
        try await postResponse(responseUri: s.responseUri, responseJson: approved.responseJson, transport: session.transport)
        return approved
    }

    public func refuse() async throws {
        guard let s = state else { throw ReviewError.notReady }
        _ = try await session.wallet.deny(spaceId: spaceId, request: s.request, registry: try await session.registry())
    }
}

public enum ReviewError: Error, Equatable {
    /// A required field is off, or a sensitive one lacks its separate consent.
    case notReady
}
