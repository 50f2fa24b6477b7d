import EmnifyAPI
import FoundationEssentials

/// A message the agent hands to the broker; the MQTT layer maps it one to one.
public struct AgentMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var retain: Bool
    /// MQTT 5 content type; ignored on 3.1.1.
    public var contentType: String?
    /// MQTT 5 user properties; ignored on 3.1.1.
    public var userProperties: [UserProperty]

    public struct UserProperty: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public init(topic: String, payload: [UInt8], retain: Bool, contentType: String? = nil, userProperties: [UserProperty] = []) {
        self.topic = topic
        self.payload = payload
        self.retain = retain
        self.contentType = contentType
        self.userProperties = userProperties
    }

    /// One event, its JSON unchanged; id, type and severity also as user properties so that a
    /// subscriber can route without parsing.
    public static func event(_ event: EmnifyEvent, topics: TopicLayout) -> AgentMessage {
        var properties = [
            UserProperty(name: "event_id", value: String(event.id)),
            UserProperty(name: "event_type_id", value: String(event.type.id)),
        ]
        if let severity = event.severity {
            properties.append(UserProperty(name: "severity", value: severity.description ?? String(severity.id)))
        }
        return AgentMessage(
            topic: topics.event(event), payload: event.raw, retain: false, contentType: "application/json",
            userProperties: properties)
    }

    public static func json(_ value: some Encodable, topic: String, retain: Bool) -> AgentMessage {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = (try? encoder.encode(value)).map { Array($0) } ?? Array("{}".utf8)
        return AgentMessage(topic: topic, payload: payload, retain: retain, contentType: "application/json")
    }

    public static func text(_ text: String, topic: String, retain: Bool) -> AgentMessage {
        AgentMessage(topic: topic, payload: Array(text.utf8), retain: retain, contentType: "text/plain")
    }
}

/// Publishes messages at QoS 1 and returns once the broker acknowledged every one of them.
/// The agent advances its cursor only after this returns.
public protocol MessagePublisher: Sendable {
    func publish(_ messages: [AgentMessage]) async throws

    /// Hands the messages over and returns without waiting for the broker's acknowledgements, so
    /// that the next batch can follow meanwhile (order across batches is kept). The caller awaits
    /// the returned acknowledgement before it counts the messages as published.
    func handOver(_ messages: [AgentMessage]) async throws -> PublishAcknowledgement
}

extension MessagePublisher {
    /// Without pipelining: publishes, then there is nothing left to wait for.
    public func handOver(_ messages: [AgentMessage]) async throws -> PublishAcknowledgement {
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
