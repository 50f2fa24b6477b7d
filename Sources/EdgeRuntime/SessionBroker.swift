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
    /// The messages matching any of `filters`, in the order the broker sent them, registered before
    /// `connect` (with what a kept session delivers right after it), subscribed at the connect and
    /// after a reconnect without a session: bridge mode's events, bridge notification, relay
    /// statuses and the relay's state of the SIM.
    func subscribeAtStart(_ filters: [String], qos: Int) throws -> AsyncStream<MQTTMessage>
    /// Whether the broker had kept this client's session at the first connect (nil before it).
    var sessionPresentAtStart: Bool? { get }
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

    public func subscribeAtStart(_ filters: [String], qos: Int) throws -> AsyncStream<MQTTMessage> {
        do {
            return try connection.subscribeAtStart(filters, qos: qos)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    public var sessionPresentAtStart: Bool? { connection.sessionPresentAtStart }

    public func publish(_ messages: [MQTTMessage]) async throws {
        try await connection.publish(messages)
    }

    public func handOver(_ messages: [MQTTMessage]) async throws -> PublishAcknowledgement {
        let receipt = try await connection.handOver(messages)
        let connection = self.connection
        return PublishAcknowledgement { try await connection.acknowledgement(of: receipt) }
    }
}
