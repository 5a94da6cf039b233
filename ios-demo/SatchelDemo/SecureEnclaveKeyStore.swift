import CryptoKit
import Foundation
import LocalAuthentication
import Satchel
import Security

/// Satchel's `PlatformKeyStore` over the Secure Enclave.
///
/// - Signing keys are ES256 keys made inside the Secure Enclave
///   (`SecureEnclave.P256.Signing.PrivateKey`); only their encrypted
///   `dataRepresentation`, usable by this phone's Secure Enclave alone, is
///   kept in the Keychain (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`).
///   Ed25519 is refused: the Secure Enclave holds P-256 only.
/// - A space key (`satchel.space.<id>`) signs approvals, delegations and
///   withdrawals, so it needs the person: it is made with
///   `[.privateKeyUsage, .userPresence]` and every signature asks Face ID /
///   Touch ID (or the passcode) with a reason in the app's language.
///   `.userPresence` rather than `.biometryCurrentSet`: enrolling a new
///   finger or face must not destroy the key a space is known by.
/// - The device key (`satchel.device`), a space's device key
///   (`satchel.space.<id>.device`) and the wallet's wrapping key are used
///   by background sync and at launch, with nobody to ask: no presence.
/// - Data keys are wrapped by a Secure Enclave key-agreement key: ECDH with
///   an ephemeral P-256 key, HKDF-SHA256, AES-GCM.
/// - Where no Secure Enclave exists (the Simulator), keys are software
///   P-256 keys in the Keychain, reported as not hardware-backed.
final class SecureEnclaveKeyStore: PlatformKeyStore, @unchecked Sendable {
    /// How long one Face ID / Touch ID check covers further signatures: an
    /// approval signs a few things in a row (the authorisation, the consent
    /// record, the presentation) and must ask once, not three times.
    private static let presenceReuse: TimeInterval = 15
    private static let signingService = "app.satchel.demo.signing"
    private static let wrappingService = "app.satchel.demo.wrapping"
    private static let wrapVersion: UInt8 = 1

    private let lock = NSLock()
    private var reason: String
    private var confirmed: (context: LAContext, at: Date)?

    init(promptReason: String) {
        reason = promptReason
    }

    /// The reason the Face ID / Touch ID prompt gives (in the app's language).
    func setPromptReason(_ text: String) {
        lock.withLock { reason = text }
    }

    /// Space keys need the person; device and wrapping keys do not.
    static func needsPresence(_ alias: String) -> Bool {
        alias.hasPrefix("satchel.space.") && !alias.hasSuffix(".device")
    }

    // MARK: PlatformKeyStore

    func generateKey(alias: String, algorithm: KeyAlgorithm) async throws -> Data {
        guard algorithm == .es256 else {
            throw KeyStoreError.Unsupported(reason: "the Secure Enclave holds P-256 keys only")
        }
        if try read(alias, service: Self.signingService) != nil { throw Self.exists }
        let stored: StoredKey
        let publicKey: Data
        if SecureEnclave.isAvailable {
            let access = try Self.accessControl(presence: Self.needsPresence(alias))
            let key = try Self.platform { try SecureEnclave.P256.Signing.PrivateKey(accessControl: access) }
            stored = StoredKey(kind: .enclave, material: key.dataRepresentation)
            publicKey = key.publicKey.x963Representation
        } else {
            let key = P256.Signing.PrivateKey()
            stored = StoredKey(kind: .software, material: key.rawRepresentation)
            publicKey = key.publicKey.x963Representation
        }
        // SecItemAdd refuses a duplicate: a key made meanwhile is never overwritten.
        guard try add(stored.encoded, alias: alias, service: Self.signingService) else { throw Self.exists }
        return publicKey
    }

    func publicKey(alias: String) async throws -> Data {
        let stored = try signingKey(alias)
        switch stored.kind {
        case .enclave:
            // Restoring the key from its blob asks nobody; only signing does.
            return try Self.platform { try SecureEnclave.P256.Signing.PrivateKey(dataRepresentation: stored.material) }.publicKey.x963Representation
        case .software:
            return try Self.platform { try P256.Signing.PrivateKey(rawRepresentation: stored.material) }.publicKey.x963Representation
        }
    }

