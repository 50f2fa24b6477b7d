import Hummingbird

/// The emulator's HTTP entry: it reads the whole request body, then hands the request to the
/// control interface (`/_emulator`) or to the emulated API. Two routers, so that no middleware
/// of the API (counting, faults, gzip) touches a control request, not even an unmatched one.
struct EmulatorResponder: HTTPResponder {
    typealias Context = EmulatorContext
    /// Larger request bodies fail (a `500`); nothing the agent sends comes near.
    static let maxBodySize = 4 << 20

    private let control: RouterResponder<EmulatorContext>
    private let api: RouterResponder<EmulatorContext>

    init(state: EmulatorState, control: EmulatorControl) {
        self.control = Self.controlRouter(state: state, control: control).buildResponder()
        self.api = EmulatedAPIRouter.router(state: state, control: control).buildResponder()
    }

    func respond(to request: Request, context: EmulatorContext) async throws -> Response {
        var request = request
        // Here and not in a route: a body too large is an error outside the routers (a `500`).
        _ = try await request.collectBody(upTo: Self.maxBodySize)
        let path = request.uri.path
        if path == "/_emulator" || path.hasPrefix("/_emulator/") {
            // Control paths match only as written: the router would take `/_emulator//info/` too.
            if path.contains("//") || path.hasSuffix("/") { return .notFound }
            return try await control.respond(to: request, context: context)
        }
        return try await api.respond(to: request, context: context)
    }

    private static func controlRouter(state: EmulatorState, control: EmulatorControl) -> Router<EmulatorContext> {
        let router = Router(context: EmulatorContext.self)
        router.addRoutes(ControlRoutes(state: state, control: control).collection, atPath: "/_emulator")
        router.add(middleware: UnroutedRequestMiddleware { _ in .notFound })
        return router
    }
}
