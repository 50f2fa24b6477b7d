/// A request that got no usable HTTP answer. Each case says what failed and what to check.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    case couldNotResolveHost(String)
    case couldNotConnect(String)
    case timedOut(String)
    case tlsVerificationFailed(String)
    case tlsHandshakeFailed(String)
    case connectionBroken(String)
    case truncatedBody(String)
    case responseTooLarge(limit: Int)
    case invalidURL(String)
    case proxyFailed(String)
    case other(code: Int, String)

    /// Whether trying again later can help (a broken connection can; a bad certificate cannot).
    public var isTransient: Bool {
        switch self {
        case .couldNotResolveHost, .couldNotConnect, .timedOut, .connectionBroken, .truncatedBody, .proxyFailed,
            .tlsHandshakeFailed:
            return true
        case .tlsVerificationFailed, .responseTooLarge, .invalidURL, .other:
            return false
        }
    }

    public var description: String {
        switch self {
        case .couldNotResolveHost(let detail):
            return "cannot resolve the API host (\(detail)): check DNS on the gateway and that the data session is up"
        case .couldNotConnect(let detail):
            return "cannot connect to the API (\(detail)): check the data session, firewall and proxy settings"
        case .timedOut(let detail):
            return
                "the API did not answer in time (\(detail)): the link may be slow or down; it is retried with backoff"
        case .tlsVerificationFailed(let detail):
            return "the API's TLS certificate was not trusted (\(detail)): check the gateway clock, "
                + "the system CA store (ca-certificates) or [api] ca_file; verification is never turned off"
        case .tlsHandshakeFailed(let detail):
            return
                "TLS handshake with the API failed (\(detail)): check for an intercepting proxy and the gateway clock"
        case .connectionBroken(let detail):
            return "the connection to the API broke (\(detail)): it is retried with backoff"
        case .truncatedBody(let detail):
            return "the API's answer was cut off (\(detail)): it is retried with backoff"
        case .responseTooLarge(let limit):
            return "the API's answer is larger than \(limit) bytes and was refused: raise [api] max_response_size "
                + "only if this is expected"
        case .invalidURL(let url):
            return "'\(url)' is not a usable API URL: check [api] url"
        case .proxyFailed(let detail):
            return "the HTTP proxy failed (\(detail)): check https_proxy / no_proxy in the environment"
        case .other(let code, let detail):
            return "the request failed (libcurl error \(code): \(detail))"
        }
    }
}

/// Sends requests; the libcurl transport in production, an in-memory one in unit tests.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse
}
