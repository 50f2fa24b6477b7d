import HTTPTypes
import Hummingbird

/// The JWT check that every API route but authenticate makes before anything else, as emnify
/// does: a missing, malformed, expired or revoked token is a `401`, before paging or ids are
/// looked at.
struct BearerTokenMiddleware: EmulatorMiddleware {
    let state: EmulatorState

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let rejection = rejection(of: request) { return rejection }
        return try await next(request, context)
    }

    /// The `401` for a request without a valid token, nil when the token is good. No token and
    /// a revoked one get an empty body, as from the service; the others say what is wrong.
    func rejection(of request: Request) -> Response? {
        let verdict = state.withLock {
            $0.tokens.verify(authorization: request.headers[.authorization], nowSeconds: EmulatorState.nowSeconds)
        }
        guard case .rejected(let message) = verdict else { return nil }
        if let message { return .message(401, message) }
        return .empty(401)
    }
}
