import HTTPTypes
import Hummingbird
import NIOCore

/// Takes the fault armed for the request's path (`EmulatorState.takeFault`) and applies those
/// about how an answer travels: a stall before it, a body cut short, a connection closed once
/// idle, or bytes that are not an answer of the API at all (raw, trickle). Faults about what the
/// answer says go on to `AnswerFaultMiddleware`, which sits inside gzip as a real answer would.
struct DeliveryFaultMiddleware: EmulatorMiddleware {
    let state: EmulatorState

    /// Ends a request that never gets its answer, once the client gives up or the emulator stops.
    struct StalledForever: Error {}
    /// Fails the write after half the declared body, so that the connection closes.
    struct Truncated: Error {}

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let fault = state.takeFault(path: request.uri.path) else { return try await next(request, context) }
        switch fault {
        case .stall(let delay):
            try await stall(for: delay)
            return try await next(request, context)
        case .truncatedBody:
            // The cut goes through the plain body: an uncompressed answer, as if gzip was not asked for.
            var head = request.head
            head.headerFields[.acceptEncoding] = nil
            return try await truncated(next(Request(head: head, body: request.body), context))
        case .closeIdleConnection(let after):
            let response = try await next(request, context)
            closeWhenIdle(context.channel, after: after)
            return response
        case .raw(let answer):
            return StreamedAnswers(state: state).raw(answer)
        case .trickle(let interval, let byte):
            return StreamedAnswers(state: state).trickle(interval: interval, byte: byte)
        case .tooManyRequests, .internalServerError, .serviceUnavailableHTML, .malformedJSON, .unauthorized,
            .overrideHeaders:
            var context = context
            context.answerFault = fault
            return try await next(request, context)
        }
    }

    /// Waits `delay`, or until the emulator stops when nil (then the request never gets an answer).
    private func stall(for delay: Duration?) async throws {
        let deadline = delay.map { ContinuousClock.now + $0 }
        while !state.isStopping && !Task.isCancelled {
            if let deadline, ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(25))
        }
        if deadline == nil || state.isStopping || Task.isCancelled { throw StalledForever() }
    }

    /// Declares the whole body's length, sends half of it, then fails the write.
    private func truncated(_ response: Response) async throws -> Response {
        let code = response.status.code
        guard code != 204 && code != 304 else { return response }
        let body = try await response.body.collected()
        let half = body.getSlice(at: body.readerIndex, length: body.readableBytes / 2) ?? ByteBuffer()
        var headers = response.headers
        headers[.contentLength] = String(body.readableBytes)
        return Response(
            status: response.status, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(half)
                throw Truncated()
            })
    }

    /// Closes the connection once it has carried no further request for `after`: a server or
    /// middlebox with a shorter keep-alive timeout than the client expects.
    private func closeWhenIdle(_ channel: any Channel, after: Duration) {
        let connection = ObjectIdentifier(channel)
        let state = self.state
        Task {
            let seen = state.withLock { $0.connectionActivity[connection] }
            try? await Task.sleep(for: after)
            if state.withLock({ $0.connectionActivity[connection] }) == seen {
                try? await channel.close()
            }
        }
    }
}
