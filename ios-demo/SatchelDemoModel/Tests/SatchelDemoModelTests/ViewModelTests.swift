import Foundation
import Satchel
import XCTest
@testable import SatchelDemoModel

/// The view models against a server (SATCHEL_SERVER and SATCHEL_ADMIN;
/// skipped without them), with an in-memory key store.
@MainActor
final class ViewModelTests: XCTestCase {
    func session(_ name: String) async throws -> SatchelSession {
        guard let server = ProcessInfo.processInfo.environment["SATCHEL_SERVER"] else {
            throw XCTSkip("set SATCHEL_SERVER and SATCHEL_ADMIN to run against a server")
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).db").path
        return try await SatchelSession.open(path: path, keyStore: inMemoryKeyStore(), serverUrl: server, deviceId: "\(name)-\(UUID().uuidString.prefix(8))")
    }

    func offer(issuer: String = "public-security", subject: String = "citizen-1") async throws -> String {
        let env = ProcessInfo.processInfo.environment
        guard let server = env["SATCHEL_SERVER"], let admin = env["SATCHEL_ADMIN"] else { throw XCTSkip("no server") }
        var request = URLRequest(url: URL(string: "\(server)/v1/admin/issuers/\(issuer)/offers")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("{\"subject\": \"\(subject)\"}".utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return try XCTUnwrap(json?["credential_offer_uri"] as? String)
    }

    func testWordsAndElderMode() {
        XCTAssertEqual(Words.purpose("IdentityVerification", .zh), "核实您的身份")
        XCTAssertTrue(Words.isSensitive("id_number"))
        XCTAssertFalse(Words.isSensitive("name"))
        XCTAssertGreaterThan(DisplaySettings(language: .en, elderMode: true).typeScale, 1.0)
    }

    func testOnboardingAndReceivingACard() async throws {
        let s = try await session("citizen")
        let onboarding = OnboardingViewModel(session: s)
        await onboarding.create(name: "王小明的空间", kind: .personal)
        guard case let .ready(spaceId) = onboarding.state else { return XCTFail("\(onboarding.state)") }
        let wallet = WalletViewModel(session: s, spaceId: spaceId, settings: DisplaySettings())
        let card = await wallet.receive(offer: try await offer())
        XCTAssertEqual(card?.title, "居民身份证")
        XCTAssertEqual(card?.statusText, "有效")
    }

    func testATabletJoinsByComparingCodes() async throws {
        let phone = try await session("phone")
        let tablet = try await session("tablet")
        let onboarding = OnboardingViewModel(session: phone)
        await onboarding.create(name: "家庭", kind: .personal)
        guard case let .ready(spaceId) = onboarding.state else { return XCTFail("no space") }
        let onTablet = DevicesViewModel(session: tablet)
        await onTablet.request()
        guard case let .showing(uri) = onTablet.enrolment else { return XCTFail("\(onTablet.enrolment)") }
        let onPhone = DevicesViewModel(session: phone)
        await onPhone.approve(spaceId: spaceId, scanned: uri)
        await onTablet.check()
        guard case let .approved(code) = onPhone.enrolment, case let .compare(_, shown) = onTablet.enrolment else { return XCTFail("no codes") }
        XCTAssertEqual(code, shown)
        await onTablet.confirm(code: shown)
        XCTAssertEqual(onTablet.enrolment, .joined(spaceId: spaceId))
    }
}
