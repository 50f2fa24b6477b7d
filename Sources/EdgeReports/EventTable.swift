import EdgeCommon
import EmnifyAPI

/// The events as the emnify Portal shows them: severity, date (relative and absolute),
/// source, type (with 4G/5G for PDP contexts), device, operator, country, id, description.
public enum EventTable {
    public static let columns = [
        "SEVERITY", "WHEN", "DATE (UTC)", "SOURCE", "TYPE", "DEVICE", "OPERATOR", "COUNTRY", "ID", "DESCRIPTION",
    ]

    public static func render(_ events: [EmnifyEvent], nowSeconds: Int64) -> String {
        let rows = events.map { row(for: $0, nowSeconds: nowSeconds) }
        return TextTable.render(header: columns, rows: rows)
    }

    static func row(for event: EmnifyEvent, nowSeconds: Int64) -> [String] {
        [
            event.severity?.description.map(capitalized) ?? "-",
            RelativeTime.describe(seconds: nowSeconds - event.timestamp.secondsSinceEpoch),
            event.timestamp.utc.portalStyle,
            event.source?.description ?? "-",
            event.typeDisplayName,
            event.endpointName ?? "-",
            event.operatorName ?? "-",
            event.countryName ?? "-",
            String(event.id),
            event.description ?? "",
        ].map(sanitize)
    }

    /// One event per line, exactly emnify's JSON with insignificant white space removed.
    public static func jsonLines(_ events: [EmnifyEvent]) -> String {
        events.map { String(decoding: JSONCompactor.compact($0.raw), as: UTF8.self) + "\n" }.joined()
    }

    private static func capitalized(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst().lowercased()
    }

    /// Control characters from event content must not reach the terminal.
    private static func sanitize(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    }
}

/// "5 minutes ago", "in 2 hours", "just now", as the Portal says it.
public enum RelativeTime {
    public static func describe(seconds: Int64) -> String {
        let future = seconds < 0
        let value = abs(seconds)
        let text: String
        switch value {
        case ..<45: return "just now"
        case ..<90: text = "a minute"
        case ..<(45 * 60): text = "\((value + 30) / 60) minutes"
        case ..<(90 * 60): text = "an hour"
        case ..<(22 * 3600): text = "\((value + 1800) / 3600) hours"
        case ..<(36 * 3600): text = "a day"
        case ..<(26 * 86400): text = "\((value + 43200) / 86400) days"
        case ..<(45 * 86400): text = "a month"
        default: text = "\((value + 15 * 86400) / (30 * 86400)) months"
        }
        return future ? "in \(text)" : "\(text) ago"
    }
}
