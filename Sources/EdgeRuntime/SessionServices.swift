import EdgeAgent
import EdgeCommon
import EdgeMQTT
import Logging
import ServiceLifecycle

/// The poll loop, or in bridge mode the bridge loop. A graceful shutdown lets the poll (or
/// reconciliation) in progress finish (its publishes are acknowledged and the cursor saved) and
/// ends the wait for the next one.
final class PollLoopService: Service {
    let agent: Agent
    let notifier: SystemdNotifier
    let bridge: BridgeLoop?
    private let ended = Locked<AgentStop?>(nil)
    // Monotonic: a wall clock set forward by NTP must not look like a stuck loop to the watchdog.
    private let lastPollMillis = Locked<Int64>(SystemMonotonicClock().monotonicMilliseconds())

    init(agent: Agent, notifier: SystemdNotifier, bridge: BridgeLoop? = nil) {
        self.agent = agent
        self.notifier = notifier
        self.bridge = bridge
    }

    /// Why the loop ended by itself (the SIM changed); nil while it runs or after a shutdown.
    var stopReason: AgentStop? { ended.withLock { $0 } }

    /// How long ago the last poll finished (ms).
    var millisSinceLastPoll: Int64 {
        let last = bridge?.lastStepMillis.withLock { $0 } ?? lastPollMillis.withLock { $0 }
        return SystemMonotonicClock().monotonicMilliseconds() - last
    }

    func run() async {
        let agent = self.agent
        let notifier = self.notifier
        let lastPoll = lastPollMillis
        if let bridge {
            let reason = await withGracefulShutdownHandler {
                await bridge.run { outcome in notifier.status("bridge mode: \(outcome)") }
            } onGracefulShutdown: {
                bridge.stop()
                Task { await agent.requestStop() }
            }
            ended.withLock { $0 = reason }
            return
        }
        await agent.setPollObserver { outcome in
            lastPoll.withLock { $0 = SystemMonotonicClock().monotonicMilliseconds() }
            notifier.status(outcome.description)
        }
        let reason = await withGracefulShutdownHandler {
            await agent.run()
        } onGracefulShutdown: {
            Task { await agent.requestStop() }
        }
        ended.withLock { $0 = reason }
    }
}

/// Re-publishes `online` and the retained topics after every reconnect. Its stream of connection
/// events starts with the session, after the first connection: every `.connected` is a reconnect.
/// (An earlier version skipped the first one as if it were the initial connection: after the
/// first outage, `online` was not published again.)
struct RetainedRepublisher: Service {
    let agent: Agent
    let broker: any SessionBroker
    let topics: TopicLayout
    let logger: Logger
    let events: AsyncStream<MQTTConnectionEvent>
    /// Bridge mode's loop, told of each reconnect.
    let bridge: BridgeLoop?

    init(agent: Agent, broker: any SessionBroker, topics: TopicLayout, logger: Logger, bridge: BridgeLoop? = nil) {
        self.agent = agent
        self.broker = broker
        self.topics = topics
        self.logger = logger
        self.bridge = bridge
        events = broker.connectionEvents()
    }

    func run() async {
        for await event in events.cancelOnGracefulShutdown() {
            guard case .connected = event else {
                if case .disconnected(let reason) = event {
                    logger.warning("MQTT broker connection lost; reconnecting", metadata: ["reason": "\(reason)"])
                }
                continue
            }
            logger.notice("MQTT broker connection back; re-publishing retained topics")
            bridge?.localBrokerReconnected()
            await agent.invalidateRetained()
            let messages =
                [MQTTMessage.text("online", topic: topics.status, retain: true)]
                + (await agent.retainedMessages())
            // Best effort: a broker gone again brings another `.connected` later.
            try? await broker.publish(messages)
        }
    }
}

/// Pings systemd's watchdog while the poll loop is alive (a poll finished within three intervals
/// plus ten minutes); a stuck loop stops the pings and systemd restarts the service.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let loop: PollLoopService
    let pollInterval: Duration

    func run() async {
        guard let interval = notifier.watchdogInterval else { return }
        let limit = pollInterval.wholeMilliseconds * 3 + 600_000
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if loop.millisSinceLastPoll < limit { notifier.watchdog() }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
