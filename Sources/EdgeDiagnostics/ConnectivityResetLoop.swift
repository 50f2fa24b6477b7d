import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EmnifyAPI
import ModemIdentity

/// `--reset-connectivity location|pdp`: a closed-loop test of the whole chain. Triggers a reset
/// through the API, then waits (bounded) until the events it causes have been fetched from the
/// API and published by the agent on the local broker, timing each step.
///
/// | step | measured from the PATCH |
/// |---|---|
/// | `patch_ms` | the API accepted the reset (204) |
/// | `api_first_ms`, `api_all_ms` | the first / all expected events are in the endpoint's feed |
/// | `broker_first_ms`, `broker_all_ms` | the agent published the first / all of them under `<prefix>/<iccid>/event/…` |
public struct ConnectivityResetLoop: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case location, pdp

        var reset: ConnectivityReset { self == .location ? .location : .pdpContext }
        /// Event type ids that follow: Purge + Update location, or Delete + Create PDP context.
        var expectedTypes: Set<Int> { self == .location ? [15, 1] : [5, 3] }
        var expectedNames: String {
            self == .location ? "Purge location, Update location" : "Delete PDP Context, Create PDP Context"
        }
    }

    public let kind: Kind
    public let timeout: Duration

    public init(kind: Kind, timeout: Duration) {
        self.kind = kind
        self.timeout = timeout
    }

    /// The wait the agent's poll interval needs: three polls plus a minute, at most 5 minutes.
    public static func defaultTimeout(pollInterval: Duration) -> Duration {
        min(pollInterval * 3 + .seconds(60), .seconds(300))
    }

    public func run(_ session: DiagnosticSession, progress: @escaping @Sendable (String) -> Void) async -> CheckResult {
        let start = ContinuousClock.now
        let outcome = await loop(session, progress: progress)
        return CheckResult(
            id: "reset-loop", title: "Closed loop (\(kind.rawValue) reset)", status: outcome.status,
            finding: outcome.finding,
            nextStep: outcome.nextStep, details: outcome.details,
            durationMs: Int((ContinuousClock.now - start).wholeMilliseconds)
        )
    }

    private func loop(_ session: DiagnosticSession, progress: @escaping @Sendable (String) -> Void) async
        -> CheckOutcome
    {
        guard let endpoint = session.sim?.endpoint, let client = session.client else {
            return .blocked(by: "account", "no endpoint to reset")
        }
        guard let topics = session.topics, session.brokerReachable else {
            return .blocked(by: "broker", "the local broker is not reachable")
        }
        guard session.agentRunning else {
            return .blocked(by: "agent", "the agent is not running, so nothing would reach the broker")
        }
        let details = [
            "endpoint_id": String(endpoint.id), "expected": kind.expectedNames,
            "timeout_s": String(timeout.components.seconds),
        ]

        // The newest event before the reset: everything after it of the expected types is ours.
        let now = session.clock.nowSeconds()
        let baseline: Int64
        do {
            let before = try await client.events(.endpoint(endpoint.id), from: now - 3600, until: now + 60)
            baseline = before.events.map(\.id).max() ?? 0
        } catch {
            return APIErrorAdvice.outcome(error, doing: "the events before the reset cannot be read", details: details)
        }

        let connection: MQTTConnection
        let stream: AsyncStream<MQTTMessage>
        do {
            connection = try BrokerCheck.connect(session)
            try await connection.start(timeout: .seconds(5))
            stream = try await connection.subscribe(topics.eventWildcard, qos: 1)
        } catch {
            return .fail(
                "cannot subscribe to \(topics.eventWildcard): \(error)", next: "see the broker check", details: details)
        }
        let outcome = await measure(
            session, client: client, endpointID: endpoint.id, topics: topics, stream: stream, baseline: baseline,
            details: details, progress: progress)
        await connection.stop(timeout: .seconds(1))
        return outcome
    }

    /// Triggers the reset and waits until the expected events are in the API and on the broker.
    private func measure(
        _ session: DiagnosticSession, client: EmnifyClient, endpointID: Int64, topics: TopicLayout,
        stream: AsyncStream<MQTTMessage>, baseline: Int64, details: [String: String],
        progress: @escaping @Sendable (String) -> Void
    ) async -> CheckOutcome {
        var details = details
        let expected = kind.expectedTypes
        let seenOnBroker = Locked<[Int: ContinuousClock.Instant]>([:])
        let listener = Task {
            for await message in stream {
                guard let event = try? EmnifyEvent(json: message.payload), event.id > baseline,
                    expected.contains(event.type.id)
                else { continue }
                let at = ContinuousClock.now
                seenOnBroker.withLock { if $0[event.type.id] == nil { $0[event.type.id] = at } }
            }
        }
        defer { listener.cancel() }

        progress("resetting \(kind.rawValue) of endpoint \(endpointID): the device disconnects briefly")
        let patchStart = ContinuousClock.now
        do {
            try await client.resetConnectivity(endpointID: endpointID, kind.reset)
        } catch {
            return APIErrorAdvice.outcome(error, doing: "the API refused the reset", details: details)
        }
        details["patch_ms"] = String((ContinuousClock.now - patchStart).wholeMilliseconds)

        var inAPI: [Int: ContinuousClock.Instant] = [:]
        let deadline = patchStart + timeout
        var lastAPIPoll = ContinuousClock.now - .seconds(10)
        var lastProgress = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let broker = seenOnBroker.withLock { $0 }
            if broker.count == expected.count && inAPI.count == expected.count { break }
            if broker.count == expected.count {
                // The agent published them, so they were fetched before the next API poll of ours could see
                // them: the API step ended no later than the broker step.
                for (type, at) in broker where inAPI[type] == nil {
                    inAPI[type] = at
                    details["api_timing"] = "bounded by the broker step (the agent was faster than our 1 s API polls)"
                }
                continue
            }
            if inAPI.count < expected.count, ContinuousClock.now - lastAPIPoll >= .seconds(1) {
                lastAPIPoll = ContinuousClock.now
                let from = session.clock.nowSeconds() - 3600
                if let page = try? await client.events(.endpoint(endpointID), from: from, until: from + 3600 + 60) {
                    let at = ContinuousClock.now
                    for event in page.events
                    where event.id > baseline && expected.contains(event.type.id) && inAPI[event.type.id] == nil {
                        inAPI[event.type.id] = at
                    }
                }
            }
            if ContinuousClock.now - lastProgress >= .seconds(1) {
                lastProgress = ContinuousClock.now
                let elapsed = (ContinuousClock.now - patchStart).components.seconds
                progress(
                    "  \(elapsed) s: \(inAPI.count)/\(expected.count) events in the API, \(broker.count)/\(expected.count) on the broker"
                )
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        let broker = seenOnBroker.withLock { $0 }
        func ms(_ instants: [ContinuousClock.Instant]) -> String? {
            instants.isEmpty ? nil : String((instants.max()! - patchStart).wholeMilliseconds)
        }
        func firstMs(_ instants: [ContinuousClock.Instant]) -> String? {
            instants.isEmpty ? nil : String((instants.min()! - patchStart).wholeMilliseconds)
        }
        details["api_first_ms"] = firstMs(Array(inAPI.values))
        details["api_all_ms"] = inAPI.count == expected.count ? ms(Array(inAPI.values)) : nil
        details["broker_first_ms"] = firstMs(Array(broker.values))
        details["broker_all_ms"] = broker.count == expected.count ? ms(Array(broker.values)) : nil
        let waited = DurationWords.describe(timeout.components.seconds)
        if inAPI.count < expected.count {
            return .fail(
                "after \(waited) the API shows \(inAPI.count) of \(expected.count) expected events (\(kind.expectedNames))",
                next: "the device did not re-attach: check the modem and coverage; see the recent events",
                details: details)
        }
        if broker.count < expected.count {
            return .fail(
                "the events are in the API (after \(details["api_all_ms"]!) ms) but \(broker.count) of \(expected.count) reached "
                    + "\(topics.eventWildcard) within \(waited)",
                next: "the agent is not publishing: see the agent check and its journal", details: details)
        }
        return .pass(
            "reset accepted in \(details["patch_ms"]!) ms; events in the API after \(details["api_all_ms"]!) ms, "
                + "on the broker after \(details["broker_all_ms"]!) ms", details: details)
    }
}
