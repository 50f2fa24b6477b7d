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

    enum CodingKeys: String, CodingKey {
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
