import FoundationEssentials

/// Parsers for `mmcli -J` output (ModemManager 1.12 and later). Every value is a string; `"--"`
/// means unknown. Unknown keys are ignored and every field is optional, so 1.12 … 1.25 all decode.
public enum MMCLIJSON {
    /// `mmcli -L -J` → modem object paths, in the order mmcli lists them.
    public static func modemList(_ bytes: some Sequence<UInt8>) throws(ModemParseError) -> [String] {
        let list: ModemListDTO = try decode(bytes)
        guard let paths = list.modemList else { throw .missingField("modem-list") }
        return paths.compactMap(Identifiers.known)
    }

    /// `mmcli -m <path> -J`.
    public static func modem(_ bytes: some Sequence<UInt8>) throws(ModemParseError) -> MMModemInfo {
        let root: ModemRootDTO = try decode(bytes)
        guard let modem = root.modem else { throw .missingField("modem") }
        let generic = modem.generic
        let gpp = modem.threeGPP
        return MMModemInfo(
            path: Identifiers.known(modem.dbusPath),
            manufacturer: Identifiers.known(generic?.manufacturer),
            model: Identifiers.known(generic?.model),
            firmware: Identifiers.known(generic?.revision),
            equipmentIdentifier: Identifiers.known(generic?.equipmentIdentifier),
            imei: Identifiers.known(gpp?.imei),
            simPath: Identifiers.known(generic?.sim).flatMap { $0 == "/" ? nil : $0 },
            state: Identifiers.known(generic?.state),
            stateFailedReason: Identifiers.known(generic?.stateFailedReason),
            unlockRequired: Identifiers.known(generic?.unlockRequired),
            operatorCode: Identifiers.known(gpp?.operatorCode),
            operatorName: Identifiers.known(gpp?.operatorName),
            registrationState: Identifiers.known(gpp?.registrationState),
            accessTechnologies: (generic?.accessTechnologies ?? []).compactMap(Identifiers.known),
            signalPercent: Identifiers.known(generic?.signalQuality?.value).flatMap { Int($0) },
            signalRecent: generic?.signalQuality?.recent == "yes",
            ports: generic?.ports ?? [],
            primaryPort: Identifiers.known(generic?.primaryPort)
        )
    }

    /// `mmcli -i <path> -J`.
    public static func sim(_ bytes: some Sequence<UInt8>) throws(ModemParseError) -> MMSIMInfo {
        let root: SIMRootDTO = try decode(bytes)
        guard let sim = root.sim else { throw .missingField("sim") }
        let properties = sim.properties
        return MMSIMInfo(
            path: Identifiers.known(sim.dbusPath),
            iccid: Identifiers.known(properties?.iccid),
            imsi: Identifiers.known(properties?.imsi),
            eid: Identifiers.known(properties?.eid),
            operatorCode: Identifiers.known(properties?.operatorCode),
            operatorName: Identifiers.known(properties?.operatorName),
            active: Identifiers.known(properties?.active).map { $0 == "yes" }
        )
    }

    static func decode<T: Decodable>(_ bytes: some Sequence<UInt8>) throws(ModemParseError) -> T {
        let data = Data(bytes)
        guard !data.isEmpty else { throw .empty }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .invalidJSON(String(describing: error).prefix(200).description)
        }
    }
}

/// The parts of `mmcli -m` that identity needs; unknown (`"--"`) values are nil.
public struct MMModemInfo: Sendable, Equatable {
    public var path: String?
    public var manufacturer: String?
    public var model: String?
    public var firmware: String?
    /// IMEI for 3GPP modems (hex ESN/MEID for CDMA).
    public var equipmentIdentifier: String?
    /// `modem.3gpp.imei`: `"--"` when the 3GPP interface is missing (no SIM, failed).
    public var imei: String?
    public var simPath: String?
    public var state: String?
    public var stateFailedReason: String?
    public var unlockRequired: String?
    public var operatorCode: String?
    public var operatorName: String?
    public var registrationState: String?
    public var accessTechnologies: [String]
    public var signalPercent: Int?
    public var signalRecent: Bool
    public var ports: [String]
    public var primaryPort: String?

