/// One HTTP request as the API client builds it; transport-neutral so unit tests can answer
/// it from memory.
public struct HTTPRequest: Sendable, Equatable {
    /// PUT: not an emnify API method; the emulator's Data Streamer stand-in delivers with it.
    public enum Method: String, Sendable { case get = "GET", post = "POST", patch = "PATCH", put = "PUT" }

    public var method: Method
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: Method, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body
            && lhs.headers.map { "\($0.name):\($0.value)" } == rhs.headers.map { "\($0.name):\($0.value)" }
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case (servers send them in any case); a repeated header keeps the last value.
    public var headers: [String: String]
    public var body: [UInt8]
    public var metrics: TransferMetrics

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = [], metrics: TransferMetrics = .init()) {
        self.status = status
        self.headers = headers
        self.body = body
        self.metrics = metrics
    }

    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// The first bytes of the body as text, for error messages (never the whole thing).
    public var bodySnippet: String {
        let prefix = body.prefix(200)
        let text = String(decoding: prefix, as: UTF8.self)
            .map { $0.isNewline ? " " : $0 }
        return String(text) + (body.count > 200 ? "…" : "")
    }
}

/// What one transfer cost and how long its phases took (for the usage counters and diagnostics).
public struct TransferMetrics: Sendable, Equatable {
    public var bytesSent = 0
    public var bytesReceived = 0
    public var newConnection = false
    public var nameLookup: Duration = .zero
    public var connect: Duration = .zero
    public var tlsHandshake: Duration = .zero
    public var total: Duration = .zero
    public var httpVersion = ""
    public var remoteAddress = ""

    public init() {}
}
