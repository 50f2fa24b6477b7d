import EdgeAgent
import EdgeCommon
import EdgeMQTT
import Logging

/// The broker as the session needs it: the agent's publisher, plus connect, the connection's ups
/// and downs (to re-publish retained topics) and disconnect. `MQTTSessionBroker` in production, an
/// in-memory one in the session's unit tests.
public protocol SessionBroker: MessagePublisher {
    func connect(timeout: Duration) async throws
    /// Every connect and disconnect from this call on.
    func connectionEvents() -> AsyncStream<MQTTConnectionEvent>
    /// A clean DISCONNECT (the Last Will is not sent).
    func disconnect(timeout: Duration) async
    /// The messages matching any of `filters`, in the order the broker sent them, once the broker
    /// granted the subscriptions (renewed after a reconnect): bridge mode's events, bridge
    /// notification, relay statuses and the relay's state of the SIM.
    func subscribe(_ filters: [String], qos: Int) async throws -> AsyncStream<MQTTMessage>
}

/// The session's broker on libmosquitto.
public struct MQTTSessionBroker: SessionBroker {
    let connection: MQTTConnection

    public init(settings: MQTTSettings) throws {
        do {
            connection = try MQTTConnection(settings: settings, logger: Logger(label: "emnify-edge.mqtt"))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    public func connect(timeout: Duration) async throws {
        do {
            try await connection.start(timeout: timeout)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    public func connectionEvents() -> AsyncStream<MQTTConnectionEvent> { connection.connectionEvents }

    public func disconnect(timeout: Duration) async { await connection.stop(timeout: timeout) }

    public func subscribe(_ filters: [String], qos: Int) async throws -> AsyncStream<MQTTMessage> {
        do {
            return try await connection.subscribe(filters, qos: qos)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    public func publish(_ messages: [MQTTMessage]) async throws {
        try await connection.publish(messages)
    }

    public func handOver(_ messages: [MQTTMessage]) async throws -> PublishAcknowledgement {
        let receipt = try await connection.handOver(messages)
        let connection = self.connection
        return PublishAcknowledgement { try await connection.acknowledgement(of: receipt) }
    }
}
