import FoundationEssentials
import Hummingbird
import NIOCore

/// The HTTP control interface under `/_emulator`, for tests and demos that run the emulator as a
/// child process. No authentication, not counted, never faulted: its router has none of the
/// emulated API's middlewares.
///
/// - `GET  /_emulator/info`: identity (ICCID, SIM and endpoint ids, token)
/// - `POST /_emulator/events` `{"type":"update_location","count":1,"timestamp":"…","source":"api"}`
///   (`type` omitted: the generator picks; `timestamp` in the past: a late event)
/// - `POST /_emulator/events/raw`: one event object as JSON, stored and served unchanged
/// - `POST /_emulator/faults`: see `FaultRequest`
/// - `DELETE /_emulator/faults`
/// - `POST /_emulator/revoke-tokens`
/// - `POST /_emulator/connectivity-reset` `{"location":true,"pdp_context":false}`
/// - `GET  /_emulator/counters`
/// - `GET  /_emulator/tokens`: every JWT issued so far (`{"tokens":["eyJ…"]}`), for secret scans
/// - `POST /_emulator/reset`: counters, faults and authenticate limits
struct ControlRoutes {
    let state: EmulatorState
    let control: EmulatorControl

    var collection: RouteCollection<EmulatorContext> {
        let routes = RouteCollection(context: EmulatorContext.self)
        routes.get("info") { _, _ in await info() }
        routes.post("events") { request, _ in try await injectEvents(request.collectedBody()) }
        routes.post("events/raw") { request, _ in try await injectRawEvent(request.collectedBody()) }
        routes.post("faults") { request, _ in try await injectFault(request.collectedBody()) }
        routes.delete("faults") { _, _ in
            await control.clearFaults()
            return Response.empty(204)
        }
        routes.post("revoke-tokens") { _, _ in
            await control.revokeTokens()
            return Response.empty(204)
        }
        routes.post("connectivity-reset") { request, _ in try await resetConnectivity(request.collectedBody()) }
        routes.get("counters") { _, _ in await counters() }
        routes.get("tokens") { _, _ in
            let tokens = await control.issuedTokens()
            return Response.json(200, JSONValue.object([("tokens", .array(tokens.map { .string($0) }))]).rendered)
        }
        routes.post("reset") { _, _ in
            await control.reset()
            return Response.empty(204)
        }
        return routes
    }

    private func info() async -> Response {
        let identity = state.identity
        let info: JSONValue = .object([
            ("iccid", .string(identity.iccidWithLuhn)), ("iccid_without_luhn", .string(identity.iccid)),
            ("sim_id", .int(identity.simID)), ("endpoint_id", identity.endpointID.map { .int($0) } ?? .null),
            ("imsi", .string(identity.imsi)), ("application_token", .string(state.configuration.applicationToken)),
            ("events", .int(Int64(await control.eventCount()))),
            ("connectivity", .string(await control.connectivityStatus())),
        ])
        return .json(200, info.rendered)
    }

    private func injectEvents(_ body: ByteBuffer) async -> Response {
        struct Inject: Decodable {
            var type: EventKind?
            var count: Int?
            var timestamp: String?
            var source: String?
        }
        let inject: Inject
        do {
            inject =
                body.readableBytes == 0
                ? Inject() : try JSONDecoder().decode(Inject.self, from: Data(body.readableBytesView))
        } catch {
            return .message(400, "Invalid inject request: \(error)")
        }
        let count = inject.count ?? 1
        guard let kind = inject.type else {
            await control.generate(count: count)
            return .json(200, #"{"generated":\#(count)}"#)
        }
        var date: Date?
        if let timestamp = inject.timestamp {
            guard let millis = EmulatorTime.parseEventTimestamp(timestamp) else {
                return .message(400, "Unreadable timestamp '\(timestamp)'")
            }
            date = Date(timeIntervalSince1970: Double(millis) / 1000)
        }
        var source: EventSource?
        if let name = inject.source {
            guard let parsed = EventSource(name: name) else { return .message(400, "Unknown source '\(name)'") }
            source = parsed
        }
        let ids = await control.inject(kind, count: count, timestamp: date, source: source)
        return .json(200, JSONValue.object([("ids", .array(ids.map { .int($0) }))]).rendered)
    }

    private func injectRawEvent(_ body: ByteBuffer) async -> Response {
        do {
            let id = try await control.injectRaw(String(buffer: body))
            return .json(200, #"{"id":\#(id)}"#)
        } catch {
            return .message(400, "\(error)")
        }
    }

    private func injectFault(_ body: ByteBuffer) async -> Response {
        let request: FaultRequest
        do {
            request = try FaultRequest(json: body)
        } catch {
            return .message(400, error.message)
        }
        await control.injectFault(request.fault, path: request.path, count: request.count, duration: request.duration)
        return .empty(204)
    }

    private func resetConnectivity(_ body: ByteBuffer) async -> Response {
        struct ResetRequest: Decodable {
            let location: Bool?
            let pdp_context: Bool?
        }
        let reset = try? JSONDecoder().decode(ResetRequest.self, from: Data(body.readableBytesView))
        await control.resetConnectivity(location: reset?.location ?? true, pdpContext: reset?.pdp_context ?? false)
        return .empty(204)
    }

    private func counters() async -> Response {
        let counters = await control.counters()
        guard let encoded = try? JSONEncoder().encode(counters) else { return .empty(500) }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(encoded))))
    }
}
