/// Parsers for mmcli's non-JSON output: `-K` key/value (ModemManager ≥ 1.10) and the human
/// layout (`Section | key: value`, every version; ≤ 1.8 printed the ICCID as `id`).
public enum MMCLIText {
    /// `mmcli -K …`: `key : value` lines → dictionary (`sim.properties.iccid` → `8944…`).
    public static func keyValues(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingBlanks()
            let value = line[line.index(after: colon)...].trimmingBlanks()
            guard !key.isEmpty, !key.contains(" ") else { continue }
            result[String(key)] = String(value)
        }
        return result
    }

    /// `mmcli -i X -K` → SIM info.
    public static func simFromKeyValues(_ text: String) throws(ModemParseError) -> MMSIMInfo {
        let values = keyValues(text)
        guard !values.isEmpty else { throw .empty }
        guard values.keys.contains(where: { $0.hasPrefix("sim.") }) else { throw .missingField("sim.*") }
        return MMSIMInfo(
            path: Identifiers.known(values["sim.dbus-path"]),
            iccid: Identifiers.known(values["sim.properties.iccid"]),
            imsi: Identifiers.known(values["sim.properties.imsi"]),
            eid: Identifiers.known(values["sim.properties.eid"]),
            operatorCode: Identifiers.known(values["sim.properties.operator-code"]),
            operatorName: Identifiers.known(values["sim.properties.operator-name"]),
            active: Identifiers.known(values["sim.properties.active"]).map { $0 == "yes" }
        )
    }

    /// Human `mmcli -L`: modem paths; `No modems were found` gives `[]`.
    public static func modemList(_ text: String) throws(ModemParseError) -> [String] {
        if text.contains("No modems were found") { return [] }
        var paths: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingBlanks()
            guard trimmed.hasPrefix("/org/freedesktop/ModemManager1/Modem/") else { continue }
            let path = trimmed.prefix { !$0.isWhitespace }
            paths.append(String(path))
        }
        guard !paths.isEmpty else { throw .unrecognised(text) }
        return paths
    }

    /// Human `Section | key: value` fields (first occurrence of each key wins).
    public static func fields(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let bar = line.firstIndex(of: "|") else { continue }
            let rest = line[line.index(after: bar)...]
            guard let colon = rest.firstIndex(of: ":") else { continue }
            let key = String(rest[..<colon].trimmingBlanks())
            var value = rest[rest.index(after: colon)...].trimmingBlanks()
            if value.count >= 2, value.first == "'", value.last == "'" { value = value.dropFirst().dropLast() }
            guard !key.isEmpty, result[key] == nil else { continue }
            result[key] = String(value)
        }
        return result
    }

    /// Human `mmcli -m X`.
    public static func modem(_ text: String) throws(ModemParseError) -> MMModemInfo {
        let f = fields(text)
        guard !f.isEmpty else { throw .unrecognised(text) }
        let signal = f["signal quality"].flatMap { value in Int(value.prefix { $0.isASCIIDigit }) }
        return MMModemInfo(
            path: Identifiers.known(f["dbus path"] ?? f["path"]),
            manufacturer: Identifiers.known(f["manufacturer"]),
            model: Identifiers.known(f["model"]),
            firmware: Identifiers.known(f["firmware revision"] ?? f["revision"]),
            equipmentIdentifier: Identifiers.known(f["equipment id"]),
            imei: Identifiers.known(f["imei"]),
            simPath: Identifiers.known(f["primary sim path"] ?? f["path"].flatMap { $0.contains("/SIM/") ? $0 : nil }),
            state: Identifiers.known(f["state"]),
            stateFailedReason: Identifiers.known(f["failed reason"]),
            unlockRequired: Identifiers.known(f["lock"] ?? f["unlock required"]),
            operatorCode: Identifiers.known(f["operator id"]),
            operatorName: Identifiers.known(f["operator name"]),
            registrationState: Identifiers.known(f["registration"]),
            accessTechnologies: Identifiers.known(f["access tech"]).map {
                $0.split(separator: ",").map { $0.trimmingBlanks() }.map(String.init)
            } ?? [],
            signalPercent: signal,
            signalRecent: f["signal quality"]?.contains("recent") ?? false,
            ports: f["ports"].map { $0.split(separator: ",").map { String($0.trimmingBlanks()) } } ?? [],
            primaryPort: Identifiers.known(f["primary port"])
        )
    }

    /// Human `mmcli -i X` (`iccid`, or `id` before ModemManager 1.10).
    public static func sim(_ text: String) throws(ModemParseError) -> MMSIMInfo {
        let f = fields(text)
        guard !f.isEmpty else { throw .unrecognised(text) }
        return MMSIMInfo(
            path: Identifiers.known(f["dbus path"] ?? f["path"]),
            iccid: Identifiers.known(f["iccid"] ?? f["id"]),
            imsi: Identifiers.known(f["imsi"]),
            eid: Identifiers.known(f["eid"]),
            operatorCode: Identifiers.known(f["operator id"] ?? f["operator code"]),
            operatorName: Identifiers.known(f["operator name"]),
            active: Identifiers.known(f["active"]).map { $0 == "yes" }
        )
    }
}
