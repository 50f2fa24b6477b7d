import EdgeCommon
import Logging

/// Retries `body` with backoff until it succeeds (a daemon does not give up on a broker that
/// starts later or a modem that is still booting), logging each failure once per attempt.
func retrying<T: Sendable>(_ what: String, logger: Logger, _ body: () async throws -> T) async throws -> T {
    let backoff = Backoff(base: .seconds(2), factor: 2, cap: .seconds(60))
    var attempt = 0
    while true {
        attempt += 1
        do {
            return try await body()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            let delay = backoff.delay(attempt: attempt)
            logger.error("cannot \(what); trying again in \(Int(delay.seconds)) s", metadata: ["error": "\(error)"])
            try await Task.sleep(for: delay)
        }
    }
}

/// What `withTimeout` throws when `limit` passed first.
public struct TimedOut: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "no answer within \(limit)" }
}

/// `body`'s result, or `TimedOut` once `limit` passed (`body` is cancelled then).
public func withTimeout<T: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
