/// What the emulator has seen since start or the last reset.
public struct EmulatorCounters: Sendable, Codable, Equatable {
    /// Requests per path (without the query string), control routes excluded.
    public var requestsPerPath: [String: Int] = [:]
    public var totalRequests = 0
    /// Successful `POST /api/v1/authenticate` calls, and rejected ones.
    public var authentications = 0
    public var failedAuthentications = 0
    /// Request and response bytes at the HTTP level (head estimate + body, before TLS;
    /// bodies as sent, i.e. after gzip).
    public var bytesIn = 0
    public var bytesOut = 0
    /// Connections that carried at least one request.
    public var connections = 0
    /// Responses by status code.
    public var statusCodes: [String: Int] = [:]
    public var faultsServed = 0
    /// Body bytes of `raw` and `trickle` answers handed to the connection. Not what the client
    /// read: NIO queues what the socket does not take yet and drops it when the client leaves.
    public var streamedBytes = 0

    public init() {}

    public func requests(_ path: String) -> Int { requestsPerPath[path] ?? 0 }

    enum CodingKeys: String, CodingKey {
        case requestsPerPath = "requests_per_path"
        case totalRequests = "total_requests"
        case authentications
        case failedAuthentications = "failed_authentications"
        case bytesIn = "bytes_in"
        case bytesOut = "bytes_out"
        case connections
        case statusCodes = "status_codes"
        case faultsServed = "faults_served"
        case streamedBytes = "streamed_bytes"
    }
}
