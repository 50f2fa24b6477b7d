import EdgeCommon

/// What was found, and where from. Values a source does not know stay nil.
public struct ModemIdentityReport: Sendable, Codable, Equatable {
    /// The source that produced the report (never `.auto`).
    public var source: ModemSource
    /// ModemManager's modem object path (`/org/freedesktop/ModemManager1/Modem/3`) or the AT port.
    public var location: String?
    /// ModemManager's SIM object path, when read through ModemManager.
    public var simPath: String?
    public var manufacturer: String?
    public var model: String?
    public var firmware: String?
    /// 15 digits, kept as a string.
    public var imei: String?
    /// Normalised ICCID (quotes and `F` padding removed, nibble swap undone).
    public var iccid: ICCID?
    /// The ICCID exactly as the modem printed it.
    public var iccidAsRead: String?
    public var imsi: String?
    /// Serving network, MCC+MNC (`26202`).
    public var operatorCode: String?
    public var operatorName: String?
    public var registration: RegistrationState?
    /// ModemManager names: `lte`, `5gnr`, `umts`, `edge`, …
    public var accessTechnologies: [String]
    /// 0–100 %, ModemManager's scale (AT `+CSQ` rssi × 100 / 31).
    public var signalPercent: Int?
    /// From AT `+CSQ` only: -113 … -51 dBm.
    public var rssiDBm: Int?
    public var simState: SIMState?
    /// Why earlier sources were skipped or failed (source `auto`), and other remarks.
    public var notes: [String]

    public init(
        source: ModemSource, location: String? = nil, simPath: String? = nil, manufacturer: String? = nil,
        model: String? = nil, firmware: String? = nil, imei: String? = nil, iccid: ICCID? = nil,
        iccidAsRead: String? = nil, imsi: String? = nil, operatorCode: String? = nil, operatorName: String? = nil,
        registration: RegistrationState? = nil, accessTechnologies: [String] = [], signalPercent: Int? = nil,
        rssiDBm: Int? = nil, simState: SIMState? = nil, notes: [String] = []
    ) {
        self.source = source
        self.location = location
        self.simPath = simPath
        self.manufacturer = manufacturer
        self.model = model
        self.firmware = firmware
        self.imei = imei
        self.iccid = iccid
        self.iccidAsRead = iccidAsRead
        self.imsi = imsi
        self.operatorCode = operatorCode
        self.operatorName = operatorName
        self.registration = registration
        self.accessTechnologies = accessTechnologies
        self.signalPercent = signalPercent
        self.rssiDBm = rssiDBm
        self.simState = simState
        self.notes = notes
    }

    /// What identifies the SIM and the modem: compare two reads to detect a SIM swap or another modem.
    public var identityKey: ModemIdentityKey {
        ModemIdentityKey(iccid: iccid?.normalized, imei: imei, imsi: imsi)
    }
}

/// ICCID + IMEI + IMSI. The agent compares keys between reads; `changes(from:)` says what changed.
public struct ModemIdentityKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public var iccid: String?
    public var imei: String?
    public var imsi: String?

    public init(iccid: String?, imei: String?, imsi: String?) {
        self.iccid = iccid
        self.imei = imei
        self.imsi = imsi
    }

    public enum Change: String, Sendable, Codable, CaseIterable {
        /// Another SIM (swapped card, or another eSIM profile).
        case iccid
        /// Another modem (replaced or re-enumerated hardware).
        case imei
        /// Same card, another IMSI (multi-IMSI SIM switched profile).
        case imsi
    }

    /// The fields that differ; a value that is unknown on one side does not count as a change.
    public func changes(from previous: ModemIdentityKey) -> [Change] {
        var result: [Change] = []
        func differs(_ a: String?, _ b: String?) -> Bool {
            guard let a, let b else { return false }
            return a != b
        }
        if differs(iccid, previous.iccid) { result.append(.iccid) }
        if differs(imei, previous.imei) { result.append(.imei) }
        if differs(imsi, previous.imsi) { result.append(.imsi) }
        return result
    }

    public var description: String {
        "iccid=\(iccid ?? "?") imei=\(imei ?? "?") imsi=\(imsi ?? "?")"
    }
}
