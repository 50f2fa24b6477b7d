import AgentTestSupport
import EdgeAgent
import EdgeCommon
import EdgeRuntime
import EmnifyAPI
import Glibc
import Synchronization
import Testing

/// The daemon and its session in-process, on in-memory parts: what used to be provable only by
/// spawning the binary against a real broker.
@Suite struct DaemonSessionTests {
    /// SIM 500 on endpoint 900, events in the endpoint's feed, and a configuration the test can change.
    final class Fixture: Sendable {
        let clock = TestClock()
        let api: InMemoryAPI
        let stateDirectory = temporaryDirectory()
        /// The next configuration the daemon loads: a topic prefix, or a problem that refuses it.
        let configuration = Mutex<Result<String, CommandFailure>>(.success("emnify"))
        /// One broker per session, in the order the daemon made them.
        let brokers = Locked<[InMemoryBroker]>([])
        let events = DaemonEvents(signals: [])
        let bridged: Bool

        init(events count: Int = 3, bridged: Bool = false) {
            self.bridged = bridged
            api = InMemoryAPI(clock: clock)
            api.data.withLock {
                $0.sims["8988307000001234567"] = SIM(
                    id: 500, iccid: "8988307000001234567", endpoint: .init(id: 900, name: "gw"))
            }
            let now = clock.nowMilliseconds()
            for id in 1...Int64(count) {
                api.add(makeEvent(id: id, millis: now - 3_600_000 + id * 10), to: .endpoint(900), .sim(500))
            }
        }

        func load() throws -> SessionParts {
            let prefix = try configuration.withLock { try $0.get() }
            var settings = AgentSettings()
            settings.stateDirectory = stateDirectory
            settings.topicPrefix = prefix
            settings.bridged = bridged
            let identity = AgentIdentity(iccid: try ICCID(parsing: "89883070000012345674"), source: "static")
            return SessionParts(
                settings: settings, api: api, identity: FixedIdentity(identity: identity),
                makeBroker: { [brokers] will in
                    let broker = InMemoryBroker(will: will)
                    brokers.withLock { $0.append(broker) }
                    return broker
                }, brokerName: "in-memory")
        }

        var broker: InMemoryBroker? { brokers.withLock { $0.last } }

        func startDaemon() -> Task<Void, any Error> {
            let daemon = Daemon(events: events, notifier: SystemdNotifier(environment: [:])) { try self.load() }
            return Task { try await daemon.run() }
        }

        /// The first poll is done when the health topic has been published.
        func firstPollDone(_ broker: InMemoryBroker) async throws {
            try await eventually("the first poll") { !broker.texts(onTopicEnding: "/health").isEmpty }
        }

        /// The daemon started, with its first session's broker once that session has polled.
        func polling() async throws -> (daemon: Task<Void, any Error>, broker: InMemoryBroker) {
            let daemon = startDaemon()
            try await eventually("a session") { broker != nil }
            try await firstPollDone(broker!)
            return (daemon, broker!)
        }
    }

    @Test func aReconnectRepublishesTheRetainedTopics() async throws {
        let fixture = Fixture()
        let (daemon, broker) = try await fixture.polling()
        let before = broker.snapshot.messages.count

        broker.simulateReconnect()
        try await eventually("the retained topics again") {
            let after = broker.snapshot.messages.dropFirst(before).map(\.topic)
            return ["status", "identity", "state", "health"].allSatisfy { level in
                after.contains { $0 == "emnify/8988307000001234567/\(level)" }
            }
        }
        let again = broker.snapshot.messages.dropFirst(before)
        #expect(again.first.map { String(decoding: $0.payload, as: UTF8.self) } == "online")
        #expect(again.allSatisfy { $0.retain })
        #expect(!again.contains { $0.topic.contains("/event/") }, "events are not published again")

        fixture.events.post(.signal(SIGTERM))
        try await daemon.value
        #expect(broker.texts(onTopicEnding: "/status").last == "offline")
    }

