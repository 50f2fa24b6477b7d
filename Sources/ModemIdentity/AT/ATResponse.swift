/// How an AT command ended.
public enum ATFinalResult: Sendable, Equatable {
    case ok
    case error
    /// `+CME ERROR: <n>` (after `AT+CMEE=1`) or `+CME ERROR: <text>` (after `AT+CMEE=2`).
    case cmeError(code: Int?, text: String)
    case cmsError(String)

    /// Parses a final result code line, or nil when the line is not one.
    public init?(line: String) {
        let trimmed = line.trimmingBlanks()
        if trimmed == "OK" {
            self = .ok
        } else if trimmed == "ERROR" || trimmed == "NO CARRIER" {
            self = .error
        } else if trimmed.hasPrefix("+CME ERROR:") {
            let value = String(trimmed.dropFirst("+CME ERROR:".count)).trimmingBlanks()
            self = .cmeError(code: Int(value), text: value)
        } else if trimmed.hasPrefix("+CMS ERROR:") {
            self = .cmsError(String(trimmed.dropFirst("+CMS ERROR:".count)).trimmingBlanks())
        } else {
            return nil
        }
    }

    /// The SIM condition a CME error names (27.007 §9.2: 10 not inserted, 11 PIN, 12 PUK, 13 failure,
    /// 14 busy; verbose texts likewise), or nil for other errors.
    public var simState: SIMState? {
        guard case .cmeError(let code, let text) = self else { return nil }
        let lower = text.lowercased()
        switch code {
        case 10: return .notInserted
        case 11: return .pinRequired
        case 12: return .pukRequired
        case 13, 15: return .failure
        case 14: return .busy
        default: break
        }
        if lower.contains("not inserted") || lower.contains("no sim") { return .notInserted }
        if lower.contains("puk") { return .pukRequired }
        if lower.contains("pin required") { return .pinRequired }
        if lower.contains("busy") || lower.contains("not ready") { return .busy }
        if lower.contains("sim failure") || lower.contains("sim wrong") { return .failure }
        return nil
    }
}

/// One command and what came back: information lines (possibly with URCs mixed in) and the final result
/// (nil when the transcript or the modem gave none).
public struct ATExchange: Sendable, Equatable {
    public var command: String
    public var lines: [String]
    public var final: ATFinalResult?

    public init(command: String, lines: [String], final: ATFinalResult?) {
        self.command = command
        self.lines = lines
        self.final = final
    }

    /// The commands of a chained line: `AT+CSQ;+CPIN?` → `["+CSQ", "+CPIN?"]` (upper-cased, without `AT`).
    public var commandParts: [String] {
        var text = command.trimmingBlanks().uppercased()
        if text.hasPrefix("AT") { text = String(text.dropFirst(2)) }
        return text.split(separator: ";").map { String($0).trimmingBlanks() }
    }
}
