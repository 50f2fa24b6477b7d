import EdgeCommon
import EmnifyAPI
import FoundationEssentials

/// The messages the agent publishes, all at QoS 1.
extension MQTTMessage {
    /// One event, its JSON unchanged; id, type and severity also as user properties so that a
    /// subscriber can route without parsing.
    public static func event(_ event: EmnifyEvent, topics: TopicLayout) -> MQTTMessage {
        .event(event, topic: topics.event(event))
    }

    /// One event on a given topic (the relay's organisation events have no SIM's layout).
    public static func event(_ event: EmnifyEvent, topic: String) -> MQTTMessage {
        var properties = [(name: "event_id", value: String(event.id)), ("event_type_id", String(event.type.id))]
        if let severity = event.severity {
            properties.append(("severity", severity.description ?? String(severity.id)))
        }
        return MQTTMessage(
            topic: topic, payload: event.raw, qos: 1, retain: false,
            properties: MQTTProperties(contentType: "application/json", userProperties: properties))
    }

    public static func json(_ value: some Encodable, topic: String, retain: Bool) -> MQTTMessage {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = (try? encoder.encode(value)).map { Array($0) } ?? Array("{}".utf8)
        return MQTTMessage(
            topic: topic, payload: payload, qos: 1, retain: retain,
            properties: MQTTProperties(contentType: "application/json"))
    }

    public static func text(_ text: String, topic: String, retain: Bool) -> MQTTMessage {
        MQTTMessage(
            topic: topic, payload: Array(text.utf8), qos: 1, retain: retain,
            properties: MQTTProperties(contentType: "text/plain"))
    }

    /// The event id of an event message (its `event_id` user property).
    public var eventID: Int64? {
        properties?.userProperties.first { $0.name == "event_id" }.flatMap { Int64($0.value) }
    }
}
