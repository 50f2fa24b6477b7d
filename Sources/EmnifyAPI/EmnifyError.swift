import EdgeCommon

/// Everything that can go wrong talking to emnify, each with what happened and what to do.
public enum EmnifyError: Error, Sendable, CustomStringConvertible {
    case transport(TransportError, path: String)
    /// `POST /authenticate` refused the application token.
    case applicationTokenRejected(status: Int, message: String)
    /// The client refuses to call `/authenticate` again before this time (the API's, Unix
    /// seconds), to stay clear of emnify's login limits (100 calls per 5 minutes; 3 failures lock
    /// the account).
    case authenticationSuspended(untilSeconds: Int64, reason: String)
    /// A request got 401 even with a freshly issued token.
    case unauthorized(path: String, message: String)
    case forbidden(path: String, message: String)
    case rateLimited(path: String, retryAfter: Duration?)
    case serverError(status: Int, path: String, snippet: String)
    case badRequest(status: Int, path: String, message: String)
    case unexpectedStatus(status: Int, path: String, snippet: String)
    case malformedResponse(path: String, APIDecodingError)
    case cancelled

    /// Whether the same request may succeed later without anyone changing anything.
    public var isTransient: Bool {
        switch self {
        case .transport(let error, _): return error.isTransient
        case .rateLimited, .serverError, .malformedResponse, .authenticationSuspended: return true
        case .applicationTokenRejected, .unauthorized, .forbidden, .badRequest, .unexpectedStatus, .cancelled:
            return false
        }
    }

    public var description: String {
        switch self {
        case .transport(let error, let path):
            return "\(path): \(error)"
        case .applicationTokenRejected(let status, let message):
            return "emnify rejected the application token (HTTP \(status)\(message.isEmpty ? "" : ": \(message)")): "
                + "create a new application token in the emnify Portal and put it in [api] token_file, "
                + "EMNIFY_APPLICATION_TOKEN or the systemd credential application-token"
        case .authenticationSuspended(let until, let reason):
            return
                "not authenticating again before \(UTCDateTime(secondsSinceEpoch: until).iso8601) because \(reason); "
                + "emnify locks accounts after repeated failed logins"
        case .unauthorized(let path, let message):
            return "\(path): emnify answered 401 Unauthorized even with a fresh token"
                + (message.isEmpty ? "" : " (\(message))") + ": check that the application token is still valid"
        case .forbidden(let path, let message):
            return "\(path): emnify answered 403 Forbidden\(message.isEmpty ? "" : " (\(message))"): "
                + "the application token lacks the permission; check its role in the Portal"
        case .rateLimited(let path, let retryAfter):
            let wait = retryAfter.map { " (retry after \(Int($0.components.seconds)) s)" } ?? ""
            return "\(path): emnify's rate limit was hit\(wait): the organisation shares 2,000 requests per "
                + "5 minutes per IP and 10 million per month; raise [agent] poll_interval if this repeats"
        case .serverError(let status, let path, let snippet):
            return "\(path): emnify answered HTTP \(status)\(snippet.isEmpty ? "" : " ('\(snippet)')"): "
                + "a server-side problem; it is retried with backoff"
        case .badRequest(let status, let path, let message):
            return "\(path): emnify refused the request (HTTP \(status)\(message.isEmpty ? "" : ": \(message)")): "
                + "this is a bug in emnify-edge or an API change; please report it"
        case .unexpectedStatus(let status, let path, let snippet):
            return "\(path): unexpected HTTP \(status)\(snippet.isEmpty ? "" : " ('\(snippet)')")"
        case .malformedResponse(let path, let error):
            return "\(path): the answer could not be read (\(error)); it is retried with backoff"
        case .cancelled:
            return "the request was cancelled"
        }
    }
}
