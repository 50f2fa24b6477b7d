import EdgeCommon

/// Parsers for `qmicli` text output (libqmi; 1.24 changed the alignment, both layouts parse).
public enum QMICLI {
    public struct DeviceIDs: Sendable, Equatable {
        public var imei: String?
        public var esn: String?
        public var meid: String?
        public var imeiSV: String?
    }

    /// `qmicli --dms-get-ids`.
    public static func deviceIDs(_ text: String) throws(ModemParseError) -> DeviceIDs {
        guard text.contains("Device IDs retrieved") else { throw .unrecognised(text) }
        let imei = QuotedFields.first("IMEI", in: text).flatMap { Identifiers.known($0) }
        return DeviceIDs(
            imei: try imei.map { text throws(ModemParseError) in try Identifiers.imei(text) },
            esn: QuotedFields.first("ESN", in: text).flatMap { Identifiers.known($0) },
            meid: QuotedFields.first("MEID", in: text).flatMap { Identifiers.known($0) },
            imeiSV: QuotedFields.first("IMEI SV", in: text).flatMap { Identifiers.known($0) }
        )
    }

    public struct Slot: Sendable, Equatable {
        public var physicalSlot: Int
        public var cardPresent: Bool
        public var active: Bool
        public var iccid: ICCID?
    }

    /// `qmicli --uim-get-slot-status`: one entry per physical slot.
    public static func slotStatus(_ text: String) throws(ModemParseError) -> [Slot] {
        var slots: [Slot] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingBlanks()
            if trimmed.hasPrefix("Physical slot "), trimmed.hasSuffix(":") {
                let number = Int(trimmed.dropFirst("Physical slot ".count).dropLast()) ?? (slots.count + 1)
                slots.append(Slot(physicalSlot: number, cardPresent: false, active: false, iccid: nil))
                continue
            }
            guard !slots.isEmpty, let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = trimmed[..<colon].trimmingBlanks()
            let value = String(trimmed[trimmed.index(after: colon)...].trimmingBlanks())
            switch key {
            case "Card status": slots[slots.count - 1].cardPresent = value == "present"
            case "Slot status": slots[slots.count - 1].active = value == "active"
            case "ICCID":
                if Identifiers.known(value) != nil {
                    slots[slots.count - 1].iccid = try Identifiers.iccid(value)
                }
            default: break
            }
        }
        guard !slots.isEmpty else { throw .unrecognised(text) }
        return slots
    }

    /// `qmicli --uim-get-card-status`: the SIM state of the first slot and its primary application.
    public static func cardStatus(_ text: String) throws(ModemParseError) -> SIMState {
        guard let card = QuotedFields.first("Card state", in: text) else { throw .unrecognised(text) }
        switch card {
        case "absent": return .notInserted
        case "error": return .failure
        case "present": break
        default: return .unknown
        }
        switch QuotedFields.first("PIN1 state", in: text) {
        case "enabled-not-verified": return .pinRequired
        case "blocked": return .pukRequired
        case "permanently-blocked": return .failure
        default: break
        }
        switch QuotedFields.first("Application state", in: text) {
        case "ready": return .ready
        case "pin1-or-upin-pin-required": return .pinRequired
        case "puk1-or-upin-puk-required": return .pukRequired
        case "detected", nil: return .busy
        default: return .unknown
        }
    }

    /// `qmicli --uim-read-transparent=…`: the `Read result:` bytes (`08:29:03:…`), checking SW1/SW2 = 0x90 0x00.
    public static func readTransparent(_ text: String) throws(ModemParseError) -> [UInt8] {
        let sw1 = QuotedFields.first("SW1", in: text)
        guard sw1 == nil || sw1 == "0x90" else { throw .unrecognised("SW1 \(sw1 ?? "")") }
        guard let marker = text.firstRange(of: "Read result:") else { throw .missingField("Read result") }
        let hex = text[marker.upperBound...].split(whereSeparator: { $0.isWhitespace }).first ?? ""
        var bytes: [UInt8] = []
        for part in hex.split(separator: ":") {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { throw .unrecognised(String(hex)) }
            bytes.append(byte)
        }
        guard !bytes.isEmpty else { throw .empty }
        return bytes
    }

    /// EF_IMSI (6F07) content → IMSI: byte 0 is the length, then BCD low nibble first; the first
    /// nibble is the parity/type indicator (TS 31.102 §4.2.2).
    public static func imsi(fromEFIMSI bytes: [UInt8]) throws(ModemParseError) -> String {
        guard let length = bytes.first, length > 0, bytes.count > Int(length) else {
            throw .unrecognised(bytes.map { String($0, radix: 16) }.joined(separator: ":"))
        }
        var digits = ""
        for byte in bytes[1...Int(length)] {
            for nibble in [byte & 0x0F, byte >> 4] where nibble <= 9 { digits.append(Character(String(nibble))) }
        }
        // Drop the parity/type nibble (the low nibble of the first byte, 9 or 1 for an IMSI).
        return try Identifiers.imsi(String(digits.dropFirst()))
    }
}
