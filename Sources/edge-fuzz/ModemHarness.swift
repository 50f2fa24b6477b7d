import EdgeCommon
import ModemIdentity

enum ModemHarness {
    /// `mmcli` JSON, human and `-K` output: a value or a typed error; unknown values (`--`) never
    /// come through; an IMEI that is offered has an IMEI's shape.
    static func mmcli(_ bytes: [UInt8]) {
        if let paths = try? MMCLIJSON.modemList(bytes) {
            require(!paths.contains { $0.isEmpty || $0 == "--" }, "an unknown modem path in the list")
        }
        if let modem = try? MMCLIJSON.modem(bytes) { check(modem) }
        if let sim = try? MMCLIJSON.sim(bytes) { check(sim) }
        let text = String(decoding: bytes, as: UTF8.self)
        if let modem = try? MMCLIText.modem(text) { check(modem) }
        if let sim = try? MMCLIText.sim(text) { check(sim) }
        if let sim = try? MMCLIText.simFromKeyValues(text) { check(sim) }
        _ = try? MMCLIText.modemList(text)
        for key in MMCLIText.keyValues(text).keys {
            require(!key.isEmpty && !key.contains(" "), "key '\(key)' is empty or has a blank")
        }
        _ = MMCLIText.fields(text)
    }

    static func check(_ modem: MMModemInfo) {
        if let imei = modem.bestIMEI { requireDigits(imei, 15...15, "IMEI") }
        _ = modem.simState
        for value in [modem.manufacturer, modem.model, modem.imei, modem.state, modem.simPath] {
            require(value != "--" && value != "", "an unknown value came through")
        }
    }

    static func check(_ sim: MMSIMInfo) {
        for value in [sim.iccid, sim.imsi, sim.eid, sim.operatorCode, sim.path] {
            require(value != "--" && value != "", "an unknown value came through")
        }
        if let iccid = sim.iccid { _ = try? Identifiers.iccid(iccid) }
    }

    /// AT transcripts: exchanges hold clean, non-empty lines; whatever the facts hold has the
    /// shape of its kind (IMEI 15 digits, IMSI 5–15, ICCID 18–20 starting 89).
    static func at(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let exchanges = ATTranscript.exchanges(text)
        for exchange in exchanges {
            for line in exchange.lines + [exchange.command] {
                require(!line.contains { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }, "a line with a line break")
            }
            require(!exchange.lines.contains(where: \.isEmpty), "an empty line")
            _ = exchange.commandParts
        }
        // A transcript saved with CRLF line ends reads like the same one with LF.
        if !text.unicodeScalars.contains("\r") {
            var crlf = ""
            for character in text { crlf.append(character == "\n" ? "\r\n" : character) }
            require(ATTranscript.exchanges(crlf) == exchanges, "the CRLF form of the transcript reads differently")
        }
        let facts = ATFacts.from(transcript: text)
        if let imei = facts.imei { requireDigits(imei, 15...15, "IMEI") }
        if let imsi = facts.imsi { requireDigits(imsi, 5...15, "IMSI") }
        if let iccid = facts.iccid {
            require(iccid.normalized.hasPrefix("89") && (18...20).contains(iccid.normalized.count), "ICCID \(iccid)")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        if let imei = try? ATAnswers.imei(lines) { requireDigits(imei, 15...15, "IMEI") }
        if let imsi = try? ATAnswers.imsi(lines) { requireDigits(imsi, 5...15, "IMSI") }
        _ = try? ATAnswers.iccid(lines)
        _ = try? ATAnswers.cops(lines)
        _ = try? ATAnswers.registration(lines)
        _ = try? ATAnswers.csq(lines)
        _ = try? ATAnswers.cpin(lines)
        _ = ATAnswers.ati(lines)
        _ = ATAnswers.plainValue(lines)
        for line in lines.prefix(64) { _ = ATFinalResult(line: line)?.simState }
    }

    /// `qmicli` and `mbimcli` output: a value or a typed error.
    static func qmiMbim(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let ids = try? QMICLI.deviceIDs(text), let imei = ids.imei { requireDigits(imei, 15...15, "IMEI") }
        _ = try? QMICLI.slotStatus(text)
        _ = try? QMICLI.cardStatus(text)
        if let raw = try? QMICLI.readTransparent(text) {
            if let imsi = try? QMICLI.imsi(fromEFIMSI: raw) { requireDigits(imsi, 1...15, "IMSI") }
        }
        if let status = try? MBIMCLI.subscriberReadyStatus(text) {
            _ = status.simState
            if let imsi = status.imsi { requireDigits(imsi, 5...15, "IMSI") }
        }
        _ = try? MBIMCLI.registration(text)
    }

    static func requireDigits(_ value: String, _ lengths: ClosedRange<Int>, _ kind: String) {
        require(
            lengths.contains(value.utf8.count) && value.utf8.allSatisfy { (48...57).contains($0) },
            "\(kind) '\(value)' does not have the shape of one")
    }
}
