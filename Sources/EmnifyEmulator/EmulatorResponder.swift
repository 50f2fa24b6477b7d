import FoundationEssentials
import HTTPTypes
import Hummingbird
import NIOCore

/// Routes requests like the emnify API does. One responder per emulator instance.
struct EmulatorResponder: HTTPResponder {
    typealias Context = EmulatorContext
    let state: EmulatorState
    let control: EmulatorControl

    func respond(to request: Request, context: EmulatorContext) async throws -> Response {
        var request = request
        let path = request.uri.path
        let body = try await request.collectBody(upTo: 4 << 20)
        if path.hasPrefix("/_emulator/") || path == "/_emulator" {
            return try await respondToControl(request, path: path, body: body)
        }
        let connection = ObjectIdentifier(context.channel)
        let isNewConnection = state.withLock { inner in
            inner.counters.totalRequests += 1
            inner.counters.requestsPerPath[path, default: 0] += 1
            inner.counters.bytesIn += Self.headSize(request) + body.readableBytes
            let isNew = inner.connectionActivity[connection] == nil
            if isNew { inner.counters.connections += 1 }
            inner.connectionActivity[connection, default: 0] += 1
            return isNew
        }
        if isNewConnection {
            let state = self.state
            context.channel.closeFuture.whenComplete { _ in
                state.withLock { _ = $0.connectionActivity.removeValue(forKey: connection) }
            }
        }

        var response: Reply
        var truncate = false
        if let fault = state.takeFault(path: path) {
            switch fault {
            case .tooManyRequests(let retryAfter):
                var headers: HTTPFields = [:]
                if let retryAfter { headers[.retryAfter] = String(retryAfter) }
                response = Self.json(429, #"{"error_code":429,"error_token":"too_many_requests","message":"Too Many Requests"}"#, headers: headers)
            case .internalServerError:
                response = Self.json(500, #"{"error_code":500,"error_token":"internal_error","message":"Internal Server Error"}"#)
            case .serviceUnavailableHTML:
                response = Self.text(
                    503,
                    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
                        + "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n",
                    contentType: "text/html")
            case .stall(let delay):
                let deadline = delay.map { ContinuousClock.now + $0 }
                while !state.isStopping && !Task.isCancelled {
                    if let deadline, ContinuousClock.now >= deadline { break }
                    try? await Task.sleep(for: .milliseconds(25))
                }
                if deadline == nil || state.isStopping || Task.isCancelled { throw StalledForever() }
                response = try await route(request, path: path, body: body)
            case .truncatedBody:
                response = try await route(request, path: path, body: body)
                truncate = true
            case .malformedJSON:
                response = Self.json(200, #"[{"timestamp":"2021-10-27T08:38:02.000Z","alert":false,"id":28147497671"#)
            case .unauthorized:
                response = Reply(status: 401)
            case .closeIdleConnection(let after):
                response = try await route(request, path: path, body: body)
                let channel = context.channel
                let state = self.state
                Task {
                    let seen = state.withLock { $0.connectionActivity[connection] }
                    try? await Task.sleep(for: after)
                    if state.withLock({ $0.connectionActivity[connection] }) == seen {
                        try? await channel.close()
                    }
                }
            case .raw(let answer):
                return rawResponse(answer)
            case .trickle(let interval, let byte):
                return trickleResponse(interval: interval, byte: byte)
            case .overrideHeaders(let replacements):
                response = try await route(request, path: path, body: body)
                for (name, value) in replacements {
                    guard let field = HTTPField.Name(name) else { continue }
                    response.headers[field] = value
                }
            }
        } else {
            response = try await route(request, path: path, body: body)
        }
        return finish(response, request: request, truncate: truncate)
    }

    struct StalledForever: Error {}
    struct Truncated: Error {}

    /// Applies gzip, counts the response, and for the truncation fault declares more bytes than
    /// it sends, then fails the write so the connection closes.
    private func finish(_ reply: Reply, request: Request, truncate: Bool) -> Response {
        var headers = reply.headers
        var buffer = reply.body
        let status = reply.status
        let acceptsGzip = request.headers[.acceptEncoding]?.lowercased().contains("gzip") ?? false
        var chunked = false
        if acceptsGzip, status == 200, buffer.readableBytes > 0, !truncate {
            let compressed = Gzip.compress(buffer.readBytes(length: buffer.readableBytes) ?? [])
            buffer = ByteBuffer(bytes: compressed)
            headers[.contentEncoding] = "gzip"
            chunked = true
        }
        if status == 200 || status == 304 {
            headers[.vary] = "Accept-Encoding"
        }
        let size = buffer.readableBytes
        let sent = truncate ? size / 2 : size
        let headSize = Self.headSize(status: status, headers: headers) + (chunked ? 28 : 20)
        state.withLock { inner in
            inner.counters.statusCodes[String(status), default: 0] += 1
            inner.counters.bytesOut += headSize + sent
        }
        if status == 204 || status == 304 {
            return Response(status: .init(code: status), headers: headers)
        }
        if truncate {
            let half = buffer.getSlice(at: buffer.readerIndex, length: sent) ?? ByteBuffer()
            headers[.contentLength] = String(size)
            return Response(
                status: .init(code: status), headers: headers,
                body: ResponseBody { writer in
                    try await writer.write(half)
                    throw Truncated()
                })
        }
        if chunked {
            let body = buffer
            return Response(
                status: .init(code: status), headers: headers,
                body: ResponseBody { writer in
                    // Two chunks, as a streaming backend would send them.
                    let firstLength = body.readableBytes / 2
                    let first = body.getSlice(at: body.readerIndex, length: firstLength) ?? ByteBuffer()
                    let second =
                        body.getSlice(at: body.readerIndex + firstLength, length: body.readableBytes - firstLength)
                        ?? ByteBuffer()
                    try await writer.write(first)
                    try await writer.write(second)
                    try await writer.finish(nil)
                })
        }
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    // MARK: API routes

    private func route(_ request: Request, path: String, body: ByteBuffer) async throws -> Reply {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count >= 3, parts[0] == "api", parts[1] == "v1" else { return Self.notFound() }
        let method = request.method
        let rest = Array(parts[2...])

        if rest == ["authenticate"] {
            guard method == .post else { return Self.methodNotAllowed() }
            return authenticate(body)
        }
        let verdict = state.withLock {
            $0.tokens.verify(authorization: request.headers[.authorization], nowSeconds: EmulatorState.nowSeconds)
        }
        if case .rejected(let message) = verdict {
            if let message { return Self.json(401, Self.messageBody(message)) }
            return Reply(status: 401)
        }
        let query = Self.parameters(request)
        switch (method, rest.count) {
        case (.get, 1) where rest[0] == "sim":
            return findSIM(query)
        case (.get, 1) where rest[0] == "event":
            return eventFeed(.organisation, query: query, request: request)
        case (.get, 2) where rest == ["event", "type"]:
            let items = EventCatalog.types.map { JSONValue.object([("id", .int(Int64($0.0))), ("description", .string($0.1))]) }
            return Self.json(200, JSONValue.array(items).rendered)
        case (.get, 3) where rest[2] == "event" && (rest[0] == "endpoint" || rest[0] == "sim"):
            guard let id = Int64(rest[1]) else {
                return Self.json(400, Self.messageBody("\(rest[0])_id must be a number"))
            }
            return eventFeed(rest[0] == "sim" ? .sim(id) : .endpoint(id), query: query, request: request)
        case (.get, 2) where rest[0] == "endpoint":
            guard let id = Int64(rest[1]) else { return Self.json(400, Self.messageBody("endpoint_id must be a number")) }
            guard id == state.identity.endpointID else {
                return Self.json(404, #"{"error_code":1002,"error_token":"endpoint_not_found","message":"Endpoint not found"}"#)
            }
            return endpointDetails()
        case (_, 3) where rest[0] == "endpoint" && rest[2] == "connectivity":
            guard let id = Int64(rest[1]) else { return Self.json(400, Self.messageBody("endpoint_id must be a number")) }
            guard id == state.identity.endpointID else {
                return Self.json(404, #"{"error_code":1002,"error_token":"endpoint_not_found","message":"Endpoint not found"}"#)
            }
            if method == .get { return connectivity() }
            if method == .patch { return await resetConnectivity(body) }
            return Self.methodNotAllowed()
        default:
            return Self.notFound()
        }
    }

    private func authenticate(_ body: ByteBuffer) -> Reply {
        struct Credentials: Decodable { let application_token: String? }
        let token = (try? JSONDecoder().decode(Credentials.self, from: Data(body.readableBytesView)))?.application_token
        let configuration = state.configuration
        let now = EmulatorState.nowSeconds
        enum Outcome { case issued(String), limited, locked, wrong }
        let outcome: Outcome = state.withLock { inner in
            if configuration.enforceAuthenticationLimits {
                inner.authenticationTimes.removeAll { $0 < now - 300 }
                if inner.authenticationTimes.count >= 100 { return .limited }
                inner.authenticationTimes.append(now)
                if let until = inner.loginLockedUntil, now < until {
                    inner.counters.failedAuthentications += 1
                    return .locked
                }
            }
            guard token == configuration.applicationToken else {
                inner.counters.failedAuthentications += 1
                inner.consecutiveFailedLogins += 1
                if inner.consecutiveFailedLogins >= 3 && configuration.enforceAuthenticationLimits {
                    inner.loginLockedUntil = now + 300
                    inner.consecutiveFailedLogins = 0
                }
                return .wrong
            }
            inner.consecutiveFailedLogins = 0
            inner.counters.authentications += 1
            return .issued(inner.tokens.issue(nowSeconds: now, lifetime: configuration.tokenLifetime))
        }
        switch outcome {
        case .issued(let jwt): return Self.json(200, #"{"auth_token":"\#(jwt)"}"#)
        case .limited:
            return Self.json(429, Self.messageBody("Too many authentication requests"), headers: [.retryAfter: "300"])
        case .locked:
            return Self.json(401, Self.messageBody("Account locked after 3 failed logins; try again in 5 minutes"))
        case .wrong:
            return Self.json(401, #"{"error_code":401,"error_token":"invalid_credentials","message":"Invalid application token"}"#)
        }
    }

    private func findSIM(_ query: [String: String]) -> Reply {
        let identity = state.identity
        var matches = true
        if let q = query["q"], !q.isEmpty {
            for item in q.split(separator: ",") {
                guard let colon = item.firstIndex(of: ":") else {
                    return Self.json(422, Self.messageBody("Invalid filter '\(item)'"))
                }
                let field = item[..<colon]
                let value = String(item[item.index(after: colon)...])
                switch field {
                case "iccid": matches = matches && value == identity.iccid
                case "iccid_with_luhn": matches = matches && value == identity.iccidWithLuhn
                case "id": matches = matches && value == String(identity.simID)
                case "imsi": matches = matches && value == identity.imsi
                case "endpoint": matches = matches && value == identity.endpointID.map { String($0) }
                case "issuer_org", "reseller_org", "customer_org", "status", "production_date", "msisdn", "model",
                    "eid", "satellite_capable":
                    break
                default: return Self.json(422, Self.messageBody("Invalid filter field '\(field)'"))
                }
            }
        }
        let page = query["page"].map { Int($0) } ?? 1
        let perPage = query["per_page"].map { Int($0) } ?? 2000
        guard let page, page >= 1, let perPage, (1...2500).contains(perPage) else {
            return Self.json(400, Self.messageBody("Invalid paging parameters"))
        }
        let sims: [JSONValue] = matches && page == 1 ? [simObject()] : []
        var headers = Self.pagingHeaders(total: matches ? 1 : 0, page: page, perPage: perPage, sort: "id")
        headers[.contentType] = "application/json; charset=utf-8"
        return Self.json(200, JSONValue.array(sims).rendered, headers: headers)
    }

    private func simObject() -> JSONValue {
        let identity = state.identity
        let org: JSONValue = .object([("id", .int(identity.organisationID)), ("name", .string(identity.organisationName))])
        var members: [(String, JSONValue)] = [
            ("id", .int(identity.simID)), ("iccid", .string(identity.iccid)),
            ("iccid_with_luhn", .string(identity.iccidWithLuhn)),
            ("production_date", .string(identity.productionDate)),
            ("activation_date", "2021-01-05T09:12:44.000Z"),
            ("status", .object([("id", 1), ("description", "Activated")])),
            ("customer_org", org), ("issuer_org", .object([("id", 1), ("name", "emnify GmbH")])),
            ("reseller_org", .null),
            ("imsi", .string(identity.imsi)), ("msisdn", .string("423" + identity.imsi.suffix(9))),
            ("model", .object([("id", 1), ("description", "Triple-Cut SIM")])),
        ]
        if let endpointID = identity.endpointID {
            members.insert(
                (
                    "endpoint",
                    .object([
                        ("id", .int(endpointID)), ("name", .string(identity.endpointName)),
                        ("ip_address", .string(identity.endpointIPAddress)), ("imei", .string(identity.imei)),
                        ("tags", .null),
                    ])
                ), at: 8)
        }
        return .object(members)
    }

    private func eventFeed(_ feed: EventQuery.Feed, query parameters: [String: String], request: Request) -> Reply {
        let query: EventQuery
        do {
            query = try EventQuery(parameters: parameters)
        } catch {
            return Self.json(error.status, Self.messageBody(error.message))
        }
        let identity = state.identity
        let seed = state.configuration.seed
        // Select under the lock (a copy of the matching records), render outside it.
        var selected = state.withLock { inner in
            inner.store.events.filter { query.matches($0, feed: feed, identity: identity) }
        }
        // The store is mostly in time order already: checking is linear, sorting is not.
        if !query.isDefaultOrder, zip(selected, selected.dropFirst()).contains(where: { query.ordered($1, $0) }) {
            selected.sort(by: query.ordered)
        }
        let total = selected.count
        let start = min(total, (query.page - 1) * query.perPage)
        let end = min(total, start + query.perPage)
        var body = "["
        body.reserveCapacity((end - start) * 1_300 + 2)  // a generated event is about 1.2 KB
        for (index, event) in selected[start..<end].enumerated() {
            if index > 0 { body += "," }
            body += event.json(identity: identity, seed: seed)
        }
        body += "]"
        var headers = Self.pagingHeaders(total: total, page: query.page, perPage: query.perPage, sort: query.sortText)
        headers[.contentType] = "application/json; charset=utf-8"
        let etag = Self.weakETag(body)
        headers[.eTag] = etag
        headers[HTTPField.Name("link")!] = ""
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmed == etag }) {
            headers[.contentType] = nil
            return Reply(status: 304, headers: headers)
        }
        return Self.json(200, body, headers: headers)
    }

    /// `GET /api/v1/endpoint/{id}`: the endpoint's details; its status follows the event history
    /// (an `endpoint_blocked` event without a later enable shows as Disabled).
    private func endpointDetails() -> Reply {
        let identity = state.identity
        let blocked = state.withLock { $0.store.connectivityStatus.name == "BLOCKED" }
        let status: JSONValue = .object([("id", .int(blocked ? 1 : 0)), ("description", .string(blocked ? "Disabled" : "Enabled"))])
        let body = JSONValue.object([
            ("id", .int(identity.endpointID ?? 0)), ("name", .string(identity.endpointName)), ("tags", .null),
            ("created", .string(identity.productionDate)), ("last_updated", .string(identity.productionDate)),
            ("status", status),
            ("service_profile", .object([("id", 41), ("name", "Default Service Profile")])),
            ("tariff_profile", .object([("id", 11), ("name", "Default Tariff Profile")])),
            ("ip_address", .string(identity.endpointIPAddress)), ("imei", .string(identity.imei)), ("imei_lock", false),
            ("sim", .object([("id", .int(identity.simID)), ("iccid", .string(identity.iccid)), ("imsi", .string(identity.imsi))])),
        ])
        return Self.json(200, body.rendered)
    }

    private func connectivity() -> Reply {
        let (status, hasPDP, attached) = state.withLock {
            ($0.store.connectivityStatus, $0.store.hasPDPContext, $0.store.isAttached)
        }
        let identity = state.identity
        var members: [(String, JSONValue)] = [
            ("status", .object([("id", .int(Int64(status.id))), ("description", .string(status.name))]))
        ]
        let network = Operator.all[0]
        let location: JSONValue =
            attached
            ? .object([
                ("id", .int(identity.simID)), ("iccid", .string(identity.iccid)), ("imsi", .string(identity.imsi)),
                ("last_updated", .string(EmulatorTime.format(millis: EmulatorState.nowMillis - 60_000, plusZero: false))),
                ("sgsn_number", .string("491720002125")), ("vlr_number", .string("491770940000")),
                ("operator", .object([("id", .int(network.id)), ("name", .string(network.name)), ("country", network.country)])),
            ]) : .null
        members.append(("location", location))
        let pdp: JSONValue =
            hasPDP
            ? .object([
                ("pdp_context_id", 79_790_039), ("endpoint_id", .int(identity.endpointID ?? 0)),
                ("tunnel_created", .string(EmulatorTime.format(millis: EmulatorState.nowMillis - 120_000, plusZero: false))),
                ("ue_ip_address", .string(identity.endpointIPAddress)), ("rat_type", .object([("id", 6), ("description", "4G")])),
                ("apn", "em"), ("region", "eu-west-1"),
            ]) : .null
        members.append(("pdp_context", pdp))
        members.append(("services", .array(attached ? ["GPRS", "SMS"] : [])))
        return Self.json(200, JSONValue.object(members).rendered)
    }

    private func resetConnectivity(_ body: ByteBuffer) async -> Reply {
        struct Reset: Decodable {
            let location: Bool
            let pdpContext: Bool
            enum CodingKeys: String, CodingKey {
                case location
                case pdpContext = "pdp_context"
            }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                // The key's presence with `null` is what asks for the reset.
                location = container.contains(.location)
                pdpContext = container.contains(.pdpContext)
            }
        }
        guard let reset = try? JSONDecoder().decode(Reset.self, from: Data(body.readableBytesView)),
            reset.location || reset.pdpContext
        else {
            return Self.json(422, Self.messageBody("Expected {\"location\": null} and/or {\"pdp_context\": null}"))
        }
        await control.resetConnectivity(location: reset.location, pdpContext: reset.pdpContext)
        return Reply(status: 204)
    }
}

// MARK: Helpers

extension EmulatorResponder {
    static func json(_ status: Int, _ body: String, headers: HTTPFields = [:]) -> Reply {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "application/json; charset=utf-8" }
        return Reply(status: status, headers: headers, body: ByteBuffer(string: body))
    }

    static func text(_ status: Int, _ body: String, contentType: String) -> Reply {
        Reply(status: status, headers: [.contentType: contentType], body: ByteBuffer(string: body))
    }

    static func messageBody(_ message: String) -> String {
        var out = #"{"message":"#
        JSONValue.appendQuoted(message, to: &out)
        return out + "}"
    }

    static func notFound() -> Reply { json(404, messageBody("Not Found")) }
    static func methodNotAllowed() -> Reply { json(405, messageBody("Method Not Allowed")) }

    static func parameters(_ request: Request) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { result[String(key)] = String(value) }
        return result
    }

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

    static func headSize(_ request: Request) -> Int {
        var size = request.method.rawValue.utf8.count + (request.uri.description.utf8.count) + 12
        for field in request.headers { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        return size + 2
    }

    static func headSize(status: Int, headers: HTTPFields) -> Int {
        var size = 17 + HTTPResponse.Status(code: status).reasonPhrase.utf8.count
        for field in headers { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        return size + 2
    }
}

extension Substring {
    var trimmed: Substring {
        var value = self
        while let first = value.first, first.isWhitespace { value = value.dropFirst() }
        while let last = value.last, last.isWhitespace { value = value.dropLast() }
        return value
    }
}

/// A response before gzip, counting and fault shaping turn it into a Hummingbird `Response`.
struct Reply: Sendable {
    var status: Int
    var headers: HTTPFields = [:]
    var body = ByteBuffer()
}
