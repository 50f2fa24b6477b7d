/// Turns a captured AT session (a terminal log, a tool's debug log, a test script) into exchanges:
/// log decoration (timestamps, `AT>`/`AT<`, `-->`/`<--`, `[I]-[ril.proatc]`, quoted shell traces,
/// escaped `\r\n`) is removed, a line starting with `AT` starts a command, its repeated echo is
/// dropped, and lines after a final result until the next command form an exchange with an empty
/// command (URCs).
public enum ATTranscript {
    public static func exchanges(_ text: String) -> [ATExchange] {
        var result: [ATExchange] = []
        var current: ATExchange?
        func flush() {
            if let exchange = current, !(exchange.command.isEmpty && exchange.lines.isEmpty) {
                result.append(exchange)
            }
            current = nil
        }
        for line in cleanLines(text) {
            if isCommand(line) {
                if let exchange = current, exchange.command.caseInsensitiveEquals(line), exchange.lines.isEmpty,
                    exchange.final == nil
                {
                    continue  // echo of the command just sent
                }
                flush()
                current = ATExchange(command: line, lines: [], final: nil)
                continue
            }
            if current == nil || current?.final != nil {
                flush()
                current = ATExchange(command: "", lines: [], final: nil)
            }
            if let final = ATFinalResult(line: line), !(current?.command.isEmpty ?? true) {
                current?.final = final
            } else {
                current?.lines.append(line)
            }
        }
        flush()
        return result
    }

    static func isCommand(_ line: String) -> Bool {
        let upper = line.uppercased()
        guard upper.hasPrefix("AT"), let third = upper.dropFirst(2).first else { return upper == "AT" }
        return third == "+" || third == "#" || third == "!" || third == "^" || third == "&" || third == "$"
            || third.isLetter || third.isNumber
    }

    /// Non-empty lines with log decoration removed.
    static func cleanLines(_ text: String) -> [String] {
        let expanded = text.replacingAll("<CR><LF>", with: "\n").replacingAll("\\r\\n", with: "\n")
            .replacingAll("\\r", with: "\n").replacingAll("\\n", with: "\n")
        var lines: [String] = []
        // "\r\n" is one Character in Swift, equal to neither "\r" nor "\n": test all three.
        let breaks: Set<Character> = ["\n", "\r", "\r\n"]
        for raw in expanded.split(omittingEmptySubsequences: true, whereSeparator: breaks.contains) {
            let line = clean(Substring(raw))
            if !line.isEmpty { lines.append(line) }
        }
        return lines
    }

    static func clean(_ raw: Substring) -> String {
        var line = raw.trimmingBlanks()
        if line.hasPrefix("# ") || line == "#" { return "" }  // comments in fixtures and scripts
        // `[2020-06-24 23:19:17.192] [I]-[ril.proatc] x`, `[01-23_08:42:40:829] AT< x`, `[33283] ### …`
        while line.first == "[", let close = line.firstIndex(of: "]") {
            line = line[line.index(after: close)...]
            while let first = line.first, first == "-" || first.isWhitespace { line = line.dropFirst() }
        }
        // `14:54:37.096 -> x`, `发→◇AT+CPIN?`, `收←◆AT+CPIN?`
        if let arrow = line.firstRange(of: " -> "),
            line[..<arrow.lowerBound].allSatisfy({ $0.isNumber || ":.".contains($0) })
        {
            line = line[arrow.upperBound...]
        }
        if let marker = line.firstIndex(where: { $0 == "◇" || $0 == "◆" }) { line = line[line.index(after: marker)...] }
        for prefix in ["AT> ", "AT< ", "AT<", "--> ", "<-- ", "<--", "> ", ">"] where line.hasPrefix(prefix) {
            line = line.dropFirst(prefix.count)
            break
        }
        // Shell traces: `+ O='AT+QCCID`, `+ echo 'AT+QCCID`; Python lists: `result = ['+CREG: …',`.
        if line.hasPrefix("+ ") {
            guard let quote = line.firstIndex(of: "'") else { return "" }
            line = line[line.index(after: quote)...]
        }
        if line.hasPrefix("result = [") { line = line.dropFirst("result = [".count) }
        if line.first == "'" {
            line = line.dropFirst()
            while let last = line.last, last == "'" || last == "," || last == "]" { line = line.dropLast() }
        }
        if line == "'" { return "" }
        // `AT+CPIN?  //comment`
        if let comment = line.firstRange(of: "//") { line = line[..<comment.lowerBound] }
        return String(line.trimmingBlanks())
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool { lowercased() == other.lowercased() }

    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
