import EdgeCommon
import EmnifyAPI

/// The MQTT topics of one SIM. `<iccid>` is the ICCID as emnify's API names the SIM: its
/// `iccid` field, 19 digits without the Luhn check digit.
///
/// | topic | retained | payload |
/// |---|---|---|
/// | `<prefix>/<iccid>/event/<type>` | no, QoS 1 | the event JSON exactly as emnify sent it |
/// | `<prefix>/<iccid>/state` | yes | `ConnectivityState` JSON |
/// | `<prefix>/<iccid>/identity` | yes | IMEI, ICCID, IMSI, SIM and endpoint ids, source |
/// | `<prefix>/<iccid>/status` | yes | `online` / `offline` (the Last Will) |
/// | `<prefix>/<iccid>/health` | yes | last poll, last error, requests and bytes today, lag |
/// | `<prefix>/<iccid>/notice` | no, QoS 1 | notices such as a possible gap in the event history |
/// | `<prefix>/<iccid>/bridge` | yes | bridge mode: mosquitto's bridge state, `1` / `0` (not the agent's) |
/// | `<prefix>/<iccid>/fleet/state` | yes | bridge mode: the relay's `state` of the SIM, bridged in |
public struct TopicLayout: Sendable, Equatable {
    public let prefix: String
    public let iccid: String

    public init(prefix: String, iccid: String) {
        // The prefix may have several levels (`site/7/emnify`), but no wildcards or empty levels.
        self.prefix = prefix.split(separator: "/", omittingEmptySubsequences: true).map {
            TopicSegment.sanitize(String($0))
        }
        .joined(separator: "/")
        self.iccid = TopicSegment.sanitize(iccid)
    }

    public var base: String { "\(prefix)/\(iccid)" }
    public var state: String { base + "/state" }
    public var identity: String { base + "/identity" }
    public var status: String { base + "/status" }
    public var health: String { base + "/health" }
    public var notice: String { base + "/notice" }
    public var eventWildcard: String { base + "/event/+" }
    /// mosquitto's notification of the gateway's bridge to the fleet cluster ("1" up, "0" down).
    public var bridge: String { base + "/bridge" }
    /// The relay's retained state of this SIM (its `state` on the cluster), bridged in under
    /// another name so that it does not overwrite the agent's own `state` on the gateway.
    public var fleetState: String { base + "/fleet/state" }
    /// The fleet relays' statuses, bridged in from the cluster (`RelayTopics`).
    public var relayStatusFilter: String { prefix + "/relay/+/status" }

    /// The relay id of `<prefix>/relay/<id>/status`.
    public func relay(inStatusTopic topic: String) -> String? {
        let head = prefix + "/relay/"
        guard topic.hasPrefix(head), topic.hasSuffix("/status") else { return nil }
        let middle = topic.dropFirst(head.count).dropLast("/status".count)
        return middle.isEmpty || middle.contains("/") ? nil : String(middle)
    }

    public func event(_ event: EmnifyEvent) -> String {
        base + "/event/" + TopicSegment.sanitize(event.typeSlug)
    }
}
