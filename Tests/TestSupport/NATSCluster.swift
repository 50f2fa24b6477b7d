import EdgeProcess
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real NATS JetStream cluster with its MQTT listener (Debian's `nats-server` 2.9) on free loopback
/// ports, for tests: each node has its own JetStream store, a route to every other node, an `mqtt {}`
/// block and a monitoring port. Tests/PythonSupport/nats_cluster.py is its twin for the Python drivers.
///
/// `start` returns only when every node has routes to all the others, reports JetStream healthy, and
/// took a QoS 1 PUBLISH over MQTT 3.1.1 with a PUBACK (`mosquitto_pub -q 1` exits 0 only then): MQTT
/// works only once JetStream has a meta leader, and the first MQTT connect creates the `$MQTT_*` streams.
///
/// NATS facts seen here (2.9.10, 3 nodes on loopback, 2 shared cores; FailoverConnectionTests prints the numbers):
/// - Ready (routes, JetStream meta leader, MQTT streams, one PUBACK per node) 3–8 s after launch; a
///   node restarted after SIGKILL is ready again after ~10 s (it re-creates its MQTT state, retrying
///   every ~4 s in its log).
/// - Without `stream_replicas` the MQTT streams were created with 2 replicas in a 3-node cluster (the
///   log says "Creating MQTT streams/consumers with replicas 2"); an R2 stream loses its quorum when
///   one of its two nodes dies, so the configuration sets `stream_replicas` to the node count (≤ 3).
/// - MQTT 5 CONNECT: refused with "unsupported protocol version" (libmosquitto code 132); `.auto` falls
///   back to 3.1.1. A QoS 2 PUBLISH, and a topic with `.` or space, close the connection (the log
///   names the reason: "characters ' ' and '.' not supported for MQTT topics").
/// - With users configured, a client without a username, or with a wrong password, gets CONNACK
///   "not authorised" (return code 5).
/// - Healthy: 2,000 QoS 1 publishes with 10 in flight are acknowledged in ~0.5 s.
/// - After one node's SIGKILL the survivors stall for a while (JetStream elects new stream and
///   consumer leaders): an MQTT CONNECT to them got no CONNACK within 3–5 s, several times in a row;
///   a SUBSCRIBE was refused (SUBACK 0x80, "unspecified error") up to 5 times a second apart; the
///   2,000 messages re-sent after a failover were acknowledged 20–37 s after the kill; once, n2 closed
///   the failed-over connection right after accepting it (it came back at once, same host). Nothing was
///   lost: a persistent QoS 1 subscriber on a survivor got every id (the client re-sent what had no
///   PUBACK; 2–5 duplicates when the node was frozen at the first delivered message, then killed).
/// - A QoS 1 publish in flight when its node dies gets no PUBACK; the client must re-send it to another
///   node (libmosquitto would only re-send it to the same host). Whether a message PUBACKed just before
///   the kill can be lost was not seen and not ruled out.
/// - A retained message acknowledged by a node that is then SIGKILLed is seen by a new subscriber on
///   another node: 0.5–26 s after the PUBACK (kill, connect and refused SUBSCRIBEs included).
/// - The Last Will is published by the node holding the connection, to subscribers on other nodes,
///   when the socket dies without DISCONNECT (so a kill of that node cannot test the will).
///
/// `@unchecked Sendable`: the mutable processes are only touched under `lock`.
public final class NATSCluster: @unchecked Sendable {
    public struct Options: Sendable {
        public var nodes: Int
        /// user → password (top-level `authorization { users }`); when not empty, clients must log in.
        public var users: [String: String]
        /// Replicas of the `$MQTT_*` streams; nil: the node count, at most 3.
        public var streamReplicas: Int?
        /// Extra lines inside each node's `mqtt {}` block (e.g. `ack_wait: "5s"`).
        public var mqttConfiguration: [String]
        /// How long `start` and `restart` wait for readiness.
        public var readyTimeout: Duration

        public init(
            nodes: Int = 3, users: [String: String] = [:], streamReplicas: Int? = nil,
            mqttConfiguration: [String] = [], readyTimeout: Duration = .seconds(120)
        ) {
            self.nodes = nodes
            self.users = users
            self.streamReplicas = streamReplicas
            self.mqttConfiguration = mqttConfiguration
            self.readyTimeout = readyTimeout
        }
    }

    /// One node's ports and files.
    public struct Node: Sendable {
        public let name: String
        public let clientPort: Int
        public let clusterPort: Int
        public let mqttPort: Int
        public let monitoringPort: Int
        public let directory: URL

        public var configurationFile: URL { directory.appendingPathComponent("nats.conf") }
        public var logFile: URL { directory.appendingPathComponent("nats.log") }
        public var storeDirectory: URL { directory.appendingPathComponent("jetstream") }
    }

    /// Debian's package installs it in /usr/sbin.
    public static let executable =
        ["/usr/sbin/nats-server", "/usr/bin/nats-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? "/usr/sbin/nats-server"
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }
    static let probe = "/usr/bin/mosquitto_pub"

    public let options: Options
    public let nodes: [Node]
    public let directory: URL
    private let lock = NSLock()
    private var processes: [LaunchedProcess?]

    /// Starts the cluster and returns once every node is ready (see the type's comment).
    public static func start(_ options: Options = Options()) async throws -> NATSCluster {
        let cluster = try NATSCluster(options: options)
        do {
            for index in cluster.nodes.indices { try cluster.launch(index) }
            for index in cluster.nodes.indices { try await cluster.waitUntilReady(index) }
        } catch {
            cluster.stopAll()
            throw error
        }
        return cluster
    }

    private init(options: Options) throws {
        guard options.nodes >= 1 else { throw BrokerError("a NATS cluster needs at least one node") }
        self.options = options
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nats-\(UUID().uuidString)")
        var nodes: [Node] = []
        // Eight distinct ports (free when probed): a collision between two probes would break the config.
        var taken: Set<Int> = []
        func port() throws -> Int {
            while true {
                let candidate = try MosquittoBroker.freePort()
                if taken.insert(candidate).inserted { return candidate }
            }
        }
        for index in 0..<options.nodes {
            let node = Node(
                name: "n\(index + 1)", clientPort: try port(), clusterPort: try port(), mqttPort: try port(),
                monitoringPort: try port(), directory: directory.appendingPathComponent("n\(index + 1)"))
            try FileManager.default.createDirectory(at: node.directory, withIntermediateDirectories: true)
            nodes.append(node)
        }
        self.nodes = nodes
        processes = Array(repeating: nil, count: nodes.count)
        for node in nodes {
            try configuration(of: node).write(to: node.configurationFile, atomically: true, encoding: .utf8)
        }
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(at: directory)
    }

    public func mqttPort(_ node: Int) -> Int { nodes[node].mqttPort }

    /// Every node's MQTT listener, in node order.
    public var mqttHosts: [(host: String, port: Int)] { nodes.map { ("127.0.0.1", $0.mqttPort) } }

    public func isRunning(_ node: Int) -> Bool { lock.withLock { processes[node] }?.isRunning ?? false }

    // MARK: - Processes

    private func launch(_ index: Int) throws {
        let node = nodes[index]
        let process = try LaunchedProcess.launch(
            Self.executable, ["-c", node.configurationFile.path], directory: node.directory.path,
            standardOutput: .null, standardError: .null)
        lock.withLock { processes[index] = process }
    }

    /// SIGKILL: the node dies at once; its JetStream store stays as it was.
    public func kill(_ node: Int) {
        signal(node, SIGKILL, grace: .seconds(10))
    }

    /// SIGSTOP / SIGCONT: a frozen node keeps its sockets open but reads and answers nothing.
    public func freeze(_ node: Int, _ frozen: Bool = true) {
        lock.withLock { processes[node] }?.signal(frozen ? SIGSTOP : SIGCONT)
    }

    /// SIGTERM (a clean shutdown), SIGKILL if it still runs after 15 s.
    public func stop(_ node: Int) {
        signal(node, SIGTERM, grace: .seconds(15))
    }

    private func signal(_ node: Int, _ number: Int32, grace: Duration) {
        let taken = lock.withLock { () -> LaunchedProcess? in
            defer { processes[node] = nil }
            return processes[node]
        }
        guard let process = taken else { return }
        process.signal(number)
        process.signal(SIGCONT)  // a frozen node acts on SIGTERM only once it runs again
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning { process.signal(SIGKILL) }
        process.waitUntilExit()
    }

    /// Stops the node if it runs, starts it again on the same ports and store, and waits until it is ready.
    public func restart(_ node: Int) async throws {
        stop(node)
        try launch(node)
        try await waitUntilReady(node)
    }

    public func stopAll() {
        for index in nodes.indices { stop(index) }
    }

    // MARK: - Readiness

    private func waitUntilReady(_ index: Int) async throws {
        let deadline = ContinuousClock.now + options.readyTimeout
        var last = "not probed yet"
        while ContinuousClock.now < deadline {
            guard isRunning(index) else {
                throw BrokerError("nats-server \(nodes[index].name) exited: \(logTail(index))")
            }
            let others = nodes.indices.filter { $0 != index && isRunning($0) }.count
            let routes = await routeCount(index)
            let health = await healthz(index)
            if routes < others {
                last = "\(routes) of \(others) routes"
            } else if !health.contains("\"ok\"") {
                last = "healthz: \(health)"
            } else if let problem = try await publishProbe(index) {
                last = "MQTT probe: \(problem)"
            } else {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw BrokerError(
            "NATS node \(nodes[index].name) not ready after \(options.readyTimeout) (\(last)): \(logTail(index))")
    }

    /// How many other nodes this one has a route to (monitoring `/routez`); -1 when it does not answer.
    public func routeCount(_ index: Int) async -> Int {
        guard let result = try? await monitor(index, "/routez"), result.status == 200,
            let object = try? result.jsonObject() as? [String: Any]
        else { return -1 }
        let routes = object["routes"] as? [[String: Any]] ?? []
        return Set(routes.compactMap { $0["remote_id"] as? String }).count
    }

    /// `/healthz?js-enabled-only=true`: `{"status":"ok"}` once JetStream is up (503 with a reason before).
    public func healthz(_ index: Int) async -> String {
        guard let result = try? await monitor(index, "/healthz?js-enabled-only=true") else { return "no answer" }
        return result.bodyText
    }

    private func monitor(_ index: Int, _ path: String) async throws -> Curl.Result {
        try await Curl.request("http://127.0.0.1:\(nodes[index].monitoringPort)\(path)", timeout: .seconds(5))
    }

    /// nil when a QoS 1 PUBLISH over MQTT 3.1.1 got its PUBACK, else what mosquitto_pub said.
    private func publishProbe(_ index: Int) async throws -> String? {
        var arguments = [
            "-h", "127.0.0.1", "-p", "\(nodes[index].mqttPort)", "-V", "mqttv311", "-q", "1",
            "-i", "nats-cluster-probe-\(nodes[index].name)", "-t", "nats-cluster/probe", "-m", "ready",
        ]
        // Test credentials only; NATS refuses an empty username and password.
        if let (user, password) = options.users.sorted(by: { $0.key < $1.key }).first {
            arguments += ["-u", user, "-P", password]
        }
        let result = try await ChildProcess.run(Self.probe, arguments, timeout: .seconds(15))
        if result.exitCode == 0 { return nil }
        return "exit \(result.exitCode) \(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    /// The end of the node's log, for failure messages.
    public func logTail(_ index: Int, characters: Int = 2000) -> String {
        let text = (try? String(contentsOf: nodes[index].logFile, encoding: .utf8)) ?? "(no log)"
        return String(text.suffix(characters))
    }

    /// Every node's log tail, for a failing test's message.
    public var logs: String {
        nodes.indices.map { "--- \(nodes[$0].name) ---\n\(logTail($0))" }.joined(separator: "\n")
    }

    // MARK: - Configuration

    private func configuration(of node: Node) -> String {
        let routes = nodes.filter { $0.name != node.name }.map { "\"nats-route://127.0.0.1:\($0.clusterPort)\"" }
        var lines = [
            "server_name: \"\(node.name)\"",
            "listen: 127.0.0.1:\(node.clientPort)",
            "http: 127.0.0.1:\(node.monitoringPort)",
            "log_file: \"\(node.logFile.path)\"",
            "jetstream { store_dir: \"\(node.storeDirectory.path)\" }",
            "cluster { name: \"edge-test\", listen: 127.0.0.1:\(node.clusterPort), routes: [\(routes.joined(separator: ", "))] }",
            "mqtt {",
            "  listen: 127.0.0.1:\(node.mqttPort)",
            // Explicit: 2.9.10 picked 2 replicas in a 3-node cluster otherwise (see the type's comment).
            "  stream_replicas: \(options.streamReplicas ?? min(options.nodes, 3))",
        ]
        lines += options.mqttConfiguration.map { "  " + $0 }
        lines.append("}")
        if !options.users.isEmpty {
            let entries = options.users.sorted(by: { $0.key < $1.key }).map {
                "{ user: \(Self.quoted($0.key)), password: \(Self.quoted($0.value)) }"
            }
            lines.append("authorization { users: [\(entries.joined(separator: ", "))] }")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
