import EdgeConfig
import Foundation
import Testing

/// README's configuration table is generated from the key table the loader uses, so it cannot
/// drift. `UPDATE_GOLDEN=1 swift test --filter ReadmeReferenceTests` rewrites it.
@Suite struct ReadmeReferenceTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")
    static let begin = "<!-- config-reference:begin -->\n"
    static let end = "<!-- config-reference:end -->"

    @Test func readmeHasTheCurrentConfigurationReference() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        let start = try #require(text.range(of: Self.begin))
        let stop = try #require(text.range(of: Self.end, range: start.upperBound..<text.endIndex))
        let expected = ConfigurationReference.markdown()
        let current = String(text[start.upperBound..<stop.lowerBound])
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1", current != expected {
            try (String(text[..<start.upperBound]) + expected + String(text[stop.lowerBound...]))
                .write(to: Self.readme, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == expected, "README's configuration reference is out of date")
    }
}
