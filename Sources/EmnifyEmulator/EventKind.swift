/// The event types the emulator generates, each as documented by emnify
/// (`shared/fixtures/emnify-doc-events/`): type id and name, usual source, severity, alert.
public enum EventKind: String, Sendable, CaseIterable, Codable {
    case generic = "generic"
    case updateLocation = "update_location"
    case updateGPRSLocation = "update_gprs_location"
    case createPDPContext = "create_pdp_context"
    case pdpContextRejected = "pdp_context_rejected"
    case deletePDPContext = "delete_pdp_context"
    case userAuthenticationFailed = "user_authentication_failed"
    case endpointBlocked = "endpoint_blocked"
    case purgeLocation = "purge_location"
    case purgeGPRSLocation = "purge_gprs_location"
    case quotaThresholdReached = "quota_threshold_reached"
    case quotaUsedUp = "quota_used_up"
    // Organisation and user events: no SIM, endpoint or IMSI (only in the organisation and user feeds).
    case multiFactorAuthentication = "multi_factor_authentication"
    case userVerified = "user_verified"
    case organisationUpdated = "organisation_updated"

    /// `event_type.id`
    public var typeID: Int {
        switch self {
        case .generic: 0
        case .updateLocation: 1
        case .updateGPRSLocation: 2
        case .createPDPContext, .pdpContextRejected: 3
        case .deletePDPContext: 5
        case .userAuthenticationFailed: 6
        case .endpointBlocked: 11
        case .purgeLocation: 15
        case .purgeGPRSLocation: 16
        case .quotaThresholdReached: 18
        case .quotaUsedUp: 19
        case .multiFactorAuthentication: 14
        case .userVerified: 41
        case .organisationUpdated: 31
        }
    }

    var defaultSource: EventSource {
        switch self {
        case .generic, .pdpContextRejected, .endpointBlocked, .quotaThresholdReached, .quotaUsedUp: .policyControl
        case .userAuthenticationFailed, .multiFactorAuthentication, .userVerified, .organisationUpdated: .api
        default: .network
        }
    }

    var severity: Int {
        switch self {
        case .generic, .pdpContextRejected, .endpointBlocked, .quotaThresholdReached, .quotaUsedUp,
            .userAuthenticationFailed:
            1
        default: 0
        }
    }

    var alert: Bool {
        switch self {
        case .generic, .pdpContextRejected, .endpointBlocked, .quotaThresholdReached, .quotaUsedUp: true
        default: false
        }
    }

    /// Organisation-level events carry no endpoint, SIM or IMSI.
    var isOrganisationOnly: Bool {
        switch self {
        case .userAuthenticationFailed, .multiFactorAuthentication, .userVerified, .organisationUpdated: true
        default: false
        }
    }

    /// User events carry the `user` who caused them (and show in `GET /api/v1/user/{id}/event`).
    var namesUser: Bool { isOrganisationOnly && self != .organisationUpdated }
}

/// `event_source`: 0 Network, 1 Policy Control, 2 API.
public enum EventSource: Int, Sendable, Codable, CaseIterable {
    case network = 0
    case policyControl = 1
    case api = 2

    var name: String {
        switch self {
        case .network: "Network"
        case .policyControl: "Policy Control"
        case .api: "API"
        }
    }

    init?(name: String) {
        switch name.lowercased() {
        case "network", "0": self = .network
        case "policy_control", "policy control", "policy", "1": self = .policyControl
        case "api", "2": self = .api
        default: return nil
        }
    }
}

enum EventCatalog {
    static let severityNames = ["Info", "Warn", "Critical"]

    /// The `GET /api/v1/event/type` lookup.
    static let types: [(Int, String)] = [
        (0, "Generic"), (1, "Update location"), (2, "Update GPRS location"), (3, "Create PDP Context"),
        (4, "Update PDP Context"), (5, "Delete PDP Context"), (6, "User authentication failed"),
        (7, "Application authentication failed"), (8, "SIM activation"), (9, "SIM suspension"),
        (10, "SIM deletion"), (11, "Endpoint blocked"), (12, "Organisation blocked"), (13, "Support Access"),
        (14, "Multi-factor Authentication"), (15, "Purge location"), (16, "Purge GPRS location"),
        (17, "Self-Signup"), (18, "Quota threshold reached"), (19, "Quota used up"),
        (20, "SMS quota threshold reached"), (21, "SMS quota used up"),
        (22, "CloudConnect TGW Resource Share created"), (23, "CloudConnect TGW available"),
        (24, "CloudConnect TGW breakout created"), (25, "CloudConnect TGW breakout terminated"),
        (30, "OpenVPN authentication"), (31, "Organisation updated"), (32, "Billing configuration updated"),
        (41, "User verified"), (42, "Endpoint enabled"), (43, "Endpoint disabled"), (45, "SIM factory test"),
        (46, "User deleted"), (48, "SIM registration"), (50, "SIM Released"), (51, "SIM Assigned"),
        (52, "Data quota enabled"), (53, "Data quota disabled"), (54, "SMS quota enabled"),
        (55, "SMS quota disabled"), (56, "Data quota assigned"), (57, "Data quota deleted"),
        (58, "SMS quota assigned"), (59, "SMS quota deleted"), (60, "Data quota expired"),
        (67, "User switched workspaces"),
    ]

    static func typeName(_ id: Int) -> String {
        types.first { $0.0 == id }?.1 ?? "Generic"
    }
}
