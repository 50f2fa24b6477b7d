/// Timestamps as emnify writes them, parsed and written without Foundation's formatters (which
/// pull in ICU): `2021-10-27T08:38:02.000Z`, `2017-10-26T07:28:00.000+0000` (no colon in the
/// offset), `+00:00`, no fraction (`2021-10-27T15:17:23Z`), and `2021-10-06 10:42:58` (a space,
/// no zone: taken as UTC). The agent and the emulator share it.
public enum TimestampText {
    /// Milliseconds since the epoch, or nil when `text` is not such a timestamp.
    public static func milliseconds(_ text: String) -> Int64? {
        parse(Array(text.utf8))
    }

    /// `2021-10-27T08:38:02.005Z`, or with `zone: "+0000"` the other spelling emnify uses.
    public static func format(milliseconds: Int64, zone: String = "Z") -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let fraction = String(Int(milliseconds - seconds * 1000) + 1000).dropFirst()
        return String(UTCDateTime(secondsSinceEpoch: seconds).iso8601.dropLast()) + ".\(fraction)" + zone
    }

    static func parse(_ b: [UInt8]) -> Int64? {
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var value = 0
            for _ in 0..<width {
                let d = Int(b[i]) - 48
                guard (0...9).contains(d) else { return nil }
                value = value * 10 + d
                i += 1
            }
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2)
        else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") else { return nil }
        i += 1
        guard let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), (1...UTCDateTime.daysInMonth(year: year, month: month)).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var millis = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, (48...57).contains(b[i]) {
                if digits < 3 { millis = millis * 10 + Int(b[i]) - 48 }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        var offsetSeconds = 0
        if i < b.count {
            switch b[i] {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                i += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let hours = number(2) else { return nil }
                _ = expect(UInt8(ascii: ":"))
                guard let minutes = number(2), hours < 24, minutes < 60 else { return nil }
                offsetSeconds = sign * (hours * 3600 + minutes * 60)
            default:
                return nil
            }
        }
        guard i == b.count else { return nil }
        let date = UTCDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59))
        return (date.secondsSinceEpoch - Int64(offsetSeconds)) * 1000 + Int64(millis)
    }
}
