import FoundationEssentials
import Hummingbird
import NIOCore

/// `GET /api/v1/endpoint/{id}` and `GET`/`PATCH /api/v1/endpoint/{id}/connectivity`: the
/// endpoint's details, its live connectivity, and the reset that makes the network re-attach.
struct EndpointRoutes {
    let state: EmulatorState
    let control: EmulatorControl

    var collection: RouteCollection<EmulatorContext> {
        let routes = RouteCollection(context: EmulatorContext.self)
        routes.get("endpoint/{id}") { _, context in
            unknownEndpoint(context.parameters.get("id")) ?? details()
        }
        routes.get("endpoint/{id}/connectivity") { _, context in
            unknownEndpoint(context.parameters.get("id")) ?? connectivity()
        }
        routes.patch("endpoint/{id}/connectivity") { request, context in
            if let unknown = unknownEndpoint(context.parameters.get("id")) { return unknown }
            return await resetConnectivity(try await request.collectedBody())
        }
        return routes
    }

    /// `400` for an id that is not a number, `404` for another endpoint than the emulated one.
    func unknownEndpoint(_ idText: String?) -> Response? {
        guard let id = idText.flatMap({ Int64($0) }) else { return .message(400, "endpoint_id must be a number") }
        guard id == state.identity.endpointID else {
            return .json(404, #"{"error_code":1002,"error_token":"endpoint_not_found","message":"Endpoint not found"}"#)
        }
        return nil
    }

    /// The status follows the event history: an `endpoint_blocked` event without a later
    /// enable shows as Disabled.
    private func details() -> Response {
        let identity = state.identity
        let blocked = state.withLock { $0.store.connectivityStatus.name == "BLOCKED" }
        let status: JSONValue = .object([
            ("id", .int(blocked ? 1 : 0)), ("description", .string(blocked ? "Disabled" : "Enabled")),
        ])
        let body = JSONValue.object([
            ("id", .int(identity.endpointID ?? 0)), ("name", .string(identity.endpointName)), ("tags", .null),
            ("created", .string(identity.productionDate)), ("last_updated", .string(identity.productionDate)),
            ("status", status),
            ("service_profile", .object([("id", 41), ("name", "Default Service Profile")])),
            ("tariff_profile", .object([("id", 11), ("name", "Default Tariff Profile")])),
            ("ip_address", .string(identity.endpointIPAddress)), ("imei", .string(identity.imei)), ("imei_lock", false),
            (
                "sim",
                .object([
                    ("id", .int(identity.simID)), ("iccid", .string(identity.iccid)), ("imsi", .string(identity.imsi)),
                ])
            ),
        ])
        return .json(200, body.rendered)
    }

    private func connectivity() -> Response {
        let (status, hasPDP, attached) = state.withLock {
            ($0.store.connectivityStatus, $0.store.hasPDPContext, $0.store.isAttached)
        }
        let identity = state.identity
        let now = EmulatorState.nowMillis
        let network = Operator.all[0]
        let location: JSONValue =
            attached
            ? .object([
                ("id", .int(identity.simID)), ("iccid", .string(identity.iccid)), ("imsi", .string(identity.imsi)),
                ("last_updated", .string(EmulatorTime.format(millis: now - 60_000, plusZero: false))),
                ("sgsn_number", .string("491720002125")), ("vlr_number", .string("491770940000")),
                (
                    "operator",
                    .object([("id", .int(network.id)), ("name", .string(network.name)), ("country", network.country)])
                ),
            ]) : .null
        let pdp: JSONValue =
            hasPDP
            ? .object([
                ("pdp_context_id", 79_790_039), ("endpoint_id", .int(identity.endpointID ?? 0)),
                ("tunnel_created", .string(EmulatorTime.format(millis: now - 120_000, plusZero: false))),
                ("ue_ip_address", .string(identity.endpointIPAddress)),
                ("rat_type", .object([("id", 6), ("description", "4G")])), ("apn", "em"), ("region", "eu-west-1"),
            ]) : .null
        let body = JSONValue.object([
            ("status", .object([("id", .int(Int64(status.id))), ("description", .string(status.name))])),
            ("location", location), ("pdp_context", pdp), ("services", .array(attached ? ["GPRS", "SMS"] : [])),
        ])
        return .json(200, body.rendered)
    }

    /// `{"location": null}` and/or `{"pdp_context": null}`: the key's presence asks for the reset.
    private func resetConnectivity(_ body: ByteBuffer) async -> Response {
        struct Reset: Decodable {
            let location: Bool
            let pdpContext: Bool
            enum CodingKeys: String, CodingKey {
                case location
                case pdpContext = "pdp_context"
            }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                location = container.contains(.location)
                pdpContext = container.contains(.pdpContext)
            }
        }
        guard let reset = try? JSONDecoder().decode(Reset.self, from: Data(body.readableBytesView)),
            reset.location || reset.pdpContext
        else {
            return .message(422, "Expected {\"location\": null} and/or {\"pdp_context\": null}")
        }
        await control.resetConnectivity(location: reset.location, pdpContext: reset.pdpContext)
        return .empty(204)
    }
}
