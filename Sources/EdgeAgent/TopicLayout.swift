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

    public func event(_ event: EmnifyEvent) -> String {
        base + "/event/" + TopicSegment.sanitize(event.typeSlug)
    }
}
