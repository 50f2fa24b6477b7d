import EdgeCommon
import EdgeMQTT
import EdgeRelay
import EmnifyAPI
import Foundation
import Logging
import ServiceLifecycle
import TestSupport

let relayTestLogger: Logger = {
    var logger = Logger(label: "EdgeRelayTests")
    logger.logLevel = .error
    return logger
}()

/// An org feed that must not be read (relays started with polling off).
struct UnusedOrgFeed: OrgEventSource {
    func eventPage(_ feed: EventFeed, query: EventQuery) async throws(EmnifyError) -> EventPage {
        throw .cancelled
    }
    func apiTimeMilliseconds() async -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A relay on a real broker and a real loopback HTTP port; `stop` ends it like SIGTERM does.
final class RunningRelay: Sendable {
    let relay: Relay
    let group: ServiceGroup
    let connection: MQTTConnection
    let port: Int
    let task: Task<Void, any Error>
    let directory: TemporaryDirectory

    let scheme: String
    var webhookURL: String { "\(scheme)://127.0.0.1:\(port)/emnify/events" }

    static func start(
        brokerPort: Int, relayID: String = "relay-a", api: any OrgEventSource = UnusedOrgFeed(),
        pollInterval: Duration? = nil, maxBodySize: Int = 1 << 20, ackTimeout: Duration = .seconds(5),
        tls: (certificate: String, key: String)? = nil
    ) async throws -> RunningRelay {
        let directory = try TemporaryDirectory(prefix: "relay")
        let topics = RelayTopics(prefix: "emnify", relayID: relayID)
        let connection = try MQTTConnection(
            settings: MQTTSettings(
                host: "127.0.0.1", port: brokerPort, clientID: "relay-\(relayID)-\(UUID().uuidString.prefix(6))",
                keepalive: .seconds(5), protocolVersion: .v311, will: Relay.will(topics),
                reconnectDelay: (.seconds(1), .seconds(2)), cleanSession: true),
            logger: relayTestLogger)
        try await connection.start(timeout: .seconds(10))
        var settings = Relay.Settings(
            topics: topics, pollInterval: pollInterval,
            poller: .init(backfill: .seconds(3600), lookBack: .seconds(600), pageSize: 100),
            webhook: .init(host: "127.0.0.1", port: 0, path: "/emnify/events", maxBodySize: maxBodySize, tls: tls),
            ackTimeout: ackTimeout, stateDirectory: directory.path)
        settings.leadershipGrace = .milliseconds(500)
        settings.healthInterval = .seconds(1)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let relay = Relay(
            settings: settings, api: api, cluster: connection, webhookSecret: Array("s3cret".utf8),
            logger: relayTestLogger, clock: { Int64(Date().timeIntervalSince1970 * 1000) },
            onListening: { continuation.yield($0) })
        // As the executable runs it: a service group, so a stop is a graceful shutdown.
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: relay)], logger: relayTestLogger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestSupportError("the relay did not listen") }
        return RunningRelay(
            relay: relay, group: group, connection: connection, port: port, task: task, directory: directory,
            scheme: tls == nil ? "http" : "https")
    }

    private init(
        relay: Relay, group: ServiceGroup, connection: MQTTConnection, port: Int, task: Task<Void, any Error>,
        directory: TemporaryDirectory, scheme: String
    ) {
        self.scheme = scheme
        self.relay = relay
        self.group = group
        self.connection = connection
        self.port = port
        self.task = task
        self.directory = directory
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await relay.shutdown()
        await connection.stop(timeout: .seconds(5))
    }

    func post(_ body: String, token: String? = "s3cret", method: String = "POST") async throws -> Curl.Result {
        try await Curl.request(
            webhookURL, method: method, body: body,
            headers: ["Content-Type: application/json"] + (token.map { ["Authorization: Bearer \($0)"] } ?? []))
    }
}

/// A subscriber on the broker collecting everything under `filter`.
final class TopicRecorder: Sendable {
    let connection: MQTTConnection
    let messages = Locked<[MQTTMessage]>([])
    let task: Task<Void, Never>

    init(brokerPort: Int, filter: String = "emnify/#") async throws {
        connection = try MQTTConnection(
            settings: MQTTSettings(
                host: "127.0.0.1", port: brokerPort, clientID: "recorder-\(UUID().uuidString.prefix(6))",
                keepalive: .seconds(5), protocolVersion: .v311, reconnectDelay: (.seconds(1), .seconds(2))),
            logger: relayTestLogger)
        try await connection.start(timeout: .seconds(10))
        let stream = try await connection.subscribe(filter, qos: 1)
        let messages = self.messages
        task = Task { for await message in stream { messages.withLock { $0.append(message) } } }
    }

    func events() -> [MQTTMessage] { messages.withLock { $0.filter { $0.topic.contains("/event/") } } }

    func last(_ topic: String) -> String? {
        messages.withLock { $0.last { $0.topic == topic } }.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    /// Waits (generously) until `condition` holds; false if it never did.
    func wait(timeout: Duration = .seconds(20), _ condition: @escaping @Sendable (TopicRecorder) -> Bool) async -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition(self)
    }

    func stop() async {
        task.cancel()
        await connection.stop(timeout: .seconds(5))
    }
}