    /// The IMEI: `3gpp.imei`, else the equipment identifier when it has an IMEI's shape.
    public var bestIMEI: String? {
        if let imei, let valid = try? Identifiers.imei(imei) { return valid }
        if let id = equipmentIdentifier, let valid = try? Identifiers.imei(id) { return valid }
        return nil
    }

    /// What the modem says about its SIM, from state, failed reason and unlock-required.
    public var simState: SIMState {
        if stateFailedReason == "sim-missing" || (simPath == nil && state == "failed") { return .notInserted }
        if stateFailedReason == "sim-error" { return .failure }
        switch unlockRequired {
        case "sim-pin": return .pinRequired
        case "sim-puk": return .pukRequired
        default: break
        }
        if simPath == nil { return .notInserted }
        if state == "locked" { return .pinRequired }
        return .ready
    }
}

/// The parts of `mmcli -i` that identity needs.
public struct MMSIMInfo: Sendable, Equatable {
    public var path: String?
    public var iccid: String?
    public var imsi: String?
    public var eid: String?
    /// The SIM's home operator (not the serving network).
    public var operatorCode: String?
    public var operatorName: String?
    public var active: Bool?
}

// MARK: - Permissive DTOs

struct ModemListDTO: Decodable {
    var modemList: [String]?
    enum CodingKeys: String, CodingKey { case modemList = "modem-list" }
}

struct ModemRootDTO: Decodable {
    var modem: ModemDTO?
}

struct ModemDTO: Decodable {
    var dbusPath: String?
    var generic: GenericDTO?
    var threeGPP: ThreeGPPDTO?
    enum CodingKeys: String, CodingKey {
        case dbusPath = "dbus-path"
        case generic
        case threeGPP = "3gpp"
    }
}

struct GenericDTO: Decodable {
    var accessTechnologies: [String]?
    var equipmentIdentifier: String?
    var manufacturer: String?
    var model: String?
    var revision: String?
    var sim: String?
    var state: String?
    var stateFailedReason: String?
    var unlockRequired: String?
    var signalQuality: SignalQualityDTO?
    var ports: [String]?
    var primaryPort: String?
    enum CodingKeys: String, CodingKey {
        case accessTechnologies = "access-technologies"
        case equipmentIdentifier = "equipment-identifier"
        case manufacturer, model, revision, sim, state
        case stateFailedReason = "state-failed-reason"
        case unlockRequired = "unlock-required"
        case signalQuality = "signal-quality"
        case ports
        case primaryPort = "primary-port"
    }
}

struct SignalQualityDTO: Decodable {
    var recent: String?
    var value: String?
}

struct ThreeGPPDTO: Decodable {
    var imei: String?
    var operatorCode: String?
    var operatorName: String?
    var registrationState: String?
    enum CodingKeys: String, CodingKey {
        case imei
        case operatorCode = "operator-code"
        case operatorName = "operator-name"
        case registrationState = "registration-state"
    }
}

struct SIMRootDTO: Decodable {
    var sim: SIMDTO?
}

struct SIMDTO: Decodable {
    var dbusPath: String?
    var properties: SIMPropertiesDTO?
    enum CodingKeys: String, CodingKey {
        case dbusPath = "dbus-path"
        case properties
    }
}

struct SIMPropertiesDTO: Decodable {
    var active: String?
    var eid: String?
    var iccid: String?
    var imsi: String?
    var operatorCode: String?
    var operatorName: String?
    enum CodingKeys: String, CodingKey {
        case active, eid, iccid, imsi
        case operatorCode = "operator-code"
        case operatorName = "operator-name"
    }
}
