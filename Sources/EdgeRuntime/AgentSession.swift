import EdgeAgent
import EdgeCommon
import Logging
import ServiceLifecycle

/// One configured run of the agent: the identity read and the broker connected (`start`), then the
/// poll loop, the re-publisher of retained topics and the watchdog pings as one `ServiceGroup`
/// (`begin`), stopped gracefully (`end`), and `offline` published before the clean disconnect
/// (`shutDown`).
public final class AgentSession: Sendable {
    public let agent: Agent
    let broker: any SessionBroker
    let topics: TopicLayout
    let logger: Logger
    let group: ServiceGroup
    let loop: PollLoopService
    private let running = Locked<Task<Void, Never>?>(nil)

    init(
        agent: Agent, broker: any SessionBroker, topics: TopicLayout, pollInterval: Duration, notifier: SystemdNotifier,
        logger: Logger, bridge: BridgeLoop? = nil
    ) {
        self.agent = agent
        self.broker = broker
        self.topics = topics
        self.logger = logger
        let loop = PollLoopService(agent: agent, notifier: notifier, bridge: bridge)
        self.loop = loop
        // Shut down in reverse order: the poll loop first (its publishes finish), the helpers after it.
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: WatchdogService(notifier: notifier, loop: loop, pollInterval: pollInterval),
                successTerminationBehavior: .ignore),
            .init(
                service: RetainedRepublisher(
                    agent: agent, broker: broker, topics: topics, logger: logger, bridge: bridge),
                successTerminationBehavior: .ignore),
            .init(service: loop, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        var configuration = ServiceGroupConfiguration(services: services, logger: Logger(label: "emnify-edge.session"))
        // A poll stuck past this (a hung request) is cancelled; the cursor has not moved past it.
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        group = ServiceGroup(configuration: configuration)
    }

    /// Reads the identity and connects to the broker, retrying both until they work: a daemon
    /// does not give up on a broker that starts later or a modem that is still booting.
    public static func start(_ parts: SessionParts, notifier: SystemdNotifier, logger: Logger) async throws
        -> AgentSession
    {
        // The broker's Last Will names the SIM's topic, so the identity comes first.
        notifier.status("reading the modem identity")
        let first = try await retrying("read the modem identity", logger: logger) {
            try await parts.identity.readIdentity()
        }
        let topics = TopicLayout(prefix: parts.settings.topicPrefix, iccid: first.iccid.topicForm)
        let broker = try parts.makeBroker(MQTTMessage.text("offline", topic: topics.status, retain: true))
        let agent = Agent(
            settings: parts.settings, api: parts.api, identity: parts.identity, publisher: broker,
            logger: Logger(label: "emnify-edge.agent"))
        // Before the connect: what the broker kept for this client while it was away comes right after it.
        let bridge = parts.settings.bridged ? try bridgeLoop(agent, broker, topics, parts.settings, logger) : nil
        notifier.status("connecting to the MQTT broker \(parts.brokerName)")
        try await retrying("connect to the MQTT broker", logger: logger) {
            try await broker.connect(timeout: .seconds(10))
        }
        try await broker.publish([.text("online", topic: topics.status, retain: true)])
        logger.notice("connected to the MQTT broker", metadata: ["status_topic": "\(topics.status)"])
        notifier.ready(status: bridge == nil ? "connected to the broker; polling emnify" : "connected; bridge mode")
        return AgentSession(
            agent: agent, broker: broker, topics: topics, pollInterval: parts.settings.pollInterval, notifier: notifier,
            logger: logger, bridge: bridge)
    }

    /// Bridge mode: the loop, subscribed before the broker connection starts to the agent's events,
    /// the bridge's notification, the relays' statuses and the relay's state of the SIM on the local
    /// broker. The agent's session is persistent: when the broker kept it, what was bridged while the
    /// agent was away comes right after the connect, and the start needs no reconciliation unless
    /// something says the bridge missed events (`BridgeWatch`).
    static func bridgeLoop(
        _ agent: Agent, _ broker: any SessionBroker, _ topics: TopicLayout, _ settings: AgentSettings, _ logger: Logger
    ) throws -> BridgeLoop {
        let loop = BridgeLoop(
            agent: agent, topics: topics, quietLimit: settings.quietLimit, pollInterval: settings.pollInterval,
            sessionKept: { broker.sessionPresentAtStart == true })
        // One subscription: the bridge's notification must come before the retained state its
        // resubscription brings, as mosquitto sent them.
        loop.deliver(try broker.subscribeAtStart(loop.filters, qos: 1))
        logger.notice(
            "bridge mode: events come through the local broker's bridge; the API closes gaps",
            metadata: ["events": "\(topics.eventWildcard)", "bridge": "\(topics.bridge)"])
        return loop
    }

    /// Runs the services. `loopEnded` is called when the poll loop ended by itself (the SIM
    /// changed), not when `end` stopped it.
    public func begin(loopEnded: @escaping @Sendable (String) -> Void) {
        let group = self.group
        let loop = self.loop
        let logger = self.logger
        running.withLock { running in
            running = Task {
                do {
                    try await group.run()
                } catch {
                    logger.error("the agent's services ended with an error", metadata: ["error": "\(error)"])
                }
                if let reason = loop.stopReason { loopEnded(reason.description) }
            }
        }
    }

    /// Stops the services gracefully: a poll in progress finishes its publishes and saves the
    /// cursor (within 5 s, then it is cancelled), then the re-publisher and the watchdog end.
    public func end() async {
        guard let running = running.withLock({ $0 }) else { return }
        await group.triggerGracefulShutdown()
        await running.value
    }

    /// Ends the session cleanly once `end` returned: `offline`, then a clean DISCONNECT.
    public func shutDown() async {
        let broker = self.broker
        let offline = MQTTMessage.text("offline", topic: topics.status, retain: true)
        do {
            try await withTimeout(.seconds(3)) { try await broker.publish([offline]) }
        } catch {
            logger.warning("could not publish 'offline' before stopping", metadata: ["error": "\(error)"])
        }
        await broker.disconnect(timeout: .seconds(3))
    }
}
