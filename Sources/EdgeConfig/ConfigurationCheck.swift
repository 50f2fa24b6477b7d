import EdgeCommon
import FoundationEssentials

/// The one validation of a configuration, used by `emnify-edge config check` and by `run` (at
/// start and on every SIGHUP), so that what the check passes is what the agent runs with: the
/// file's problems, the application token (from the same sources in the same order as `run`: the
/// environment, the systemd credential, `api.token_file`), the broker password file, and the state
/// directory. For the relay's file (`role: .relay`, what `emnify-edge relay` is to validate with)
/// also the webhook token and the TLS certificate and key. Never holds a secret's value in its output.
public struct ConfigurationCheck: Sendable {
    public let path: String
    public let role: ConfigurationRole
    public let configuration: EdgeConfiguration?
    public let error: ConfigurationError?
    /// nil when the configuration could not be loaded.
    public let token: Result<Secret, SecretError>?
    /// nil when the configuration could not be loaded; `.success(nil)` without a password file.
    public let mqttPassword: Result<Secret?, SecretError>?
    /// What is wrong with `agent.state_dir`, when anything is; nil when the configuration could not be loaded.
    public let stateDirectory: StateDirectoryFinding?
    /// The relay only: the webhook token; nil for the agent or when the configuration could not be loaded.
    public let webhookToken: Result<Secret, SecretError>?
    /// The relay only: what is wrong with `relay.tls_certificate` and `relay.tls_key` (errors and warnings).
    public let tlsFindings: [TLSFileFinding]

    /// The agent can run with it: the file is valid and the secrets it names can be read.
    public var isValid: Bool { error == nil && problems.isEmpty }

    /// Problems beyond the file's own (its syntax and keys are in `error`), each one line.
    public var problems: [String] {
        var found: [String] = []
        if case .failure(let failure) = token { found.append(failure.description) }
        if case .failure(let failure) = mqttPassword { found.append(failure.description) }
        if let stateDirectory, stateDirectory.isError { found.append(stateDirectory.description) }
        if case .failure(let failure) = webhookToken { found.append(failure.description) }
        found += tlsFindings.filter(\.isError).map(\.description)
        return found
    }

    /// Checks `path` as `role`'s file (`emnify-edge run` checks with `.agent`, `emnify-edge relay` with `.relay`).
    public static func run(
        path: String, environment: [String: String], role: ConfigurationRole = .agent
    ) -> ConfigurationCheck {
        let configuration: EdgeConfiguration
        do {
            configuration = try ConfigurationLoader.load(contentsOf: path, role: role)
        } catch {
            return ConfigurationCheck(
                path: path, role: role, configuration: nil, error: error, token: nil, mqttPassword: nil,
                stateDirectory: nil, webhookToken: nil, tlsFindings: [])
        }
        let token: Result<Secret, SecretError>
        do {
            token = .success(try ApplicationTokenSource.resolve(api: configuration.api, environment: environment))
        } catch {
            token = .failure(error)
        }
        let password: Result<Secret?, SecretError>
        do {
            password = .success(try SecretFile.mqttPassword(configuration.mqtt))
        } catch {
            password = .failure(error)
        }
        // The relay's file also names the webhook token and the TLS files.
        var webhookToken: Result<Secret, SecretError>? = nil
        var tlsFindings: [TLSFileFinding] = []
        if role == .relay {
            do {
                webhookToken = .success(
                    try WebhookTokenSource.resolve(relay: configuration.relay, environment: environment))
            } catch {
                webhookToken = .failure(error)
            }
            tlsFindings = TLSFileFinding.check(configuration.relay)
        }
        return ConfigurationCheck(
            path: path, role: role, configuration: configuration, error: nil, token: token, mqttPassword: password,
            stateDirectory: StateDirectoryFinding.check(configuration.stateDir(for: role), role: role),
            webhookToken: webhookToken, tlsFindings: tlsFindings)
    }

