import EdgeConfig
import EdgeProcess
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `deploy/`: the fleet example (three NATS nodes, two relays, haproxy). Each file is checked by
/// the program that reads it: the relays' files by the relay's loader, the NATS files by
/// `nats-server -t` and in a real three-node cluster on loopback, haproxy.cfg by `haproxy -c`
/// where haproxy is installed and always by `HAProxyStructure` (the addresses, path and timeouts
/// it must share with the relays' files).
@Suite(.serialized) struct DeployTests {
    static let natsServer = "/usr/sbin/nats-server"
    static let relayFiles = ["deploy/relay/relay-a.toml", "deploy/relay/relay-b.toml"]
    static let natsFiles = (1...3).map { "deploy/nats/node-\($0).conf" }
    static let nodes = (1...3).map { "nats-\($0).example.net:1883" }
    static let passwords = [
        "NATS_RELAY_PASSWORD": "relay-pw-for-the-test", "NATS_GATEWAY_PASSWORD": "gw-pw-for-the-test",
    ]

    static func relay(_ path: String) throws -> EdgeConfiguration {
        try ConfigurationLoader.load(contentsOf: RepositoryFiles.url(path).path, role: .relay)
    }

    @Test func relayFilesPassTheRelaysCheck() throws {
        let a = try Self.relay(Self.relayFiles[0])
        let b = try Self.relay(Self.relayFiles[1])
        for configuration in [a, b] {
            #expect(Set(configuration.mqtt.hosts.map(\.description)) == Set(Self.nodes), "all three nodes")
            #expect(configuration.mqtt.username == "relay" && configuration.mqtt.protocolVersion == .v311)
        }
        #expect(a.mqtt.hosts != b.mqtt.hosts, "each relay starts on another node")
        #expect(a.mqtt.hosts.first != b.mqtt.hosts.first)
        #expect(a.relay.relayID != b.relay.relayID && a.mqtt.clientID != b.mqtt.clientID)
        #expect(a.relay.webhookPath == b.relay.webhookPath)
    }

