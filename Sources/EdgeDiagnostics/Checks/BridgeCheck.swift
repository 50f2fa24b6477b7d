import EdgeAgent
import EdgeCommon
import EdgeConfig

/// Bridge mode. The local mosquitto's bridge to the fleet cluster, as mosquitto itself reports it:
/// the notification it retains on `<prefix>/<iccid>/bridge` ("1" connected, "0" down).
struct BridgeCheck: DiagnosticCheck {
    let id = "bridge"
    let title = "Bridge to the fleet cluster"

    static let snippet = "/etc/mosquitto/conf.d/emnify-bridge.conf"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        guard session.brokerReachable else { return .blocked(by: "broker", "the local broker cannot be reached") }
        guard let topics = session.topics else { return .blocked(by: "modem", "the ICCID is not known") }
        let topic = topics.base + "/bridge"
        var details = ["notification_topic": topic, "bridge_config": Self.snippet]
        let read: BridgeTopics
        switch await session.bridgeTopics(topics) {
        case .failure(let problem):
            return .fail(
                "the bridge's state cannot be read: \(problem.text)",
                next:
                    "this broker user must be allowed to subscribe to \(topics.prefix)/# (the broker's ACL); see the local broker check",
                details: details)
        case .success(let found): read = found
        }
        let polling =
            "meanwhile the agent polls the API every \(session.configuration.agent.pollInterval.components.seconds) s"
        guard let state = read.notification else {
            return .fail(
                "no bridge notification on the local broker: the bridge is not configured (emnify-edge bridge-config) "
                    + "or notifications are off" + read.caveat(topics),
                next:
                    "run 'emnify-edge bridge-config' and 'systemctl restart mosquitto'; or set notifications true, "
                    + "notifications_local_only true and notification_topic \(topic) in \(Self.snippet); \(polling)",
                details: details)
        }
        details["notification"] = BridgeTopics.shown(state)
        switch state {
        case "1":
            return .pass("connected (\(topic) is 1)", details: details)
        case "0":
            return .fail(
                "the bridge is down (\(topic) is 0): mosquitto cannot reach the fleet cluster",
                next:
                    "check the coverage (modem and network checks), the cluster addresses and credentials in "
                    + "\(Self.snippet); 'journalctl -u mosquitto' says why the bridge fails; \(polling)",
                details: details)
        default:
            return .fail(
                "unexpected bridge notification '\(BridgeTopics.shown(state))' on \(topic) (mosquitto publishes 1 or 0)",
                next:
                    "another client publishes on \(topic): only mosquitto's bridge may; see 'journalctl -u mosquitto'",
                details: details)
        }
    }
}
