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
        try GeneratedMarkdown.expectCurrent(
            Self.readme, begin: Self.begin, end: Self.end, expected: ConfigurationReference.markdown(),
            outOfDate: "README's configuration reference is out of date")
    }
}
