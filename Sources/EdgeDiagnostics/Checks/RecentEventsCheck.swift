import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeReports
import EmnifyAPI
import ModemIdentity

/// 7. The last events of the endpoint and SIM, in the table of `emnify-edge events`; Warn and
/// Critical events, a blocked endpoint and used-up quota are called out.
struct RecentEventsCheck: DiagnosticCheck {
    let id = "events"
    let title = "Recent events"
    static let window: Int64 = 24 * 3600
    static let shown = 10

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        guard let sim = session.sim, let client = session.client else {
            return .blocked(by: "account", "the SIM was not found")
        }
        let now = session.clock.nowSeconds()
        let until = now + 60
        let from = now - Self.window
        let events: [EmnifyEvent]
        do {
            events = try await client.eventsOfSIM(sim, from: from, until: until).events
        } catch {
            return APIErrorAdvice.outcome(error, doing: "the events cannot be read")
        }
        session.recentEvents = (events, from)
        var details = ["events_24h": String(events.count)]
        guard !events.isEmpty else {
            return .pass("no events in the last 24 h", details: details)
        }
        details["table"] = EventTable.render(Array(events.suffix(Self.shown)), nowSeconds: now)
        var state = ConnectivityState()
        for event in events { state.apply(event) }
        let serious = events.filter { ($0.severity?.id ?? 0) >= 1 }
        details["warn_or_critical"] = String(serious.count)
        var callouts: [String] = []
        if state.blocked == true { callouts.append("the endpoint was blocked") }
        if state.dataQuota == "used_up" { callouts.append("the data quota is used up") }
        if state.smsQuota == "used_up" { callouts.append("the SMS quota is used up") }
        if !callouts.isEmpty {
            return .fail(
                callouts.joined(separator: "; ") + " (\(events.count) events in 24 h)",
                next: "raise or renew the quota / unblock the endpoint in the emnify Portal", details: details)
        }
        if let last = serious.last {
            let kind = last.severity?.description?.capitalisedWord ?? "Warn"
            return .warn(
                "\(serious.count) Warn/Critical event(s) in 24 h, last: \(kind) \(last.typeDisplayName)"
                    + (last.description.map { " – \($0)" } ?? ""),
                next: "read the events below; 'emnify-edge events --since 24h' shows all of them", details: details)
        }
        return .pass("\(events.count) events in 24 h, none Warn or Critical", details: details)
    }
}

extension String {
    var capitalisedWord: String { prefix(1).uppercased() + dropFirst().lowercased() }
}
