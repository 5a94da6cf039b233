import Foundation
import Satchel

/// Onboarding: create a personal or an enterprise space and register it.
@MainActor
public final class OnboardingViewModel: ObservableObject {
    /// What the screen shows.
    public enum State: Equatable {
        /// Nothing yet: ask for a name and a kind.
        case empty
        /// The name was blank.
        case nameMissing
        /// Working.
        case creating
        /// Done.
        case ready(spaceId: String)
        /// Failed, with a readable reason; the person may try again.
        case failed(String)
    }

    @Published public private(set) var state: State = .empty
    private let session: SatchelSession
    private let settings: DisplaySettings

    public init(session: SatchelSession, settings: DisplaySettings = DisplaySettings()) {
        self.session = session
        self.settings = settings
    }

    /// Creates the space, registers it with the server, and publishes there.
    public func create(name: String, kind: SpaceKind) async {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { state = .nameMissing; return }
        state = .creating
        do {
            let space = try await session.wallet.createSpace(name: trimmed, kind: kind)
            try await session.wallet.setStatusBase(base: session.serverUrl + "/status")
            try await session.server.registerSpace(wallet: session.wallet, spaceId: space.id)
            state = .ready(spaceId: space.id)
        } catch {
            state = .failed(Words.reason(error, settings.language))
        }
    }
}

/// One card on the wallet screen.
public struct CardView: Identifiable, Equatable, Sendable {
    public let id: String
    /// The type in plain words (e.g. 居民身份证).
    public let title: String
    public let issuer: String
    public let status: CredentialStatus
    /// The status in words (never by colour alone).
    public let statusText: String
    public let expiresAt: Int64?
    /// "Valid until …" or "Does not expire".
    public let expiryText: String
    /// The person's own name for the card, if they gave one.
    public let label: String?

    /// What VoiceOver reads.
    public func accessibilityLabel(_ lang: Language) -> String {
        let name = label.map { lang == .zh ? "\($0)，\(title)" : "\($0), \(title)" } ?? title
        return lang == .zh ? "\(name)，\(issuer) 签发，\(statusText)，\(expiryText)" : "\(name), issued by \(issuer), \(statusText), \(expiryText)"
    }
}

/// The wallet screen (a card per credential) and receiving by scanning an offer.
@MainActor
public final class WalletViewModel: ObservableObject {
    @Published public private(set) var cards: [CardView] = []
    /// The last failure, readable, or nil.
    @Published public private(set) var error: String?
    private let session: SatchelSession
    private let spaceId: String
    private let settings: DisplaySettings

    public init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.session = session
        self.spaceId = spaceId
        self.settings = settings
    }

    /// Reloads the cards.
    public func refresh() async throws {
        let filter = CredentialFilter(vct: nil, issuer: nil, status: nil, expiresBefore: nil)
        cards = try await session.wallet.credentials(spaceId: spaceId, filter: filter).map(view)
    }

    /// Keeps the cards fresh while the calling task lives (every committed
    /// change to a credential, and every sync); run it from `.task`.
    public func follow() async {
        for await change in session.wallet.changes() {
            switch change {
            case .credentialAdded, .credentialUpdated, .credentialRemoved, .synced:
                do {
                    try await refresh()
                } catch {
                    self.error = Words.reason(error, settings.language)
                }
            default:
                continue
            }
        }
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
            self.error = Words.reason(error, settings.language)
            return nil
        }
    }

    /// Sets or clears the person's own name for a card.
    public func label(id: String, label: String?) async throws {
        let trimmed = label?.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await session.wallet.setLabel(credentialId: id, label: trimmed?.isEmpty == true ? nil : trimmed)
        try await refresh()
    }

    private func view(_ c: Credential) -> CardView { CardView(c, settings.language) }
}

extension CardView {
    /// A credential as a card, in `lang`.
    init(_ c: Credential, _ lang: Language) {
        self.init(id: c.id, title: Words.credentialType(c.vct, lang), issuer: c.issuer ?? "", status: c.status,
                  statusText: Words.status(c.status, lang), expiresAt: c.expiresAt, expiryText: Words.expiry(c.expiresAt, lang),
                  label: c.label)
    }
}

/// One field the relying party asks for, with its own switch.
public struct FieldChoice: Equatable, Sendable {
    public let queryId: String
    public let path: String
    /// The field in plain words.
    public let label: String
    public let required: Bool
    /// Sensitive personal information: needs its own separate consent.
    public let sensitive: Bool
    public var on: Bool
    /// For a sensitive field: the person gave the separate consent.
    public var separatelyConsented: Bool
}

/// Everything the review screen shows about a request.
public struct ReviewState: Equatable, Sendable {
    public let request: String
    public let relyingParty: String
    /// The registry trusts the relying party for this purpose.
    public let trusted: Bool
    public let trustText: String
    public let purpose: String
    public let windowText: String
    public let maxUses: UInt32
    public let usesText: String
    public var fields: [FieldChoice]
    /// The credential each query would be answered with.
    public let credentials: [String: String]
    public let sensitive: Bool
    public let thirdParty: Bool
    public let crossBorder: Bool
    public let responseUri: String
    public let missing: [String]
    /// The person saw the untrusted warning and chose to go on.
    public var untrustedAccepted: Bool

    /// The untrusted warning stands between the person and approving.
    public var needsWarning: Bool { !trusted && !untrustedAccepted }

