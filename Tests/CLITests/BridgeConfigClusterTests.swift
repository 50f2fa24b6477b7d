import Foundation
import Testing
import TestSupport

/// The snippet `emnify-edge bridge-config` writes, in a real mosquitto bridged to a real three-node NATS
/// JetStream cluster (MQTT listeners on loopback, with users): what the relay publishes for this SIM comes in,
/// another SIM's does not, the relays' retained statuses come in, the bridge's state is retained locally,
/// the cluster keeps the session while the gateway's broker is down, and a dead node is failed over.
@Suite(.serialized) struct BridgeConfigClusterTests {
    static let iccid = "89883070000012345674"
    static let own = "8988307000001234567"
    static let other = "8988307000009999999"
    static let users = ["gateway": "gw-pw-7Hq2ZrX9", "relay": "relay-pw-Tk4mW8"]
    static var available: Bool { NATSCluster.isAvailable && MosquittoBroker.isAvailable && Tool.exists(Tool.subscribe) }

    /// A relay's status, retained on the cluster before the gateway's broker starts (as at a gateway's boot),
    /// comes in with the bridge's SUBSCRIBE and is retained locally.
    @Test func thisSIMsEventsAndTheRelayStatusComeInAndOthersDoNot() async throws {
        try await Self.withGateway(relayOnline: true) { cluster, gateway in
            // The relay's status and the bridge's own state (that one on the local broker only), retained locally: a subscriber that comes later gets it at once.
            #expect(try await Tool.retained(port: gateway.broker.port, topic: "emnify/relay/r1/status") == "online")

            let onCluster = try Subscriber(cluster: cluster, node: 1, topic: "emnify/#")
            try await onCluster.waitUntilSubscribed(cluster: cluster, node: 2)
            let local = try Subscriber(port: gateway.broker.port, topic: "emnify/#")
            try await local.waitFor("emnify/\(Self.own)/bridge 1")
            try await local.waitFor("emnify/relay/r1/status online")

            try await Tool.publish(cluster: cluster, node: 0, topic: "emnify/\(Self.other)/event/x", message: "other-1")
            try await Tool.publish(cluster: cluster, node: 0, topic: "emnify/\(Self.own)/event/x", message: "own-1")
            try await Tool.publish(cluster: cluster, node: 1, topic: "emnify/\(Self.own)/event/y", message: "own-2")
            try await local.waitFor("emnify/\(Self.own)/event/x own-1")
            try await local.waitFor("emnify/\(Self.own)/event/y own-2")
            // The other SIM's event was on the cluster, and only there.
            try await onCluster.waitFor("emnify/\(Self.other)/event/x other-1")
            #expect(!local.lines.contains { $0.contains(Self.other) }, "\(local.lines)")
            local.stop()
            onCluster.stop()
        }
    }

    /// A status the relay publishes (retained) while the bridge is up reaches local subscribers at once, but the
    /// cluster sends it to the bridge's established subscription with RETAIN 0 (MQTT 3.1.1 §3.3.1.3), so the local
    /// retained copy stays the one the bridge's last SUBSCRIBE brought: the agent must follow the topic live (the
    /// relays' 5-minute repeat), not trust a retained value it reads at its start. A fact test: it fails if that
    /// changes, and then this comment and firmware-config/mosquitto/README.md must too.
    @Test func aStatusChangeWhileBridgedIsLiveNotRetainedLocally() async throws {
        try await Self.withGateway(relayOnline: true) { cluster, gateway in
            let local = try Subscriber(
                port: gateway.broker.port, arguments: ["-q", "1", "-F", "%r %t %p", "-t", "emnify/relay/+/status"])
            try await local.waitFor("1 emnify/relay/r1/status online")
            try await Tool.publish(
                cluster: cluster, node: 0, topic: "emnify/relay/r1/status", message: "offline", retain: true)
            try await local.waitFor("0 emnify/relay/r1/status offline")
            #expect(try await Tool.retained(port: gateway.broker.port, topic: "emnify/relay/r1/status") == "online")
            local.stop()
        }
    }

    @Test func theBridgeStateIsZeroOnceEveryNodeIsDown() async throws {
        try await Self.withGateway(bridged: false) { cluster, gateway in
            cluster.stopAll()
            try await gateway.waitForBridgeState("0")
        }
    }

    /// The gateway's broker stops (SIGTERM: it saves its database), the relay publishes meanwhile, the broker
    /// starts again on the same persistence directory: the cluster kept the bridge's session, so the events come
    /// in, to an application's persistent session on the gateway.
    @Test func theClusterKeepsTheSessionWhileTheGatewayIsDown() async throws {
        // The session's subscriptions exist on the cluster: what is published from now on is kept for it.
        try await Self.withGateway(persistence: true) { cluster, gateway in
            // The application's persistent session on the gateway's broker (clean session false, QoS 1).
            let application = ["-c", "-i", "gateway-app", "-q", "1", "-t", "emnify/\(Self.own)/event/+", "-v"]
            let registered = try await ChildProcess.run(
                Tool.subscribe, ["-h", "127.0.0.1", "-p", "\(gateway.broker.port)", "-E"] + application,
                timeout: .seconds(30))
            #expect(registered.exitCode == 0, "\(registered.standardError)")

            #expect(gateway.broker.stop(), "mosquitto did not stop on SIGTERM")
            let messages = (1...5).map { "while-down-\($0)" }
            for message in messages {
                try await Tool.publish(cluster: cluster, node: 1, topic: "emnify/\(Self.own)/event/x", message: message)
            }
            try gateway.broker.start()
            let receiver = try Subscriber(port: gateway.broker.port, arguments: application)
            for message in messages { try await receiver.waitFor("emnify/\(Self.own)/event/x \(message)") }
            receiver.stop()
        }
    }

