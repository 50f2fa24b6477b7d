import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI

/// Bridge mode. How far the gateway's newest event lags the API's: the newest event in the agent's
/// cursors (the state file the agent keeps from what reaches the local broker) against the SIM's
/// events the events check read from the API. No request of its own.
struct EventLagCheck: DiagnosticCheck {
    let id = "event-lag"
    let title = "Bridged events vs the API"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        guard let recent = session.recentEvents else {
            return .blocked(by: "events", "the API's events were not read")
        }
        let store = AgentStateStore(directory: session.configuration.agent.stateDir)
        let local = Self.LocalEvents(store.load().0)
        let api = recent.events
        var details = ["state_file": store.path, "api_events_24h": String(api.count)]
        if let newest = local.newestMillis { details["gateway_newest"] = Self.iso(newest) }
        guard let apiNewest = api.last else {
            return .pass("the API has no event of this SIM in the last 24 h: nothing to lag", details: details)
        }
        details["api_newest"] = Self.iso(apiNewest.timestamp.millisecondsSinceEpoch) + " (id \(apiNewest.id))"
        let lacking = api.filter { !local.has($0) }
        details["events_missing"] = String(lacking.count)
        guard !lacking.isEmpty else {
            return .pass("the gateway has the API's newest event (id \(apiNewest.id))", details: details)
        }
        let service = session.inputs.serviceName
        let quiet = DurationWords.describe(session.configuration.agent.quietLimit.components.seconds)
        let next =
            "the agent reconciles at the bridge's next reconnect or after quiet_limit (\(quiet)); "
            + "'systemctl restart \(service)' reconciles now"
        guard let localNewest = local.newestMillis else {
            return .warn(
                "the gateway has no event yet; the API has \(lacking.count) in the last 24 h", next: next,
                details: details)
        }
        // When the gateway's newest is older than the API's window, it may lack more than the window shows.
        let atLeast = localNewest < recent.fromSeconds * 1000 ? "at least " : ""
        let lag = max(0, apiNewest.timestamp.millisecondsSinceEpoch - localNewest) / 1000
        details["lag_seconds"] = String(lag)
        return .warn(
            "the gateway's newest event is \(lag == 0 ? "under a second" : DurationWords.describe(lag)) behind the API's: "
                + "the API has \(atLeast)\(lacking.count) event(s) the gateway lacks", next: next, details: details)
    }

    /// The events the gateway has, as its cursors record them: the newest time over both feeds, and
    /// the ids recorded in their windows.
    struct LocalEvents {
        var newestMillis: Int64?
        var published: Set<Int64>

        init(_ state: AgentState) {
            newestMillis = state.cursors.values.compactMap(\.newestMillis).max()
            published = Set(state.cursors.values.flatMap(\.published.keys))
        }

        /// Older than the newest or recorded: the gateway has it. An event as new as the newest and not
        /// recorded is lacking (several events can share a millisecond); an older one that is not
        /// recorded is the agent's look-back's business, not the lag this check measures.
        func has(_ event: EmnifyEvent) -> Bool {
            guard let newestMillis else { return false }
            return event.timestamp.millisecondsSinceEpoch < newestMillis || published.contains(event.id)
        }
    }

    static func iso(_ millis: Int64) -> String { UTCDateTime(secondsSinceEpoch: millis / 1000).iso8601 }
}
