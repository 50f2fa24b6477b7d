import CCurl
import EdgeCommon

/// The production transport: libcurl on a serial lane of the shared blocking executor, so that
/// blocking `curl_easy_perform` never occupies a thread of Swift's cooperative pool.
// @unchecked Sendable: its only mutable state, the libcurl session, is touched only by jobs of
// `lane`, which run one at a time and in the order the requests came (see SerialLane).
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    public struct Settings: Sendable {
        public var userAgent: String
        public var caFile: String?
        public var connectTimeout: Duration
        public var totalTimeout: Duration
        public var maxResponseSize: Int

        public init(
            userAgent: String, caFile: String? = nil, connectTimeout: Duration = .seconds(10),
            totalTimeout: Duration = .seconds(30), maxResponseSize: Int = 8 * 1024 * 1024
        ) {
            self.userAgent = userAgent
            self.caFile = caFile
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.maxResponseSize = maxResponseSize
        }
    }

    private let lane = SerialLane(on: .shared)
    private let session: CurlSession

    public init(settings: Settings) throws(TransportError) {
        session = try CurlSession(
            settings: .init(
                userAgent: settings.userAgent, caFile: settings.caFile, connectTimeout: settings.connectTimeout,
                totalTimeout: settings.totalTimeout, maxResponseSize: settings.maxResponseSize))
    }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        try await lane.run { [session] () throws(TransportError) -> HTTPResponse in try session.perform(request) }
    }
}

extension CurlTransport {
    /// libcurl's version line, e.g. `libcurl/8.5.0 OpenSSL/3.0.13 zlib/1.3` (for support bundles).
    public static var libraryVersion: String {
        guard let text = curl_version() else { return "unknown" }
        return String(cString: text)
    }
}
