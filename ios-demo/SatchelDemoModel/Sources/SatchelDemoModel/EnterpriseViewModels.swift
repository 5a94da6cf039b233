import Foundation
import Satchel

/// A delegation made on this device, as the enterprise screen lists it.
public struct DelegationView: Identifiable, Equatable, Sendable {
    public let id: String
    public let memberName: String
    public let purpose: String
    public let audience: String
    /// "For n days".
    public let windowText: String
    /// What the agent scans (Satchel's `handOver`, the same format in both apps).
    public let handOver: String
    public var revoked: Bool
}

/// The enterprise screens: members, delegating an agent for a purpose and
/// a period (shown as a QR code for the agent), and revoking it.
@MainActor
public final class EnterpriseViewModel: ObservableObject {
    @Published public private(set) var members: [Member] = []
    /// The company's business licences (what an agent can be delegated to present).
    @Published public private(set) var licences: [CardView] = []
    /// Delegations made on this device since the screen opened: Satchel
    /// keeps each in the space's status list, but offers no listing of
    /// them, so the screen shows what it made.
    @Published public private(set) var delegations: [DelegationView] = []
    private let session: SatchelSession
    private let spaceId: String
    private let settings: DisplaySettings

    public init(session: SatchelSession, spaceId: String, settings: DisplaySettings = DisplaySettings()) {
        self.session = session
        self.spaceId = spaceId
        self.settings = settings
    }

    /// Reloads the members and the licences.
    public func refresh() async throws {
        let lang = settings.language
        members = try await session.wallet.members(spaceId: spaceId)
        let filter = CredentialFilter(vct: nil, issuer: nil, status: nil, expiresBefore: nil)
        licences = try await session.wallet.credentials(spaceId: spaceId, filter: filter)
            .filter { $0.vct.hasSuffix("business-licence") }
            .map { CardView($0, lang) }
    }

    /// Adds a member by the key of their own wallet's space (scanned from their app).
    @discardableResult
    public func addMember(name: String, role: MemberRole, jwk: String) async throws -> Member {
        let m = try await session.wallet.addMember(spaceId: spaceId, name: name, role: role, jwk: jwk)
        try await refresh()
        return m
    }

    /// Delegates presenting `types` of the company's licences to an agent,
    /// for `purpose`, to `audience`, for `days` days from now.
    public func delegate(memberId: String, types: [String], purpose: String, audience: String, days: Int64) async throws -> Delegation {
        let now = Int64(Date().timeIntervalSince1970)
        return try await session.wallet.delegate(spaceId: spaceId, memberId: memberId,
                                                 scope: DelegationScope(credentialTypes: types, purposes: [purpose], audiences: [audience], notBefore: now, notAfter: now + days * 86_400))
    }

    /// Delegates presenting one licence and lists the delegation with its
    /// hand-over QR code (the delegation and the licence together).
    @discardableResult
    public func delegate(licenceId: String, memberId: String, purpose: String, audience: String, days: Int64) async throws -> DelegationView {
        let licence = try await session.wallet.credential(credentialId: licenceId)
        let delegation = try await delegate(memberId: memberId, types: [licence.vct], purpose: purpose, audience: audience, days: days)
        let text = try await handOver(delegation: delegation, licenceId: licenceId)
        let now = Int64(Date().timeIntervalSince1970)
        let view = DelegationView(
            id: delegation.id, memberName: members.first { $0.id == memberId }?.name ?? memberId,
            purpose: Words.purpose(purpose, settings.language), audience: audience,
            windowText: Words.window(notAfter: now + days * 86_400, now: now, settings.language),
            handOver: text, revoked: false)
        delegations.insert(view, at: 0)
        return view
    }

    /// What the agent's app takes in (by QR code or by sharing): the
    /// delegation and the licence it covers, as one text (Satchel's `handOver`, the same format in both apps).
    public func handOver(delegation: Delegation, licenceId: String) async throws -> String {
        Satchel.handOver(delegation: delegation.token, licence: try await session.wallet.credentialToken(credentialId: licenceId))
    }

    /// Revokes a delegation and publishes it: the agent's next presentation is refused.
    public func revoke(delegationId: String) async throws {
        _ = try await session.wallet.revokeDelegation(delegationId: delegationId)
        _ = try await session.wallet.publishStatusList(spaceId: spaceId, server: session.server)
        delegations = delegations.map { d in
            var copy = d
            if copy.id == delegationId { copy.revoked = true }
            return copy
        }
    }
}

/// The agent's side: hold the company's licence under a delegation, then
/// present it through ``ReviewViewModel`` like any credential.
@MainActor
public final class AgentViewModel: ObservableObject {
    /// The licence held, once accepted.
    @Published public private(set) var held: CardView?
    private let session: SatchelSession
    private let spaceId: String
    private let settings: DisplaySettings

    public init(session: SatchelSession, spaceId: String, settings: DisplaySettings = DisplaySettings()) {
        self.session = session
        self.spaceId = spaceId
        self.settings = settings
    }

    /// The key a company adds this person by (their space's public JWK):
    /// shown as a QR code for the company to scan.
    public func memberKey() async throws -> String {
        guard let space = try await session.spaces().first(where: { $0.id == spaceId }) else {
            throw SatchelError.NotFound(message: "no such space")
        }
        return space.holderJwk
    }

    /// Finds a licence already held under a delegation (a business licence
    /// in this personal space can only have come that way).
    public func refresh() async throws {
        let filter = CredentialFilter(vct: nil, issuer: nil, status: nil, expiresBefore: nil)
        held = try await session.wallet.credentials(spaceId: spaceId, filter: filter)
            .first { $0.vct.hasSuffix("business-licence") }
            .map(view)
    }

    /// Stores the licence the company shared, verified with its issuer's registered keys.
    @discardableResult
    public func hold(licence: String, delegationToken: String) async throws -> Credential {
        let c = try await session.wallet.importDelegatedCredentialFrom(spaceId: spaceId, licence: licence, delegation: delegationToken, registry: try await session.registry())
        held = view(c)
        return c
    }

    private func view(_ c: Credential) -> CardView { CardView(c, settings.language) }

    /// Stores what the company handed over (scanned or shared); checked as
    /// ``hold(licence:delegationToken:)`` checks it.
    @discardableResult
    public func hold(handOver: String) async throws -> Credential {
        let parts = try readHandOver(text: handOver)
        return try await hold(licence: parts.licence, delegationToken: parts.delegation)
    }
}
