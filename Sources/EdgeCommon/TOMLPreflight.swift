/// A check of TOML text before it reaches TOMLKit: toml++ 3.4.0 (inside TOMLKit 0.6.0, the newest
/// release) aborts the whole process on an assertion, instead of reporting a parse error, when a
/// table header's name starts with a character that cannot start a key (`[=`, `[[#`, `[` at the end
/// of a line): it checks the first character only after calling its key parser. SwiftPM builds C++
/// without `NDEBUG` in release too, so the shipped agent would abort on such a configuration file.
/// Found by `bash Tests/Fuzz/run` (target `config`).
///
/// The scan follows TOML's lexical structure just far enough to know where a statement starts:
/// strings (basic, literal, multi-line), comments, and brackets inside values.
public enum TOMLPreflight {
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
