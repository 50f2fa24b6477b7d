import EmnifyAPI

/// The organisation's activity at a glance, as the Portal's dashboard gives it: counts per event
/// type and per severity over the window, and the SIMs with the most warnings. Accumulated page by
/// page, so a month of a large fleet's events never sits in memory at once.
public struct EventSummary: Sendable, Equatable {
    public private(set) var total = 0
    public private(set) var byType: [String: Int] = [:]
    public private(set) var bySeverity: [String: Int] = [:]
    /// ICCID → warnings and critical events (severity ≥ 1).
    public private(set) var warningsBySIM: [String: Int] = [:]
    /// Events that name no SIM (users, the organisation).
    public private(set) var withoutSIM = 0

    public init() {}

    public mutating func add(_ events: some Sequence<EmnifyEvent>) {
        for event in events {
            total += 1
            byType[event.typeDisplayName, default: 0] += 1
            let severity = event.severity.map { $0.description ?? String($0.id) } ?? "-"
            bySeverity[Self.capitalized(severity), default: 0] += 1
            guard let iccid = event.iccid, !iccid.isEmpty else {
                withoutSIM += 1
                continue
            }
            if (event.severity?.id ?? 0) >= 1 { warningsBySIM[iccid, default: 0] += 1 }
        }
    }

    /// Three tables: types (most frequent first), severities, and the `top` SIMs by warnings.
    public func render(window: String, top: Int = 10) -> String {
        var text = "\(total) events in the last \(window)"
        text += withoutSIM > 0 ? " (\(withoutSIM) without a SIM: users and the organisation)\n\n" : "\n\n"
        text += TextTable.render(
            header: ["EVENT TYPE", "COUNT"], rows: Self.ranked(byType).map { [$0.key, "\($0.value)"] })
        text += "\n"
        text += TextTable.render(
            header: ["SEVERITY", "COUNT"], rows: Self.ranked(bySeverity).map { [$0.key, "\($0.value)"] })
        text += "\n"
        let sims = Self.ranked(warningsBySIM).prefix(top)
        if sims.isEmpty {
            text += "No SIM raised a warning.\n"
        } else {
            text += TextTable.render(header: ["SIM (ICCID)", "WARNINGS"], rows: sims.map { [$0.key, "\($0.value)"] })
        }
        return text
    }

    /// Largest count first, ties by name: the same input always prints the same table.
    static func ranked(_ counts: [String: Int]) -> [(key: String, value: Int)] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    }

    static func capitalized(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst().lowercased() }
}
