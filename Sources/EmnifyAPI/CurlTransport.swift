import CCurl
import Dispatch

/// The production transport: libcurl on a dedicated serial queue, so that blocking
/// `curl_easy_perform` never occupies a thread of Swift's cooperative pool.
// @unchecked Sendable: its only mutable state, the libcurl session, is touched only on `queue`,
// which is serial.
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

    private let queue = DispatchQueue(label: "emnify-edge.curl")
    private let session: CurlSession

    public init(settings: Settings) throws(TransportError) {
        session = try CurlSession(
            settings: .init(
                userAgent: settings.userAgent, caFile: settings.caFile, connectTimeout: settings.connectTimeout,
                totalTimeout: settings.totalTimeout, maxResponseSize: settings.maxResponseSize))
    }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let result: Result<HTTPResponse, TransportError> = await withCheckedContinuation { continuation in
            queue.async { [session] in
                do throws(TransportError) {
                    continuation.resume(returning: .success(try session.perform(request)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}

extension CurlTransport {
    /// libcurl's version line, e.g. `libcurl/8.5.0 OpenSSL/3.0.13 zlib/1.3` (for support bundles).
    public static var libraryVersion: String {
        guard let text = curl_version() else { return "unknown" }
        return String(cString: text)
    }
}
