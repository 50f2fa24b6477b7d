import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// One link of the chain, checked. Checks run in order and share what they learn through the
/// session (the SIM found by `account` is what `connectivity` and `events` look at).
public protocol DiagnosticCheck: Sendable {
    var id: String { get }
    var title: String { get }
    func run(_ session: DiagnosticSession) async -> CheckOutcome
}

extension DiagnosticCheck {
    /// Runs the check and times it.
    func result(_ session: DiagnosticSession) async -> CheckResult {
        let start = ContinuousClock.now
        let outcome = await run(session)
        return CheckResult(
            id: id, title: title, status: outcome.status, finding: outcome.finding, nextStep: outcome.nextStep,
            details: outcome.details, durationMs: Int((ContinuousClock.now - start).wholeMilliseconds))
    }
}

/// The checks of `emnify-edge diagnose`, in the order of the chain from the gateway to the application.
public enum DiagnosticChecks {
    public static let all: [any DiagnosticCheck] = [
        ConfigurationCheck(), ClockCheck(), ModemCheck(), NetworkPathCheck(), AccountCheck(), ConnectivityCheck(),
        RecentEventsCheck(), BrokerCheck(), AgentCheck(),
    ]

    /// Bridge mode adds, after the local broker: the bridge, the relays behind it, and how far the
    /// gateway's events lag the API's.
    public static let bridged: [any DiagnosticCheck] = [BridgeCheck(), RelayStatusCheck(), EventLagCheck()]

    /// The checks for where the agent takes its events from.
    public static func checks(for source: AgentConfig.EventSource) -> [any DiagnosticCheck] {
        switch source {
        case .poll: return all
        case .bridge:
            let broker = all.firstIndex { $0 is BrokerCheck }! + 1
            return Array(all[..<broker]) + bridged + all[broker...]
        }
    }

    /// Runs every check of the session's mode in order.
    public static func run(_ session: DiagnosticSession) async -> [CheckResult] {
        var results: [CheckResult] = []
        for check in checks(for: session.eventSource) {
            results.append(await check.result(session))
        }
        return results
    }
}
