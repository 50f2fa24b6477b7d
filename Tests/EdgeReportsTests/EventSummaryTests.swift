import EdgeReports
import EmnifyAPI
import Foundation
import Testing

@Suite struct EventSummaryTests {
    // emnify's documented examples, as copied into the repository (a fresh clone has no ../shared).
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../EmnifyAPITests/Fixtures/emnify-doc-events").standardized

    func fixture(_ name: String) throws -> EmnifyEvent {
        try EmnifyEvent(json: Array(try Data(contentsOf: fixtures.appendingPathComponent(name))))
    }

    @Test func countsTypesSeveritiesAndTheSIMsWithMostWarnings() throws {
        var summary = EventSummary()
        let created = try fixture("03-create-pdp-context-1.json")
        let failedLogin = try fixture("06-user-authentication-failed-1.json")
        let blocked = try fixture("11-endpoint-blocked-1.json")
        summary.add([created, created, failedLogin])
        summary.add([blocked])
        #expect(summary.total == 4)
        #expect(summary.byType["Create PDP Context"] == 2)
        #expect(summary.withoutSIM == 1 + (blocked.iccid == nil ? 1 : 0))
        let text = summary.render(window: "24h")
        #expect(text.hasPrefix("4 events in the last 24h"))
        #expect(text.contains("EVENT TYPE"))
        // Most frequent first.
        let lines = text.split(separator: "\n")
        let firstType = lines.firstIndex { $0.hasPrefix("EVENT TYPE") }.map { lines[$0 + 1] }
        #expect(firstType?.hasPrefix("Create PDP Context") == true)
    }

    @Test func noWarningsIsSaidPlainly() {
        #expect(EventSummary().render(window: "1h").contains("No SIM raised a warning."))
    }
}
