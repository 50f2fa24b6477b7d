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
        self.prefix = prefix.split(separator: "/", omittingEmptySubsequences: true).map { TopicLayout.sanitize(String($0)) }
            .joined(separator: "/")
        self.iccid = TopicLayout.sanitize(iccid)
    }

    public var base: String { "\(prefix)/\(iccid)" }
    public var state: String { base + "/state" }
    public var identity: String { base + "/identity" }
    public var status: String { base + "/status" }
    public var health: String { base + "/health" }
    public var notice: String { base + "/notice" }
    public var eventWildcard: String { base + "/event/+" }

    public func event(_ event: EmnifyEvent) -> String {
        base + "/event/" + TopicLayout.sanitize(event.typeSlug)
    }

    /// One topic level from data: no `+`, `#`, `/`, NUL or control characters survive, and it
    /// is never empty.
    public static func sanitize(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "+", "#", "/", "\u{0}": result.append("_")
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: result.append("_")
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result.isEmpty ? "_" : String(result.prefix(128))
    }
}
