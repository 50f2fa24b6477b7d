import Hummingbird

/// `GET /api/v1/sim`: the one SIM, found by the `q` filters the agent uses (`iccid`, `imsi`, …);
/// the other documented filter fields are accepted and ignored, unknown ones are a `422`.
struct SIMRoutes {
    let state: EmulatorState

    var collection: RouteCollection<EmulatorContext> {
        let routes = RouteCollection(context: EmulatorContext.self)
        routes.get("sim") { request, _ in findSIM(request.queryDictionary) }
        return routes
    }

    private func findSIM(_ query: [String: String]) -> Response {
        let identity = state.identity
        var matches = true
        if let q = query["q"], !q.isEmpty {
            for item in q.split(separator: ",") {
                guard let colon = item.firstIndex(of: ":") else { return .message(422, "Invalid filter '\(item)'") }
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
                default: return .message(422, "Invalid filter field '\(field)'")
                }
            }
        }
        let page = query["page"].map { Int($0) } ?? 1
        let perPage = query["per_page"].map { Int($0) } ?? 2000
        guard let page, page >= 1, let perPage, (1...2500).contains(perPage) else {
            return .message(400, "Invalid paging parameters")
        }
        let sims: [JSONValue] = matches && page == 1 ? [simObject()] : []
        var headers = Response.pagingHeaders(total: matches ? 1 : 0, page: page, perPage: perPage, sort: "id")
        headers[.contentType] = "application/json; charset=utf-8"
        return .json(200, JSONValue.array(sims).rendered, headers: headers)
    }

    private func simObject() -> JSONValue {
        let identity = state.identity
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
