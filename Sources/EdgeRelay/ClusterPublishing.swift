import EdgeCommon
import EdgeMQTT

/// What the relay needs of the cluster: publishing that returns only when the broker has
/// acknowledged every message (QoS 1 PUBACK). The failover connection does it for real; unit
/// tests use an in-memory one.
public protocol ClusterPublishing: Sendable {
    func publish(_ messages: [MQTTMessage]) async throws(MQTTError)
    /// Connected to a node now (the webhook's health check answers with it).
    var isConnected: Bool { get }
}
