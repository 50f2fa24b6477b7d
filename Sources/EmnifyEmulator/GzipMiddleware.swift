import HTTPTypes
import Hummingbird
import NIOCore

/// gzip for a client that accepts it, on a `200` with a body, sent in two chunks as a streaming
/// backend would; `Vary: Accept-Encoding` on every `200` and `304`, as the real service sends it.
struct GzipMiddleware: EmulatorMiddleware {

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        let code = response.status.code
        guard code == 200 || code == 304 else { return response }
        let acceptsGzip = request.headers[.acceptEncoding]?.lowercased().contains("gzip") ?? false
        if acceptsGzip, code == 200 {
            let plain = try await response.body.collected()
            if plain.readableBytes > 0 {
                response.headers[.contentEncoding] = "gzip"
                // No length: chunked, and the setter drops Content-Length.
                response.body = Self.twoChunks(ByteBuffer(bytes: Gzip.compress(Array(plain.readableBytesView))))
            }
        }
        response.headers[.vary] = "Accept-Encoding"
        return response
    }

    private static func twoChunks(_ body: ByteBuffer) -> ResponseBody {
        ResponseBody { writer in
            let firstLength = body.readableBytes / 2
            let first = body.getSlice(at: body.readerIndex, length: firstLength) ?? ByteBuffer()
            let second =
                body.getSlice(at: body.readerIndex + firstLength, length: body.readableBytes - firstLength)
                ?? ByteBuffer()
            try await writer.write(first)
            try await writer.write(second)
            try await writer.finish(nil)
        }
    }
}
