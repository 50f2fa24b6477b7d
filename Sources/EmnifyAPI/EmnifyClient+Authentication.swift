import EdgeCommon
import FoundationEssentials
import Logging

/// What the client knows about its login: the current JWT and how recent failures limit
/// further attempts. Deadlines are on the monotonic clock: setting the wall clock must neither
/// expire a token early (a login per poll) nor lift a pause.
struct AuthenticationState {
    var token: AuthToken?
    /// Monotonic time the token was received in this process; nil for a token from the cache.
    var receivedAtMonotonic: Int64?
    /// Monotonic time before which `/authenticate` is not called again.
    var suspendedUntilMonotonic: Int64 = .min
    var suspensionReason = ""
    var consecutiveFailures = 0
    /// Monotonic times of recent `/authenticate` calls, for the client's own ceiling.
    var recentCalls: [Int64] = []

    /// At most this many logins in any 5 minutes, far below emnify's 100 per IP, so that even a
    /// bug elsewhere cannot turn into a login loop.
    static let maxCallsPerWindow = 10
    static let window: Int64 = 300_000
}

extension EmnifyClient {
    /// The current JWT, renewed when it is about to expire.
    func validToken() async throws(EmnifyError) -> AuthToken {
        if let token = authentication.token, isFresh(token) {
            return token
        }
        return try await login()
    }

    /// Whether `token` can be used without renewing it first, judged without the gateway's clock:
    /// a token received in this process lives `exp - iat` from its receipt (its own claims, on the
    /// monotonic clock); a cached one until `exp` by the API's clock. Before the API's first answer
    /// a cached token is simply tried: a 401 renews it once, and the answer tells the API's time.
    func isFresh(_ token: AuthToken) -> Bool {
        let now = monotonic.monotonicMilliseconds()
        if let received = authentication.receivedAtMonotonic {
            if let lifetime = token.lifetimeSeconds {
                return now < received + (lifetime - token.renewalMargin) * 1000
            }
            if token.expiresAt == nil { return now < received + 3_600_000 }
        }
        guard let apiNow = apiClock.now(monotonic: now), let expiresAt = token.expiresAt else { return true }
        return apiNow / 1000 < expiresAt - token.renewalMargin
    }

    func dropToken(reason: String) {
        logger.info("dropping the API token", metadata: ["reason": "\(reason)"])
        authentication.token = nil
    }

    /// The API's time of a moment `millisFromNow` on the monotonic clock (for messages).
    func apiTime(inMillis millisFromNow: Int64) -> Int64 {
        apiTimeMilliseconds() + millisFromNow
    }

