import FoundationEssentials
import NIOCore

/// The body of `POST /_emulator/faults`, read into a `Fault` and its rule:
/// `{"kind":"429","path":"/api/v1/*","count":2,"duration_seconds":5,"retry_after":3,
/// "delay_seconds":2,"after_seconds":1}`; kinds: `429`, `500`, `503`, `stall`, `truncated`,
/// `malformed_json`, `401`, `close_idle`, `trickle` (`"interval_seconds":0.2`), `headers`
/// (`"headers":{"X-Total-Pages":"-1"}` over the normal answer) and `raw` (`"status":200,
/// "headers":{…},"body":"…"` or `"body_base64":"…"`, `"repeat":1024`, `"declare_length":false`:
/// the body `repeat` times, streamed).
struct FaultRequest {
    struct Invalid: Error {
        let message: String
    }

    let fault: Fault
    let path: String
    let count: Int?
    let duration: Duration?

    private struct Body: Decodable {
        let kind: String
        let path: String?
        let count: Int?
        let duration_seconds: Double?
        let retry_after: Int?
        let delay_seconds: Double?
        let after_seconds: Double?
        let interval_seconds: Double?
        let status: Int?
        let headers: [String: String]?
        let body: String?
        let body_base64: String?
        let `repeat`: Int?
        let declare_length: Bool?
    }

    init(json: ByteBuffer) throws(Invalid) {
        guard let request = try? JSONDecoder().decode(Body.self, from: Data(json.readableBytesView)) else {
            throw Invalid(
                message:
                    "Expected {\"kind\": \"429|500|503|stall|truncated|malformed_json|401|close_idle|trickle|headers|raw\", ...}"
            )
        }
        path = request.path ?? "*"
        count = request.count
        duration = request.duration_seconds.map { .milliseconds(Int64($0 * 1000)) }
        switch request.kind {
        case "429": fault = .tooManyRequests(retryAfterSeconds: request.retry_after)
        case "500": fault = .internalServerError
        case "503": fault = .serviceUnavailableHTML
        case "stall": fault = .stall(delay: request.delay_seconds.map { .milliseconds(Int64($0 * 1000)) })
        case "truncated": fault = .truncatedBody
        case "malformed_json": fault = .malformedJSON
        case "401": fault = .unauthorized
        case "close_idle":
            fault = .closeIdleConnection(after: .milliseconds(Int64((request.after_seconds ?? 0.1) * 1000)))
        case "trickle":
            fault = .trickle(interval: .milliseconds(Int64((request.interval_seconds ?? 0.2) * 1000)), byte: 0x20)
        case "headers": fault = .overrideHeaders(request.headers ?? [:])
        case "raw": fault = .raw(try Self.rawAnswer(request))
        default: throw Invalid(message: "Unknown fault kind '\(request.kind)'")
        }
    }

    private static func rawAnswer(_ request: Body) throws(Invalid) -> RawAnswer {
        var body = Array((request.body ?? "").utf8)
        if let encoded = request.body_base64 {
            guard let decoded = Data(base64Encoded: encoded) else {
                throw Invalid(message: "body_base64 is not base64")
            }
            body = Array(decoded)
        }
        return RawAnswer(
            status: request.status ?? 200, headers: request.headers ?? ["Content-Type": "application/json"],
            chunk: body, repetitions: max(1, request.repeat ?? 1), declareLength: request.declare_length ?? true)
    }
}
