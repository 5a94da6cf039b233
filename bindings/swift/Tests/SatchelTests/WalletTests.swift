import CryptoKit
import Foundation
import XCTest
@testable import Satchel

/// A PlatformKeyStore over CryptoKit, shaped like a Secure Enclave one:
/// P-256 keys, raw X9.63 public keys, DER signatures, AES-GCM key wrapping.
final class CryptoKitKeyStore: PlatformKeyStore, @unchecked Sendable {
    /// Runs before every signature, as a LocalAuthentication prompt would;
    /// it may suspend or throw `KeyStoreError.UserCancelled`.
    var confirm: (@Sendable (String) async throws -> Void)?
    private var signing: [String: P256.Signing.PrivateKey] = [:]
    private var edSigning: [String: Curve25519.Signing.PrivateKey] = [:]
    private var wrapping: [String: SymmetricKey] = [:]
    private let lock = NSLock()

    func generateKey(alias: String, algorithm: KeyAlgorithm) async throws -> Data {
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

    func publicKey(alias: String) async throws -> Data {
        lock.lock(); defer { lock.unlock() }
        if let key = signing[alias] { return key.publicKey.x963Representation }
        if let key = edSigning[alias] { return key.publicKey.rawRepresentation }
        throw KeyStoreError.NotFound(alias: alias)
    }

    func sign(alias: String, message: Data) async throws -> Data {
        if let confirm { try await confirm(alias) }
        lock.lock(); defer { lock.unlock() }
        if let key = signing[alias] { return try key.signature(for: message).derRepresentation }
        if let key = edSigning[alias] { return try key.signature(for: message) }
        throw KeyStoreError.NotFound(alias: alias)
    }

    func deleteKey(alias: String) async throws {
        lock.lock(); defer { lock.unlock() }
        signing[alias] = nil
        edSigning[alias] = nil
        wrapping[alias] = nil
    }

    func wrapDataKey(alias: String, dataKey: Data) async throws -> Data {
        lock.lock(); defer { lock.unlock() }
        let key = wrapping[alias] ?? SymmetricKey(size: .bits256)
        wrapping[alias] = key
        guard let combined = try AES.GCM.seal(dataKey, using: key).combined else {
            throw KeyStoreError.Platform(reason: "seal failed")
        }
        return combined
    }

    func unwrapDataKey(alias: String, wrapped: Data) async throws -> Data {
        lock.lock(); defer { lock.unlock() }
        guard let key = wrapping[alias] else { throw KeyStoreError.NotFound(alias: alias) }
        return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key)
    }

    func isHardwareBacked(alias: String) async throws -> Bool {
        false
    }
}

/// An HttpTransport over URLSession, as an app brings its own stack.
final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    func send(request: HttpRequest) async throws -> HttpResponse {
        guard let url = URL(string: request.url) else {
            throw TransportError.Failed(reason: "bad URL")
        }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        r.httpBody = request.body
        for h in request.headers { r.setValue(h.value, forHTTPHeaderField: h.name) }
        do {
            let (data, response) = try await URLSession.shared.data(for: r)
            guard let http = response as? HTTPURLResponse else {
                throw TransportError.Failed(reason: "not HTTP")
            }
            let headers = http.allHeaderFields.map { HttpHeader(name: "\($0.key)", value: "\($0.value)") }
            return HttpResponse(status: UInt16(http.statusCode), headers: headers, body: data)
        } catch let e as TransportError {
            throw e
        } catch {
            throw TransportError.Failed(reason: error.localizedDescription)
        }
    }
}

