import HTTPTypes
import Hummingbird
import NIOCore

/// Counts what the emulated API receives and sends (`EmulatorCounters`): requests per path,
/// connections, status codes, bytes in and out at the HTTP level. Outermost, so that it sees
/// every answer as it goes out: faulted, gzipped or cut short.
struct TrafficCountingMiddleware: EmulatorMiddleware {
    let state: EmulatorState

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try await countRequest(request, on: context.channel)
        var response = try await next(request, context)
        state.withLock { inner in
            inner.counters.statusCodes[String(response.status.code), default: 0] += 1
            inner.counters.bytesOut += Self.headSize(of: response)
        }
        response.body = countingWrites(of: response.body)
        return response
    }

    private func countRequest(_ request: Request, on channel: any Channel) async throws {
        let bodySize = try await request.collectedBody().readableBytes
        let path = request.uri.path
        let connection = ObjectIdentifier(channel)
        let isNewConnection = state.withLock { inner in
            inner.counters.totalRequests += 1
            inner.counters.requestsPerPath[path, default: 0] += 1
            inner.counters.bytesIn += Self.headSize(of: request) + bodySize
            let isNew = inner.connectionActivity[connection] == nil
            if isNew { inner.counters.connections += 1 }
            inner.connectionActivity[connection, default: 0] += 1
            return isNew
        }
        if isNewConnection {
            let state = self.state
            channel.closeFuture.whenComplete { _ in
                state.withLock { _ = $0.connectionActivity.removeValue(forKey: connection) }
            }
        }
    }

    /// Counts body bytes as they are handed to the connection (before the write, so that a
    /// client that has read the answer finds it counted), however the body is produced.
    private func countingWrites(of body: ResponseBody) -> ResponseBody {
        let state = self.state
        return ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(CountingWriter(parent: writer, state: state))
        }
    }

    static func headSize(of request: Request) -> Int {
        var size = request.method.rawValue.utf8.count + request.uri.description.utf8.count + 12
        for field in request.headers { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        return size + 2
    }

    /// An estimate: 17 bytes of status line, the fields, and 20 bytes for `Content-Length` and the
    /// blank line; 8 more for the two chunks of a gzipped answer. `Date` comes later and is not
    /// counted.
    static func headSize(of response: Response) -> Int {
        var size = 17
        for field in response.headers where field.name != .contentLength {
            size += field.name.rawName.utf8.count + field.value.utf8.count + 4
        }
        let gzipChunks = response.headers[.contentEncoding] == "gzip" && response.body.contentLength == nil
        return size + 2 + (gzipChunks ? 28 : 20)
    }
}

private struct CountingWriter: ResponseBodyWriter {
    var parent: any ResponseBodyWriter
    let state: EmulatorState

    mutating func write(_ buffer: ByteBuffer) async throws {
        state.withLock { $0.counters.bytesOut += buffer.readableBytes }
        try await parent.write(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await parent.finish(trailingHeaders)
    }
}
