import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// 6. emnify's view of connectivity (`GET /api/v1/endpoint/{id}/connectivity`), compared with
/// what the modem reports, with the likely reason when they disagree.
struct ConnectivityCheck: DiagnosticCheck {
    let id = "connectivity"
    let title = "emnify's view of connectivity"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        guard let endpoint = session.sim?.endpoint, let client = session.client else {
            return .blocked(by: "account", "no endpoint to ask about")
        }
        let status: ConnectivityStatus
        do {
            status = try await client.connectivity(endpointID: endpoint.id)
        } catch {
            return APIErrorAdvice.outcome(error, doing: "the connectivity status cannot be read")
        }
        session.emnifyConnectivity = status
        let name = status.status.uppercased()
        var details = ["emnify_status": name]
        let registration = session.modemReport?.registration
        details["modem_registration"] =
            registration?.rawValue ?? "not known (source \(session.modemReport?.source.rawValue ?? "none"))"
        let modemRegistered = registration?.isRegistered

        switch (name, modemRegistered) {
        case ("BLOCKED", _):
            return .fail(
                "emnify reports the endpoint BLOCKED",
                next:
                    "check the endpoint's service profile, tariff and data quota in the Portal; see the recent events for why",
                details: details)
        case ("ONLINE", false), ("ATTACHED", false):
            return .warn(
                "emnify sees the device \(name), but the modem reports \(registration!.rawValue)",
                next: "the device lost coverage moments ago (emnify updates on the next network event) or the modem "
                    + "reading is stale; check again in a minute", details: details)
        case ("OFFLINE", true):
            return .warn(
                "the modem is registered (\(registration!.rawValue)) but emnify sees the device OFFLINE",
                next: "the modem is likely on a network the SIM is not allowed on (roaming restrictions in the tariff) "
                    + "or registered with another SIM/profile; compare the operator with the tariff's coverage",
                details: details)
        case ("OFFLINE", _):
            return .warn(
                "emnify sees the device OFFLINE", next: "check the modem and antenna; see the recent events",
                details: details)
        case ("ONLINE", _):
            return .pass("ONLINE: attached with a data session" + Self.agreement(modemRegistered), details: details)
        case ("ATTACHED", _):
            return .pass(
                "ATTACHED: on the network without a data session" + Self.agreement(modemRegistered), details: details)
        default:
            return .warn(
                "emnify reports an unknown status '\(status.status)'", next: "see the recent events", details: details)
        }
    }

    static func agreement(_ registered: Bool?) -> String {
        registered == true ? "; agrees with the modem" : ""
    }
}
