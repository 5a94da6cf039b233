import Foundation
import Satchel
import XCTest
@testable import SatchelDemoModel

/// What the app routes without a server: scanned codes and opened links,
/// the company's hand-over code, and failures in plain words.
final class LinksTests: XCTestCase {
    func testScansAndLinksAreRoutedByScheme() throws {
        XCTAssertEqual(try IncomingLink("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fs%2Fo%2F1"),
                       .credentialOffer("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fs%2Fo%2F1"))
        XCTAssertEqual(try IncomingLink(" openid4vp://?client_id=c&request_uri=https%3A%2F%2Fs%2Fr%2F1\n"),
                       .presentationRequest("openid4vp://?client_id=c&request_uri=https%3A%2F%2Fs%2Fr%2F1"))
        XCTAssertEqual(try IncomingLink("satchel-enrol:eyJ2IjoxfQ"), .enrolment("satchel-enrol:eyJ2IjoxfQ"))
        XCTAssertEqual(try IncomingLink("eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2ln"), .presentationRequest("eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2ln"))
        XCTAssertThrowsError(try IncomingLink("https://example.com/"))
        XCTAssertThrowsError(try IncomingLink("not.a jws.at all"))
    }

    func testTheCompanysHandOverRoundTrips() throws {
        let text = handOver(delegation: "eyJ.delegation.sig", licence: "eyJ.licence.sig~disclosure~")
        XCTAssertTrue(text.hasPrefix("satchel-delegation:"), "the Android model's format")
        let parts = try readHandOver(text: text + "\n")
        let (delegation, licence) = (parts.delegation, parts.licence)
        XCTAssertEqual(delegation, "eyJ.delegation.sig")
        XCTAssertEqual(licence, "eyJ.licence.sig~disclosure~")
        XCTAssertThrowsError(try readHandOver(text: "openid4vp://?request=x"))
        XCTAssertThrowsError(try readHandOver(text: "satchel-delegation:only-one-part"))
        XCTAssertThrowsError(try readHandOver(text: "satchel-delegation:a b\nc"))
    }

    func testFailuresReadPlainly() {
        XCTAssertEqual(Words.reason(SatchelError.Network(message: "timed out"), .en), "The network failed (timed out)")
        XCTAssertEqual(Words.reason(SatchelError.Network(message: "timed out"), .zh), "网络不通（timed out）")
        XCTAssertEqual(Words.reason(KeyStoreError.UserCancelled, .en), "You cancelled the check that it is you")
        XCTAssertEqual(Words.reason(ReviewError.notReady, .en), "Switch on every needed field and agree separately to sensitive ones")
        XCTAssertEqual(Words.purpose("SomeNewPurpose", .en), "Some new purpose")
        XCTAssertEqual(Words.window(notAfter: 10 * 86_400, now: 0, .en), "For 10 days")
        XCTAssertEqual(Words.expiry(nil, .zh), "长期有效")
    }
}
