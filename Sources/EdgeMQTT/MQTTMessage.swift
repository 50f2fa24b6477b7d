/// One MQTT application message, published or received.
public struct MQTTMessage: Sendable {
    public var topic: String
    public var payload: [UInt8]
    /// 0 or 1 (QoS 2 is accepted by libmosquitto but `publish` treats it like 1: it returns at PUBCOMP).
    public var qos: Int
    public var retain: Bool
    /// MQTT 5 only; ignored on an MQTT 3.1.1 connection.
    public var properties: MQTTProperties?

    public init(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false, properties: MQTTProperties? = nil)
    {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }

    public init(topic: String, text: String, qos: Int = 1, retain: Bool = false, properties: MQTTProperties? = nil) {
        self.init(topic: topic, payload: Array(text.utf8), qos: qos, retain: retain, properties: properties)
    }
}

/// The MQTT 5 properties this agent uses.
public struct MQTTProperties: Sendable {
    public var contentType: String?
    /// In order; names may repeat.
    public var userProperties: [(String, String)]

    public init(contentType: String? = nil, userProperties: [(String, String)] = []) {
        self.contentType = contentType
        self.userProperties = userProperties
    }

    var isEmpty: Bool { contentType == nil && userProperties.isEmpty }
}

/// A change of the connection, in the order libmosquitto reported it.
public enum MQTTConnectionEvent: Sendable {
    /// CONNACK accepted. After a reconnect, re-publish retained topics.
    case connected(protocolVersion: Int, sessionPresent: Bool)
    case disconnected(reason: String)
}
