@testable import EdgeCommon

enum CommonHarness {
    /// ICCIDs and durations: a value or a typed error; a parsed ICCID's normalised form parses to
    /// itself, the check digit it adds is valid; a parsed duration formats to text that reads back.
    static func text(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let iccid = try? ICCID(parsing: text) {
            require((18...20).contains(iccid.normalized.count), "ICCID length \(iccid.normalized.count)")
            require((try? ICCID(parsing: iccid.normalized))?.normalized == iccid.normalized, "ICCID not stable")
            if let full = iccid.withCheckDigit, iccid.normalized.count == 19 {
                require(ICCID.luhnValid(full), "the added check digit of \(iccid) is not valid")
            }
            _ = iccid.simLookupQuery
        }
        if let answer = try? ICCID(modemAnswer: text) {
            require(answer.normalized.hasPrefix("89"), "a modem's ICCID without the MII 89")
        }
        do {
            let duration = try DurationText.parse(text)
            let written = DurationText.format(duration)
            require((try? DurationText.parse(written)) == duration, "'\(text)' formats as '\(written)', which differs")
        } catch {
            _ = error.description
        }
    }
}
