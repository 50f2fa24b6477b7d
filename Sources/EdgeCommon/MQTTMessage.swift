/// One MQTT application message, published or received: the agent's pipeline builds them, the MQTT
/// layer sends them as they are (one type, so nothing is mapped field by field in between).
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
    public var userProperties: [(name: String, value: String)]

    public init(contentType: String? = nil, userProperties: [(name: String, value: String)] = []) {
        self.contentType = contentType
        self.userProperties = userProperties
    }

    public var isEmpty: Bool { contentType == nil && userProperties.isEmpty }
}
