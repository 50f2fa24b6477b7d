import EdgeCommon

/// How often and how long the client retries one call before giving the error to its caller.
/// The agent keeps this short and does its own long backoff between polls; the CLI retries a
/// little so a single 503 does not fail a field engineer's command.
public struct RetryPolicy: Sendable {
    /// Total tries of one request, including the first.
    public var maxAttempts: Int
    public var backoff: Backoff
    /// A `Retry-After` longer than this is not waited for inside the call: the error goes to
    /// the caller, which schedules the next poll after it.
    public var maxRetryAfter: Duration

    public init(
        maxAttempts: Int = 4, backoff: Backoff = Backoff(base: .milliseconds(500), factor: 2, cap: .seconds(8)),
        maxRetryAfter: Duration = .seconds(30)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
        self.maxRetryAfter = maxRetryAfter
    }

    /// Reads `Retry-After` as seconds (emnify sends seconds; an HTTP date is not expected and
    /// falls back to backoff).
    static func retryAfter(_ response: HTTPResponse) -> Duration? {
        guard let text = response.header("retry-after")?.trimmingSpaces, let seconds = Int(text), seconds >= 0 else {
            return nil
        }
        return .seconds(min(seconds, 24 * 3600))
    }
}
