import EdgeProcess
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// deploy/nats/node-*.conf as a three-node cluster on loopback: each file with its listeners,
/// routes and store_dir moved to free ports and a temporary directory (every replacement must
/// match, so that a changed file fails here instead of testing something else), the passwords
/// defined in front. Stops and removes everything in `stop()`.
final class NATSCluster {
    let directory: URL
    let mqttPorts: [Int]
    private let httpPorts: [Int]
    private var processes: [LaunchedProcess] = []

    init(files: [String], variables: [String: String]) throws {
        directory = try RepositoryFiles.temporaryDirectory("nats-cluster")
        // Four ports a node (client, route, MQTT, monitoring), all distinct.
        var taken: Set<Int> = []
        while taken.count < files.count * 4 { taken.insert(try MosquittoSnippetTests.Broker.freePort()) }
        let distinct = Array(taken)
        let ports = files.indices.map { Array(distinct[($0 * 4)..<($0 * 4 + 4)]) }
        mqttPorts = ports.map { $0[2] }
        httpPorts = ports.map { $0[3] }
        do {
            for (index, file) in files.enumerated() {
                var text = try RepositoryFiles.text(file)
                var replacements = [
                    ("listen: 0.0.0.0:4222", "listen: 127.0.0.1:\(ports[index][0])"),
                    ("listen: 0.0.0.0:6222", "listen: 127.0.0.1:\(ports[index][1])"),
                    ("listen: 0.0.0.0:1883", "listen: 127.0.0.1:\(ports[index][2])"),
                    ("http: 127.0.0.1:8222", "http: 127.0.0.1:\(ports[index][3])"),
                    ("store_dir: /var/lib/nats/jetstream", "store_dir: \"\(directory.path)/js-\(index + 1)\""),
                ]
                for other in files.indices {
                    replacements.append(("nats-\(other + 1).example.net:6222", "127.0.0.1:\(ports[other][1])"))
                }
                for (from, to) in replacements {
                    guard text.contains(from) else { throw ClusterError(description: "\(file) has no \"\(from)\"") }
                    text = text.replacingOccurrences(of: from, with: to)
                }
                let conf = directory.appendingPathComponent("node-\(index + 1).conf")
                try (Self.definitions(variables) + text).write(to: conf, atomically: true, encoding: .utf8)
                let log = directory.appendingPathComponent("node-\(index + 1).log").path
                processes.append(
                    try LaunchedProcess.launch(
                        "/usr/sbin/nats-server", ["-c", conf.path, "-l", log], standardOutput: .null,
                        standardError: .null))
            }
            // Every node up with JetStream current (a meta leader elected): /healthz says ok.
            let healthy = Self.waitUntil {
                self.httpPorts.allSatisfy { port in
                    let result = try? Tool.run("/usr/bin/curl", ["-s", "-m", "5", "http://127.0.0.1:\(port)/healthz"])
                    return result?.output.contains("\"ok\"") == true
                }
            }
            guard healthy else { throw ClusterError(description: "the cluster did not become healthy: \(logs())") }
        } catch {
            stop()
            throw error
        }
    }

    /// `NAME: "value"` lines: NATS configuration variables.
    static func definitions(_ variables: [String: String]) -> String {
        variables.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"\n" }.joined()
    }

    /// Waits (up to 90 s) until a node's log has `text`.
    func waitForLog(_ text: String) -> Bool { Self.waitUntil { self.logs().contains(text) } }

    func logs() -> String {
        (1...processes.count).map {
            (try? String(contentsOf: directory.appendingPathComponent("node-\($0).log"), encoding: .utf8)) ?? ""
        }.joined(separator: "\n")
    }

    func stop() {
        for process in processes { process.signal(SIGKILL) }
        for process in processes { _ = process.waitUntilExit() }
        processes = []
        try? FileManager.default.removeItem(at: directory)
    }

    /// Polls `condition` every 100 ms for up to `seconds` (a generous deadline, not a timing claim).
    static func waitUntil(seconds: Double = 90, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    struct ClusterError: Error, CustomStringConvertible { let description: String }
}