    /// The first address's node dies: the bridge reconnects through the next, and events still come in.
    @Test func aDeadNodeIsFailedOver() async throws {
        try await Self.withGateway { cluster, gateway in
            let local = try Subscriber(port: gateway.broker.port, topic: "emnify/#")
            try await local.waitFor("emnify/\(Self.own)/bridge 1")
            try await Tool.publish(cluster: cluster, node: 2, topic: "emnify/\(Self.own)/event/x", message: "before")
            try await local.waitFor("emnify/\(Self.own)/event/x before")

            cluster.kill(0)
            // The bridge noticed (0), then connected to another node (1). While JetStream elects new leaders the
            // survivors may refuse a CONNECT, and each refusal lengthens mosquitto's back-off (restart_timeout 10 300):
            // several minutes in the worst case, hence the deadline.
            try await local.waitFor("emnify/\(Self.own)/bridge 0")
            let down = try #require(local.lines.lastIndex(of: "emnify/\(Self.own)/bridge 0"))
            try await local.waitFor("emnify/\(Self.own)/bridge 1", after: down, timeout: .seconds(600))
            try await gateway.waitUntilBridged(from: cluster, nodes: [1, 2])
            // The survivors may refuse publishes while JetStream elects new leaders: Tool.publish retries.
            try await Tool.publish(cluster: cluster, node: 2, topic: "emnify/\(Self.own)/event/x", message: "after")
            try await local.waitFor("emnify/\(Self.own)/event/x after")
            local.stop()
        }
    }

    /// TLS, the production path: with --ca-file the bridge verifies the cluster's certificate (here a mosquitto
    /// with a TLS listener plays the cluster: the settings are mosquitto's, whatever the engine) and events come
    /// in; against a certificate from another CA it refuses to connect.
    @Test func tlsWithTheClustersCA() async throws {
        try #require(Self.available && Tool.exists(Tool.openssl), "apt-get install mosquitto mosquitto-clients openssl")
        let certificates = try TemporaryDirectory()
        try await Tool.makeCertificates(in: certificates)
        let tlsPort = try MosquittoBroker.freePort()
        let cloud = try MosquittoBroker(
            options: MosquittoBroker.Options(extraConfiguration: [
                "listener \(tlsPort) 127.0.0.1", "certfile \(certificates.file("server.pem"))",
                "keyfile \(certificates.file("server.key"))",
            ]))
        defer { cloud.kill() }
        let gateway = try await Gateway(
            directory: try TemporaryDirectory(),
            arguments: ["--cluster", "127.0.0.1:\(tlsPort)", "--ca-file", certificates.file("ca.pem")])
        defer { gateway.stop() }
        try await gateway.waitForBridgeState("1")
        let local = try Subscriber(port: gateway.broker.port, topic: "emnify/\(Self.own)/event/+")
        // A QoS 1 event over TLS, sent again until it arrives: the bridge subscribes just after it reports 1.
        let deadline = ContinuousClock.now + .seconds(120)
        var sent = 0
        while ContinuousClock.now < deadline, !local.lines.contains("emnify/\(Self.own)/event/x over-tls") {
            sent += 1
            _ = try await ChildProcess.run(
                Tool.publisher,
                [
                    "-h", "127.0.0.1", "-p", "\(cloud.port)", "-q", "1", "-t", "emnify/\(Self.own)/event/x", "-m",
                    "over-tls",
                ],
                timeout: .seconds(20))
            try await Task.sleep(for: .seconds(1))
        }
        #expect(local.lines.contains("emnify/\(Self.own)/event/x over-tls"), "after \(sent) publishes: \(local.lines)")
        local.stop()

        let other = try TemporaryDirectory()
        try await Tool.makeCertificates(in: other)
        let untrusting = try await Gateway(
            directory: try TemporaryDirectory(),
            arguments: ["--cluster", "127.0.0.1:\(tlsPort)", "--ca-file", other.file("ca.pem")])
        defer { untrusting.stop() }
        try await untrusting.waitForLog("certificate verify failed")
        #expect(try await Tool.retained(port: untrusting.broker.port, topic: "emnify/\(Self.own)/bridge") != "1")
    }

    /// A cluster, a gateway's broker bridged to it (its state `1`), with a relay's `online` retained on the
    /// cluster first when `relayOnline`; both stopped after `body`. `bridged`: returns once the bridge's
    /// subscriptions are in place on every node.
    static func withGateway(
        relayOnline: Bool = false, persistence: Bool = false, bridged: Bool = true,
        _ body: (NATSCluster, Gateway) async throws -> Void
    ) async throws {
        try #require(available, "apt-get install nats-server mosquitto mosquitto-clients")
        let cluster = try await NATSCluster.start(NATSCluster.Options(users: users))
        defer { cluster.stopAll() }
        if relayOnline {
            try await Tool.publish(
                cluster: cluster, node: 0, topic: "emnify/relay/r1/status", message: "online", retain: true)
            try await Tool.waitForRetained(cluster: cluster, node: 0, topic: "emnify/relay/r1/status", value: "online")
        }
        let gateway = try await Gateway(cluster: cluster, persistence: persistence)
        defer { gateway.stop() }
        try await gateway.waitForBridgeState("1")
        if bridged { try await gateway.waitUntilBridged(from: cluster) }
        try await body(cluster, gateway)
    }
}
