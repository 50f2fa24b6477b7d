/// A change of the connection, in the order libmosquitto reported it.
public enum MQTTConnectionEvent: Sendable {
    /// CONNACK accepted. After a reconnect, re-publish retained topics.
    case connected(protocolVersion: Int, sessionPresent: Bool)
    case disconnected(reason: String)
}
