import HTTPTypes
import Hummingbird

/// Applies the faults about what an answer says, taken for this request by
/// `DeliveryFaultMiddleware`: error statuses, a body that is not JSON, headers that lie. It sits
/// inside gzip, so these answers go out as a real one would (a malformed `200` is compressed and
/// gets `Vary`).
struct AnswerFaultMiddleware: EmulatorMiddleware {

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        switch context.answerFault {
        case .tooManyRequests(let retryAfter):
            var headers: HTTPFields = [:]
            if let retryAfter { headers[.retryAfter] = String(retryAfter) }
            return .json(
                429, #"{"error_code":429,"error_token":"too_many_requests","message":"Too Many Requests"}"#,
                headers: headers)
        case .internalServerError:
            return .json(500, #"{"error_code":500,"error_token":"internal_error","message":"Internal Server Error"}"#)
        case .serviceUnavailableHTML:
            return .text(
                503,
                "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
                    + "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n",
                contentType: "text/html")
        case .malformedJSON:
            return .json(200, #"[{"timestamp":"2021-10-27T08:38:02.000Z","alert":false,"id":28147497671"#)
        case .unauthorized:
            return .empty(401)
        case .overrideHeaders(let replacements):
            var response = try await next(request, context)
            for (name, value) in replacements {
                guard let field = HTTPField.Name(name) else { continue }
                response.headers[field] = value
            }
            return response
        case .stall, .truncatedBody, .closeIdleConnection, .raw, .trickle, nil:
            return try await next(request, context)
        }
    }
}
