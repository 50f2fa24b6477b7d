import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

#if canImport(Glibc)
    import Glibc
#endif

/// One unauthenticated `GET /api/v1/event/type` on a fresh connection: the cheapest request
/// that exercises DNS, TCP, TLS with certificate verification and the HTTP layer, and whose
/// answer carries the server's `Date`. It sends no token (the 401 it gets is expected) and
/// does not count against emnify's login limits.
enum APIProbe {
    struct Result: Sendable {
        var outcome: Swift.Result<HTTPResponse, TransportError>
        /// Local wall clock when the answer arrived, in milliseconds.
        var receivedAtMillis: Int64
        var url: String
    }

    static func run(api: APIConfig, userAgent: String) async -> Result {
        var base = api.url
        while base.hasSuffix("/") { base.removeLast() }
        let url = base + "/api/v1/event/type"
        let outcome: Swift.Result<HTTPResponse, TransportError>
        do {
            let transport = try CurlTransport(
                settings: .init(
                    userAgent: userAgent, caFile: api.caFile, connectTimeout: api.connectTimeout,
                    totalTimeout: api.timeout,
                    maxResponseSize: 1024 * 1024))
            outcome = .success(
                try await transport.send(
                    HTTPRequest(method: .get, url: url, headers: [(name: "Accept", value: "application/json")])))
        } catch {
            outcome = .failure(error)
        }
        return Result(outcome: outcome, receivedAtMillis: SystemWallClock().nowMilliseconds(), url: url)
    }
}
