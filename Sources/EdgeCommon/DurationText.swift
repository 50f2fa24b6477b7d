/// Human-written durations: `"90s"`, `"10m"`, `"2h"`, `"7d"`, `"1h30m"`, `"500ms"`.
///
/// A duration is one or more `<whole number><unit>` parts, largest unit first, each unit at
/// most once, no sign, no fractions, no spaces inside. Units: `d` (24 h), `h`, `m`, `s`,
/// `ms`, `us`, `ns`. Blanks around the text are ignored. `format` writes the shortest such
/// text for a duration (`5400 s` → `"90m"`, `86401 s` → `"1d1s"`, see `format`), which `parse`
/// reads back.
public enum DurationText {
    /// The units, largest first, with their length in nanoseconds.
    static let units: [(symbol: String, nanoseconds: Int64)] = [
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ]

    /// Reads a duration such as `"1h30m"`.
    public static func parse(_ text: String) throws(DurationTextError) -> Duration {
        let trimmed = Substring(text).trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .empty }
        var rest = trimmed[...]
        var total: Int64 = 0
        var lastUnitIndex = -1
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty else {
                if rest.first == "-" { throw .negative(text) }
                throw .invalid(text, reason: "expected a number at '\(rest)'")
            }
            rest = rest.dropFirst(digits.count)
            if rest.first == "." || rest.first == "," {
                throw .invalid(text, reason: "fractions are not supported; combine units instead, e.g. \"1h30m\"")
            }
            let symbol = rest.prefix(while: { $0.isLetter })
            guard !symbol.isEmpty else {
                throw .invalid(text, reason: "'\(digits)' has no unit; write e.g. \"\(digits)s\"")
            }
            rest = rest.dropFirst(symbol.count)
            guard let unitIndex = units.firstIndex(where: { $0.symbol == symbol }) else {
                throw .invalid(text, reason: "unknown unit '\(symbol)'; use d, h, m, s, ms, us or ns")
            }
            guard unitIndex > lastUnitIndex else {
                throw .invalid(text, reason: "units must go from largest to smallest, each once, e.g. \"1h30m\"")
            }
            lastUnitIndex = unitIndex
            guard let count = Int64(digits) else { throw .tooLarge(text) }
            let (part, overflow1) = count.multipliedReportingOverflow(by: units[unitIndex].nanoseconds)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2 else { throw .tooLarge(text) }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// The shortest text that `parse` reads back as `duration` (to the nanosecond).
    ///
    /// Of the canonical form (`"1d1s"`) and the single-unit forms (`"90m"`) the shortest wins;
    /// among equally short ones the canonical, then the larger unit (`"1d"`, not `"24h"`).
    /// Durations longer than about 292 years are written in whole seconds and larger units.
    public static func format(_ duration: Duration) -> String {
        if duration < .zero {
            return "-" + format(.zero - duration)
        }
        let (seconds, attoseconds) = duration.components
        let nanosecondsPart = attoseconds / 1_000_000_000
        let (scaled, overflow1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(nanosecondsPart)
        if overflow1 || overflow2 {
            // Beyond Int64 nanoseconds: the sub-second part no longer matters.
            return shortest(seconds, units: units.prefix(4).map { ($0.symbol, $0.nanoseconds / 1_000_000_000) })
        }
        if total == 0 { return "0s" }
        return shortest(total, units: units)
    }

    /// The canonical form (each unit below its next larger one, zeros left out: `"1h1m1s"`)
    /// or a single-unit form (`"90m"`, `"3661s"`), whichever is shorter; a tie goes to the
    /// canonical form. Never a mix such as `"1h61s"`, which is short but hard to read.
    private static func shortest(_ value: Int64, units: [(symbol: String, nanoseconds: Int64)]) -> String {
        var canonical = ""
        var rest = value
        for unit in units where rest >= unit.nanoseconds {
            canonical += "\(rest / unit.nanoseconds)\(unit.symbol)"
            rest %= unit.nanoseconds
        }
        var best = canonical
        for unit in units where value % unit.nanoseconds == 0 {
            let single = "\(value / unit.nanoseconds)\(unit.symbol)"
            if single.count < best.count { best = single }
        }
        return best
    }
}

/// Why a duration text could not be read. The description names the text and shows a valid form.
public enum DurationTextError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case negative(String)
    case invalid(String, reason: String)
    case tooLarge(String)

    public var description: String {
        switch self {
        case .empty:
            return "the duration is empty; write e.g. \"30s\", \"10m\", \"2h\", \"7d\" or \"1h30m\""
        case .negative(let text):
            return "'\(text)' is negative; a duration is a length of time such as \"30s\""
        case .invalid(let text, let reason):
            return "'\(text)' is not a duration: \(reason)"
        case .tooLarge(let text):
            return "'\(text)' is too long a duration (the limit is about 292 years)"
        }
    }
}
