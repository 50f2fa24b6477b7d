import FoundationEssentials

/// The body of `POST /_emulator/streams`: a webhook data stream as emnify's Data Streamer has
/// it (`url`, `method`, `headers` as `"name:value"`, `size`), plus what emnify does not
/// document and the emulator makes configurable (interval, timeout, retry backoff) and the
/// faults it can add (duplicates, reordering):
///
/// `{"url":"http://127.0.0.1:9000/hook","method":"POST","headers":["Authorization:Bearer xyz"],
/// "size":100,"interval_ms":1000,"timeout_ms":5000,"retry_initial_ms":3000,"retry_max_ms":30000,
/// "events":"all","backlog_since":"2026-12-01T00:00:00Z","ca_file":"/path/ca.pem",
/// "faults":{"duplicate_rate":0.1,"reorder":true}}`
public struct DataStreamRequest: Sendable {
    public enum Method: String, Sendable, Equatable { case post = "POST", put = "PUT", patch = "PATCH" }

    /// Which new events the stream delivers.
    public enum Selection: String, Sendable, Equatable {
        /// Every event created after the stream (generated and injected, SIM and organisation).
        case all
        /// Only those the emulator's generator makes (no raw injected events).
        case generated
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public var url: String
    public var method: Method = .post
    public var headers: [(name: String, value: String)] = []
    /// 1: one JSON object per request; more: a JSON array of up to `size` events.
    public var size = 3000
    /// Pause between requests (emnify's bulk mode sends "at intervals").
    public var interval: Duration = .milliseconds(1000)
    public var timeout: Duration = .seconds(5)
    /// Backoff after a failed request: doubles from `retryInitial` up to `retryMaximum`.
    public var retryInitial: Duration = .seconds(3)
    public var retryMaximum: Duration = .seconds(30)
    public var selection: Selection = .all
    /// Also (re)deliver the stored events from this time on (kept at most 7 days back, as emnify).
    public var backlogSinceMillis: Int64?
    /// CA file to verify an https:// receiver against (verification is always on).
    public var caFile: String?
    /// Probability that an acknowledged batch is sent once more.
    public var duplicateRate = 0.0
    /// Shuffle the events within each batch.
    public var reorder = false

    public init(url: String) { self.url = url }

    private struct Body: Decodable {
        struct Faults: Decodable {
            let duplicate_rate: Double?
            let reorder: Bool?
        }
        let url: String
        let method: String?
        let headers: [String]?
        let size: Int?
        let interval_ms: Int?
        let timeout_ms: Int?
        let retry_initial_ms: Int?
        let retry_max_ms: Int?
        let events: String?
        let backlog_since: String?
        let ca_file: String?
        let faults: Faults?
    }

    public init(json: Data) throws(Invalid) {
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: json)
        } catch {
            throw Invalid(message: "Invalid stream request (expected {\"url\":\"http://…\", …}): \(error)")
        }
        self.init(url: body.url)
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw Invalid(message: "Invalid url '\(url)': expected http:// or https://")
        }
        if let name = body.method {
            guard let parsed = Method(rawValue: name.uppercased()) else {
                throw Invalid(message: "Invalid method '\(name)': POST, PUT or PATCH")
            }
            method = parsed
        }
        for header in body.headers ?? [] {
            guard let colon = header.firstIndex(of: ":"), colon != header.startIndex,
                !header.contains(where: \.isNewline)
            else { throw Invalid(message: "Invalid header '\(header)': expected \"name:value\"") }
            let value = header[header.index(after: colon)...].drop { $0 == " " }
            headers.append((String(header[..<colon]), String(value)))
        }
        if let value = body.size {
            guard (1...10_000).contains(value) else { throw Invalid(message: "Invalid size \(value): 1...10000") }
            size = value
        }
        func milliseconds(_ value: Int?, _ name: String, _ range: ClosedRange<Int>) throws(Invalid) -> Duration? {
            guard let value else { return nil }
            guard range.contains(value) else { throw Invalid(message: "Invalid \(name) \(value): \(range)") }
            return .milliseconds(value)
        }
        interval = try milliseconds(body.interval_ms, "interval_ms", 0...3_600_000) ?? interval
        timeout = try milliseconds(body.timeout_ms, "timeout_ms", 1...600_000) ?? timeout
        retryInitial = try milliseconds(body.retry_initial_ms, "retry_initial_ms", 1...3_600_000) ?? retryInitial
        retryMaximum = try milliseconds(body.retry_max_ms, "retry_max_ms", 1...3_600_000) ?? retryMaximum
        guard retryMaximum >= retryInitial else {
            throw Invalid(message: "retry_max_ms must not be below retry_initial_ms")
        }
        if let name = body.events {
            guard let parsed = Selection(rawValue: name) else {
                throw Invalid(message: "Invalid events '\(name)': \"all\" or \"generated\"")
            }
            selection = parsed
        }
        if let since = body.backlog_since {
            guard let millis = EmulatorTime.parseFilterDate(since) ?? EmulatorTime.parseEventTimestamp(since) else {
                throw Invalid(message: "Invalid backlog_since '\(since)': expected YYYY-MM-DDTHH:mm:ssZ")
            }
            backlogSinceMillis = millis
        }
        caFile = body.ca_file
        if let rate = body.faults?.duplicate_rate {
            guard (0...1).contains(rate) else { throw Invalid(message: "Invalid duplicate_rate \(rate): 0...1") }
            duplicateRate = rate
        }
        reorder = body.faults?.reorder ?? false
    }
}
