import EmnifyAPI

/// Retained on `<prefix>/<iccid>/health` after every poll, and shown by `diagnose`.
public struct HealthReport: Codable, Sendable, Equatable {
    public var lastSuccessfulPoll: String?
    public var lastError: String?
    public var requestsToday: Int
    public var bytesToday: Int
    public var authenticationsToday: Int
    /// Seconds between now and the newest published event of any feed.
    public var cursorLagSeconds: Int64?
    public var pollIntervalSeconds: Int64
    /// The API's clock minus the gateway's (positive: the gateway is behind), seconds.
    public var clockOffsetSeconds: Int64?
    /// Bridge mode only (absent when polling is the mode).
    public var bridge: BridgeHealth?

    enum CodingKeys: String, CodingKey {
        case bridge
        case lastSuccessfulPoll = "last_successful_poll"
        case lastError = "last_error"
        case requestsToday = "requests_today"
        case bytesToday = "bytes_today"
        case authenticationsToday = "authentications_today"
        case cursorLagSeconds = "cursor_lag_seconds"
        case pollIntervalSeconds = "poll_interval_seconds"
        case clockOffsetSeconds = "clock_offset_seconds"
    }
}

/// The health topic's `bridge` object: what a bridged agent knows of its bridge.
public struct BridgeHealth: Codable, Sendable, Equatable {
    /// `up`, `down` or `unknown` (no notification from mosquitto yet).
    public var link = "unknown"
    public var relaysOnline: [String] = []
    /// Why the agent polls the API now; nil while the bridge brings the events.
    public var fallback: String?
    public var reconciliations = 0
    /// Reconciliations found unnecessary: the bridge had brought the cluster's newest event.
    public var reconciliationsSkipped = 0
    public var lastReconciliation: String?
    /// Events the last reconciliation published: ones the bridge had not brought.
    public var lastReconciliationPublished: Int?
    public var fallbackPolls = 0
    /// Events the bridge brought that this agent had not published itself.
    public var eventsBridged = 0

    public init() {}

    /// What, when it changes, is published at once.
    var summary: [String] { [link, fallback ?? ""] + relaysOnline }

    enum CodingKeys: String, CodingKey {
        case link, fallback, reconciliations
        case relaysOnline = "relays_online"
        case reconciliationsSkipped = "reconciliations_skipped"
        case lastReconciliation = "last_reconciliation"
        case lastReconciliationPublished = "last_reconciliation_published"
        case fallbackPolls = "fallback_polls"
        case eventsBridged = "events_bridged"
    }
}

/// Retained on `<prefix>/<iccid>/identity`.
public struct PublishedIdentity: Codable, Sendable, Equatable {
    public var iccid: String
    public var iccidAsRead: String
    public var imei: String?
    public var imsi: String?
    public var simID: Int64?
    public var endpointID: Int64?
    public var endpointName: String?
    public var source: String

    enum CodingKeys: String, CodingKey {
        case iccid, imei, imsi, source
        case iccidAsRead = "iccid_as_read"
        case simID = "sim_id"
        case endpointID = "endpoint_id"
        case endpointName = "endpoint_name"
    }
}

/// Published once on `<prefix>/<iccid>/notice` when events may have been missed.
public struct GapNotice: Codable, Sendable, Equatable {
    public var notice = "possible_gap"
    public var feed: String
    public var message: String
    public var from: String
    public var until: String
}
