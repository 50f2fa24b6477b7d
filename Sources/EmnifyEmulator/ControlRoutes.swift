import FoundationEssentials
import Hummingbird
import NIOCore

/// The HTTP control interface under `/_emulator`, for tests and demos that run the emulator as a
/// child process. No authentication, not counted, never faulted: its router has none of the
/// emulated API's middlewares.
///
/// - `GET  /_emulator/info`: identity (ICCID, SIM and endpoint ids, token)
/// - `POST /_emulator/events` `{"type":"update_location","count":1,"timestamp":"…","source":"api","sim_id":…}`
///   (`type` omitted: the generator picks; `timestamp` in the past: a late event; `sim_id`
///   omitted: the first SIM)
/// - `POST /_emulator/events/generate` `{"count":100,"sims":"random"|[sim ids],"rate":50,"type":"…"}`:
///   events for the fleet's SIMs, at once (answer `{"ids":[…]}`) or `rate` per second in the
///   background (answer `{"scheduled":100}`); `type` omitted: each SIM's generator picks
/// - `POST /_emulator/events/raw`: one event object as JSON, stored and served unchanged
/// - `GET  /_emulator/sims?page=1&per_page=1000`: the fleet (`{"count":N,"sims":[{…}]}`)
/// - `POST /_emulator/sims` `{"count":10000}` (grow to) or `{"add":10}`: answer `{"count":N}`
/// - `POST /_emulator/streams`: a Data Streamer webhook stream, see `DataStreamRequest`; answer
///   `201 {"id":1,…}` (the stream as `GET` reports it)
/// - `GET  /_emulator/streams` (`{"streams":[…]}`), `GET /_emulator/streams/{id}`: status, delivered,
///   pending, requests, retries, failures, duplicates, last_error, last_status; headers masked
/// - `DELETE /_emulator/streams/{id}`, `POST /_emulator/streams/{id}/pause`, `…/restart`
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
        routes.post("events/generate") { request, _ in try await generateEvents(request.collectedBody()) }
        routes.get("sims") { request, _ in await sims(request.queryDictionary) }
        routes.post("sims") { request, _ in try await growFleet(request.collectedBody()) }
        routes.post("events/raw") { request, _ in try await injectRawEvent(request.collectedBody()) }
        routes.post("streams") { request, _ in try await createStream(request.collectedBody()) }
        routes.get("streams") { _, _ in
            let streams = await control.streams()
            return Response.json(200, JSONValue.object([("streams", .array(streams.map(\.json)))]).rendered)
        }
        routes.get("streams/{id}") { _, context in
            let id = context.parameters.get("id", as: Int.self)
            guard let stream = await control.streams().first(where: { $0.id == id }) else {
                return Response.message(404, "No stream with id \(context.parameters.get("id") ?? "")")
            }
            return Response.json(200, stream.json.rendered)
        }
        routes.delete("streams/{id}") { _, context in
            guard let id = context.parameters.get("id", as: Int.self), await control.deleteStream(id) else {
                return Response.message(404, "No stream with id \(context.parameters.get("id") ?? "")")
            }
            return Response.empty(204)
        }
        routes.post("streams/{id}/pause") { _, context in await pauseStream(context, paused: true) }
        routes.post("streams/{id}/restart") { _, context in await pauseStream(context, paused: false) }
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
            var sim_id: Int64?
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
        var sim = 0
        if let simID = inject.sim_id {
            guard let index = await control.fleet().index(ofSimID: simID) else {
                return .message(400, "The fleet has no SIM with id \(simID)")
            }
            sim = index
        }
        guard let kind = inject.type else {
            if sim > 0 {
                let ids = (try? await control.generate(count: count, sims: .simIDs([inject.sim_id ?? 0]))) ?? []
                return .json(200, #"{"generated":\#(ids.count)}"#)
            }
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
        let ids = await control.inject(kind, count: count, timestamp: date, source: source, sim: sim)
        return .json(200, JSONValue.object([("ids", .array(ids.map { .int($0) }))]).rendered)
    }

    private func generateEvents(_ body: ByteBuffer) async -> Response {
        enum SIMs: Decodable {
            case random
            case ids([Int64])
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let ids = try? container.decode([Int64].self) {
                    self = .ids(ids)
                } else if try container.decode(String.self) == "random" {
                    self = .random
                } else {
                    throw DecodingError.dataCorruptedError(
                        in: container, debugDescription: "'sims' is \"random\" or a list of SIM ids")
                }
            }
        }
        struct Generate: Decodable {
            var count: Int?
            var sims: SIMs?
            var rate: Double?
            var type: EventKind?
        }
        let generate: Generate
        do {
            generate =
                body.readableBytes == 0
                ? Generate() : try JSONDecoder().decode(Generate.self, from: Data(body.readableBytesView))
        } catch {
            return .message(400, "Invalid generate request: \(error)")
        }
        let count = generate.count ?? 1
        guard count >= 0, count <= 10_000_000 else { return .message(400, "count must be 0...10000000") }
        let choice: EmulatorControl.SIMChoice =
            switch generate.sims ?? .random {
            case .random: .random
            case .ids(let ids): .simIDs(ids)
            }
        do {
            if let rate = generate.rate {
                try await control.generate(count: count, sims: choice, type: generate.type, perSecond: rate)
                return .json(200, #"{"scheduled":\#(count)}"#)
            }
            let ids = try await control.generate(count: count, sims: choice, type: generate.type)
            return .json(200, JSONValue.object([("ids", .array(ids.map { .int($0) }))]).rendered)
        } catch {
            return .message(400, "\(error)")
        }
    }

    private func sims(_ query: [String: String]) async -> Response {
        let fleet = await control.fleet()
        let page = query["page"].map { Int($0) } ?? 1
        let perPage = query["per_page"].map { Int($0) } ?? 1000
        guard let page, page >= 1, let perPage, (1...100_000).contains(perPage) else {
            return .message(400, "Invalid paging: page >= 1, per_page 1...100000")
        }
        let start = min(fleet.count, (page - 1) * perPage)
        let members = (start..<min(fleet.count, start + perPage)).map { index -> JSONValue in
            let sim = fleet.member(index)
            return .object([
                ("index", .int(Int64(index))), ("sim_id", .int(sim.simID)),
                ("endpoint_id", sim.endpointID.map { .int($0) } ?? .null), ("iccid", .string(sim.iccid)),
                ("iccid_with_luhn", .string(sim.iccidWithLuhn)), ("imsi", .string(sim.imsi)),
            ])
        }
        return .json(200, JSONValue.object([("count", .int(Int64(fleet.count))), ("sims", .array(members))]).rendered)
    }

    private func growFleet(_ body: ByteBuffer) async -> Response {
        struct Grow: Decodable {
            var count: Int?
            var add: Int?
        }
        guard let grow = try? JSONDecoder().decode(Grow.self, from: Data(body.readableBytesView)),
            (grow.count == nil) != (grow.add == nil)
        else { return .message(400, #"Expected {"count":N} (grow to N SIMs) or {"add":N}"#) }
        do {
            var target = grow.count ?? 1
            if let add = grow.add { target = await control.fleet().count + add }
            let count = try await control.setSIMCount(target)
            return .json(200, #"{"count":\#(count)}"#)
        } catch {
            return .message(400, "\(error)")
        }
    }

    private func pauseStream(_ context: EmulatorContext, paused: Bool) async -> Response {
        guard let id = context.parameters.get("id", as: Int.self), await control.setStreamPaused(id, paused) else {
            return .message(404, "No stream with id \(context.parameters.get("id") ?? "")")
        }
        return .empty(204)
    }

    private func createStream(_ body: ByteBuffer) async -> Response {
        do {
            let request = try DataStreamRequest(json: Data(body.readableBytesView))
            let id = try await control.createStream(request)
            let stream = await control.streams().first { $0.id == id }
            return .json(201, stream?.json.rendered ?? #"{"id":\#(id)}"#)
        } catch {
            return .message(400, "\(error)")
        }
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
