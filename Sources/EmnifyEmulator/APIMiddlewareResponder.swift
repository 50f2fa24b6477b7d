import Hummingbird

/// The emulator's responder with one middleware in front of the emulated API; control requests
/// (`/_emulator`) pass by, since no CDN stands in front of the test interface. Without a
/// middleware it is the bare responder.
struct APIMiddlewareResponder<Base: HTTPResponder, Middleware: RouterMiddleware>: HTTPResponder
where Middleware.Context == Base.Context {
    typealias Context = Base.Context
    let base: Base
    let middleware: Middleware?

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        guard let middleware, path != "/_emulator", !path.hasPrefix("/_emulator/") else {
            return try await base.respond(to: request, context: context)
        }
        return try await middleware.handle(request, context: context) { request, context in
            try await base.respond(to: request, context: context)
        }
    }
}
