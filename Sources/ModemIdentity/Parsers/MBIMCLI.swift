import EdgeCommon

/// Parsers for `mbimcli` text output (libmbim), multi-line or flattened into one journald line.
public enum MBIMCLI {
    public struct SubscriberReadyStatus: Sendable, Equatable {
        /// `initialized`, `sim-not-inserted`, `device-locked`, `not-initialized`, …
        public var readyState: String
        public var imsi: String?
        public var iccid: ICCID?
        public var iccidAsRead: String?

        public var simState: SIMState {
            switch readyState {
            case "initialized": return .ready
            case "sim-not-inserted": return .notInserted
            case "device-locked": return .pinRequired
            case "not-initialized": return .busy
            case "bad-sim", "failure": return .failure
            default: return .unknown
            }
        }
    }

    /// `mbimcli --query-subscriber-ready-status`.
    public static func subscriberReadyStatus(_ text: String) throws(ModemParseError) -> SubscriberReadyStatus {
        guard let ready = QuotedFields.first("Ready state", in: text) else { throw .unrecognised(text) }
        let imsi = QuotedFields.first("Subscriber ID", in: text).flatMap { Identifiers.known($0) }
        let rawICCID = QuotedFields.first("SIM ICCID", in: text).flatMap { Identifiers.known($0) }
        return SubscriberReadyStatus(
            readyState: ready,
            imsi: try imsi.map { value throws(ModemParseError) in try Identifiers.imsi(value) },
            iccid: try rawICCID.map { value throws(ModemParseError) in try Identifiers.iccid(value) },
            iccidAsRead: rawICCID
        )
    }

    public struct Registration: Sendable, Equatable {
        public var state: RegistrationState?
        public var providerID: String?
        public var providerName: String?
    }

    /// `mbimcli --query-registration-state` (`Register state`) or `--query-home-provider` (`State`).
    public static func registration(_ text: String) throws(ModemParseError) -> Registration {
        guard let state = QuotedFields.first("Register state", in: text) ?? QuotedFields.first("State", in: text)
        else { throw .unrecognised(text) }
        let mapped: RegistrationState? =
            switch state {
            case "home": .home
            case "roaming", "partner": .roaming
            case "searching": .searching
            case "denied": .denied
            case "deregistered": .idle
            default: nil
            }
        return Registration(
            state: mapped,
            providerID: QuotedFields.first("Provider ID", in: text).flatMap { Identifiers.known($0) },
            providerName: QuotedFields.first("Provider name", in: text).flatMap { Identifiers.known($0) }
        )
    }
}
