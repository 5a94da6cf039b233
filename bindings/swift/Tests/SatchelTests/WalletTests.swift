import CryptoKit
import Foundation
import XCTest
@testable import Satchel

/// A PlatformKeyStore over CryptoKit, shaped like a Secure Enclave one:
/// P-256 keys, raw X9.63 public keys, DER signatures, AES-GCM key wrapping.
final class CryptoKitKeyStore: PlatformKeyStore, @unchecked Sendable {
    private var signing: [String: P256.Signing.PrivateKey] = [:]
    private var edSigning: [String: Curve25519.Signing.PrivateKey] = [:]
    private var wrapping: [String: SymmetricKey] = [:]
    private let lock = NSLock()

    func generateKey(alias: String, algorithm: KeyAlgorithm) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        if signing[alias] != nil || edSigning[alias] != nil {
            throw KeyStoreError.Unsupported(reason: "alias exists")
        }
        switch algorithm {
        case .es256:
            let key = P256.Signing.PrivateKey()
            signing[alias] = key
            return key.publicKey.x963Representation
        case .ed25519:
            let key = Curve25519.Signing.PrivateKey()
            edSigning[alias] = key
            return key.publicKey.rawRepresentation
        }
    }

    func publicKey(alias: String) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        if let key = signing[alias] { return key.publicKey.x963Representation }
        if let key = edSigning[alias] { return key.publicKey.rawRepresentation }
        throw KeyStoreError.NotFound(alias: alias)
    }

    func sign(alias: String, message: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        if let key = signing[alias] { return try key.signature(for: message).derRepresentation }
        if let key = edSigning[alias] { return try key.signature(for: message) }
        throw KeyStoreError.NotFound(alias: alias)
    }

    func deleteKey(alias: String) throws {
        lock.lock(); defer { lock.unlock() }
        signing[alias] = nil
        edSigning[alias] = nil
        wrapping[alias] = nil
    }

    func wrapDataKey(alias: String, dataKey: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        let key = wrapping[alias] ?? SymmetricKey(size: .bits256)
        wrapping[alias] = key
        guard let combined = try AES.GCM.seal(dataKey, using: key).combined else {
            throw KeyStoreError.Platform(reason: "seal failed")
        }
        return combined
    }

    func unwrapDataKey(alias: String, wrapped: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        guard let key = wrapping[alias] else { throw KeyStoreError.NotFound(alias: alias) }
        return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key)
    }

    func isHardwareBacked(alias: String) throws -> Bool {
        false
    }
}

final class WalletTests: XCTestCase {
    private func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString + ".db").path
    }

    func testImportPresentVerify() throws {
        let wallet = try Wallet.open(path: tempPath(), keyStore: CryptoKitKeyStore())
        let space = try wallet.createSpace(name: "我的空间", kind: .personal)
        let issuer = try SoftwareIssuer.generate(algorithm: .es256)
        let now = Int64(Date().timeIntervalSince1970)
        let claims = """
        {"iss": "https://gdga.example", "vct": "urn:satchel:id-card", "iat": \(now), "exp": \(now + 3600),
         "name": "张三", "id_number": "440101199001011234", "age_over_18": true}
        """
        let sdJwt = try issuer.issue(claimsJson: claims, disclosable: ["name", "id_number", "age_over_18"], holderJwk: space.holderJwk)
        let credential = try wallet.importCredential(spaceId: space.id, sdJwt: sdJwt, issuerJwk: issuer.publicJwk())
        XCTAssertEqual(credential.status, .valid)

        let presentation = try wallet.present(credentialId: credential.id, claimPaths: ["age_over_18"], audience: "https://bank.example", nonce: "n-1")
        let verified = try verifyPresentation(presentation: presentation, issuerJwk: issuer.publicJwk(), audience: "https://bank.example", nonce: "n-1", now: nil)
        XCTAssertTrue(verified.keyBound)
        XCTAssertFalse(verified.claimsJson.contains("440101199001011234"))

        XCTAssertThrowsError(try verifyPresentation(presentation: presentation, issuerJwk: issuer.publicJwk(), audience: "https://bank.example", nonce: "other", now: nil)) { error in
            guard case SatchelError.Rejected = error else { return XCTFail("expected Rejected, got \(error)") }
        }
    }
}
