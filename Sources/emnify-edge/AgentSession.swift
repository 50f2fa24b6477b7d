import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EmnifyAPI
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One configured run of the agent: API client, broker connection and agent loop, with the
/// tasks that re-publish retained topics after a reconnect and ping systemd's watchdog.
struct AgentSession {
    let context: CommandContext
    let agent: Agent
    let connection: MQTTConnection
    let topics: TopicLayout
    let notifier: SystemdNotifier
    let lastPollMillis: LastPoll
    let tasks = SessionTasks()

    static func start(context: CommandContext, notifier: SystemdNotifier) async throws -> AgentSession {
        let logger = context.logger
        let client = try context.makeClient(retry: RetryPolicy(maxAttempts: 3, maxRetryAfter: .seconds(10)))
        let identity = ModemIdentitySource(reader: try context.modemReader())

        // The broker's Last Will names the SIM's topic, so the identity comes first.
        notifier.status("reading the modem identity")
        let first = try await retrying("read the modem identity", logger: logger) { try await identity.readIdentity() }
        let settings = context.agentSettings()
        let topics = TopicLayout(prefix: settings.topicPrefix, iccid: first.iccid.withoutCheckDigit ?? first.iccid.normalized)
        let will = MQTTMessage(topic: topics.status, text: "offline", qos: 1, retain: true)
        let connection: MQTTConnection
        do {
            connection = try MQTTConnection(settings: try context.mqttSettings(will: will), logger: Logger(label: "emnify-edge.mqtt"))
        } catch {
            throw CommandFailure("\(error)")
        }
        notifier.status("connecting to the MQTT broker \(context.configuration.mqtt.host):\(context.configuration.mqtt.port)")
        try await retrying("connect to the MQTT broker", logger: logger) {
            do {
                try await connection.start(timeout: .seconds(10))
            } catch {
                throw CommandFailure("\(error)")
            }
        }
        try await connection.publish(MQTTMessage(topic: topics.status, text: "online", qos: 1, retain: true))
        logger.notice("connected to the MQTT broker", metadata: ["status_topic": "\(topics.status)"])
        let agent = Agent(
            settings: settings, api: client, identity: identity, publisher: BrokerPublisher(connection: connection),
            logger: Logger(label: "emnify-edge.agent"))
        notifier.ready(status: "connected to the broker; polling emnify")
        return AgentSession(
            context: context, agent: agent, connection: connection, topics: topics, notifier: notifier,
            lastPollMillis: LastPoll())
    }

    /// Starts the poll loop, the re-publisher and the watchdog pings. `loopEnded` is called when the
    /// loop ends by itself (the SIM changed), not when `end` stops it.
    func begin(loopEnded: @escaping @Sendable (String) -> Void) async {
        let lastPoll = lastPollMillis
        await agent.setPollObserver { [notifier] outcome in
            lastPoll.touch()
            notifier.status(outcome.description)
        }
        let loop = Task { await agent.run() }
        let watcher = Task {
            if let reason = await loop.value { loopEnded(reason.description) }
        }
        tasks.set(
            SessionTasks.Running(
                loop: loop, watcher: watcher, republisher: Task { await republishAfterReconnects() },
                watchdog: Task { await pingWatchdog() }))
    }

    /// Stops the poll loop: a poll in progress finishes its publishes (at most 5 s), then the loop
    /// and its helpers are cancelled. Nothing here awaits a task that ignores cancellation.
    func end() async {
        guard let running = tasks.take() else { return }
        running.republisher.cancel()
        running.watchdog.cancel()
        if await agent.requestStop() {
            for _ in 0..<50 where await agent.isPollInProgress {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        running.loop.cancel()
        _ = await running.loop.value
        running.watcher.cancel()
    }

    /// Ends the session cleanly: the agent's in-flight publishes have finished (the loop ended),
    /// state is saved after every batch; `offline` is published, then a clean DISCONNECT.
    func shutDown() async {
        do {
            try await withTimeout(.seconds(3)) {
                try await connection.publish(MQTTMessage(topic: topics.status, text: "offline", qos: 1, retain: true))
            }
        } catch {
            context.logger.warning("could not publish 'offline' before stopping", metadata: ["error": "\(error)"])
        }
        await connection.stop(timeout: .seconds(3))
    }

    /// The stream starts after the first connection, so every `.connected` it brings is a reconnect.
    /// (It used to skip the first one as if it were the initial connection: after the first outage,
    /// `online` was not published again, which a harness broker that never really stopped hid.)
    private func republishAfterReconnects() async {
        for await event in connection.connectionEvents {
            guard case .connected = event else {
                if case .disconnected(let reason) = event {
                    context.logger.warning("MQTT broker connection lost; reconnecting", metadata: ["reason": "\(reason)"])
                }
                continue
            }
            context.logger.notice("MQTT broker connection back; re-publishing retained topics")
            await agent.invalidateRetained()
            var messages = [AgentMessage.text("online", topic: topics.status, retain: true)]
            messages += await agent.retainedMessages()
            try? await BrokerPublisher(connection: connection).publish(messages)
        }
    }

    /// Pings systemd's watchdog while the poll loop is alive (a poll finished within three
    /// intervals); a stuck loop stops the pings and systemd restarts the service.
    private func pingWatchdog() async {
        guard let interval = notifier.watchdogInterval else { return }
        let limit = Int64(context.configuration.agent.pollInterval.components.seconds) * 3000 + 600_000
        while !Task.isCancelled {
            let age = SystemMonotonicClock().monotonicMilliseconds() - lastPollMillis.millis
            if age < limit { notifier.watchdog() }
            try? await Task.sleep(for: interval)
        }
    }
}

/// Retries `body` with backoff until it succeeds (a daemon does not give up on a broker that
/// starts later or a modem that is still booting), logging each failure once per attempt.
func retrying<T: Sendable>(_ what: String, logger: Logger, _ body: () async throws -> T) async throws -> T {
    let backoff = Backoff(base: .seconds(2), factor: 2, cap: .seconds(60))
    var attempt = 0
    while true {
        attempt += 1
        do {
            return try await body()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            let delay = backoff.delay(attempt: attempt)
            logger.error("cannot \(what); trying again in \(Int(delay.seconds)) s", metadata: ["error": "\(error)"])
            try await Task.sleep(for: delay)
        }
    }
}

struct TimedOut: Error {}

func withTimeout(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut()
        }
        try await group.next()
        group.cancelAll()
    }
}

/// When the poll loop last finished a poll (read by the watchdog task).
final class LastPoll: Sendable {
    // Monotonic: a wall clock set forward by NTP must not look like a stuck loop to the watchdog.
    private let value = Locked<Int64>(SystemMonotonicClock().monotonicMilliseconds())

    var millis: Int64 { value.withLock { $0 } }
    func touch() { value.withLock { $0 = SystemMonotonicClock().monotonicMilliseconds() } }
}

/// The tasks of a running session, so that `end` can stop them.
final class SessionTasks: Sendable {
    struct Running {
        let loop: Task<AgentStop?, Never>
        let watcher: Task<Void, Never>
        let republisher: Task<Void, Never>
        let watchdog: Task<Void, Never>
    }

    private let running = Locked<Running?>(nil)

    func set(_ tasks: Running) { running.withLock { $0 = tasks } }
    func take() -> Running? { running.withLock { value in defer { value = nil }; return value } }
}