final class WalletTests: XCTestCase {
    private func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString + ".db").path
    }

    private func idCard(now: Int64) -> String {
        """
        {"iss": "https://gdga.example", "vct": "urn:satchel:id-card", "iat": \(now), "exp": \(now + 3600),
         "name": "张三", "id_number": "440101199001011234", "age_over_18": true}
        """
    }

    func testImportPresentVerify() async throws {
        let wallet = try await Wallet.open(path: tempPath(), keyStore: CryptoKitKeyStore())
        let space = try await wallet.createSpace(name: "我的空间", kind: .personal)
        let issuer = try SoftwareIssuer.generate(algorithm: .es256)
        let now = Int64(Date().timeIntervalSince1970)
        let sdJwt = try issuer.issue(claimsJson: idCard(now: now), disclosable: ["name", "id_number", "age_over_18"], holderJwk: space.holderJwk)
        let credential = try await wallet.importCredential(spaceId: space.id, sdJwt: sdJwt, issuerJwk: issuer.publicJwk())
        XCTAssertEqual(credential.status, .valid)

        let presentation = try await wallet.present(credentialId: credential.id, claimPaths: ["age_over_18"], audience: "https://bank.example", nonce: "n-1")
        let verified = try verifyPresentation(presentation: presentation, issuerJwk: issuer.publicJwk(), audience: "https://bank.example", nonce: "n-1", now: nil)
        XCTAssertTrue(verified.keyBound)
        XCTAssertFalse(verified.claimsJson.contains("440101199001011234"))

        XCTAssertThrowsError(try verifyPresentation(presentation: presentation, issuerJwk: issuer.publicJwk(), audience: "https://bank.example", nonce: "other", now: nil)) { error in
            guard case SatchelError.Rejected = error else { return XCTFail("expected Rejected, got \(error)") }
        }
    }

    func testDismissedPromptIsCancelled() async throws {
        let keys = CryptoKitKeyStore()
        let wallet = try await Wallet.open(path: tempPath(), keyStore: keys)
        let space = try await wallet.createSpace(name: "个人空间", kind: .personal)
        let issuer = try SoftwareIssuer.generate(algorithm: .es256)
        let sdJwt = try issuer.issue(claimsJson: idCard(now: Int64(Date().timeIntervalSince1970)), disclosable: ["name"], holderJwk: space.holderJwk)
        let card = try await wallet.importCredential(spaceId: space.id, sdJwt: sdJwt, issuerJwk: issuer.publicJwk())
        keys.confirm = { _ in throw KeyStoreError.UserCancelled }
        do {
            _ = try await wallet.present(credentialId: card.id, claimPaths: ["name"], audience: "https://bank.example", nonce: "n")
            XCTFail("presented without the user's confirmation")
        } catch SatchelError.Cancelled {
            // expected
        }
    }

    func testChangesArriveAsAnAsyncStream() async throws {
        let wallet = try await Wallet.open(path: tempPath(), keyStore: CryptoKitKeyStore())
        let stream = wallet.changes()
        let space = try await wallet.createSpace(name: "个人空间", kind: .personal)
        var iterator = stream.makeAsyncIterator()
        let first = await iterator.next()
        XCTAssertEqual(first, .spaceCreated(spaceId: space.id))
    }

    /// The citizen's journey against a server (SATCHEL_SERVER and
    /// SATCHEL_ADMIN in the environment; skipped without them).
    func testCitizenJourneyAgainstTheServer() async throws {
        guard let server = ProcessInfo.processInfo.environment["SATCHEL_SERVER"],
              let admin = ProcessInfo.processInfo.environment["SATCHEL_ADMIN"] else {
            throw XCTSkip("set SATCHEL_SERVER and SATCHEL_ADMIN to run against a server")
        }
        let keys = CryptoKitKeyStore()
        let wallet = try await Wallet.open(path: tempPath(), keyStore: keys)
        try await wallet.setStatusBase(base: server + "/status")
        let space = try await wallet.createSpace(name: "个人空间", kind: .personal)
        let phone = try await SatchelServer.connect(baseUrl: server, deviceId: "ios-\(UUID().uuidString)", deviceKeyAlias: "device", keyStore: keys, transport: nil)
        try await phone.registerSpace(wallet: wallet, spaceId: space.id)

        func fetch(_ path: String, method: String = "GET", body: String? = nil) async throws -> String {
            var r = URLRequest(url: URL(string: server + path)!)
            r.httpMethod = method
            if let body {
                r.httpBody = Data(body.utf8)
                r.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
                r.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            return String(decoding: try await URLSession.shared.data(for: r).0, as: UTF8.self)
        }
        let bank = try await RelyingParty.generate(clientId: "https://bank.example", ledgerPath: nil)
        _ = try await fetch("/v1/admin/relying-parties/https%3A%2F%2Fbank.example", method: "PUT", body: """
        {"client_id": "https://bank.example", "name": "Bank", "keys": [\(bank.publicJwk())], "allowed_purposes": ["IdentityVerification"]}
        """)
        let registry = try TrustRegistry.fromSigned(token: try await fetch("/v1/registry"), operatorJwk: try await fetch("/v1/registry/key"), now: nil)
        let offerJson = try await fetch("/v1/admin/issuers/public-security/offers", method: "POST", body: "{\"subject\": \"citizen-1\"}")
        let offer = try XCTUnwrap(offerJson.range(of: "openid-credential-offer://[^\"]+", options: .regularExpression).map { String(offerJson[$0]) })

        // The app's own stack for issuance, the built-in one for the rest.
        let card = try await wallet.receiveCredential(spaceId: space.id, offer: offer, registry: registry, transport: URLSessionTransport())
        let now = Int64(Date().timeIntervalSince1970)
        let request = try bank.createRequest(spec: RequestSpec(
            credentials: [CredentialRequest(id: "q1", vctValues: [card.vct], claims: ["name"], optionalClaims: [])],
            purpose: "IdentityVerification", notBefore: now - 60, notAfter: now + 86400, maxUses: 2,
            controllerName: "Bank", responseUri: "https://bank.example/response"))
        let review = try await wallet.reviewRequest(spaceId: space.id, request: request, registry: registry)
        XCTAssertEqual(review.trust, .trusted)
        keys.confirm = { _ in try await Task.sleep(nanoseconds: 50_000_000) }
        let approved = try await wallet.approve(spaceId: space.id, request: request, registry: registry,
            choice: ApprovalChoice(selections: [Selection(queryId: "q1", credentialId: card.id, claims: ["name"])], maxUses: nil, notAfter: nil, acceptUntrusted: false))
        keys.confirm = nil
        let verified = try await bank.verifyResponse(request: request, responseJson: approved.responseJson, registry: registry)
        let use = try await bank.recordUse(authorizationId: verified.id, purpose: "IdentityVerification")
        _ = try await wallet.recordUseReceipt(authorizationId: approved.authorizationId, receipt: use.receipt)

        _ = try await wallet.withdraw(authorizationId: approved.authorizationId)
        let uri = try await wallet.publishStatusList(spaceId: space.id, server: phone)
        try await bank.fetchStatusList(uri: uri, transport: nil)
        do {
            _ = try await bank.recordUse(authorizationId: verified.id, purpose: "IdentityVerification")
            XCTFail("a withdrawn authorisation was used")
        } catch SatchelError.Rejected {
            // expected
        }
        let logKeyJson = try await fetch("/v1/log/key")
        let parsed = try JSONSerialization.jsonObject(with: Data(logKeyJson.utf8)) as? [String: Any]
        let key = try XCTUnwrap(parsed?["verifier_key"] as? String)
        let report = try await wallet.anchorConsentLog(spaceId: space.id, server: phone, logKey: key)
        XCTAssertEqual(report.anchoredTotal, 2)
        let trace = try await wallet.trace(credentialId: card.id)
        XCTAssertEqual(trace.map(\.activity), [.issue, .import, .present, .authorize, .use, .withdraw])
    }

    /// Steps 9 and 11: an iPad joins the iPhone's space, syncs, and the
    /// space moves to a fresh wallet as one file (against a server, as above).
    func testSecondDeviceAndPortability() async throws {
        guard let server = ProcessInfo.processInfo.environment["SATCHEL_SERVER"] else {
            throw XCTSkip("set SATCHEL_SERVER to run against a server")
        }
        let phoneKeys = CryptoKitKeyStore()
        let padKeys = CryptoKitKeyStore()
        let phone = try await Wallet.open(path: tempPath(), keyStore: phoneKeys)
        let pad = try await Wallet.open(path: tempPath(), keyStore: padKeys)
        let space = try await phone.createSpace(name: "家庭空间", kind: .personal)
        let phoneNet = try await SatchelServer.connect(baseUrl: server, deviceId: "iphone-\(UUID().uuidString.prefix(8))", deviceKeyAlias: "device", keyStore: phoneKeys, transport: nil)
        try await phoneNet.registerSpace(wallet: phone, spaceId: space.id)
        let padId = "ipad-\(UUID().uuidString.prefix(8))"
        let padNet = try await SatchelServer.connect(baseUrl: server, deviceId: padId, deviceKeyAlias: "device", keyStore: padKeys, transport: nil)

        let request = try await pad.requestEnrolment(server: padNet)
        let code = try await phone.approveEnrolment(spaceId: space.id, requestUri: request, server: phoneNet)
        let offer = try await pad.enrolmentOffer(server: padNet)
        XCTAssertEqual(offer.code, code)
        _ = try await pad.completeEnrolment(server: padNet, confirmedCode: offer.code)

        final class Progress: SyncListener, @unchecked Sendable {
            var seen: [SyncProgress] = []
            func onProgress(progress: SyncProgress) { seen.append(progress) }
        }
        let progress = Progress()
        _ = try await pad.sync(spaceId: space.id, server: padNet, listener: progress)
        let devices = try await phone.devices(spaceId: space.id, server: phoneNet)
        XCTAssertEqual(devices.count, 2)
        try await phone.removeDevice(spaceId: space.id, deviceId: padId, server: phoneNet)
        do {
            _ = try await pad.sync(spaceId: space.id, server: padNet, listener: nil)
            XCTFail("a removed device synced")
        } catch SatchelError.Rejected {
            // expected
        }

        let file = try await phone.exportSpace(spaceId: space.id, passphrase: "a long export passphrase")
        let fresh = try await Wallet.open(path: tempPath(), keyStore: CryptoKitKeyStore())
        let report = try await fresh.importSpace(file: file, passphrase: "a long export passphrase")
        XCTAssertEqual(report.space.id, space.id)
    }
}
