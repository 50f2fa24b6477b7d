import EdgeMQTT
import Foundation
import TestSupport
import Testing

@testable import EdgeMQTT

/// Issue 14, defect 8: a second client with the same client id showed only as "The connection was
/// lost."; the reason now names the other client (MQTT 5 says so with reason code 0x8E; with 3.1.1
/// the broker only closes the connection, right after accepting it, again and again).
@Suite("Session taken over by a client with the same client id", .serialized)
struct SessionTakeoverTests {
    private func disconnectReasons(of connection: MQTTConnection, until done: @escaping @Sendable (String) -> Bool)
        async -> [String]
    {
        let events = await collect(connection.connectionEvents, timeout: .seconds(60)) { events in
            events.contains { if case .disconnected(let reason) = $0 { done(reason) } else { false } }
        }
        return events.compactMap { if case .disconnected(let reason) = $0 { reason } else { nil } }
    }

    /// mosquitto 2.0.11 (Debian 12) sends an MQTT 5 client no DISCONNECT 0x8E either when its session
    /// is taken over (checked with mosquitto_sub -V mqttv5 -d: the socket just closes), so the real broker
    /// gets the repeated-drop reasoning with MQTT 5 as well; brokers that do send 0x8E are named below.
    @Test(.timeLimit(.minutes(2)), arguments: [MQTTProtocolChoice.v5, .v311])
    func aClientWithTheSameClientIDIsNamed(_ version: MQTTProtocolChoice) async throws {
        let broker = try MosquittoBroker()
        let first = try await connected(settings(broker, clientID: "same-id", protocolVersion: version))
        async let reasons = disconnectReasons(of: first) { $0.contains("most likely another client") }
        try await Task.sleep(for: .milliseconds(200))  // the event stream is subscribed
        // Both reconnect after 1-2 s and take the session from each other in turn.
        let second = try await connected(settings(broker, clientID: "same-id", protocolVersion: version))
        let found = await reasons
        await second.stop(timeout: .seconds(2))
        await first.stop(timeout: .seconds(2))
        #expect(found.first == "The connection was lost.", "one drop alone is not called a takeover: \(found)")
        #expect(
            found.contains {
                $0.contains(
                    "2 times in a row: most likely another client with the same client id \"same-id\" takes the session"
                )
            }, "\(found)")
    }

    /// The DISCONNECT reason code 0x8E of brokers that send it (mosquitto 2.0.11 does not, see above).
    @Test func theMQTT5ReasonCodeSessionTakenOverIsNamed() throws {
        let connection = try MQTTConnection(
            settings: MQTTSettings(host: "127.0.0.1", port: 1883, clientID: "gateway-7"), logger: testLogger)
        let reason = connection.core.disconnectReason(code: 0x8E, quickDrops: 0)
        #expect(
            reason.hasPrefix(
                "another client with the same client id \"gateway-7\" took the session (MQTT 5 reason code 0x8E"))
        #expect(connection.core.disconnectReason(code: 7, quickDrops: 1) == "The connection was lost.")
        #expect(connection.core.disconnectReason(code: 7, quickDrops: 2).contains("most likely another client"))
        #expect(connection.core.disconnectReason(code: 0, quickDrops: 5) == "disconnected by this client")
    }

    @Test(.timeLimit(.minutes(1)))
    func aBrokerRestartIsNotCalledATakeover() async throws {
        let broker = try MosquittoBroker()
        let connection = try await connected(settings(broker, protocolVersion: .v311))
        async let reasons = disconnectReasons(of: connection) { _ in true }
        try await Task.sleep(for: .milliseconds(200))
        try broker.restart()
        let found = await reasons
        await connection.stop(timeout: .seconds(2))
        #expect(found == ["The connection was lost."])
    }
}
