import EdgeCommon
import EdgeMQTT

/// The cluster as the relay uses it: acknowledged publishing, plus subscriptions through which
/// the relays learn what the other published (event ids, states, statuses, the poll cursor).
public protocol RelayCluster: ClusterPublishing {
    func subscribe(_ filter: String, qos: Int) async throws(MQTTError) -> AsyncStream<MQTTMessage>
}

extension MQTTConnection: RelayCluster {}
