import EdgeCommon

/// An event timestamp, kept as emnify wrote it and as milliseconds since the epoch.
///
/// emnify writes several forms: `2021-10-27T08:38:02.000Z`, `2017-10-26T07:28:00.000+0000`
/// (no colon in the offset), `2021-10-27T15:17:23Z`, and even `2021-10-06 10:42:58` (no zone,
/// taken as UTC). A hand-written parser accepts all of them without Foundation's formatters.
public struct EmnifyTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let millisecondsSinceEpoch: Int64
    public let text: String

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
        self.text = TimestampText.format(milliseconds: millisecondsSinceEpoch)
    }

    public init?(parsing text: String) {
        guard let millis = TimestampText.milliseconds(text) else { return nil }
        self.millisecondsSinceEpoch = millis
        self.text = text
    }

    public var secondsSinceEpoch: Int64 { millisecondsSinceEpoch / 1000 }
    public var utc: UTCDateTime { UTCDateTime(secondsSinceEpoch: secondsSinceEpoch) }
    public var description: String { text }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.millisecondsSinceEpoch == rhs.millisecondsSinceEpoch }
    public func hash(into hasher: inout Hasher) { hasher.combine(millisecondsSinceEpoch) }
}
