import Hummingbird

/// `GET /api/v1/sim`: the organisation's SIMs, found by the `q` filters the agent uses (`iccid`, `imsi`, …);
/// the other documented filter fields are accepted and ignored, unknown ones are a `422`.
struct SIMRoutes {
    let state: EmulatorState

    var collection: RouteCollection<EmulatorContext> {
        let routes = RouteCollection(context: EmulatorContext.self)
        routes.get("sim") { request, _ in findSIM(request.queryDictionary) }
        return routes
    }

    private func findSIM(_ query: [String: String]) -> Response {
        let fleet = state.withLock { $0.fleet }
        // Each criterion narrows the candidates; the lookups by ICCID, id and endpoint invert the
        // fleet's derivation, so a 10,000-SIM organisation is not scanned for them.
        var candidates: [Int]?
        var checks: [(SimIdentity) -> Bool] = []
        func narrow(_ index: Int?) {
            let found = index.map { [$0] } ?? []
            candidates = candidates.map { $0.filter(found.contains) } ?? found
        }
        if let q = query["q"], !q.isEmpty {
            for item in q.split(separator: ",") {
                guard let colon = item.firstIndex(of: ":") else { return .message(422, "Invalid filter '\(item)'") }
                let field = item[..<colon]
                let value = String(item[item.index(after: colon)...])
                switch field {
                case "iccid": narrow(fleet.index(ofICCID: value))
                case "iccid_with_luhn":
                    narrow(value.count == 20 ? fleet.index(ofICCID: String(value.prefix(19))) : nil)
                    checks.append { $0.iccidWithLuhn == value }
                case "id": narrow(Int64(value).flatMap { fleet.index(ofSimID: $0) })
                case "imsi": checks.append { $0.imsi == value }
                case "endpoint": narrow(Int64(value).flatMap { fleet.index(ofEndpointID: $0) })
                case "issuer_org", "reseller_org", "customer_org", "status", "production_date", "msisdn", "model",
                    "eid", "satellite_capable":
                    break
                default: return .message(422, "Invalid filter field '\(field)'")
                }
            }
        }
        let page = query["page"].map { Int($0) } ?? 1
        let perPage = query["per_page"].map { Int($0) } ?? 2000
        guard let page, page >= 1, let perPage, (1...2500).contains(perPage) else {
            return .message(400, "Invalid paging parameters")
        }
        let matching: [Int] =
            checks.isEmpty
            ? candidates ?? Array(0..<fleet.count)
            : (candidates ?? Array(0..<fleet.count)).filter { index in
                let sim = fleet.member(index)
                return checks.allSatisfy { $0(sim) }
            }
        let start = min(matching.count, (page - 1) * perPage)
        let sims = matching[start..<min(matching.count, start + perPage)].map { simObject(fleet.member($0)) }
        var headers = Response.pagingHeaders(total: matching.count, page: page, perPage: perPage, sort: "id")
        headers[.contentType] = "application/json; charset=utf-8"
        return .json(200, JSONValue.array(sims).rendered, headers: headers)
    }

    private func simObject(_ identity: SimIdentity) -> JSONValue {
        let org: JSONValue = .object([
            ("id", .int(identity.organisationID)), ("name", .string(identity.organisationName)),
        ])
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
}
