import EdgeCommon

/// Shape checks for IMEI, IMSI and ICCID answers: a line that does not look like one is never taken
/// for one (a stale `+CCLK:` URC is not an IMSI).
public enum Identifiers {
    /// 15 decimal digits, after stripping quotes and blanks.
    public static func imei(_ text: String) throws(ModemParseError) -> String {
        let value = unquoted(text)
        guard value.count == 15, value.allSatisfy(\.isASCIIDigit) else { throw .invalidIMEI(text) }
        return value
    }

    /// 5 to 15 decimal digits.
    public static func imsi(_ text: String) throws(ModemParseError) -> String {
        let value = unquoted(text)
        guard (5...15).contains(value.count), value.allSatisfy(\.isASCIIDigit) else { throw .invalidIMSI(text) }
        return value
    }

    /// `ICCID(modemAnswer:)` with its error mapped.
    public static func iccid(_ text: String) throws(ModemParseError) -> ICCID {
        do {
            return try ICCID(modemAnswer: text)
        } catch {
            throw .invalidICCID(text, reason: error.description)
        }
    }

    /// Strips blanks and one level of double or single quotes.
    static func unquoted(_ text: String) -> String {
        var value = Substring(text).trimmingBlanks()
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            value = value.dropFirst().dropLast()
        }
        return String(value.trimmingBlanks())
    }

    /// `"--"`, empty and whitespace mean unknown in mmcli output.
    static func known(_ text: String?) -> String? {
        guard let text else { return nil }
        let value = String(Substring(text).trimmingBlanks())
        if value.isEmpty || value == "--" || value == "unknown" { return nil }
        return value
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Substring {
    func trimmingBlanks() -> Substring {
        var value = self
        while let first = value.first, first.isWhitespace { value = value.dropFirst() }
        while let last = value.last, last.isWhitespace { value = value.dropLast() }
        return value
    }
}

extension String {
    func trimmingBlanks() -> String { String(Substring(self).trimmingBlanks()) }
}
