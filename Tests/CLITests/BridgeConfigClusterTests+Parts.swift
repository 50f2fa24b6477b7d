import Foundation
import Testing
import TestSupport

/// The gateway broker, subscribers and command-line tools `BridgeConfigClusterTests` drives.
extension BridgeConfigClusterTests {
    /// The gateway's mosquitto with the snippet the CLI wrote into its conf.d, as on a gateway.
    final class Gateway {
        let directory: TemporaryDirectory
        let broker: MosquittoBroker

        /// Bridged to every node of `cluster`, without TLS, as the user gateway.
        convenience init(cluster: NATSCluster, persistence: Bool = false) async throws {
            let directory = try TemporaryDirectory()
            let password = try directory.write(BridgeConfigClusterTests.users["gateway"]! + "\n", to: "bridge-password")
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: password)
            let addresses = cluster.mqttHosts.flatMap { ["--cluster", "\($0.host):\($0.port)"] }
            try await self.init(
                directory: directory,
                arguments: ["--no-tls", "--username", "gateway", "--password-file", password] + addresses,
                persistence: persistence)
        }

        /// Runs bridge-config with `arguments` into `directory`/conf.d and starts mosquitto with that directory.
        init(directory: TemporaryDirectory, arguments: [String], persistence: Bool = false) async throws {
            self.directory = directory
            let config = try directory.write(
                "[modem]\nsource = \"static\"\niccid = \"\(BridgeConfigClusterTests.iccid)\"\n"
                    + "[agent]\nevents = \"bridge\"\n", to: "emnify-edge.toml")
            let confD = directory.file("conf.d")
            try FileManager.default.createDirectory(atPath: confD, withIntermediateDirectories: true)
            let result = try await EdgeCLI.run(
                ["bridge-config", "--config", config] + arguments + ["--output", confD + "/emnify-bridge.conf"])
            guard result.exitCode == 0 else { throw TestSupportError("bridge-config failed: \(result.standardError)") }
            #expect(
                !(result.standardOutput + result.standardError).contains(BridgeConfigClusterTests.users["gateway"]!))
            broker = try MosquittoBroker(
                options: MosquittoBroker.Options(persistence: persistence, extraConfiguration: ["include_dir \(confD)"])
            )
        }

        func stop() { broker.kill() }

        var log: String { (try? String(contentsOf: broker.logFile, encoding: .utf8)) ?? "" }

        /// Returns once a message published on each of `nodes` came in through the bridge: its subscriptions are in
        /// place on the cluster. "bridge 1" is published at the CONNACK, before the SUBSCRIBEs are answered, and a
        /// subscription made on one node reaches the others a moment later. The probes go to a relay status topic
        /// (mosquitto subscribes in the template's order: the event topic is in place before it), not retained.
        func waitUntilBridged(from cluster: NATSCluster, nodes: [Int] = [0, 1, 2], timeout: Duration = .seconds(240))
            async throws
        {
            let topic = "emnify/relay/probe/status"
            let probes = try Subscriber(port: broker.port, topic: topic)
            defer { probes.stop() }
            let deadline = ContinuousClock.now + timeout
            var round = 0
            while ContinuousClock.now < deadline {
                round += 1
                for node in nodes {
                    try await Tool.publish(
                        cluster: cluster, node: node, topic: topic, message: "probe-\(round)-\(node)")
                }
                try await Task.sleep(for: .seconds(1))
                let arrived = Set(probes.lines.compactMap { $0.split(separator: "-").last.flatMap { Int($0) } })
                if Set(nodes).isSubset(of: arrived) { return }
            }
            throw TestSupportError("no probe came in through the bridge: \(probes.lines); \(log.suffix(3000))")
        }

        func waitForLog(_ text: String, timeout: Duration = .seconds(120)) async throws {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if log.contains(text) { return }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw TestSupportError("no \"\(text)\" in the mosquitto log: \(log.suffix(3000))")
        }

        /// The retained `<prefix>/<iccid>/bridge` is `state`; mosquitto connects at once and retries every 10 s.
        func waitForBridgeState(_ state: String, timeout: Duration = .seconds(180)) async throws {
            let topic = "emnify/\(BridgeConfigClusterTests.own)/bridge"
            let deadline = ContinuousClock.now + timeout
            var last: String?
            while ContinuousClock.now < deadline {
                last = try await Tool.retained(port: broker.port, topic: topic)
                if last == state { return }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw TestSupportError("\(topic) is \(last ?? "not set"), not \(state); mosquitto log: \(log.suffix(3000))")
        }
    }

    /// A `mosquitto_sub -v` that keeps running; `lines` is what it printed so far.
    final class Subscriber {
        let process: RunningProcess

        init(port: Int, topic: String) throws {
            process = try RunningProcess(
                Tool.subscribe, ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-v", "-t", topic])
        }

        init(port: Int, arguments: [String]) throws {
            process = try RunningProcess(Tool.subscribe, ["-h", "127.0.0.1", "-p", "\(port)"] + arguments)
        }

        init(cluster: NATSCluster, node: Int, topic: String) throws {
            process = try RunningProcess(
                Tool.subscribe,
                ["-h", "127.0.0.1", "-p", "\(cluster.mqttPort(node))", "-V", "mqttv311", "-q", "1", "-v", "-t", topic]
                    + Tool.relayLogin)
        }

        var lines: [String] { process.standardOutput.split(separator: "\n").map(String.init) }

        /// Publishes a probe on `node` until this cluster subscriber gets one: its subscription is in place there.
        func waitUntilSubscribed(cluster: NATSCluster, node: Int, timeout: Duration = .seconds(240)) async throws {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                try await Tool.publish(cluster: cluster, node: node, topic: "emnify/probe", message: "probe")
                try await Task.sleep(for: .seconds(1))
                if lines.contains("emnify/probe probe") { return }
            }
            throw TestSupportError("the cluster subscriber got no probe from node \(node): \(process.standardError)")
        }

        /// Waits (generously: a failover takes NATS up to about a minute) for `line`, after index `after`.
        func waitFor(_ line: String, after: Int = -1, timeout: Duration = .seconds(240)) async throws {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if lines.enumerated().contains(where: { $0.offset > after && $0.element == line }) { return }
                if process.exitCode != nil { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw TestSupportError(
                "no line \"\(line)\" (exit \(String(describing: process.exitCode))): \(lines) \(process.standardError)")
        }

        func stop() { process.kill() }
    }

    enum Tool {
        static let subscribe = "/usr/bin/mosquitto_sub"
        static let publisher = "/usr/bin/mosquitto_pub"
        static let openssl = "/usr/bin/openssl"

        /// A throw-away CA (`ca.pem`) and a server certificate for 127.0.0.1 and localhost signed by it.
        static func makeCertificates(in directory: TemporaryDirectory) async throws {
            let steps: [[String]] = [
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=emnify-edge test CA", "-keyout", directory.file("ca.key"), "-out",
                    directory.file("ca.pem"),
                ],
                [
                    "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                    "/CN=localhost", "-keyout", directory.file("server.key"), "-out", directory.file("server.csr"),
                ],
                [
                    "x509", "-req", "-in", directory.file("server.csr"), "-CA", directory.file("ca.pem"), "-CAkey",
                    directory.file("ca.key"), "-CAcreateserial", "-days", "2", "-extfile",
                    try directory.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n", to: "san.ext"), "-out",
                    directory.file("server.pem"),
                ],
            ]
            for step in steps {
                let result = try await ChildProcess.run(openssl, step, timeout: .seconds(60))
                guard result.exitCode == 0 else {
                    throw TestSupportError("openssl \(step[0]): \(result.standardError)")
                }
            }
        }
        /// Test credentials of the relay's user (a test cluster's, on the command line of a test tool only).
        static var relayLogin: [String] { ["-u", "relay", "-P", BridgeConfigClusterTests.users["relay"]!] }

        static func exists(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

        /// Publishes QoS 1 on a cluster node until it is acknowledged (a node refuses while JetStream elects leaders).
        static func publish(
            cluster: NATSCluster, node: Int, topic: String, message: String, retain: Bool = false
        ) async throws {
            let arguments =
                ["-h", "127.0.0.1", "-p", "\(cluster.mqttPort(node))", "-V", "mqttv311", "-q", "1", "-t", topic]
                + ["-m", message, "-i", "relay-test-\(UUID().uuidString.prefix(8))"] + (retain ? ["-r"] : [])
                + relayLogin
            let deadline = ContinuousClock.now + .seconds(180)
            var last = ""
            while ContinuousClock.now < deadline {
                let result = try await ChildProcess.run(publisher, arguments, timeout: .seconds(20))
                if result.exitCode == 0 { return }
                last = "exit \(result.exitCode): \(result.standardError)"
                try await Task.sleep(for: .seconds(1))
            }
            throw TestSupportError("publishing \(topic) on node \(node) failed: \(last)\n\(cluster.logs)")
        }

        /// Waits until a new subscriber on `node` gets `value` as the retained message of `topic`.
        static func waitForRetained(cluster: NATSCluster, node: Int, topic: String, value: String) async throws {
            let deadline = ContinuousClock.now + .seconds(120)
            var last = ""
            while ContinuousClock.now < deadline {
                let result = try await ChildProcess.run(
                    subscribe,
                    ["-h", "127.0.0.1", "-p", "\(cluster.mqttPort(node))", "-V", "mqttv311", "-t", topic, "-C", "1"]
                        + ["-W", "2", "--retained-only"] + relayLogin, timeout: .seconds(20))
                last = result.standardOutput.trimmingCharacters(in: .newlines)
                if result.exitCode == 0 && last == value { return }
                try await Task.sleep(for: .milliseconds(500))
            }
            throw TestSupportError("\(topic) on node \(node) is not retained as \(value) (last: \(last))")
        }

        /// The retained message of `topic` on a local broker, nil when there is none.
        static func retained(port: Int, topic: String) async throws -> String? {
            let result = try await ChildProcess.run(
                subscribe, ["-h", "127.0.0.1", "-p", "\(port)", "-t", topic, "-C", "1", "-W", "1", "--retained-only"],
                timeout: .seconds(20))
            let text = result.standardOutput.trimmingCharacters(in: .newlines)
            return result.exitCode == 0 && !text.isEmpty ? text : nil
        }
    }
}
