import EdgeCommon
import FoundationEssentials
import ModemIdentity

/// `emnify-edge identity`: what was found and where from, for humans or (`--json`) for scripts.
public struct IdentityReport: Sendable {
    public var report: ModemIdentityReport

    public init(_ report: ModemIdentityReport) {
        self.report = report
    }

    /// Aligned `label: value` lines; unknown values are left out.
    public func renderText() -> String {
        let r = report
        var rows: [(String, String?)] = [
            ("source", r.source.rawValue),
            (r.source == .at ? "port" : "modem", r.location),
            ("sim path", r.simPath),
            ("manufacturer", r.manufacturer),
            ("model", r.model),
            ("firmware", r.firmware),
            ("IMEI", r.imei),
        ]
        if let iccid = r.iccid {
            rows.append(("ICCID", iccid.normalized))
            if let asRead = r.iccidAsRead, asRead != iccid.normalized { rows.append(("ICCID as read", asRead)) }
            rows.append(("ICCID (19)", iccid.withoutCheckDigit))
            rows.append(("ICCID (20)", iccid.withCheckDigit))
            if !iccid.hasValidLuhnCheckDigit && iccid.normalized.count == 20 {
                rows.append(("note", "the ICCID's last digit fails the Luhn check (this happens on real SIMs)"))
            }
        }
        rows += [
            ("IMSI", r.imsi),
            ("operator", operatorText),
            ("registration", r.registration?.rawValue),
            ("access tech", r.accessTechnologies.isEmpty ? nil : r.accessTechnologies.joined(separator: ", ")),
            ("signal", signalText),
            ("SIM state", r.simState?.rawValue),
        ]
        rows += r.notes.map { ("note", $0) }
        let present = rows.compactMap { label, value in value.map { (label, $0) } }
        let width = present.map(\.0.count).max() ?? 0
        return present.map { label, value in
            String(repeating: " ", count: width - label.count) + label + ": " + value
        }.joined(separator: "\n") + "\n"
    }

    /// One JSON object (sorted keys); absent values are `null`, the ICCID is given in all its forms.
    public func renderJSON() -> String {
        let r = report
        let document = JSONDocument(
            source: r.source.rawValue, location: r.location, simPath: r.simPath, manufacturer: r.manufacturer,
            model: r.model, firmware: r.firmware, imei: r.imei, iccid: r.iccid?.normalized, iccidAsRead: r.iccidAsRead,
            iccid19: r.iccid?.withoutCheckDigit, iccid20: r.iccid?.withCheckDigit,
            iccidLuhnValid: r.iccid?.hasValidLuhnCheckDigit, imsi: r.imsi, operatorCode: r.operatorCode,
            operatorName: r.operatorName, registration: r.registration?.rawValue,
            registered: r.registration?.isRegistered, accessTechnologies: r.accessTechnologies,
            signalPercent: r.signalPercent, rssiDBm: r.rssiDBm, simState: r.simState?.rawValue, notes: r.notes
        )
        return Self.encode(document)
    }

    /// `{"error": "...", "kind": "..."}` for `--json` when the identity cannot be read.
    public static func renderJSON(error: ModemIdentityError) -> String {
        encode(ErrorDocument(error: error.description, kind: kind(of: error.mostRelevant)))
    }

    /// A stable machine-readable name for the error case (`sim-not-inserted`).
    public static func kind(of error: ModemIdentityError) -> String {
        switch error {
        case .noModemFound: "no-modem"
        case .modemManagerNotRunning: "modemmanager-not-running"
        case .mmcliNotFound: "mmcli-not-found"
        case .simNotInserted: "sim-not-inserted"
        case .simPINRequired: "sim-pin-required"
        case .simPUKRequired: "sim-puk-required"
        case .simBusy: "sim-busy"
        case .simFailure: "sim-failure"
        case .portOwnedByModemManager: "port-owned-by-modemmanager"
        case .portBusy: "port-busy"
        case .portPermissionDenied: "port-permission-denied"
        case .portNotFound: "port-not-found"
        case .noATPortConfigured: "no-at-port"
        case .noStaticIdentity: "no-static-identity"
        case .invalidStaticValue: "invalid-static-value"
        case .timeout: "timeout"
        case .commandFailed: "command-failed"
        case .unparseable: "unparseable"
        case .processFailed: "process-failed"
        case .ioError: "io-error"
        case .boardNotFound: "board-not-found"
        case .invalidBoardProfile: "invalid-board-profile"
        case .allSourcesFailed: "all-sources-failed"
        }
    }

    private var operatorText: String? {
        switch (report.operatorName, report.operatorCode) {
        case (let name?, let code?): "\(name) (\(code))"
        case (let name?, nil): name
        case (nil, let code?): code
        case (nil, nil): nil
        }
    }

    private var signalText: String? {
        switch (report.signalPercent, report.rssiDBm) {
        case (let percent?, let dbm?): "\(percent)% (\(dbm) dBm)"
        case (let percent?, nil): "\(percent)%"
        case (nil, let dbm?): "\(dbm) dBm"
        case (nil, nil): nil
        }
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    private struct ErrorDocument: Encodable {
        var error: String
        var kind: String
    }

    private struct JSONDocument: Encodable {
        var source: String
        var location: String?
        var simPath: String?
        var manufacturer: String?
        var model: String?
        var firmware: String?
        var imei: String?
        var iccid: String?
        var iccidAsRead: String?
        var iccid19: String?
        var iccid20: String?
        var iccidLuhnValid: Bool?
        var imsi: String?
        var operatorCode: String?
        var operatorName: String?
        var registration: String?
        var registered: Bool?
        var accessTechnologies: [String]
        var signalPercent: Int?
        var rssiDBm: Int?
        var simState: String?
        var notes: [String]

        enum CodingKeys: String, CodingKey {
            case source, location, manufacturer, model, firmware, imei, iccid, imsi, registration, registered, notes
            case simPath = "sim_path", iccidAsRead = "iccid_as_read", iccid19 = "iccid_19", iccid20 = "iccid_20"
            case iccidLuhnValid = "iccid_luhn_valid", operatorCode = "operator_code", operatorName = "operator_name"
            case accessTechnologies = "access_technologies", signalPercent = "signal_percent", rssiDBm = "rssi_dbm"
            case simState = "sim_state"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(source, forKey: .source)
            try c.encode(location, forKey: .location)
            try c.encode(simPath, forKey: .simPath)
            try c.encode(manufacturer, forKey: .manufacturer)
            try c.encode(model, forKey: .model)
            try c.encode(firmware, forKey: .firmware)
            try c.encode(imei, forKey: .imei)
            try c.encode(iccid, forKey: .iccid)
            try c.encode(iccidAsRead, forKey: .iccidAsRead)
            try c.encode(iccid19, forKey: .iccid19)
            try c.encode(iccid20, forKey: .iccid20)
            try c.encode(iccidLuhnValid, forKey: .iccidLuhnValid)
            try c.encode(imsi, forKey: .imsi)
            try c.encode(operatorCode, forKey: .operatorCode)
            try c.encode(operatorName, forKey: .operatorName)
            try c.encode(registration, forKey: .registration)
            try c.encode(registered, forKey: .registered)
            try c.encode(accessTechnologies, forKey: .accessTechnologies)
            try c.encode(signalPercent, forKey: .signalPercent)
            try c.encode(rssiDBm, forKey: .rssiDBm)
            try c.encode(simState, forKey: .simState)
            try c.encode(notes, forKey: .notes)
        }
    }
}
