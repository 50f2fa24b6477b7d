import EdgeCommon

/// Pure parsers for the information lines of one AT answer. Each validates the shape of what it
/// takes, so URCs (`+CCLK:`, `^CARDMODE:`, `+CREG:` without `<n>`) mixed into an answer are skipped.
public enum ATAnswers {
    /// ICCID answer prefixes across vendors (`AT+CICCID` answers `+ICCID:`).
    static let iccidPrefixes = ["+QCCID:", "+CCID:", "+ICCID:", "^ICCID:", "!ICCID:", "#CCID:", "ICCID:", "+CICCID:"]

    /// `AT+CGSN` / `AT+GSN` / `AT#CGSN` (bare digits, `+CGSN: "…"`, `#CGSN: …`) or ATI's `IMEI: …`.
    public static func imei(_ lines: [String]) throws(ModemParseError) -> String {
        for line in lines {
            let value = strip(line, prefixes: ["+CGSN:", "+GSN:", "#CGSN:", "IMEI:"])
            if let imei = try? Identifiers.imei(value) { return imei }
        }
        throw lines.isEmpty ? .empty : .invalidIMEI(lines.joined(separator: " | "))
    }

    /// `AT+CIMI` / `AT#CIMI`: 5–15 digits, nothing else.
    public static func imsi(_ lines: [String]) throws(ModemParseError) -> String {
        for line in lines {
            let value = strip(line, prefixes: ["+CIMI:", "#CIMI:"])
            if let imsi = try? Identifiers.imsi(value) { return imsi }
        }
        throw lines.isEmpty ? .empty : .invalidIMSI(lines.joined(separator: " | "))
    }

    /// Any vendor's ICCID answer, `+CRSM: <sw1>,<sw2>,"<hex>"` (nibble-swapped EF_ICCID), or a bare value.
    /// Returns the normalised ICCID and the text as printed.
    public static func iccid(_ lines: [String]) throws(ModemParseError) -> (iccid: ICCID, asRead: String) {
        var firstError: ModemParseError?
        for line in lines {
            let trimmed = line.trimmingBlanks()
            var candidate: String?
            if trimmed.hasPrefix("+CRSM:") {
                do throws(ModemParseError) {
                    candidate = try crsmData(trimmed)
                } catch {
                    firstError = firstError ?? error
                    continue
                }
            } else if let prefix = iccidPrefixes.first(where: { trimmed.uppercased().hasPrefix($0) }) {
                candidate = String(trimmed.dropFirst(prefix.count))
            } else if looksLikeBareICCID(trimmed) {
                candidate = trimmed
            }
            guard let candidate else { continue }
            do throws(ModemParseError) {
                let iccid = try Identifiers.iccid(candidate)
                return (iccid, candidate.trimmingBlanks())
            } catch {
                firstError = firstError ?? error
            }
        }
        throw firstError ?? (lines.isEmpty ? .empty : .unrecognised(lines.joined(separator: " | ")))
    }

    /// `+CRSM: 144,0,"98…"` → the data, when SW1/SW2 say success (0x90 0x00, or SW1 0x91/0x92/0x9F).
    static func crsmData(_ line: String) throws(ModemParseError) -> String {
        let fields = splitFields(String(line.dropFirst("+CRSM:".count)))
        guard fields.count >= 3, let sw1 = Int(fields[0]), let sw2 = Int(fields[1]) else { throw .unrecognised(line) }
        guard (sw1 == 144 && sw2 == 0) || [0x91, 0x92, 0x9F].contains(sw1) else {
            throw .invalidICCID(line, reason: "SIM status words \(sw1),\(sw2)")
        }
        let data = Identifiers.unquoted(fields[2])
        guard !data.isEmpty else { throw .invalidICCID(line, reason: "no data") }
        return data
    }

    static func looksLikeBareICCID(_ text: String) -> Bool {
        let value = Identifiers.unquoted(text)
        guard (18...22).contains(value.count), value.hasPrefix("89") || value.hasPrefix("98") else { return false }
        return value.allSatisfy { $0.isHexDigit && $0.isASCII }
    }

    /// `+COPS: <mode>[,<format>,"<oper>"[,<AcT>]]`, possibly several lines (chained `+COPS=3,x;+COPS?`).
    public struct Operator: Sendable, Equatable {
        public var code: String?
        public var name: String?
        public var accessTechnologies: [String]
    }

    public static func cops(_ lines: [String]) throws(ModemParseError) -> Operator {
        var result = Operator(code: nil, name: nil, accessTechnologies: [])
        var matched = false
        for line in lines where line.trimmingBlanks().hasPrefix("+COPS:") {
            let fields = splitFields(String(line.trimmingBlanks().dropFirst("+COPS:".count)))
            // `+COPS: (1,"…"),(…)` is a network scan (`AT+COPS=?`), not the current operator.
            guard let mode = fields.first, Int(mode) != nil else { continue }
            matched = true
            guard fields.count >= 3, let format = Int(fields[1]) else { continue }
            let oper = Identifiers.unquoted(fields[2])
            if format == 2, !oper.isEmpty, oper.allSatisfy(\.isASCIIDigit) {
                result.code = oper
            } else if format == 0 || format == 1, !oper.isEmpty, result.name == nil || format == 0 {
                result.name = oper
            }
            if fields.count >= 4, let act = Int(fields[3]) {
                result.accessTechnologies = AccessTechnology.names(etsiAcT: act)
            }
        }
        guard matched else { throw lines.isEmpty ? .empty : .unrecognised(lines.joined(separator: " | ")) }
        return result
    }

    public struct Registration: Sendable, Equatable {
        public var state: RegistrationState?
        public var accessTechnologies: [String]
    }

