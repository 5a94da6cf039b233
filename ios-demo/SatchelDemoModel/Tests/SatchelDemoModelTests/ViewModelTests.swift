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
        XCTAssertNotNil(onTablet.lastSync, "the new device synced")

        let devices = try await onPhone.list(spaceId: spaceId)
        XCTAssertEqual(devices.count, 2)
        let other = try XCTUnwrap(devices.first { !$0.thisDevice })
        try await onPhone.remove(spaceId: spaceId, deviceId: other.deviceId)
        do {
            try await onTablet.sync(spaceId: spaceId)
            XCTFail("a removed device still syncs")
        } catch let error as SatchelError {
            guard case .Rejected = error else { return XCTFail("\(error)") }
        }
    }

    func testTheSpaceMovesToAnotherWalletAsOneFile() async throws {
        let old = try await session("old")
        let onboarding = OnboardingViewModel(session: old)
        await onboarding.create(name: "我的空间", kind: .personal)
        guard case let .ready(spaceId) = onboarding.state else { return XCTFail("no space") }
        let wallet = WalletViewModel(session: old, spaceId: spaceId, settings: DisplaySettings())
        _ = await wallet.receive(offer: try await offer())
        do {
            _ = try await ExportViewModel(session: old).export(spaceId: spaceId, passphrase: "short")
            XCTFail("a short passphrase was accepted")
        } catch let error as SatchelError {
            guard case .InvalidInput = error else { return XCTFail("\(error)") }
        }
        let file = try await ExportViewModel(session: old).export(spaceId: spaceId, passphrase: "a long export passphrase")

        let fresh = try await session("new")
        let importer = ExportViewModel(session: fresh)
        do {
            _ = try await importer.importSpace(file: file, passphrase: "wrong passphrase!")
            XCTFail("the wrong passphrase opened the file")
        } catch {}
        let report = try await importer.importSpace(file: file, passphrase: "a long export passphrase")
        XCTAssertEqual(report.space.id, spaceId)
        XCTAssertEqual(report.credentials, 1)
        XCTAssertEqual(report.toReissue.count, 1, "bound to the old phone's key")
    }
}
