/// A check of TOML text before it reaches TOMLKit: toml++ 3.4.0 (inside TOMLKit 0.6.0, the newest
/// release) aborts the whole process on an assertion, instead of reporting a parse error, when a
/// table header's name starts with a character that cannot start a key (`[=`, `[[#`, `[` at the end
/// of a line): it checks the first character only after calling its key parser. SwiftPM builds C++
/// without `NDEBUG` in release too, so the shipped agent would abort on such a configuration file.
/// Found by `bash Tests/Fuzz/run` (target `config`).
///
/// The scan follows TOML's lexical structure just far enough to know where a statement starts:
/// strings (basic, literal, multi-line), comments, and brackets inside values.
///
/// It also refuses control characters: toml++ reads a C string, so a NUL silently ends the file there
/// (a `\0` followed by garbage and an unknown table passed as valid, and keys after it were ignored).
/// TOML forbids raw control characters anywhere but tab and the line break (also in strings and
/// comments, where they must be escaped), so the whole text is checked.
public enum TOMLPreflight {
    /// Something in the text that must not reach TOMLKit: where (1-based line and column, in Unicode
    /// scalars) and what, as a message for the user.
    public struct Finding: Sendable, Equatable {
        public let line: Int
        public let column: Int
        public let message: String
    }

    /// The first control character, then the first unsafe table header; nil when the text may be parsed.
    /// Both loaders of TOML (the configuration and the board profiles) call this before TOMLKit.
    public static func check(_ text: String) -> Finding? {
        if let control = controlCharacter(in: text) {
            return Finding(line: control.line, column: control.column, message: controlMessage(control.scalar))
        }
        if let header = unsafeTableHeader(in: text) {
            return Finding(line: header.line, column: header.column, message: headerMessage)
        }
        return nil
    }

    /// The first control character TOML does not allow (all of U+0000–U+001F and U+007F but tab,
    /// line feed, and a carriage return that ends a line), with its 1-based line and column.
    public static func controlCharacter(in text: String) -> (line: Int, column: Int, scalar: Unicode.Scalar)? {
        var line = 1
        var column = 0
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if previousWasCR && scalar != "\n" { return (line, column, "\r") }
            previousWasCR = false
            column += 1
            switch scalar.value {
            case 0x0A:
                line += 1
                column = 0
            case 0x0D: previousWasCR = true
            case 0x09: break
            case 0x00...0x1F, 0x7F: return (line, column, scalar)
            default: break
            }
        }
        return previousWasCR ? (line, column, "\r") : nil
    }

    static func controlMessage(_ scalar: Unicode.Scalar) -> String {
        let code = String(scalar.value, radix: 16, uppercase: true)
        let name = scalar == "\0" ? " (NUL)" : scalar == "\r" ? " (a carriage return not followed by a line feed)" : ""
        return "control character U+\(String(repeating: "0", count: 4 - code.count))\(code)\(name) is not allowed in "
            + "TOML (only tab and line breaks are); remove it, or inside a string write it as an escape such as \\u"
            + String(repeating: "0", count: 4 - code.count) + code
    }

    /// The problem to report for `unsafeTableHeader`.
    public static let headerMessage =
        "a table header such as [api] must start with a name (a letter, digit, '_', '-' or a quote)"

    /// Where a table header that toml++ cannot survive starts (1-based line and column), or nil.
    public static func unsafeTableHeader(in text: String) -> (line: Int, column: Int)? {
        var scanner = Scanner(Array(text.unicodeScalars))
        return scanner.run()
    }

    private struct Scanner {
        let text: [Unicode.Scalar]
        var index = 0
        var line = 1
        var lineStart = 0

        init(_ scalars: [Unicode.Scalar]) {
            // toml++ receives a C string: it ends at the first NUL.
            text = Array(scalars.prefix { $0 != "\0" })
        }

        var current: Unicode.Scalar? { index < text.count ? text[index] : nil }

        func at(_ offset: Int) -> Unicode.Scalar? { index + offset < text.count ? text[index + offset] : nil }

        mutating func advance() {
            if current == "\n" {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }

        mutating func skipBlanks() { while current == " " || current == "\t" { advance() } }

        mutating func skipToEndOfLine() { while let c = current, c != "\n" { advance() } }

        mutating func run() -> (line: Int, column: Int)? {
            while let c = current {
                switch c {
                case " ", "\t", "\r", "\n": advance()
                case "#": skipToEndOfLine()
                case "[":
                    let position = (line, index - lineStart + 1)
                    advance()
                    let hadBlank = current == " " || current == "\t"
                    skipBlanks()
                    if current == "[" {
                        // `[ [`: toml++ reports that itself.
                        if hadBlank {
                            skipHeader()
                            continue
                        }
                        advance()
                        skipBlanks()
                    }
                    if let first = current, !Self.canStartHeaderName(first) { return position }
                    skipHeader()
                default:
                    skipKeyValue()
                }
            }
            return nil
        }

        static func canStartHeaderName(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-", "\"", "'", "]": return true
            default: return false
            }
        }

        /// The rest of a header line (quoted key parts may hold `]` or `#`).
        mutating func skipHeader() {
            while let c = current, c != "\n" {
                if c == "\"" || c == "'" { skipString() } else if c == "#" { skipToEndOfLine() } else { advance() }
            }
        }

        /// A key, `=`, and a value that may span lines inside brackets or multi-line strings.
        mutating func skipKeyValue() {
            var depth = 0
            while let c = current {
                switch c {
                case "\"", "'": skipString()
                case "[", "{":
                    depth += 1
                    advance()
                case "]", "}":
                    depth = max(depth - 1, 0)
                    advance()
                case "#": skipToEndOfLine()
                case "\n":
                    if depth == 0 { return }
                    advance()
                default: advance()
                }
            }
        }

        /// A basic or literal string, single- or multi-line, from its opening quote.
        mutating func skipString() {
            guard let quote = current else { return }
            if at(1) == quote, at(2) == quote {
                advance(); advance(); advance()
                while let c = current {
                    if c == "\\", quote == "\"" {
                        advance()
                        advance()
                    } else if c == quote, at(1) == quote, at(2) == quote {
                        advance(); advance(); advance()
                        // Up to two more quotes belong to the content (`"""a"""""`).
                        if current == quote { advance() }
                        if current == quote { advance() }
                        return
                    } else {
                        advance()
                    }
                }
                return
            }
            advance()
            while let c = current, c != "\n" {
                if c == "\\", quote == "\"" {
                    advance()
                    if current != "\n" { advance() }
                } else if c == quote {
                    advance()
                    return
                } else {
                    advance()
                }
            }
        }
    }
}
