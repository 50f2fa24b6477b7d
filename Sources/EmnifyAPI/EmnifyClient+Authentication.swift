import EdgeCommon
import FoundationEssentials
import Logging

/// What the client knows about its login: the current JWT and how recent failures limit
/// further attempts.
struct AuthenticationState {
    var token: AuthToken?
    var receivedAt: Int64 = 0
    /// Unix seconds before which `/authenticate` is not called again.
    var suspendedUntil: Int64 = 0
    var suspensionReason = ""
    var consecutiveFailures = 0
    /// Times of recent `/authenticate` calls, for the client's own ceiling.
    var recentCalls: [Int64] = []

    /// At most this many logins in any 5 minutes, far below emnify's 100 per IP, so that even a
    /// bug elsewhere cannot turn into a login loop.
    static let maxCallsPerWindow = 10
    static let window: Int64 = 300
}

extension EmnifyClient {
    /// The current JWT, renewed when it is about to expire.
    func validToken() async throws(EmnifyError) -> AuthToken {
        let now = clock.nowSeconds()
        if let token = authentication.token, token.isFresh(at: now, receivedAt: authentication.receivedAt) {
            return token
        }
        return try await login()
    }

    func dropToken(reason: String) {
        logger.info("dropping the API token", metadata: ["reason": "\(reason)"])
        authentication.token = nil
    }

    private func login() async throws(EmnifyError) -> AuthToken {
        let path = "/api/v1/authenticate"
        let now = clock.nowSeconds()
        if now < authentication.suspendedUntil {
            throw EmnifyError.authenticationSuspended(untilSeconds: authentication.suspendedUntil, reason: authentication.suspensionReason)
        }
        authentication.recentCalls.removeAll { $0 <= now - AuthenticationState.window }
        if authentication.recentCalls.count >= AuthenticationState.maxCallsPerWindow {
            let until = (authentication.recentCalls.first ?? now) + AuthenticationState.window
            throw EmnifyError.authenticationSuspended(
                untilSeconds: until, reason: "\(AuthenticationState.maxCallsPerWindow) logins in 5 minutes already")
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
            authentication.recentCalls.append(clock.nowSeconds())
            let request = HTTPRequest(
                method: .post, url: configuration.baseURL + path, headers: [(name: "Accept", value: "application/json")], body: body)
            let failure: EmnifyError
            var waitHint: Duration? = nil
            do {
                let response = try await transport.send(request)
                record(response.metrics, authentication: true, failed: response.status != 200)
                logger.debug("POST \(path)", metadata: ["status": "\(response.status)"])
                switch response.status {
                case 200, 201:
                    return try accept(response, path: path)
                case 400, 401, 403, 404, 422:
                    // A refused token: never retried at once (3 failures lock the account).
                    authentication.consecutiveFailures += 1
                    let pause = Int64(300) << Int64(min(authentication.consecutiveFailures - 1, 4))
                    authentication.suspendedUntil = clock.nowSeconds() + pause
                    authentication.suspensionReason = "emnify rejected the application token (HTTP \(response.status))"
                    throw EmnifyError.applicationTokenRejected(status: response.status, message: Self.message(in: response))
                case 429, 500..<600:
                    (failure, waitHint) = try transientFailure(response, path: path)
                default:
                    throw EmnifyError.unexpectedStatus(status: response.status, path: path, snippet: response.bodySnippet)
                }
            } catch {
                failure = try classify(error, path: path, authentication: true)
            }
            try await pause(after: failure, attempt: attempt, wait: waitHint, path: path)
        }
    }

    private func accept(_ response: HTTPResponse, path: String) throws(EmnifyError) -> AuthToken {
        struct Answer: Decodable { var auth_token: String }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)), !answer.auth_token.isEmpty else {
            throw EmnifyError.malformedResponse(path: path, .invalidObject("no auth_token in the answer"))
        }
        let token = AuthToken(jwt: answer.auth_token)
        authentication.token = token
        authentication.receivedAt = clock.nowSeconds()
        authentication.consecutiveFailures = 0
        logger.info("authenticated", metadata: ["expires": "\(token.expiresAt.map(String.init) ?? "unknown")"])
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
