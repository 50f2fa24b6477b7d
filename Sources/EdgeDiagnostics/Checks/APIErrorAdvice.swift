import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// An `EmnifyError` as a diagnosis says it: what is wrong, and the next step for the person at
/// the gateway (the error's own description is written for the agent's log).
enum APIErrorAdvice {
    static func outcome(_ error: EmnifyError, doing what: String, details: [String: String] = [:]) -> CheckOutcome {
        switch error {
        case .applicationTokenRejected(let status, let message):
            return .fail(
                "emnify rejected the application token (HTTP \(status)\(message.isEmpty ? "" : ": \(message)"))",
                next:
                    "create a new application token in the emnify Portal (Integrations → Application tokens) and put it in "
                    + "[api] token_file, EMNIFY_APPLICATION_TOKEN or the systemd credential application-token; "
                    + "do not retry in a loop: 3 failed logins lock the account for 5 minutes",
                details: details)
        case .authenticationSuspended:
            return .fail(
                "\(what): \(error)",
                next:
                    "check the application token; a new token is tried at once, the same one only after that date (UTC)",
                details: details)
        case .unauthorized, .forbidden:
            return .fail(
                "\(what): \(error)", next: "check the application token's role in the emnify Portal", details: details)
        case .rateLimited:
            return .fail(
                "\(what): emnify's rate limit was hit",
                next: "wait a few minutes; raise [agent] poll_interval if it repeats",
                details: details)
        case .serverError(let status, _, _):
            return .fail(
                "\(what): emnify's API answered HTTP \(status) (service unavailable or failing)",
                next:
                    "a problem on emnify's side or a proxy in between: check https://status.emnify.com and retry later; "
                    + "the agent retries on its own", details: details)
        case .transport(let transportError, _):
            return .fail(
                "\(what): \(NetworkPathCheck.finding(transportError))",
                next: NetworkPathCheck.nextStep(transportError, proxy: nil), details: details)
        case .malformedResponse, .badRequest, .unexpectedStatus:
            return .fail(
                "\(what): \(error)", next: "retry; if it persists, report it with a support bundle (--bundle)",
                details: details)
        case .cancelled:
            return .fail("\(what): cancelled", next: "run diagnose again", details: details)
        }
    }
}
