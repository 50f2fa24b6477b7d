import Hummingbird

/// Answers the requests that no route matched. Hummingbird runs its not-found responder through
/// all of a router's middlewares, a route through those added before it: added after the last
/// route, this one reaches the unmatched requests alone, and answers them as the emulated
/// service does instead of with Hummingbird's generic `404`.
struct UnroutedRequestMiddleware: EmulatorMiddleware {
    let answer: @Sendable (Request) -> Response

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        answer(request)
    }
}
