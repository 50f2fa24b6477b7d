import EdgeAgent
import EdgeCommon
import EmnifyAPI

/// The relay's topics on the cluster. Per SIM they are the agent's (`TopicLayout`), so a gateway
/// bridging `<prefix>/<iccid>/#` sees exactly what its own agent would publish:
///
/// | topic | retained | payload |
/// |---|---|---|
/// | `<prefix>/<iccid>/event/<type>` | no, QoS 1 | the event JSON exactly as emnify sent it |
/// | `<prefix>/<iccid>/state` | yes | `ConnectivityState` JSON |
/// | `<prefix>/org/event/<type>` | no, QoS 1 | events without a SIM (users, the organisation) |
/// | `<prefix>/relay/<relay id>/status` | yes | `online` / `offline` (the Last Will) |
/// | `<prefix>/relay/<relay id>/health` | yes | counters, last poll, last error |
/// | `<prefix>/relay/poll-cursor` | yes | where org-wide polling stands (shared by the relays) |
///
/// NATS refuses topics with `.` or spaces; slugs, ICCIDs and sanitized relay ids have neither.
public struct RelayTopics: Sendable, Equatable {
    public let prefix: String
    public let relayID: String

    public init(prefix: String, relayID: String) {
        self.prefix = TopicLayout(prefix: prefix, iccid: "_").prefix
        self.relayID = Self.relaySegment(relayID)
    }

    /// Where an event goes: its SIM's topic, or the organisation's when it names no SIM.
    public func event(_ event: EmnifyEvent) -> String {
        guard let iccid = event.iccid, !iccid.isEmpty else {
            return "\(prefix)/org/event/" + TopicSegment.sanitize(event.typeSlug)
        }
        return TopicLayout(prefix: prefix, iccid: iccid).event(event)
    }

    public func state(iccid: String) -> String { TopicLayout(prefix: prefix, iccid: iccid).state }

    public var status: String { statusOf(relayID) }
    public var health: String { "\(prefix)/relay/\(relayID)/health" }
    public var pollCursor: String { "\(prefix)/relay/poll-cursor" }
    public func statusOf(_ relay: String) -> String { "\(prefix)/relay/\(relay)/status" }

    /// Every event the relays publish (SIM and organisation events alike: `+` matches `org`).
    public var eventFilter: String { "\(prefix)/+/event/+" }
    public var stateFilter: String { "\(prefix)/+/state" }
    public var relayStatusFilter: String { "\(prefix)/relay/+/status" }
    public var relayHealthFilter: String { "\(prefix)/relay/+/health" }

    /// The ICCID level of a SIM topic (`<prefix>/<iccid>/state`), nil for anything else.
    public func iccid(inStateTopic topic: String) -> String? {
        guard topic.hasPrefix(prefix + "/"), topic.hasSuffix("/state") else { return nil }
        let middle = topic.dropFirst(prefix.count + 1).dropLast("/state".count)
        guard !middle.isEmpty, !middle.contains("/"), middle.allSatisfy(\.isNumber) else { return nil }
        return String(middle)
    }

    /// The relay id level of `<prefix>/relay/<id>/status`.
    public func relay(inStatusTopic topic: String) -> String? {
        TopicLayout(prefix: prefix, iccid: "_").relay(inStatusTopic: topic)
    }

    /// One topic level NATS accepts: sanitized, and `.`/space replaced too.
    static func relaySegment(_ text: String) -> String {
        String(TopicSegment.sanitize(text).map { $0 == "." || $0 == " " ? "_" : $0 })
    }
}
