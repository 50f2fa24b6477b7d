import EdgeCommon

/// Every broker call of the agent, so that a broker failure stops the poll as one error type.
extension Agent {
    func publish(_ messages: [MQTTMessage]) async throws {
        try await brokerCall { try await publisher.publish(messages) }
    }

    func handOver(_ messages: [MQTTMessage]) async throws -> PublishAcknowledgement {
        try await brokerCall { try await publisher.handOver(messages) }
    }

    func acknowledged(_ acknowledgement: PublishAcknowledgement) async throws {
        try await brokerCall { try await acknowledgement.get() }
    }

    /// A broker failure as `BrokerUnavailable` (the poll stops; the cursor stays).
    private func brokerCall<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw BrokerUnavailable(reason: "\(error)")
        }
    }
}

/// The broker did not take a message; the poll stops and the cursor stays where it was.
struct BrokerUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the local MQTT broker did not acknowledge: \(reason)" }
}
