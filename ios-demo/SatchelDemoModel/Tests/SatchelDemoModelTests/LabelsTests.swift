import Foundation
import XCTest
@testable import SatchelDemoModel

/// Every label says the same in both languages: both texts present, the
/// same numbered slots, no stray `%`, no Kotlin-style slot left behind.
final class LabelsTests: XCTestCase {
    private static let slot = try! NSRegularExpression(pattern: "%(\\d+)\\$(@|lld)")

    private func slots(_ text: String) -> Set<String> {
        let range = NSRange(text.startIndex..., in: text)
        return Set(Self.slot.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
    }

    private func strayPercents(_ text: String) -> Int {
        let range = NSRange(text.startIndex..., in: text)
        return Self.slot.stringByReplacingMatches(in: text, range: range, withTemplate: "").filter { $0 == "%" }.count
    }

    func testEveryLabelSaysTheSameInBothLanguages() {
        for label in Label.allCases {
            XCTAssertFalse(label.zh.trimmingCharacters(in: .whitespaces).isEmpty, "\(label) has no Chinese text")
            XCTAssertFalse(label.en.trimmingCharacters(in: .whitespaces).isEmpty, "\(label) has no English text")
            XCTAssertEqual(slots(label.zh), slots(label.en), "\(label) fills different slots in zh and en")
            for text in [label.zh, label.en] {
                XCTAssertEqual(strayPercents(text), 0, "\(label) has a stray % (or a Kotlin-style slot)")
            }
        }
    }

    func testSlotsAreFilled() {
        XCTAssertEqual(Label.syncProgress.text(.en, 3, 9), "Syncing: 3 of 9")
        XCTAssertEqual(Label.logAnchored.text(.zh, 4, 12), "已锚定 4 条，检查点大小 12")
        // Satchel's counts are UInt32 / UInt64: widened for `%lld`.
        XCTAssertEqual(Label.logVerified.text(.en, UInt32(7)), "Intact: all 7 records verified")
        XCTAssertEqual(Label.synced.text(.zh, UInt64(2), UInt64(5)), "已同步：上传 2 条，下载 5 条")
        XCTAssertEqual(Label.failed.text(.en, "no network"), "That did not work: no network")
        XCTAssertEqual(Label.appName.text(.zh), "Satchel 数字空间")
        XCTAssertEqual(Label.pair.text(.zh, "次数", "2"), "次数：2")
    }
}