    private func login() async throws(EmnifyError) -> AuthToken {
        let path = "/api/v1/authenticate"
        let now = monotonic.monotonicMilliseconds()
        if now < authentication.suspendedUntilMonotonic {
            throw EmnifyError.authenticationSuspended(
                untilSeconds: apiTime(inMillis: authentication.suspendedUntilMonotonic - now) / 1000,
                reason: authentication.suspensionReason)
        }
        authentication.recentCalls.removeAll { $0 <= now - AuthenticationState.window }
        if authentication.recentCalls.count >= AuthenticationState.maxCallsPerWindow {
            let until = (authentication.recentCalls.first ?? now) + AuthenticationState.window
            throw EmnifyError.authenticationSuspended(
                untilSeconds: apiTime(inMillis: until - now) / 1000,
                reason: "\(AuthenticationState.maxCallsPerWindow) logins in 5 minutes already")
        }

        struct Credentials: Encodable {
            var application_token: String
        }
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(Credentials(application_token: configuration.applicationToken)))
        } catch {
            throw EmnifyError.badRequest(status: 0, path: path, message: "cannot encode the application token")
        }
        var attempt = 0
        while true {
            attempt += 1
            authentication.recentCalls.append(monotonic.monotonicMilliseconds())
            let request = HTTPRequest(
                method: .post, url: configuration.baseURL + path,
                headers: [(name: "Accept", value: "application/json")], body: body)
            let failure: EmnifyError
            var waitHint: Duration? = nil
            do {
                let response = try await exchange(request)
                record(response.metrics, authentication: true, failed: response.status != 200)
                logger.debug("POST \(path)", metadata: ["status": "\(response.status)"])
                switch response.status {
                case 200, 201:
                    return try accept(response, path: path)
                case 400, 401, 403, 404, 422:
                    // A refused token: never retried at once (3 failures lock the account), not
                    // even by the next start of the agent (the pause is kept in the state directory).
                    let reason = "emnify rejected the application token (HTTP \(response.status))"
                    suspendAuthentication(reason: reason)
                    throw EmnifyError.applicationTokenRejected(
                        status: response.status, message: Self.message(in: response))
                case 429, 500..<600:
                    (failure, waitHint) = try transientFailure(response, path: path)
                default:
                    throw EmnifyError.unexpectedStatus(
                        status: response.status, path: path, snippet: response.bodySnippet)
                }
            } catch {
                failure = try classify(error, path: path, authentication: true)
            }
            try await pause(after: failure, attempt: attempt, wait: waitHint, path: path)
        }
    }

    /// 5 minutes after the first refusal, doubling with each one in a row up to 80 minutes;
    /// written to `state_dir/auth-pause` so that a restart waits too.
    private func suspendAuthentication(reason: String) {
        authentication.consecutiveFailures += 1
        let pauseMillis = Int64(300_000) << Int64(min(authentication.consecutiveFailures - 1, 4))
        authentication.suspendedUntilMonotonic = monotonic.monotonicMilliseconds() + pauseMillis
        authentication.suspensionReason = reason
        let pause = AuthenticationPause(
            untilMillis: apiTime(inMillis: pauseMillis), reason: reason,
            consecutiveFailures: authentication.consecutiveFailures, pauseMillis: pauseMillis,
            clockOffsetMillis: apiTimeMilliseconds() - clock.nowMilliseconds())
        logger.error(
            "emnify rejected the application token; not authenticating again before \(pause.until)",
            metadata: ["failures_in_a_row": "\(pause.consecutiveFailures)"])
        guard let pauseFile else { return }
        do {
            try pauseFile.store(pause)
        } catch {
            logger.warning(
                "cannot keep the login pause in the state directory; a restart would not wait",
                metadata: ["error": "\(error)"])
        }
    }

    /// Takes over a pause an earlier run left in the state directory (at start, from `init`).
    static func resuming(
        _ pause: AuthenticationPause, into state: inout AuthenticationState, localMillis: Int64, monotonicMillis: Int64,
        pausePath: String, logger: Logger
    ) {
        state.consecutiveFailures = pause.consecutiveFailures
        let remaining = pause.remaining(atLocalMillis: localMillis)
        guard remaining > 0 else { return }
        state.suspendedUntilMonotonic = monotonicMillis + remaining
        state.suspensionReason = pause.reason + " at the last attempt"
        let message =
            "not authenticating before \(pause.until): \(pause.reason) at the last attempt, and emnify locks the account "
            + "after 3 failed logins; fix the application token, then restart (a new token is tried at once)"
        logger.warning(
            "\(message)", metadata: ["failures_in_a_row": "\(pause.consecutiveFailures)", "pause_file": "\(pausePath)"])
    }

    private func accept(_ response: HTTPResponse, path: String) throws(EmnifyError) -> AuthToken {
        struct Answer: Decodable { var auth_token: String }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)), !answer.auth_token.isEmpty
        else {
            throw EmnifyError.malformedResponse(path: path, .invalidObject("no auth_token in the answer"))
        }
        let token = AuthToken(jwt: answer.auth_token)
        let now = monotonic.monotonicMilliseconds()
        authentication.token = token
        authentication.receivedAtMonotonic = now
        // No Date header from the API (a proxy may strip it): the fresh token's `iat` is its time.
        if !apiClock.isKnown, let issuedAt = token.issuedAt {
            apiClock.record(apiMillis: issuedAt * 1000 + 500, at: now)
            noteClockOffset()
        }
        // Also a pause left for another token: this one works, so the account is not at risk.
        pauseFile?.remove()
        authentication.consecutiveFailures = 0
        authentication.suspendedUntilMonotonic = .min
        let expires = token.expiresAt.map { UTCDateTime(secondsSinceEpoch: $0).iso8601 } ?? "unknown"
        logger.info("authenticated", metadata: ["expires": "\(expires)"])
        if let tokenCache {
            do {
                try tokenCache.store(token)
            } catch {
                logger.notice("cannot cache the API token", metadata: ["error": "\(error)"])
            }
        }
        return token
    }
}
