import FoundationEssentials
import HTTPTypes
import Hummingbird
import NIOCore

/// The HTTP control interface, for tests and demos that run the emulator as a child process.
/// No authentication, not counted, never faulted.
///
/// - `GET  /_emulator/info`: identity (ICCID, SIM and endpoint ids, token)
/// - `POST /_emulator/events` `{"type":"update_location","count":1,"timestamp":"…","source":"api"}`
///   (`type` omitted: the generator picks; `timestamp` in the past: a late event)
/// - `POST /_emulator/events/raw`: one event object as JSON, stored and served unchanged
/// - `POST /_emulator/faults` `{"kind":"429","path":"/api/v1/*","count":2,"duration_seconds":5,
///   "retry_after":3,"delay_seconds":2,"after_seconds":1}`; kinds: `429`, `500`, `503`, `stall`,
///   `truncated`, `malformed_json`, `401`, `close_idle`, `trickle` (`"interval_seconds":0.2`),
///   `headers` (`"headers":{"X-Total-Pages":"-1"}` over the normal answer) and `raw`
///   (`"status":200,"headers":{…},"body":"…"` or `"body_base64":"…"`, `"repeat":1024`,
///   `"declare_length":false`: the body `repeat` times, streamed)
/// - `DELETE /_emulator/faults`
/// - `POST /_emulator/revoke-tokens`
/// - `POST /_emulator/connectivity-reset` `{"location":true,"pdp_context":false}`
/// - `GET  /_emulator/counters`
/// - `GET  /_emulator/tokens`: every JWT issued so far (`{"tokens":["eyJ…"]}`), for secret scans
/// - `POST /_emulator/reset`: counters, faults and authenticate limits
extension EmulatorResponder {
    func respondToControl(_ request: Request, path: String, body: ByteBuffer) async throws -> Response {
        let reply = await controlReply(request, path: path, body: body)
        return Response(
            status: .init(code: reply.status), headers: reply.headers,
            body: reply.status == 204 ? ResponseBody() : ResponseBody(byteBuffer: reply.body))
    }