    /// Every required field on, every sensitive field consented separately.
    public var canApprove: Bool {
        missing.isEmpty && fields.filter(\.required).allSatisfy(\.on)
            && fields.filter(\.on).allSatisfy { !$0.sensitive || $0.separatelyConsented }
    }
}

/// Review a relying party's request: who asks and whether the registry
/// trusts them, the purpose in plain words, a switch per field (sensitive
/// fields need their own consent), the window and the number of uses, the
/// PIPL flags; then approve after Face ID / Touch ID (the Secure Enclave key
/// store asks when the authorisation is signed) or refuse.
@MainActor
public final class ReviewViewModel: ObservableObject {
    /// How the review ended.
    public enum Outcome: Equatable, Sendable {
        case approved(authorizationId: String)
        case refused
    }

    @Published public private(set) var state: ReviewState?
    @Published public private(set) var outcome: Outcome?
    private let session: SatchelSession
    private let spaceId: String
    private let settings: DisplaySettings

    public init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.session = session
        self.spaceId = spaceId
        self.settings = settings
    }

    /// Loads what was scanned (`openid4vp://…` or the request object),
    /// judged against the server's registry as it is now.
    public func load(scanned: String) async throws {
        let request = try await fetchRequest(scanned: scanned, transport: session.transport)
        let r = try await session.wallet.reviewRequest(spaceId: spaceId, request: request, registry: try await session.registry(refresh: true))
        let lang = settings.language
        var fields: [FieldChoice] = []
        var credentials: [String: String] = [:]
        for m in r.matches {
            fields += m.required.map { field(m.queryId, $0, required: true) }
            fields += m.optional.map { field(m.queryId, $0, required: false) }
            if let c = m.candidates.first(where: { $0.missing.isEmpty }) { credentials[m.queryId] = c.credentialId }
        }
        let now = Int64(Date().timeIntervalSince1970)
        outcome = nil
        state = ReviewState(
            request: request, relyingParty: r.rpName ?? r.controllerName, trusted: r.trust == .trusted,
            trustText: Words.trust(r.trust, lang), purpose: Words.purpose(r.purpose, lang),
            windowText: Words.window(notAfter: r.notAfter, now: now, lang), maxUses: r.maxUses,
            usesText: lang == .zh ? "最多使用 \(r.maxUses) 次" : "At most \(r.maxUses) uses",
            fields: fields, credentials: credentials, sensitive: r.sensitive, thirdParty: r.thirdParty,
            crossBorder: r.crossBorder, responseUri: r.responseUri,
            missing: r.matches.map(\.queryId).filter { credentials[$0] == nil }, untrustedAccepted: false)
    }

    private func field(_ queryId: String, _ path: String, required: Bool) -> FieldChoice {
        let sensitive = Words.isSensitive(path)
        // Required fields start on; optional ones, and every sensitive one, start off.
        return FieldChoice(queryId: queryId, path: path, label: Words.claim(path, settings.language), required: required,
                           sensitive: sensitive, on: required && !sensitive, separatelyConsented: false)
    }

    /// Flips one field's switch.
    public func toggle(_ path: String) { edit(path) { $0.on.toggle() } }

    /// The separate consent a sensitive field needs (PIPL art. 29).
    public func consentSeparately(_ path: String) { edit(path) { $0.on = true; $0.separatelyConsented = true } }

    /// The person saw the untrusted warning and went on.
    public func continueAnyway() {
        guard var s = state else { return }
        s.untrustedAccepted = true
        state = s
    }

    private func edit(_ path: String, _ f: (inout FieldChoice) -> Void) {
        guard var s = state else { return }
        s.fields = s.fields.map { field in
            var copy = field
            if copy.path == path { f(&copy) }
            return copy
        }
        state = s
    }

    /// Approves what is switched on (never more than asked), posts the
    /// response to the relying party, and returns the approval. `fewerUses`
    /// grants fewer uses than asked. A relying party the registry does not
    /// trust needs the warning seen (``continueAnyway()``) or
    /// `acceptUntrusted`.
    public func approve(fewerUses: UInt32? = nil, acceptUntrusted: Bool = false) async throws -> Approved {
        guard let s = state, s.canApprove else { throw ReviewError.notReady }
        let grouped = Dictionary(grouping: s.fields.filter(\.on), by: \.queryId)
        let selections = grouped.compactMap { query, fields -> Selection? in
            guard let credential = s.credentials[query] else { return nil }
            return Selection(queryId: query, credentialId: credential, claims: fields.map(\.path))
        }
        let uses = fewerUses.map { min($0, s.maxUses) }
        let approved = try await session.wallet.approve(
            spaceId: spaceId, request: s.request, registry: try await session.registry(),
            choice: ApprovalChoice(selections: selections, maxUses: uses, notAfter: nil, acceptUntrusted: acceptUntrusted || s.untrustedAccepted))
        try await postResponse(responseUri: s.responseUri, responseJson: approved.responseJson, transport: session.transport)
        outcome = .approved(authorizationId: approved.authorizationId)
        return approved
    }

    /// Refuses: a signed refusal is kept in the consent log.
    public func refuse() async throws {
        guard let s = state else { throw ReviewError.notReady }
        _ = try await session.wallet.deny(spaceId: spaceId, request: s.request, registry: try await session.registry())
        outcome = .refused
    }
}

/// Why a review cannot go on.
public enum ReviewError: Error, Equatable {
    /// Nothing loaded, a required field is off, or a sensitive one lacks its separate consent.
    case notReady
}
