import EdgeCommon

/// Publishes messages at QoS 1 and returns once the broker acknowledged every one of them.
/// The agent advances its cursor only after this returns.
public protocol MessagePublisher: Sendable {
    func publish(_ messages: [MQTTMessage]) async throws

    /// Hands the messages over and returns without waiting for the broker's acknowledgements, so
    /// that the next batch can follow meanwhile (order across batches is kept). The caller awaits
    /// the returned acknowledgement before it counts the messages as published.
    func handOver(_ messages: [MQTTMessage]) async throws -> PublishAcknowledgement
}

extension MessagePublisher {
    /// Without pipelining: publishes, then there is nothing left to wait for.
    public func handOver(_ messages: [MQTTMessage]) async throws -> PublishAcknowledgement {
        try await publish(messages)
        return PublishAcknowledgement {}
    }
}

/// Waits until the broker acknowledged every message of a batch handed over.
public struct PublishAcknowledgement: Sendable {
    private let wait: @Sendable () async throws -> Void

    public init(_ wait: @escaping @Sendable () async throws -> Void) { self.wait = wait }

    public func get() async throws { try await wait() }
}
