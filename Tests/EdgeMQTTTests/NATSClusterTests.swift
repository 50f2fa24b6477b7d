import EdgeCommon
import EdgeMQTT
import Foundation
import TestSupport
import Testing

/// The suites that start NATS clusters, one test at a time across all of them (three nodes each on two cores).
@Suite("Real NATS clusters, one at a time", .serialized)
enum RealNATSClusters {}

extension RealNATSClusters {
    /// The test harness itself: a real three-node NATS JetStream cluster with MQTT listeners.
    @Suite("NATSCluster: a real three-node NATS JetStream cluster")
    struct NATSClusterTests {
        @Test(.timeLimit(.minutes(5)))
        func aMessagePublishedOnOneNodeReachesASubscriberOnAnother() async throws {
            let cluster = try await NATSCluster.start()
            defer { cluster.stopAll() }
            let subscriber = try await natsConnected(natsSettings(cluster, node: 2))
            let publisher = try await natsConnected(natsSettings(cluster, node: 0))
            let stream = try await subscriber.subscribe("fleet/89000000000000000001/events", qos: 1)
            try await publisher.publish(MQTTMessage(topic: "fleet/89000000000000000001/events", text: "hello", qos: 1))
            let received = await collect(stream, count: 1, timeout: .seconds(30))
            #expect(received.first.map { String(decoding: $0.payload, as: UTF8.self) } == "hello", "\(cluster.logs)")
            await publisher.stop(timeout: .seconds(5))
            await subscriber.stop(timeout: .seconds(5))
        }

        @Test(.timeLimit(.minutes(5)))
        func aKilledNodeRestartsOnItsPortsAndStore() async throws {
            let cluster = try await NATSCluster.start(.init(users: ["relay": "cluster-test-password"]))
            defer { cluster.stopAll() }
            cluster.kill(0)
            #expect(!cluster.isRunning(0))
            try await cluster.restart(0)
            #expect(cluster.isRunning(0))
            var settings = natsSettings(cluster, node: 0)
            settings.username = "relay"
            settings.password = "cluster-test-password"
            let connection = try await natsConnected(settings)
            try await connection.publish(MQTTMessage(topic: "fleet/restart", text: "after restart", qos: 1))
            await connection.stop(timeout: .seconds(5))
            // Without credentials the cluster refuses (users are configured).
            let anonymous = try MQTTConnection(settings: natsSettings(cluster, node: 1), logger: testLogger)
            await #expect(throws: MQTTError.self) { try await anonymous.start(timeout: .seconds(10)) }
        }
    }

}

/// Connected within 90 s (`connected` allows 5): right after a node died, the survivors send CONNACK only once
/// JetStream has new leaders, and two cores shared with other builds make even a healthy cluster slow at times.
func natsConnected(_ settings: MQTTSettings) async throws -> MQTTConnection {
    let connection = try MQTTConnection(settings: settings, logger: testLogger)
    try await connection.start(timeout: .seconds(90))
    return connection
}

/// MQTT 3.1.1 (NATS refuses 5) to one node of `cluster`, with a short reconnect backoff.
func natsSettings(
    _ cluster: NATSCluster, node: Int, clientID: String = "nats-\(UUID().uuidString.prefix(8))",
    cleanSession: Bool = true, protocolVersion: MQTTProtocolChoice = .v311
) -> MQTTSettings {
    MQTTSettings(
        host: "127.0.0.1", port: cluster.mqttPort(node), clientID: clientID, keepalive: .seconds(10),
        protocolVersion: protocolVersion, reconnectDelay: (.seconds(1), .seconds(2)), cleanSession: cleanSession)
}
