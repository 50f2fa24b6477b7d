/// Network registration, spelled as ModemManager's nicks (`modem.3gpp.registration-state`);
/// AT `<stat>` values of `+CREG`/`+CGREG`/`+CEREG` map onto the same cases.
public enum RegistrationState: String, Sendable, Codable, CaseIterable {
    case idle
    case home
    case searching
    case denied
    case unknown
    case roaming
    case homeSMSOnly = "home-sms-only"
    case roamingSMSOnly = "roaming-sms-only"
    case emergencyOnly = "emergency-only"
    case homeCSFBNotPreferred = "home-csfb-not-preferred"
    case roamingCSFBNotPreferred = "roaming-csfb-not-preferred"
    case attachedRLOS = "attached-rlos"

    /// 3GPP TS 27.007 `<stat>`: 0 not registered … 11 attached for RLOS.
    public init?(atStat: Int) {
        let table: [RegistrationState] = [
            .idle, .home, .searching, .denied, .unknown, .roaming, .homeSMSOnly, .roamingSMSOnly,
            .emergencyOnly, .homeCSFBNotPreferred, .roamingCSFBNotPreferred, .attachedRLOS,
        ]
        guard table.indices.contains(atStat) else { return nil }
        self = table[atStat]
    }

    /// Home or roaming, including SMS-only and CSFB variants: the SIM is on a network.
    public var isRegistered: Bool {
        switch self {
        case .home, .roaming, .homeSMSOnly, .roamingSMSOnly, .homeCSFBNotPreferred, .roamingCSFBNotPreferred:
            return true
        case .idle, .searching, .denied, .unknown, .emergencyOnly, .attachedRLOS:
            return false
        }
    }
}

/// Access technology names as ModemManager prints them (`modem.generic.access-technologies`).
public enum AccessTechnology {
    /// ETSI `<AcT>` of `+COPS`/`+CxREG` → ModemManager names (as `get_mm_access_tech_from_etsi_access_tech`).
    /// 13 (E-UTRA-NR dual connectivity, NSA) is both `lte` and `5gnr`. Unknown values give `[]`.
    public static func names(etsiAcT: Int) -> [String] {
        switch etsiAcT {
        case 0: return ["gsm"]
        case 1: return ["gsm-compact"]
        case 2: return ["umts"]
        case 3: return ["edge"]
        case 4: return ["hsdpa"]
        case 5: return ["hsupa"]
        case 6: return ["hspa"]
        case 7, 10: return ["lte"]
        case 8: return ["lte-cat-m"]
        case 9: return ["lte-nb-iot"]
        case 11, 12: return ["5gnr"]
        case 13: return ["lte", "5gnr"]
        default: return []
        }
    }
}
