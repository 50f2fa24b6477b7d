/// Finds the line on which each key of a TOML document is written, so that a problem can
/// name its line (TOMLKit reports lines only for syntax errors).
///
/// It scans the text once: table headers (`[mqtt]`, `[[x]]`), bare, quoted and dotted keys,
/// inline tables (`api = { url = "…" }`, keys inside are recorded too), arrays and multi-line
/// strings are skipped as values, and comments are ignored, so `=` or `#` inside a string or
/// a comment does not confuse it. Paths are the keys joined with dots (`"agent.poll_interval"`);
/// a table's own path maps to its header line (or its first key when it has no header).
/// The first occurrence wins. It never fails: on text it does not understand it skips to the
/// next line (the TOML parser reports real syntax errors).
public struct TOMLKeyLocator: Sendable {
    private var lines: [String: Int] = [:]

    public init(_ text: String) {
        var found: [String: Int] = [:]
        var scanner = Scanner(Array(text.unicodeScalars))
        scanner.run { path, line in
            let key = path.joined(separator: ".")
            if found[key] == nil { found[key] = line }
        }
        lines = found
    }

    /// The 1-based line of `path` (`"api.timeout"`, or a table such as `"api"`), if written.
    public func line(of path: String) -> Int? { lines[path] }

    /// Every path found, for tests and diagnostics.
    public var paths: [String] { Array(lines.keys) }
}

private struct Scanner {
    let text: [Unicode.Scalar]
    var index = 0
    var line = 1

    init(_ text: [Unicode.Scalar]) { self.text = text }

    var current: Unicode.Scalar? { index < text.count ? text[index] : nil }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < text.count ? text[index + offset] : nil
    }

    mutating func advance() {
        if current == "\n" { line += 1 }
        index += 1
    }

    mutating func skipBlanks() {
        while let c = current, c == " " || c == "\t" { advance() }
    }

    mutating func skipToEndOfLine() {
        while let c = current, c != "\n" { advance() }
    }

    /// Blanks, newlines and comments (inside arrays and multi-line values).
    mutating func skipBlanksNewlinesComments() {
        while let c = current {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                advance()
            } else if c == "#" {
                skipToEndOfLine()
            } else {
                return
            }
        }
    }

    mutating func run(_ record: (_ path: [String], _ line: Int) -> Void) {
        var table: [String] = []
        while current != nil {
            skipBlanks()
            guard let c = current else { break }
            switch c {
            case "\n", "\r":
                advance()
            case "#":
                skipToEndOfLine()
            case "[":
                let headerLine = line
                advance()
                let isArrayOfTables = current == "["
                if isArrayOfTables { advance() }
                if let path = readKey() {
                    table = path
                    for length in 1...path.count { record(Array(path.prefix(length)), headerLine) }
                }
                skipToEndOfLine()
            default:
                let keyLine = line
                guard let key = readKey(), current == "=" else {
                    skipToEndOfLine()
                    continue
                }
                advance()
                let path = table + key
                for length in (table.count + 1)...path.count { record(Array(path.prefix(length)), keyLine) }
                skipBlanks()
                skipValue(path: path, record)
                skipBlanks()
                if current == "#" { skipToEndOfLine() }
            }
        }
    }

    /// A key: bare or quoted parts joined by dots, blanks around the dots allowed. Stops
    /// before `=`, `]` or `,`; nil when the text is not a key.
    mutating func readKey() -> [String]? {
        var parts: [String] = []
        while true {
            skipBlanks()
            guard let c = current else { return nil }
            if c == "\"" || c == "'" {
                guard let part = readQuotedKey(quote: c) else { return nil }
                parts.append(part)
            } else {
                var part = ""
                while let c = current, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-" {
                    part.unicodeScalars.append(c)
                    advance()
                }
                guard !part.isEmpty else { return nil }
                parts.append(part)
            }
            skipBlanks()
            if current == "." {
                advance()
                continue
            }
            if let c = current, c == "=" || c == "]" { return parts }
            return nil
        }
    }

    mutating func readQuotedKey(quote: Unicode.Scalar) -> String? {
        advance()
        var value = ""
        while let c = current, c != "\n" {
            if c == quote {
                advance()
                return value
            }
            if c == "\\" && quote == "\"" {
                advance()
                if let escaped = current, escaped != "\n" {
                    value.unicodeScalars.append(escaped)
                    advance()
                }
                continue
            }
            value.unicodeScalars.append(c)
            advance()
        }
        return nil
    }

    /// Skips one value; records the keys of inline tables under `path`.
    mutating func skipValue(path: [String], _ record: (_ path: [String], _ line: Int) -> Void) {
        guard let c = current else { return }
        switch c {
        case "\"", "'":
            skipString(quote: c)
        case "{":
            advance()
            while true {
                skipBlanksNewlinesComments()
                guard let c = current else { return }
                if c == "}" {
                    advance()
                    return
                }
                if c == "," {
                    advance()
                    continue
                }
                let keyLine = line
                guard let key = readKey(), current == "=" else {
                    skipToEndOfLine()
                    return
                }
                advance()
                let inner = path + key
                for length in (path.count + 1)...inner.count { record(Array(inner.prefix(length)), keyLine) }
                skipBlanks()
                skipValue(path: inner, record)
            }
        case "[":
            advance()
            while true {
                skipBlanksNewlinesComments()
                guard let c = current else { return }
                if c == "]" {
                    advance()
                    return
                }
                if c == "," {
                    advance()
                    continue
                }
                let before = index
                // Keys of inline tables inside arrays are not addressable by a dotted path.
                skipValue(path: path + ["[]"], { _, _ in })
                if index == before { advance() }
            }
        default:
            // A number, boolean or date: up to a separator.
            while let c = current, c != "," && c != "]" && c != "}" && c != "#" && c != "\n" && c != "\r" {
                advance()
            }
        }
    }

    /// Basic, literal and multi-line strings (`"…"`, `'…'`, `"""…"""`, `'''…'''`).
    mutating func skipString(quote: Unicode.Scalar) {
        if peek(1) == quote && peek(2) == quote {
            advance()
            advance()
            advance()
            while let c = current {
                if c == "\\" && quote == "\"" {
                    advance()
                    advance()
                    continue
                }
                if c == quote && peek(1) == quote && peek(2) == quote {
                    advance()
                    advance()
                    advance()
                    // Up to two more quotes may belong to the content (`""""` ends with a quote).
                    while current == quote { advance() }
                    return
                }
                advance()
            }
            return
        }
        advance()
        while let c = current, c != "\n" {
            if c == "\\" && quote == "\"" {
                advance()
                if current != "\n" { advance() }
                continue
            }
            advance()
            if c == quote { return }
        }
    }
}