    func sign(alias: String, message: Data) async throws -> Data {
        let stored = try signingKey(alias)
        let presence = Self.needsPresence(alias)
        switch stored.kind {
        case .enclave:
            var context: LAContext?
            if presence { context = try await confirmedContext() }
            let key = try Self.platform { try SecureEnclave.P256.Signing.PrivateKey(dataRepresentation: stored.material, authenticationContext: context) }
            return try Self.signing { try key.signature(for: message) }.derRepresentation
        case .software:
            // No Secure Enclave to enforce presence: ask here when the device can.
            if presence, LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error: nil) {
                _ = try await confirmedContext()
            }
            let key = try Self.platform { try P256.Signing.PrivateKey(rawRepresentation: stored.material) }
            return try Self.signing { try key.signature(for: message) }.derRepresentation
        }
    }

    func deleteKey(alias: String) async throws {
        for service in [Self.signingService, Self.wrappingService] {
            let query: [String: Any] = [
                kSecClass as String: kSecClassGenericPassword,
                kSecAttrService as String: service,
                kSecAttrAccount as String: alias,
            ]
            let status = SecItemDelete(query as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw KeyStoreError.Platform(reason: "the keychain did not delete the key (\(status))")
            }
        }
    }

    func wrapDataKey(alias: String, dataKey: Data) async throws -> Data {
        let recipient = try agreementKey(alias, create: true).publicKey
        let ephemeral = P256.KeyAgreement.PrivateKey()
        let ephemeralPublic = ephemeral.publicKey.x963Representation
        let secret = try Self.platform { try ephemeral.sharedSecretFromKeyAgreement(with: recipient) }
        let key = Self.wrappingKey(secret, alias: alias, ephemeralPublic: ephemeralPublic)
        let sealed = try Self.platform { try AES.GCM.seal(dataKey, using: key) }
        guard let combined = sealed.combined else { throw KeyStoreError.Platform(reason: "AES-GCM gave no sealed box") }
        return Data([Self.wrapVersion]) + ephemeralPublic + combined
    }

    func unwrapDataKey(alias: String, wrapped: Data) async throws -> Data {
        // version (1) ‖ ephemeral public key (65, X9.63) ‖ nonce ‖ ciphertext ‖ tag
        let bytes = Data(wrapped)
        guard bytes.count > 1 + 65 + 12 + 16, bytes.first == Self.wrapVersion else { throw Self.unopened }
        let ephemeralPublic = bytes.subdata(in: 1 ..< 66)
        let combined = bytes.subdata(in: 66 ..< bytes.count)
        let agreement = try agreementKey(alias, create: false)
        guard let sender = try? P256.KeyAgreement.PublicKey(x963Representation: ephemeralPublic),
              let secret = try? agreement.sharedSecret(with: sender),
              let box = try? AES.GCM.SealedBox(combined: combined),
              let opened = try? AES.GCM.open(box, using: Self.wrappingKey(secret, alias: alias, ephemeralPublic: ephemeralPublic))
        else { throw Self.unopened }
        return opened
    }

    func isHardwareBacked(alias: String) async throws -> Bool {
        if let blob = try read(alias, service: Self.signingService) { return try StoredKey(blob).kind == .enclave }
        if let blob = try read(alias, service: Self.wrappingService) { return try StoredKey(blob).kind == .enclave }
        throw KeyStoreError.NotFound(alias: alias)
    }

    // MARK: Presence

    /// An `LAContext` the person has just confirmed, reused for
    /// ``presenceReuse`` seconds; the Secure Enclave accepts it for keys
    /// made with `.userPresence` without asking again.
    private func confirmedContext() async throws -> LAContext {
        let (recent, reason) = lock.withLock { (confirmed, self.reason) }
        if let recent, Date().timeIntervalSince(recent.at) < Self.presenceReuse { return recent.context }
        let context = LAContext()
        context.localizedReason = reason
        do {
            _ = try await context.evaluatePolicy(.deviceOwnerAuthentication, localizedReason: reason)
        } catch let error as LAError {
            switch error.code {
            case .userCancel, .appCancel, .systemCancel, .userFallback:
                throw KeyStoreError.UserCancelled
            default:
                throw KeyStoreError.Platform(reason: "the check that it is you failed (LAError \(error.code.rawValue))")
            }
        } catch {
            throw KeyStoreError.Platform(reason: "the check that it is you failed")
        }
        lock.withLock { confirmed = (context, Date()) }
        return context
    }

    // MARK: Keys in the Keychain

    /// What the Keychain holds for an alias: the kind, then the key material.
    private struct StoredKey {
        enum Kind: UInt8 {
            /// A Secure Enclave key's `dataRepresentation`.
            case enclave = 1
            /// A software key's raw scalar (only where no Secure Enclave exists).
            case software = 2
        }

        let kind: Kind
        let material: Data

        init(kind: Kind, material: Data) {
            self.kind = kind
            self.material = material
        }

        init(_ blob: Data) throws {
            guard let first = blob.first, let kind = Kind(rawValue: first) else {
                throw KeyStoreError.Platform(reason: "the keychain holds an unreadable key")
            }
            self.kind = kind
            material = Data(blob.dropFirst())
        }

        var encoded: Data { Data([kind.rawValue]) + material }
    }

    /// The two kinds of key-agreement key behind ``wrapDataKey(alias:dataKey:)``.
    private enum AgreementKey {
        case enclave(SecureEnclave.P256.KeyAgreement.PrivateKey)
        case software(P256.KeyAgreement.PrivateKey)

        var publicKey: P256.KeyAgreement.PublicKey {
            switch self {
            case let .enclave(key): return key.publicKey
            case let .software(key): return key.publicKey
            }
        }

        func sharedSecret(with other: P256.KeyAgreement.PublicKey) throws -> SharedSecret {
            switch self {
            case let .enclave(key): return try key.sharedSecretFromKeyAgreement(with: other)
            case let .software(key): return try key.sharedSecretFromKeyAgreement(with: other)
            }
        }
    }

    private func signingKey(_ alias: String) throws -> StoredKey {
        guard let blob = try read(alias, service: Self.signingService) else { throw KeyStoreError.NotFound(alias: alias) }
        return try StoredKey(blob)
    }

    /// The wrapping key under `alias`, made (without presence: the wallet
    /// opens at launch and in the background) when `create` and missing.
    private func agreementKey(_ alias: String, create: Bool) throws -> AgreementKey {
        if let blob = try read(alias, service: Self.wrappingService) {
            let stored = try StoredKey(blob)
            switch stored.kind {
            case .enclave:
                return .enclave(try Self.platform { try SecureEnclave.P256.KeyAgreement.PrivateKey(dataRepresentation: stored.material) })
            case .software:
                return .software(try Self.platform { try P256.KeyAgreement.PrivateKey(rawRepresentation: stored.material) })
            }
        }
        guard create else { throw KeyStoreError.NotFound(alias: alias) }
        let made: AgreementKey
        let stored: StoredKey
        if SecureEnclave.isAvailable {
            let access = try Self.accessControl(presence: false)
            let key = try Self.platform { try SecureEnclave.P256.KeyAgreement.PrivateKey(accessControl: access) }
            made = .enclave(key)
            stored = StoredKey(kind: .enclave, material: key.dataRepresentation)
        } else {
            let key = P256.KeyAgreement.PrivateKey()
            made = .software(key)
            stored = StoredKey(kind: .software, material: key.rawRepresentation)
        }
        // Made meanwhile by another call: use that one.
        guard try add(stored.encoded, alias: alias, service: Self.wrappingService) else { return try agreementKey(alias, create: false) }
        return made
    }

    private func read(_ alias: String, service: String) throws -> Data? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: alias,
            kSecReturnData as String: true,
            kSecMatchLimit as String: kSecMatchLimitOne,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess: return item as? Data
        case errSecItemNotFound: return nil
        default: throw KeyStoreError.Platform(reason: "the keychain could not be read (\(status))")
        }
    }

    /// Stores a key; false when one already exists under the alias.
    private func add(_ blob: Data, alias: String, service: String) throws -> Bool {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: alias,
            kSecAttrAccessible as String: kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
            kSecValueData as String: blob,
        ]
        let status = SecItemAdd(query as CFDictionary, nil)
        if status == errSecDuplicateItem { return false }
        guard status == errSecSuccess else { throw KeyStoreError.Platform(reason: "the keychain could not store the key (\(status))") }
        return true
    }

    // MARK: Helpers

    private static let exists = KeyStoreError.Platform(reason: "a key already exists under this alias")
    private static let unopened = KeyStoreError.Platform(reason: "the wrapped key does not open")

    private static func accessControl(presence: Bool) throws -> SecAccessControl {
        let flags: SecAccessControlCreateFlags = presence ? [.privateKeyUsage, .userPresence] : [.privateKeyUsage]
        guard let access = SecAccessControlCreateWithFlags(nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, flags, nil) else {
            throw KeyStoreError.Platform(reason: "the Secure Enclave access control could not be made")
        }
        return access
    }

    private static func wrappingKey(_ secret: SharedSecret, alias: String, ephemeralPublic: Data) -> SymmetricKey {
        secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: Data("satchel.wrap.v1".utf8),
                                       sharedInfo: Data(alias.utf8) + ephemeralPublic, outputByteCount: 32)
    }

    /// Runs a CryptoKit call; its errors become `KeyStoreError.Platform`
    /// without key material.
    private static func platform<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw KeyStoreError.Platform(reason: "the Secure Enclave refused (\(type(of: error)))")
        }
    }

    /// Like ``platform(_:)``, but a refused or cancelled authentication
    /// during signing is the person cancelling.
    private static func signing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LAError where [LAError.Code.userCancel, .appCancel, .systemCancel].contains(error.code) {
            throw KeyStoreError.UserCancelled
        } catch {
            throw KeyStoreError.Platform(reason: "signing failed (\(type(of: error)))")
        }
    }
}
