import Hummingbird

/// The emulated emnify API: its routes under `/api/v1`, behind the middlewares that count the
/// traffic, inject the armed faults and compress. Outermost first:
///
/// 1. `TrafficCountingMiddleware`: sees each answer as it goes out.
///    (`CDNHeadersMiddleware` with `--cdn-headers`: a CDN's response header block.)
/// 2. `DeliveryFaultMiddleware`: takes the armed fault; stalls, truncation, idle closes and raw
///    or trickling bytes bypass gzip.
/// 3. `GzipMiddleware`
/// 4. `AnswerFaultMiddleware`: error answers, malformed JSON and lying headers, compressed like
///    real answers.
/// 5. `BearerTokenMiddleware`, for every route but authenticate.
enum EmulatedAPIRouter {
    static func router(state: EmulatorState, control: EmulatorControl) -> Router<EmulatorContext> {
        let router = Router(context: EmulatorContext.self)
        router.add(middleware: TrafficCountingMiddleware(state: state))
        // Inside the counting, which then counts the CDN's header block as a client receives it.
        if state.configuration.cdnHeaders { router.add(middleware: CDNHeadersMiddleware<EmulatorContext>()) }
        router.addMiddleware {
            DeliveryFaultMiddleware(state: state)
            GzipMiddleware()
            AnswerFaultMiddleware()
        }
        let tokens = BearerTokenMiddleware(state: state)
        let endpoints = EndpointRoutes(state: state, control: control)
        router.addRoutes(AuthenticationRoutes(state: state).collection, atPath: "/api/v1")
        router.group("/api/v1").add(middleware: tokens)
            .addRoutes(SIMRoutes(state: state).collection)
            .addRoutes(endpoints.collection)
            .addRoutes(EventRoutes(state: state).collection)
        router.add(middleware: UnroutedRequestMiddleware { unrouted($0, tokens: tokens, endpoints: endpoints) })
        return router
    }

    /// What the service answers where no route matched: a path outside `/api/v1/` is a `404`;
    /// inside, the token is checked first, and the two paths that take only some methods answer
    /// the others with `405`.
    private static func unrouted(_ request: Request, tokens: BearerTokenMiddleware, endpoints: EndpointRoutes)
        -> Response
    {
        let parts = request.uri.path.split(separator: "/")
        guard parts.count >= 3, parts[0] == "api", parts[1] == "v1" else { return .notFound }
        let rest = parts.dropFirst(2)
        if rest.elementsEqual(["authenticate"]) { return .methodNotAllowed }
        if let rejection = tokens.rejection(of: request) { return rejection }
        if rest.count == 3, rest.first == "endpoint", rest.last == "connectivity" {
            return endpoints.unknownEndpoint(String(rest[rest.startIndex + 1])) ?? .methodNotAllowed
        }
        return .notFound
    }
}
