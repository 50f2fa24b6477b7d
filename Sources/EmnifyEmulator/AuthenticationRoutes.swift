import FoundationEssentials
import Hummingbird
import NIOCore

/// `POST /api/v1/authenticate`: an application token for a JWT, under the service's limits
/// (100 calls per 5 minutes, a 5-minute lock after 3 wrong tokens in a row) when enforced.
struct AuthenticationRoutes {
    let state: EmulatorState

    var collection: RouteCollection<EmulatorContext> {
        let routes = RouteCollection(context: EmulatorContext.self)
        routes.post("authenticate") { request, _ in try await authenticate(request.collectedBody()) }
        return routes
    }

    private enum Outcome { case issued(String), limited, locked, wrong }

    private func authenticate(_ body: ByteBuffer) -> Response {
        struct Credentials: Decodable { let application_token: String? }
        let token = (try? JSONDecoder().decode(Credentials.self, from: Data(body.readableBytesView)))?.application_token
        switch outcome(for: token) {
        case .issued(let jwt): return .json(200, #"{"auth_token":"\#(jwt)"}"#)
        case .limited: return .message(429, "Too many authentication requests", headers: [.retryAfter: "300"])
        case .locked: return .message(401, "Account locked after 3 failed logins; try again in 5 minutes")
        case .wrong:
            return .json(
                401, #"{"error_code":401,"error_token":"invalid_credentials","message":"Invalid application token"}"#)
        }
    }

    private func outcome(for token: String?) -> Outcome {
        let configuration = state.configuration
        let now = EmulatorState.nowSeconds
        return state.withLock { inner in
            if configuration.enforceAuthenticationLimits {
                inner.authenticationTimes.removeAll { $0 < now - 300 }
                if inner.authenticationTimes.count >= 100 { return .limited }
                inner.authenticationTimes.append(now)
                if let until = inner.loginLockedUntil, now < until {
                    inner.counters.failedAuthentications += 1
                    return .locked
                }
            }
            guard token == configuration.applicationToken else {
                inner.counters.failedAuthentications += 1
                inner.consecutiveFailedLogins += 1
                if inner.consecutiveFailedLogins >= 3 && configuration.enforceAuthenticationLimits {
                    inner.loginLockedUntil = now + 300
                    inner.consecutiveFailedLogins = 0
                }
                return .wrong
            }
            inner.consecutiveFailedLogins = 0
            inner.counters.authentications += 1
            return .issued(inner.tokens.issue(nowSeconds: now, lifetime: configuration.tokenLifetime))
        }
    }
}
