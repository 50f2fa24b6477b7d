/// Topic levels built from data (event types, names): nothing from the data can change the topic's shape.
public enum TopicSegment {
    /// Longest segment kept, in characters; longer ones are cut (topics are limited to 65535 bytes).
    public static let maximumLength = 128

    /// Replaces `+`, `#`, `/`, NUL and other control characters with `_`; an empty result becomes `_`.
    /// The result is one non-empty topic level that cannot act as a wildcard or add a level.
    public static func sanitize(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(maximumLength) {
            switch scalar {
            case "+", "#", "/": result.append("_")
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value): result.append("_")
            case "\u{FFFE}", "\u{FFFF}": result.append("_")
            default: result.append(scalar)
            }
        }
        return result.isEmpty ? "_" : String(result)
    }
}
