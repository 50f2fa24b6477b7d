import EdgeCommon

/// The emulator's timestamps: the two spellings emnify uses, and the strict `from`/`until` form
/// of the `q` filter. The calendar arithmetic and the lenient parser are EdgeCommon's.
enum EmulatorTime {
    /// `2021-10-27T08:38:02.000Z` (`plusZero == false`) or `2021-10-27T08:38:02.000+0000`.
    static func format(millis: Int64, plusZero: Bool) -> String {
        TimestampText.format(milliseconds: millis, zone: plusZero ? "+0000" : "Z")
    }

    /// `YYYY-MM-DDTHH:mm:ssZ`, the only form the `q` filter accepts.
    static func parseFilterDate(_ text: String) -> Int64? {
        let chars = Array(text.utf8)
        guard chars.count == 20, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
            chars[10] == UInt8(ascii: "T"), chars[13] == UInt8(ascii: ":"), chars[16] == UInt8(ascii: ":"),
            chars[19] == UInt8(ascii: "Z")
        else { return nil }
        return TimestampText.milliseconds(text)
    }

    /// Lenient parse of event timestamps as they occur in reality.
    static func parseEventTimestamp(_ text: String) -> Int64? {
        TimestampText.milliseconds(text)
    }
}