    /// Human-readable lines: the verdict (or every problem) first, then the secrets.
    public var lines: [String] {
        if let error {
            let count = error.problems.count
            if count == 0 { return ["error: \(error.description)"] }
            return error.problems.map { $0.description(in: path) }
                + ["\(count) \(count == 1 ? "problem" : "problems") in \(path)"]
        }
        let problems = self.problems
        var lines: [String]
        if problems.isEmpty {
            lines = ["configuration OK: \(path)"]
        } else {
            lines = problems.map { "error: \($0)" }
            lines.append(
                "\(problems.count) \(problems.count == 1 ? "problem" : "problems"): \(role.command) refuses "
                    + "\(path) until " + (problems.count == 1 ? "it is" : "they are") + " fixed")
        }
        if case .success(let secret) = token {
            lines.append("application token: from \(secret.source)")
            if let finding = secret.permissionFinding { lines.append(finding.description) }
        }
        if case .success(let secret) = webhookToken {
            lines.append("webhook token: from \(secret.source)")
            if let finding = secret.permissionFinding { lines.append(finding.description) }
        }
        if case .success(let secret?) = mqttPassword {
            lines.append("mqtt password: from \(secret.source)")
            if let finding = secret.permissionFinding { lines.append(finding.description) }
        }
        lines += tlsFindings.filter { !$0.isError }.map(\.description)
        if let stateDirectory, !stateDirectory.isError { lines.append("warning: \(stateDirectory.description)") }
        if role == .relay, let configuration { lines += Self.relaySummary(configuration) }
        return lines
    }

    /// What the relay will do, so that a reader sees the URL and the order of the nodes it takes from the file.
    private static func relaySummary(_ configuration: EdgeConfiguration) -> [String] {
        let relay = configuration.relay
        return [
            "webhook: \(relay.usesTLS ? "https" : "http")://\(relay.listen)\(relay.webhookPath)",
            "mqtt brokers, tried in order: " + configuration.mqtt.brokers.map(\.description).joined(separator: ", "),
            "polling: " + (relay.pollInterval.map { "every \(DurationText.format($0))" } ?? "off (the webhook alone)"),
        ]
    }

    /// One JSON object: `{"path", "valid", "error"?, "problems": [{key?, line?, column?, message}],
    /// "token"?: {"source"?, "error"?, "permission_warning"?}, "mqtt_password"?: {…},
    /// "state_dir"?: {"path", "problem"?}}`; the relay's also `"role": "relay"`, `"webhook_token"?: {…}`
    /// and `"tls"?: [message, …]`. Absent keys mean unknown or not applicable. `error` also holds the
    /// problems beyond the file's own (tokens, password file, state directory, TLS files).
    public var json: String {
        let report = Report(
            path: path, valid: isValid,
            error: error.flatMap { $0.problems.isEmpty ? $0.description : nil }
                ?? (problems.isEmpty ? nil : problems.joined(separator: "; ")),
            problems: (error?.problems ?? []).map {
                Report.Problem(key: $0.key, line: $0.line, column: $0.column, message: $0.message)
            },
            token: token.flatMap { Report.SecretReport($0.map(Optional.some)) },
            mqttPassword: mqttPassword.flatMap(Report.SecretReport.init),
            stateDir: configuration.map {
                Report.StateDirectoryReport(path: $0.stateDir(for: role), problem: stateDirectory?.description)
            },
            role: role == .agent ? nil : role.rawValue,
            webhookToken: webhookToken.flatMap { Report.SecretReport($0.map(Optional.some)) },
            tls: tlsFindings.isEmpty ? nil : tlsFindings.map(\.description))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private struct Report: Encodable {
        struct Problem: Encodable {
            var key: String?
            var line: Int?
            var column: Int?
            var message: String
        }

        struct SecretReport: Encodable {
            var source: String?
            var error: String?
            var permissionWarning: String?

            enum CodingKeys: String, CodingKey {
                case source, error
                case permissionWarning = "permission_warning"
            }

            init?(_ result: Result<Secret?, SecretError>) {
                switch result {
                case .success(nil): return nil
                case .success(let secret?):
                    source = secret.source.description
                    permissionWarning = secret.permissionFinding?.description
                case .failure(let failure):
                    error = failure.description
                }
            }
        }

        struct StateDirectoryReport: Encodable {
            var path: String
            var problem: String?
        }

        var path: String
        var valid: Bool
        var error: String?
        var problems: [Problem]
        var token: SecretReport?
        var mqttPassword: SecretReport?
        var stateDir: StateDirectoryReport?
        var role: String?
        var webhookToken: SecretReport?
        var tls: [String]?

        enum CodingKeys: String, CodingKey {
            case path, valid, error, problems, token, role, tls
            case mqttPassword = "mqtt_password"
            case stateDir = "state_dir"
            case webhookToken = "webhook_token"
        }
    }
}
