import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// 5. The emnify account: the token authenticates, the SIM is found by ICCID and assigned to
/// an endpoint; SIM status.
struct AccountCheck: DiagnosticCheck {
    let id = "account"
    let title = "emnify account"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        guard session.token != nil else {
            return .blocked(by: "configuration", "there is no application token")
        }
        guard let iccid = session.modemReport?.iccid else {
            return .blocked(by: "modem", "the modem gave no ICCID to look up")
        }
        let client: EmnifyClient
        do {
            guard let made = try session.makeClient() else { return .blocked(by: "configuration", "no client") }
            client = made
        } catch {
            return .fail("the HTTP client cannot be set up: \(error)", next: "check [api] in the configuration")
        }
        var details: [String: String] = ["iccid": iccid.normalized]
        do {
            try await client.authenticate()
        } catch {
            session.accountProblem = "\(error)"
            return APIErrorAdvice.outcome(error, doing: "authentication failed", details: details)
        }
        if let expires = await client.tokenExpiresAt {
            details["jwt_expires"] = UTCDateTime(secondsSinceEpoch: expires).iso8601
        }
        let found: SIM?
        do {
            found = try await client.findSIM(iccid: iccid)
        } catch {
            session.accountProblem = "\(error)"
            return APIErrorAdvice.outcome(error, doing: "the SIM lookup failed", details: details)
        }
        guard let sim = found else {
            session.accountProblem = "SIM not found"
            return .fail(
                "the token works, but no SIM with ICCID \(iccid) is in this emnify organisation",
                next: "check that the application token belongs to the organisation that owns this SIM "
                    + "(Portal → Connected devices → SIMs, search the ICCID); a 20-digit ICCID includes the Luhn check digit",
                details: details)
        }
        session.sim = sim
        details["sim_id"] = String(sim.id)
        details["sim_status"] = sim.status ?? "unknown"
        guard let endpoint = sim.endpoint else {
            return .fail(
                "SIM \(sim.id) (ICCID \(iccid)) is not assigned to an endpoint",
                next:
                    "assign the SIM to a device (endpoint) in the emnify Portal; without an endpoint it gets no service "
                    + "and the agent can only show the SIM's events",
                details: details)
        }
        details["endpoint_id"] = String(endpoint.id)
        details["endpoint_name"] = endpoint.name
        let name = endpoint.name.map { "'\($0)' " } ?? ""
        var endpointStatus = "status unknown"
        do {
            let endpointDetails = try await client.endpoint(id: endpoint.id)
            endpointStatus = endpointDetails.status ?? endpointStatus
        } catch {
            return APIErrorAdvice.outcome(error, doing: "reading the endpoint failed", details: details)
        }
        details["endpoint_status"] = endpointStatus
        let summary =
            "token valid; SIM \(sim.id) (\(sim.status ?? "status unknown")) on endpoint \(name)(\(endpoint.id), \(endpointStatus))"
        if endpointStatus.lowercased() == "disabled" {
            return .fail(
                summary,
                next: "the endpoint is disabled: enable it in the emnify Portal (Connected devices), or look for an "
                    + "'Endpoint blocked' event in 'emnify-edge events'",
                details: details)
        }
        switch sim.status?.lowercased() {
        case "activated", nil:
            return .pass(summary, details: details)
        case "suspended", "deleted":
            return .fail(summary, next: "the SIM is \(sim.status!): activate it in the emnify Portal", details: details)
        default:
            return .warn(summary, next: "the SIM is not activated: activate it in the emnify Portal", details: details)
        }
    }
}
