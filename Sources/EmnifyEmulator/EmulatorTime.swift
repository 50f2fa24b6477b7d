/// UTC calendar arithmetic without Foundation's `Calendar` (days-from-civil, Howard Hinnant's
/// algorithm), for the two timestamp spellings emnify uses and for the `from`/`until` filter.
enum EmulatorTime {
    /// `2021-10-27T08:38:02.000Z` (`plusZero == false`) or `2021-10-27T08:38:02.000+0000`.
    static func format(millis: Int64, plusZero: Bool) -> String {
        let (days, msOfDay) = floorDivMod(millis, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let fraction = msOfDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
            + ".\(pad(fraction, 3))" + (plusZero ? "+0000" : "Z")
    }

    /// `YYYY-MM-DDTHH:mm:ssZ`, the only form the `q` filter accepts.
    static func parseFilterDate(_ text: String) -> Int64? {
        let chars = Array(text.utf8)
        guard chars.count == 20, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
            chars[10] == UInt8(ascii: "T"), chars[13] == UInt8(ascii: ":"), chars[16] == UInt8(ascii: ":"),
            chars[19] == UInt8(ascii: "Z")
        else { return nil }
        return fields(chars, fraction: 0)
    }

    /// Lenient parse of event timestamps as they occur in reality: `...Z`, `...+0000`,
    /// `+00:00`, fractional seconds or none, and `2021-10-06 10:42:58` (space, no zone = UTC).
    static func parseEventTimestamp(_ text: String) -> Int64? {
        let chars = Array(text.utf8)
        guard chars.count >= 19, chars[10] == UInt8(ascii: "T") || chars[10] == UInt8(ascii: " ") else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if index < chars.count, chars[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < chars.count, let digit = digitValue(chars[index]) {
                if digits < 3 { fraction = fraction * 10 + digit }
                digits += 1
                index += 1
            }
            while digits < 3 {
                fraction *= 10
                digits += 1
            }
        }
        guard var millis = fields(chars, fraction: fraction) else { return nil }
        if index < chars.count {
            let zone = chars[index...]
            if zone.count == 1, zone.first == UInt8(ascii: "Z") { return millis }
            guard let sign = zone.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
            let digits = zone.dropFirst().filter { $0 != UInt8(ascii: ":") }.compactMap(digitValue)
            guard digits.count == 4 else { return nil }
            let offset = ((digits[0] * 10 + digits[1]) * 60 + digits[2] * 10 + digits[3]) * 60_000
            millis += sign == UInt8(ascii: "+") ? -offset : offset
        }
        return millis
    }

    private static func fields(_ chars: [UInt8], fraction: Int64) -> Int64? {
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                guard let digit = digitValue(chars[index]) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + fraction
    }

    private static func digitValue(_ byte: UInt8) -> Int64? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int64(byte - UInt8(ascii: "0")) : nil
    }

    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivMod(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
