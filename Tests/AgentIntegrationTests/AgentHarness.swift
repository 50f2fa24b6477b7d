import EdgeCommon
import EdgeMQTT
import EmnifyEmulator
import Foundation
import Logging
import Synchronization
import TestSupport

/// The whole chain for one test: the emulator over HTTPS, a real mosquitto, the built
/// `emnify-edge run` as a child process, and a subscriber that records every message.
final class AgentHarness: @unchecked Sendable {
    let token = "harness-application-token-8c1d"
    let emulator: TestEmulator
    let broker: MosquittoBroker
    let directory: TemporaryDirectory
    let configPath: String
    let log = MessageLog()
    var allMessages: [MQTTMessage] { log.messages.withLock { $0 } }
    private(set) var agent: RunningProcess?
    private var subscriber: MQTTConnection?
    private var subscription: Task<Void, Never>?

    var iccid19: String { String(emulator.emulator.iccid.prefix(19)) }
    var topicBase: String { "emnify/\(iccid19)" }

    init(
        emulator configuration: EmulatorServer.Configuration, pollInterval: String = "1s", backfill: String = "1h",
        extraAgentConfiguration: String = "", broker brokerOptions: MosquittoBroker.Options = .init(persistence: true)
    ) async throws {
        var configuration = configuration
        configuration.applicationToken = token
        emulator = try await TestEmulator.start(configuration)
        // Started by its initializer: a second start() left that first broker running unseen (the new
        // one could not bind the port), so broker.stop() stopped nothing the agent was connected to.
        broker = try MosquittoBroker(options: brokerOptions)
        directory = try TemporaryDirectory(prefix: "agent-harness")
        try FileManager.default.createDirectory(atPath: directory.file("state"), withIntermediateDirectories: true)
        configPath = try directory.write(
            """
            [api]
            url = "\(emulator.baseURL)"
            ca_file = "\(emulator.caFile!)"
            token_file = "\(directory.file("no-token-file"))"
            timeout = "3s"
            connect_timeout = "2s"

            [modem]
            source = "static"
            iccid = "\(emulator.emulator.iccid)"

            [agent]
            state_dir = "\(directory.file("state"))"
            poll_interval = "\(pollInterval)"
            backfill = "\(backfill)"
            \(extraAgentConfiguration)

            [mqtt]
            host = "127.0.0.1"
            port = \(broker.port)
            client_id = "emnify-edge-under-test"
            keepalive = "5s"
            """, to: "emnify-edge.toml")
    }

    /// A persistent QoS 1 subscriber (3.1.1 keeps the session across broker restarts).
    func subscribe() async throws {
        let connection = try MQTTConnection(
            settings: MQTTSettings(
                host: "127.0.0.1", port: broker.port, clientID: "harness-subscriber", keepalive: .seconds(5),
                protocolVersion: .v311, reconnectDelay: (.milliseconds(200), .seconds(1)), cleanSession: false),
            logger: Logger(label: "harness"))
        try await connection.start(timeout: .seconds(10))
        let stream = try await connection.subscribe("#", qos: 1)
        subscriber = connection
        subscription = Task { [log] in
            for await message in stream { log.messages.withLock { $0.append(message) } }
        }
    }

    /// `environment` adds to (or replaces) the agent's environment, e.g. libfaketime's variables.
    func startAgent(environment extra: [String: String] = [:]) throws {
        agent = try RunningProcess(
            BuiltProducts.path(of: "emnify-edge"), ["run", "--config", configPath],
            environment: ["EMNIFY_APPLICATION_TOKEN": token, "PATH": "/usr/bin:/bin"].merging(extra) { $1 })
    }

    /// The fallback when a test ends early: no child process may outlive the test run.
    deinit {
        agent?.kill()
        subscription?.cancel()
        broker.kill()
    }

    func stop() async {
        agent?.kill()
        subscription?.cancel()
        await subscriber?.stop(timeout: .seconds(2))
        _ = broker.stop()
        await emulator.stop()
    }

    var eventMessages: [MQTTMessage] { allMessages.filter { $0.topic.hasPrefix(topicBase + "/event/") } }

    var receivedEventIDs: [Int64] {
        eventMessages.compactMap { message in
            (try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])?["id"] as? Int64
        }
    }

    func lastPayload(_ suffix: String) -> String? {
        allMessages.last { $0.topic == topicBase + suffix }.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    /// Waits until `condition` holds, checking every 100 ms, at most `timeout`.
    /// `detail`: what the failure should also say (the state the condition looked at).
    func wait(
        _ what: String, timeout: Duration = .seconds(30), detail: () -> String = { "" }, _ condition: () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                throw TestSupportError(
                    "timed out waiting for \(what) \(detail()); agent stderr:\n\(agent?.standardError.suffix(3000) ?? "")"
                )
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Everything the subscriber received (a class of its own, so the subscription task does not
/// keep the harness alive).
final class MessageLog: Sendable {
    let messages = Mutex<[MQTTMessage]>([])
}
