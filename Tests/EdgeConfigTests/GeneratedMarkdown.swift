import Foundation
import Testing

/// A part of a Markdown file generated from the key table, between a begin and an end marker.
/// With `UPDATE_GOLDEN=1` the test rewrites it instead of failing.
enum GeneratedMarkdown {
    /// The text between `begin` and `end` in `file` is `expected` (or is made so, with UPDATE_GOLDEN=1).
    static func expectCurrent(
        _ file: URL, begin: String, end: String, expected: String, outOfDate: Comment,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let text = try String(contentsOf: file, encoding: .utf8)
        let start = try #require(text.range(of: begin), sourceLocation: sourceLocation)
        let stop = try #require(
            text.range(of: end, range: start.upperBound..<text.endIndex), sourceLocation: sourceLocation)
        let current = String(text[start.upperBound..<stop.lowerBound])
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1", current != expected {
            try (String(text[..<start.upperBound]) + expected + String(text[stop.lowerBound...]))
                .write(to: file, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == expected, outOfDate, sourceLocation: sourceLocation)
    }
}
