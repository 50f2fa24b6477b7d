extension ICCID {
    /// Swaps the two characters of every pair: `98942000008036496082` → `89490200000863940628`.
    ///
    /// EF_ICCID stores the ICCID as BCD with the low nibble first (ETSI TS 102 221 §13.2), so a raw
    /// read (`AT+CRSM=176,12258,0,0,10`, Huawei `AT^ICCID?`) shows every digit pair reversed.
    /// An odd trailing character is kept as is.
    public static func nibbleSwapped(_ hex: String) -> String {
        var result = ""
        result.reserveCapacity(hex.count)
        var pending: Character?
        for character in hex {
            if let first = pending {
                result.append(character)
                result.append(first)
                pending = nil
            } else {
                pending = character
            }
        }
        if let last = pending { result.append(last) }
        return result
    }

    /// Parses the ICCID part of a modem's answer: quotes and blanks trimmed, an EID appended after a
    /// comma dropped (Sierra WP77xx `+CCID: <iccid>,<eid>`), nibble-swapped raw reads (starting `98`)
    /// swapped back, then `init(parsing:)`. Rejects values that do not start with the MII `89`.
    public init(modemAnswer text: String) throws(ICCIDError) {
        var value = Substring(text).trimmingWhitespace()
        if let comma = value.firstIndex(of: ",") { value = value[..<comma].trimmingWhitespace() }
        while let first = value.first, first == "\"" || first == "'" { value = value.dropFirst() }
        while let last = value.last, last == "\"" || last == "'" { value = value.dropLast() }
        var candidate = String(value.trimmingWhitespace())
        if candidate.hasPrefix("98"), candidate.count == 20 {
            candidate = ICCID.nibbleSwapped(candidate)
        }
        let parsed = try ICCID(parsing: candidate)
        guard parsed.normalized.hasPrefix("89") else { throw .invalidCharacters(text) }
        self = parsed
    }
}