    /// Every *.toml under deploy/ is a relay file that loads (none is forgotten by the list above).
    @Test func everyTOMLUnderDeployIsAValidRelayFile() throws {
        let root = RepositoryFiles.url("deploy")
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".toml") }.sorted()
        #expect(files.map { "deploy/" + $0 } == Self.relayFiles)
        for file in files { _ = try Self.relay("deploy/" + file) }
    }

    @Test func natsFilesParse() throws {
        try #require(Tool.exists(Self.natsServer), "nats-server is missing: scripts/setup installs it")
        for file in Self.natsFiles {
            let result = try Self.runNATS(test: file)
            #expect(result.status == 0, "\(file): \(result.output)")
            #expect(result.output.contains("is valid"), "\(file): \(result.output)")
        }
        // The files differ in server_name only.
        let texts = try Self.natsFiles.map { try RepositoryFiles.text($0) }
        for (index, text) in texts.enumerated() {
            #expect(
                text.replacingOccurrences(of: "nats-\(index + 1)", with: "nats-N")
                    .replacingOccurrences(of: "node \(index + 1) of 3", with: "node N of 3")
                    .replacingOccurrences(of: "nats-route://nats-N", with: "nats-route://nats-\(index + 1)")
                    == texts[0].replacingOccurrences(of: "nats-1", with: "nats-N")
                    .replacingOccurrences(of: "node 1 of 3", with: "node N of 3")
                    .replacingOccurrences(of: "nats-route://nats-N", with: "nats-route://nats-1"))
        }
    }

    /// The three files as a cluster on loopback (ports and store_dir moved): what the relay
    /// publishes on one node with its user reaches a gateway's QoS 1 subscription on another (the
    /// retained state, then an event); the gateway user cannot publish on the emnify topics; a
    /// client without a login is refused.
    @Test func natsFilesFormACluster() throws {
        try #require(Tool.exists(Self.natsServer), "nats-server is missing: scripts/setup installs it")
        try #require(Tool.exists("/usr/bin/mosquitto_pub"), "apt-get install mosquitto-clients")
        let cluster = try NATSCluster(files: Self.natsFiles, variables: Self.passwords)
        defer { cluster.stop() }
        let relay = try Self.relay(Self.relayFiles[0])
        let relayUser = try #require(relay.mqtt.username)
        let relayPassword = Self.passwords["NATS_RELAY_PASSWORD"]!
        let gatewayPassword = Self.passwords["NATS_GATEWAY_PASSWORD"]!
        let prefix = "emnify/8988303000012345678"

        let state = try Self.publish(
            port: cluster.mqttPorts[0], user: relayUser, password: relayPassword, topic: "\(prefix)/state",
            message: "{\"registered\":true}", retain: true)
        #expect(state.status == 0, "\(state.output)")

        let received = cluster.directory.appendingPathComponent("received.txt").path
        let subscriber = try LaunchedProcess.launch(
            "/usr/bin/mosquitto_sub",
            [
                "-V", "mqttv311", "-h", "127.0.0.1", "-p", "\(cluster.mqttPorts[1])", "-u", "gateway", "-P",
                gatewayPassword, "-i", "gateway-1", "-q", "1", "-t", "\(prefix)/#", "-v", "-C", "2", "-W", "90",
            ], standardOutput: .file(received), standardError: .file(received + ".err"))
        defer {
            subscriber.signal(SIGKILL)
            _ = subscriber.waitUntilExit()
        }
        // The retained state arrives once the subscription stands; only then is the event published.
        let stateLine = "\(prefix)/state {\"registered\":true}\n"
        #expect(NATSCluster.waitUntil { ((try? String(contentsOfFile: received, encoding: .utf8)) ?? "") == stateLine })

        let forged = try Self.publish(
            port: cluster.mqttPorts[2], user: "gateway", password: gatewayPassword, topic: "\(prefix)/event/forged",
            message: "forged", retain: false)
        _ = forged  // NATS drops a denied publish and logs it:
        #expect(
            cluster.waitForLog(
                "Publish Violation - User \"gateway\", Subject \"emnify.8988303000012345678.event.forged\""))

        let event = try Self.publish(
            port: cluster.mqttPorts[0], user: relayUser, password: relayPassword, topic: "\(prefix)/event/attach",
            message: "{\"id\":1}", retain: false)
        #expect(event.status == 0, "\(event.output)")
        _ = subscriber.waitUntilExit()
        let output = (try? String(contentsOfFile: received, encoding: .utf8)) ?? ""
        #expect(output == stateLine + "\(prefix)/event/attach {\"id\":1}\n", "\(output)")

        let anonymous = try Self.publish(
            port: cluster.mqttPorts[0], user: nil, password: nil, topic: "\(prefix)/x", message: "x", retain: false)
        #expect(anonymous.status != 0 && anonymous.output.contains("not authorised"), "\(anonymous.output)")
    }

    /// The structural check always (`HAProxyStructure`: also what the file shares with the relays'
    /// files), and haproxy's own `haproxy -c` where haproxy is installed (CI does not install it).
    @Test func haproxyFitsTheRelays() throws {
        let configuration = HAProxyStructure(text: try RepositoryFiles.text("deploy/haproxy/haproxy.cfg"))
        #expect(configuration.problems == [], "\(configuration.problems)")
        let relays = try Self.relayFiles.map(Self.relay)
        #expect(configuration.servers(in: "relays") == relays.map(\.relay.listen.description))
        #expect(configuration.webhookPaths == Set(relays.map(\.relay.webhookPath)))
        let serverTimeout = try #require(configuration.timeout("server"))
        for relay in relays { #expect(serverTimeout > relay.relay.ackTimeout, "the relay answers 503 first") }
        #expect(configuration.binds.contains { $0.hasPrefix(":443 ssl crt ") }, "TLS on 443")
        if Tool.exists(Self.haproxy) { try Self.haproxyCheck() }
    }

    @Test func theStructuralCheckFindsSlips() {
        let broken = HAProxyStructure(
            text: "frontend web\n    default_backend relay\nbackend relays\n    server a 10.0.0.1\nbakend x\n")
        #expect(broken.problems.count == 4, "\(broken.problems)")
    }

    static let haproxy = "/usr/sbin/haproxy"

    /// `haproxy -c` on the file with a throw-away certificate in place of certbot's.
    static func haproxyCheck() throws {
        let directory = try RepositoryFiles.temporaryDirectory("haproxy")
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem").path
        let certificate = directory.appendingPathComponent("cert.pem").path
        let made = try Tool.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
                "-subj", "/CN=events.example.net",
            ])
        #expect(made.status == 0, "\(made.output)")
        let bundle = directory.appendingPathComponent("events.pem")
        try (String(contentsOfFile: certificate, encoding: .utf8) + String(contentsOfFile: key, encoding: .utf8))
            .write(to: bundle, atomically: true, encoding: .utf8)
        let text = try RepositoryFiles.text("deploy/haproxy/haproxy.cfg")
            .replacingOccurrences(of: "/etc/haproxy/certs/events.example.net.pem", with: bundle.path)
        let file = directory.appendingPathComponent("haproxy.cfg")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try Tool.run(haproxy, ["-c", "-f", file.path])
        #expect(result.status == 0 && !result.output.contains("WARNING"), "\(result.output)")
    }

    /// `nats-server` on `file` with the passwords defined in front (as variables, which the
    /// file's $NATS_*_PASSWORD references then take instead of the environment's).
    static func runNATS(test file: String) throws -> ToolResult {
        let directory = try RepositoryFiles.temporaryDirectory("nats-t")
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("node.conf")
        try (NATSCluster.definitions(passwords) + RepositoryFiles.text(file)).write(
            to: copy, atomically: true, encoding: .utf8)
        return try Tool.run(natsServer, ["-t", "-c", copy.path])
    }

    static func publish(
        port: Int, user: String?, password: String?, topic: String, message: String, retain: Bool
    ) throws -> ToolResult {
        var arguments = ["-V", "mqttv311", "-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", topic, "-m", message]
        if retain { arguments.append("-r") }
        if let user, let password { arguments += ["-u", user, "-P", password] }
        return try Tool.run("/usr/bin/mosquitto_pub", arguments)
    }
}
