import HTTPTypes
import Hummingbird
import NIOCore

/// Answers in the emnify API's shapes: JSON with the service's content type, `{"message":…}` errors,
/// lower-case paging headers and Express-style ETags.
extension Response {
    static func json(_ status: Int, _ body: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "application/json; charset=utf-8" }
        return Response(
            status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func text(_ status: Int, _ body: String, contentType: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// No body (`Content-Length: 0`): 204s, and the 401 of a revoked token.
    static func empty(_ status: Int) -> Response { Response(status: .init(code: status)) }

    /// `{"message":"…"}`, the error shape of most emnify answers.
    static func message(_ status: Int, _ message: String, headers: HTTPFields = [:]) -> Response {
        json(status, messageBody(message), headers: headers)
    }

    static func messageBody(_ message: String) -> String {
        var out = #"{"message":"#
        JSONValue.appendQuoted(message, to: &out)
        return out + "}"
    }

    static var notFound: Response { message(404, "Not Found") }
    static var methodNotAllowed: Response { message(405, "Method Not Allowed") }

    /// The paging headers, lower case as the real service sends them.
    static func pagingHeaders(total: Int, page: Int, perPage: Int, sort: String) -> HTTPFields {
        let pages = (total + perPage - 1) / perPage
        return [
            HTTPField.Name("x-total-count")!: String(total),
            HTTPField.Name("x-total-pages")!: String(pages),
            HTTPField.Name("x-current-page")!: String(page),
            HTTPField.Name("x-count-per-page")!: String(perPage),
            HTTPField.Name("x-sort")!: sort,
        ]
    }

    /// Express-style weak ETag: `W/"<length hex>-<hash>"`.
    static func weakETag(_ body: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in body.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return "W/\"\(String(body.utf8.count, radix: 16))-\(String(hash, radix: 36))\""
    }
}