    private func controlReply(_ request: Request, path: String, body: ByteBuffer) async -> Reply {
        let data = Data(body.readableBytesView)
        switch (request.method, path) {
        case (.get, "/_emulator/info"):
            let identity = state.identity
            let info: JSONValue = .object([
                ("iccid", .string(identity.iccidWithLuhn)), ("iccid_without_luhn", .string(identity.iccid)),
                ("sim_id", .int(identity.simID)), ("endpoint_id", identity.endpointID.map { .int($0) } ?? .null),
                ("imsi", .string(identity.imsi)), ("application_token", .string(state.configuration.applicationToken)),
                ("events", .int(Int64(await control.eventCount()))),
                ("connectivity", .string(await control.connectivityStatus())),
            ])
            return Self.json(200, info.rendered)

        case (.post, "/_emulator/events"):
            struct Inject: Decodable {
                let type: EventKind?
                let count: Int?
                let timestamp: String?
                let source: String?
            }
            let inject: Inject
            do {
                inject = body.readableBytes == 0 ? Inject(type: nil, count: nil, timestamp: nil, source: nil) : try JSONDecoder().decode(Inject.self, from: data)
            } catch {
                return Self.json(400, Self.messageBody("Invalid inject request: \(error)"))
            }
            let count = inject.count ?? 1
            guard let kind = inject.type else {
                await control.generate(count: count)
                return Self.json(200, #"{"generated":\#(count)}"#)
            }
            var date: Date?
            if let timestamp = inject.timestamp {
                guard let millis = EmulatorTime.parseEventTimestamp(timestamp) else {
                    return Self.json(400, Self.messageBody("Unreadable timestamp '\(timestamp)'"))
                }
                date = Date(timeIntervalSince1970: Double(millis) / 1000)
            }
            var source: EventSource?
            if let name = inject.source {
                guard let parsed = EventSource(name: name) else {
                    return Self.json(400, Self.messageBody("Unknown source '\(name)'"))
                }
                source = parsed
            }
            let ids = await control.inject(kind, count: count, timestamp: date, source: source)
            return Self.json(200, JSONValue.object([("ids", .array(ids.map { .int($0) }))]).rendered)

        case (.post, "/_emulator/events/raw"):
            do {
                let id = try await control.injectRaw(String(buffer: body))
                return Self.json(200, #"{"id":\#(id)}"#)
            } catch {
                return Self.json(400, Self.messageBody("\(error)"))
            }

        case (.post, "/_emulator/faults"):
            struct FaultRequest: Decodable {
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
            guard let request = try? JSONDecoder().decode(FaultRequest.self, from: data) else {
                return Self.json(400, Self.messageBody("Expected {\"kind\": \"429|500|503|stall|truncated|malformed_json|401|close_idle|trickle|headers|raw\", ...}"))
            }
            let fault: Fault
            switch request.kind {
            case "429": fault = .tooManyRequests(retryAfterSeconds: request.retry_after)
            case "500": fault = .internalServerError
            case "503": fault = .serviceUnavailableHTML
            case "stall": fault = .stall(delay: request.delay_seconds.map { .milliseconds(Int64($0 * 1000)) })
            case "truncated": fault = .truncatedBody
            case "malformed_json": fault = .malformedJSON
            case "401": fault = .unauthorized
            case "close_idle": fault = .closeIdleConnection(after: .milliseconds(Int64((request.after_seconds ?? 0.1) * 1000)))
            case "trickle": fault = .trickle(interval: .milliseconds(Int64((request.interval_seconds ?? 0.2) * 1000)), byte: 0x20)
            case "headers": fault = .overrideHeaders(request.headers ?? [:])
            case "raw":
                var body = Array((request.body ?? "").utf8)
                if let encoded = request.body_base64 {
                    guard let decoded = Data(base64Encoded: encoded) else {
                        return Self.json(400, Self.messageBody("body_base64 is not base64"))
                    }
                    body = Array(decoded)
                }
                let repetitions = max(1, request.repeat ?? 1)
                fault = .raw(
                    RawAnswer(
                        status: request.status ?? 200, headers: request.headers ?? ["Content-Type": "application/json"],
                        chunk: body, repetitions: repetitions, declareLength: request.declare_length ?? true))
            default: return Self.json(400, Self.messageBody("Unknown fault kind '\(request.kind)'"))
            }
            await control.injectFault(
                fault, path: request.path ?? "*", count: request.count,
                duration: request.duration_seconds.map { .milliseconds(Int64($0 * 1000)) })
            return Reply(status: 204)

        case (.delete, "/_emulator/faults"):
            await control.clearFaults()
            return Reply(status: 204)

        case (.post, "/_emulator/revoke-tokens"):
            await control.revokeTokens()
            return Reply(status: 204)

        case (.post, "/_emulator/connectivity-reset"):
            struct ResetRequest: Decodable {
                let location: Bool?
                let pdp_context: Bool?
            }
            let reset = try? JSONDecoder().decode(ResetRequest.self, from: data)
            await control.resetConnectivity(location: reset?.location ?? true, pdpContext: reset?.pdp_context ?? false)
            return Reply(status: 204)

        case (.get, "/_emulator/counters"):
            let counters = await control.counters()
            guard let encoded = try? JSONEncoder().encode(counters) else { return Reply(status: 500) }
            return Reply(
                status: 200, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: Array(encoded)))

        case (.get, "/_emulator/tokens"):
            let tokens = await control.issuedTokens()
            return Self.json(200, JSONValue.object([("tokens", .array(tokens.map { .string($0) }))]).rendered)

        case (.post, "/_emulator/reset"):
            await control.reset()
            return Reply(status: 204)

        default:
            return Self.notFound()
        }
    }
}
