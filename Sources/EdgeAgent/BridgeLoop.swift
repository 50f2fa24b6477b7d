import EdgeCommon
import EmnifyAPI
import FoundationEssentials
import Logging

/// The bridge mode's loop: every message of the agent's subscriptions on the local broker (its
/// events, the bridge's notification, the relays' statuses) and a tick once a second go through
/// one stream, handled one at a time, so that recording a bridged event never races with a
/// reconciliation's cursor. What to do is `BridgeWatch`'s decision.
public final class BridgeLoop: Sendable {
    enum Input: Sendable {
        case message(MQTTMessage)
        case tick
        case localBrokerReconnected
    }

    let agent: Agent
    let topics: TopicLayout
    let quietLimit: Duration
    let pollInterval: Duration
    let clock: any MonotonicClock
    let tick: Duration
    /// Whether the local broker kept the agent's session (read when the loop starts): then what was
    /// bridged while the agent was away has been delivered to it.
    let sessionKept: @Sendable () -> Bool
    let logger: Logger
    let inputs: AsyncStream<Input>
    let feed: AsyncStream<Input>.Continuation
    /// When the loop last finished a step (the watchdog's sign of life).
    public let lastStepMillis: Locked<Int64>

    public init(
        agent: Agent, topics: TopicLayout, quietLimit: Duration, pollInterval: Duration,
        clock: any MonotonicClock = SystemMonotonicClock(), tick: Duration = .seconds(1),
        sessionKept: @escaping @Sendable () -> Bool = { false }, logger: Logger = Logger(label: "emnify-edge.bridge")
    ) {
        self.sessionKept = sessionKept
        self.agent = agent
        self.topics = topics
        self.quietLimit = quietLimit
        self.pollInterval = pollInterval
        self.clock = clock
        self.tick = tick
        self.logger = logger
        (inputs, feed) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
        lastStepMillis = Locked(clock.monotonicMilliseconds())
    }

    /// The topic filters to subscribe to on the local broker, before `run`.
    public var filters: [String] { [topics.eventWildcard, topics.bridge, topics.relayStatusFilter, topics.fleetState] }

    /// Hands over the subscription's messages: one stream for all `filters`, whose order matters
    /// (a live bridge notification `1`, then the retained state the resubscription brings).
    public func deliver(_ messages: AsyncStream<MQTTMessage>) {
        let feed = self.feed
        Task {
            for await message in messages { feed.yield(.message(message)) }
        }
    }

    /// The agent's connection to the local broker is back after an outage (the session's
    /// `RetainedRepublisher` sees it): reconcile, as after the bridge's own reconnect.
    public func localBrokerReconnected() {
        feed.yield(.localBrokerReconnected)
    }

    /// Ends the loop after the step in progress (a reconciliation finishes its publishes).
    public func stop() {
        feed.finish()
    }

    /// Runs until `stop`, cancellation, or the SIM changes (returned, as `Agent.run` does).
    public func run(onStep: @escaping @Sendable (PollOutcome) -> Void = { _ in }) async -> AgentStop? {
        await agent.enterBridgeMode()
        let feed = self.feed
        let tick = self.tick
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                if case .terminated = feed.yield(.tick) { return }
            }
        }
        defer { ticker.cancel() }
        var watch = BridgeWatch(
            quietLimit: quietLimit, pollInterval: pollInterval, now: clock.monotonicMilliseconds(),
            sessionKept: sessionKept())
        for await input in inputs {
            if Task.isCancelled { break }
            if await agent.stopRequestedOrDone { break }
            let now = clock.monotonicMilliseconds()
            switch input {
            case .message(let message):
                logger.trace("bridged message", metadata: ["topic": "\(message.topic)"])
                watch.delivered(now: now)
                if message.topic == topics.bridge {
                    watch.bridgeNotification(message.payload, retained: message.retain, now: now)
                } else if let relay = topics.relay(inStatusTopic: message.topic) {
                    watch.relayStatus(relay: relay, payload: message.payload, now: now)
                } else if message.topic == topics.fleetState {
                    let state = try? JSONDecoder().decode(ConnectivityState.self, from: Data(message.payload))
                    let newest = state?.lastEvent
                    logger.debug("the relay's state of this SIM", metadata: ["newest": "\(newest?.id ?? -1)"])
                    watch.fleetState(
                        newestEventID: newest?.id,
                        timestampMillis: newest.flatMap {
                            EmnifyTimestamp(parsing: $0.timestamp)?.millisecondsSinceEpoch
                        })
                } else {
                    await agent.observeBridged(message)
                }
            case .localBrokerReconnected:
                watch.localBrokerReconnected(now: now)
            case .tick:
                if let stop = await agent.bridgeTick(watch, now: now) { return stop }
                if let action = watch.next(now: now) {
                    let outcome = await carryOut(action, watch)
                    if let outcome { onStep(outcome) }
                    watch.done(
                        action, succeeded: outcome.map { !$0.failed } ?? true, now: clock.monotonicMilliseconds())
                    if let stop = await agent.stopReason { return stop }
                }
                lastStepMillis.withLock { $0 = clock.monotonicMilliseconds() }
            }
        }
        return await agent.stopReason
    }

    /// The poll or reconciliation `action` asks for; nil: the reconciliation was not needed.
    private func carryOut(_ action: BridgeWatch.Action, _ watch: BridgeWatch) async -> PollOutcome? {
        switch action {
        case .reconcile(let reason):
            if let named = watch.skippableFor, await agent.skipsReconciliation(reason, named: named) {
                return nil
            }
            return await agent.reconcile(reason: reason)
        case .poll(let reason):
            logger.notice("polling the API: the bridge cannot bring events", metadata: ["why": "\(reason)"])
            return await agent.fallbackPoll()
        }
    }
}
