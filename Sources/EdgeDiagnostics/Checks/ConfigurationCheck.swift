import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// 1. The configuration file is found and valid; the application token is present (file,
/// environment or systemd credential) and its file is not readable by others.
struct ConfigurationCheck: DiagnosticCheck {
    let id = "configuration"
    let title = "Configuration"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        let path = session.inputs.configPath
        var details = ["config_file": path]
        if let problem = session.configurationProblem {
            return .fail(
                "the configuration cannot be used: \(problem)",
                next: "fix \(path) (run 'emnify-edge config check --config \(path)' for every problem with its line)",
                details: details)
        }
        guard let token = session.token else {
            return .fail(
                "no usable application token", next: session.tokenProblem ?? "provide the application token",
                details: details)
        }
        details["token_source"] = token.source.description
        if let finding = token.permissionFinding {
            details["token_file_mode"] = finding.modeText
            return .warn(
                "\(path) is valid, but the token file \(finding.path) has mode \(finding.modeText): others can read it",
                next: "chmod 600 \(finding.path) && chown emnify-edge:emnify-edge \(finding.path)", details: details)
        }
        if case .file(let tokenPath) = token.source {
            details["token_file_mode"] = "0600 or stricter"
            return .pass("\(path) is valid; token from \(tokenPath), not readable by others", details: details)
        }
        return .pass("\(path) is valid; token from the \(token.source)", details: details)
    }
}