    /// `+CREG:`/`+CGREG:`/`+CEREG:`/`+C5GREG:`. The solicited form has `<n>` first (`2,1,"5D4",…`);
    /// the URC form does not (`5,"5585",…`, or just `2`). The last solicited line wins, else the last URC.
    public static func registration(_ lines: [String]) throws(ModemParseError) -> Registration {
        var solicited: Registration?
        var unsolicited: Registration?
        for line in lines {
            let trimmed = line.trimmingBlanks()
            guard let prefix = ["+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:"].first(where: { trimmed.hasPrefix($0) })
            else { continue }
            let fields = splitFields(String(trimmed.dropFirst(prefix.count)))
            let isSolicited = fields.count >= 2 && !fields[1].hasPrefix("\"")
            let statIndex = isSolicited ? 1 : 0
            guard fields.indices.contains(statIndex), let stat = Int(fields[statIndex]) else { continue }
            let actIndex = statIndex + 3
            let act = fields.indices.contains(actIndex) ? Int(fields[actIndex]) : nil
            let value = Registration(
                state: RegistrationState(atStat: stat),
                accessTechnologies: act.map(AccessTechnology.names(etsiAcT:)) ?? []
            )
            if isSolicited { solicited = value } else { unsolicited = value }
        }
        guard let result = solicited ?? unsolicited else {
            throw lines.isEmpty ? .empty : .unrecognised(lines.joined(separator: " | "))
        }
        return result
    }

    public struct SignalQuality: Sendable, Equatable {
        /// 0…31, or nil for 99 (unknown) and SIMCom's TD-SCDMA range 100…199.
        public var rssi: Int?
        public var ber: Int?
        public var percent: Int? { rssi.map { min($0, 31) * 100 / 31 } }
        public var dBm: Int? { rssi.map { -113 + 2 * min($0, 31) } }
    }

    /// `+CSQ: <rssi>,<ber>`; the last line wins.
    public static func csq(_ lines: [String]) throws(ModemParseError) -> SignalQuality {
        var result: SignalQuality?
        for line in lines where line.trimmingBlanks().hasPrefix("+CSQ:") {
            let fields = splitFields(String(line.trimmingBlanks().dropFirst("+CSQ:".count)))
            guard let rssi = fields.first.flatMap({ Int($0) }) else { continue }
            let ber = fields.count > 1 ? Int(fields[1].prefix { $0.isASCIIDigit }) : nil
            result = SignalQuality(rssi: (0...31).contains(rssi) ? rssi : nil, ber: ber == 99 ? nil : ber)
        }
        guard let result else { throw lines.isEmpty ? .empty : .unrecognised(lines.joined(separator: " | ")) }
        return result
    }

    /// `+CPIN: READY` / `SIM PIN` / `SIM PUK` / `NOT READY` …
    public static func cpin(_ lines: [String]) throws(ModemParseError) -> SIMState {
        for line in lines where line.trimmingBlanks().hasPrefix("+CPIN:") {
            let value = String(line.trimmingBlanks().dropFirst("+CPIN:".count)).trimmingBlanks().uppercased()
            switch value {
            case "READY": return .ready
            case "SIM PIN": return .pinRequired
            case "SIM PUK": return .pukRequired
            case "NOT READY", "NOT INSERTED", "SIM REMOVED": return value == "NOT READY" ? .busy : .notInserted
            default: return .unknown
            }
        }
        throw lines.isEmpty ? .empty : .unrecognised(lines.joined(separator: " | "))
    }

    public struct ProductInfo: Sendable, Equatable {
        public var manufacturer: String?
        public var model: String?
        public var revision: String?
        public var imei: String?
    }

    /// `ATI` (`Manufacturer: …`, `Model: …`, `Revision: …`, `IMEI: …`).
    public static func ati(_ lines: [String]) -> ProductInfo {
        var info = ProductInfo()
        for line in lines {
            let trimmed = line.trimmingBlanks()
            func value(_ key: String) -> String? {
                guard trimmed.hasPrefix(key) else { return nil }
                let rest = String(trimmed.dropFirst(key.count)).trimmingBlanks()
                return rest.isEmpty ? nil : rest
            }
            info.manufacturer = info.manufacturer ?? value("Manufacturer:")
            info.model = info.model ?? value("Model:")
            info.revision = info.revision ?? value("Revision:")
            if info.imei == nil, let imei = value("IMEI:") { info.imei = try? Identifiers.imei(imei) }
        }
        return info
    }

    /// The first line that is not a `+XXX:`-style URC, for `AT+CGMI`/`CGMM`/`CGMR`/`GMR`.
    public static func plainValue(_ lines: [String]) -> String? {
        for line in lines {
            var value = line.trimmingBlanks()
            for prefix in ["+CGMI:", "+CGMM:", "+CGMR:", "+GMR:"] where value.hasPrefix(prefix) {
                value = String(value.dropFirst(prefix.count)).trimmingBlanks()
            }
            guard !value.isEmpty, let first = value.first, first.isLetter || first.isNumber else { continue }
            return Identifiers.unquoted(value)
        }
        return nil
    }

    static func strip(_ line: String, prefixes: [String]) -> String {
        let trimmed = line.trimmingBlanks()
        for prefix in prefixes where trimmed.hasPrefix(prefix) {
            return String(trimmed.dropFirst(prefix.count)).trimmingBlanks()
        }
        return trimmed
    }

    /// Splits on commas outside double quotes; fields are trimmed, quotes kept.
    static func splitFields(_ text: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        for character in text {
            if character == "\"" { inQuotes.toggle() }
            if character == ",", !inQuotes {
                fields.append(current.trimmingBlanks())
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current.trimmingBlanks())
        return fields
    }
}