    /// Bridge mode's order between topics holds only within one subscription (the bridge's
    /// notification before the retained state its resubscription brings): all four filters in one,
    /// registered before the connect so that what a kept session queued is not missed.
    @Test func bridgeModeSubscribesOnceToAllItsTopicsBeforeTheConnect() async throws {
        let fixture = Fixture(bridged: true)
        let daemon = fixture.startDaemon()
        try await eventually("a connected session") { (fixture.broker?.snapshot.connects ?? 0) > 0 }
        let subscriptions = fixture.broker!.snapshot.subscriptionsAtStart
        let prefix = "emnify/8988307000001234567"
        #expect(
            subscriptions.map(\.filters) == [
                ["\(prefix)/event/+", "\(prefix)/bridge", "emnify/relay/+/status", "\(prefix)/fleet/state"]
            ])
        #expect(subscriptions.first?.connectsBefore == 0)
        fixture.events.post(.signal(SIGTERM))
        try await daemon.value
    }

    @Test func sighupWithAValidConfigurationAppliesIt() async throws {
        let fixture = Fixture()
        let (daemon, first) = try await fixture.polling()

        fixture.configuration.withLock { $0 = .success("site7/emnify") }
        fixture.events.post(.signal(SIGHUP))
        try await eventually("a second session") { fixture.brokers.withLock { $0.count } == 2 }
        let second = fixture.broker!
        try await fixture.firstPollDone(second)

        // The old session ended cleanly, the new one runs on the new prefix with the same cursor.
        #expect(first.texts(onTopicEnding: "/status").last == "offline")
        #expect(first.snapshot.disconnects == 1)
        #expect(second.will.topic == "site7/emnify/8988307000001234567/status")
        #expect(second.texts(onTopicEnding: "/status") == ["online"])
        #expect(second.snapshot.messages.allSatisfy { $0.topic.hasPrefix("site7/emnify/") })
        #expect(!second.snapshot.messages.contains { $0.topic.contains("/event/") }, "the cursor was kept")

        fixture.events.post(.signal(SIGTERM))
        try await daemon.value
    }

    @Test func sighupWithABrokenConfigurationKeepsTheOldOneAndSaysSo() async throws {
        let fixture = Fixture()
        let (daemon, broker) = try await fixture.polling()

        let problem = "/etc/emnify-edge/emnify-edge.toml:4: agent.poll_interval: must be at least 10s"
        fixture.configuration.withLock { $0 = .failure(CommandFailure(problem)) }
        fixture.events.post(.signal(SIGHUP))
        try await eventually("the refusal on the health topic") {
            broker.texts(onTopicEnding: "/health").last?.contains("reload was refused") == true
        }
        let health = broker.texts(onTopicEnding: "/health").last!
        #expect(health.contains("agent.poll_interval: must be at least 10s"))
        #expect(fixture.brokers.withLock { $0.count } == 1, "no new session")
        #expect(broker.snapshot.disconnects == 0)
        #expect(broker.texts(onTopicEnding: "/status") == ["online"])

        fixture.events.post(.signal(SIGTERM))
        try await daemon.value
        #expect(broker.texts(onTopicEnding: "/status").last == "offline")
    }

    @Test func sigtermDuringABackfillFinishesTheInFlightPublishesSavesStateAndPublishesOffline() async throws {
        // 2,500 events: three batches of 1,000, the first held at the broker while SIGTERM comes.
        let fixture = Fixture(events: 2500)
        let daemon = fixture.startDaemon()
        try await eventually("a session") { fixture.broker != nil }
        let broker = fixture.broker!
        broker.holdAcknowledgements.withLock { $0 = true }
        try await eventually("a batch in flight") { !broker.snapshot.handedOver.isEmpty }

        fixture.events.post(.signal(SIGTERM))
        try await Task.sleep(for: .milliseconds(200))
        broker.holdAcknowledgements.withLock { $0 = false }
        try await daemon.value

        let record = broker.snapshot
        #expect(record.handedOver.count == 3)
        #expect(record.acknowledged.first == record.handedOver.first, "the batch in flight at SIGTERM was finished")
        let acknowledged = Set(record.acknowledged.joined())
        let saved = AgentStateStore(directory: fixture.stateDirectory).load().0
        let published = Set(saved.cursors.values.flatMap { $0.published.keys })
        #expect(acknowledged.isSubset(of: published), "the cursor moved past every acknowledged event")
        #expect(published.isSubset(of: acknowledged), "and past none that was not acknowledged")
        #expect(broker.texts(onTopicEnding: "/status").last == "offline")
        #expect(record.disconnects == 1)
    }
}
