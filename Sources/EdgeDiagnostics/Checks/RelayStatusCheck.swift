import EdgeAgent
import EdgeCommon
import EdgeConfig

/// Bridge mode. The fleet relays' statuses, retained on the local broker through the bridge
/// (`<prefix>/relay/<relay id>/status`, `online` / `offline`): events reach the cluster only while a
/// relay is online, and without one the agent polls the API itself.
struct RelayStatusCheck: DiagnosticCheck {
    let id = "relays"
    let title = "Fleet relays"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        guard session.brokerReachable else { return .blocked(by: "broker", "the local broker cannot be reached") }
        guard let topics = session.topics else { return .blocked(by: "modem", "the ICCID is not known") }
        let filter = topics.prefix + "/relay/+/status"
        var details = ["status_topics": filter]
        let read: BridgeTopics
        switch await session.bridgeTopics(topics) {
        case .failure(let problem):
            return .fail(
                "the relays' statuses cannot be read: \(problem.text)",
                next:
                    "this broker user must be allowed to subscribe to \(topics.prefix)/# (the broker's ACL); see the local broker check",
                details: details)
        case .success(let found): read = found
        }
        if !read.relays.isEmpty {
            details["relays"] = read.relays.keys.sorted().map { "\($0) \(BridgeTopics.shown(read.relays[$0]!))" }
                .joined(separator: ", ")
        }
        // Through a bridge that is down the statuses are the last ones it brought.
        let stale =
            (read.notification == "1" ? "" : " (as last bridged: the bridge is not connected)") + read.caveat(topics)
        let online = read.onlineRelays
        if !online.isEmpty {
            return .pass(
                "\(online.count) relay(s) online: \(online.map(BridgeTopics.shown).joined(separator: ", "))\(stale)",
                details: details)
        }
        let poll = session.configuration.agent.pollInterval.components.seconds
        let fallback = "the agent falls back to polling the API (every \(poll) s) while no relay is online"
        let next = "check the relays: systemctl status emnify-edge-relay on their hosts"
        if read.relays.isEmpty {
            return .warn(
                "no relay status on the local broker\(stale); \(fallback)",
                next: next + ", and that \(BridgeCheck.snippet) has 'topic \(filter) in 0'", details: details)
        }
        return .warn(
            "every relay is offline (\(read.relays.count) known)\(stale); \(fallback)", next: next, details: details)
    }
}
