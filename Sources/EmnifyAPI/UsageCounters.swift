import EdgeCommon

/// Requests and bytes spent per UTC day: the organisation's 10 million requests a month are
/// shared by the whole fleet, so every gateway must show what it uses.
public struct UsageCounters: Sendable, Equatable, Codable {
    /// The UTC day these counters belong to, `YYYY-MM-DD`.
    public var day: String
    public var requests = 0
    public var authentications = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var newConnections = 0
    public var failures = 0

    public init(day: String) {
        self.day = day
    }

    static func day(ofMilliseconds millis: Int64) -> String {
        String(UTCDateTime(secondsSinceEpoch: millis / 1000).iso8601.prefix(10))
    }

    mutating func record(_ metrics: TransferMetrics?, isAuthentication: Bool, failed: Bool, at millis: Int64) {
        let today = UsageCounters.day(ofMilliseconds: millis)
        if today != day { self = UsageCounters(day: today) }
        requests += 1
        if isAuthentication { authentications += 1 }
        if failed { failures += 1 }
        if let metrics {
            bytesSent += metrics.bytesSent
            bytesReceived += metrics.bytesReceived
            if metrics.newConnection { newConnections += 1 }
        }
    }
}
