import FoundationEssentials

/// The one validation of a configuration, used by `emnify-edge config check` and by `run` (at
/// start and on every SIGHUP), so that what the check passes is what the agent runs with: the
/// file's problems, the application token (from the same sources in the same order as `run`: the
/// environment, the systemd credential, `api.token_file`), the broker password file, and the state
/// directory. Never holds a secret's value in its output.
public struct ConfigurationCheck: Sendable {
    public let path: String
    public let configuration: EdgeConfiguration?
    public let error: ConfigurationError?
    /// nil when the configuration could not be loaded.
    public let token: Result<Secret, SecretError>?
    /// nil when the configuration could not be loaded; `.success(nil)` without a password file.
    public let mqttPassword: Result<Secret?, SecretError>?
    /// What is wrong with `agent.state_dir`, when anything is; nil when the configuration could not be loaded.
    public let stateDirectory: StateDirectoryFinding?

    /// The agent can run with it: the file is valid and the secrets it names can be read.
    public var isValid: Bool { error == nil && problems.isEmpty }

    /// Problems beyond the file's own (its syntax and keys are in `error`), each one line.
    public var problems: [String] {
        var found: [String] = []
        if case .failure(let failure) = token { found.append(failure.description) }
        if case .failure(let failure) = mqttPassword { found.append(failure.description) }
        if let stateDirectory, stateDirectory.isError { found.append(stateDirectory.description) }
        return found
    }

    public static func run(path: String, environment: [String: String]) -> ConfigurationCheck {
        let configuration: EdgeConfiguration
        do {
            configuration = try ConfigurationLoader.load(contentsOf: path)
        } catch {
            return ConfigurationCheck(
                path: path, configuration: nil, error: error, token: nil, mqttPassword: nil, stateDirectory: nil)
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
        return ConfigurationCheck(
            path: path, configuration: configuration, error: nil, token: token, mqttPassword: password,
            stateDirectory: StateDirectoryFinding.check(configuration.agent.stateDir))
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
                "\(problems.count) \(problems.count == 1 ? "problem" : "problems"): emnify-edge run refuses "
                    + "\(path) until " + (problems.count == 1 ? "it is" : "they are") + " fixed")
        }
        if case .success(let secret) = token {
            lines.append("application token: from \(secret.source)")
            if let finding = secret.permissionFinding { lines.append(finding.description) }
        }
        if case .success(let secret?) = mqttPassword {
            lines.append("mqtt password: from \(secret.source)")
            if let finding = secret.permissionFinding { lines.append(finding.description) }
        }
        if let stateDirectory, !stateDirectory.isError { lines.append("warning: \(stateDirectory.description)") }
        return lines
    }

    /// One JSON object: `{"path", "valid", "error"?, "problems": [{key?, line?, column?, message}],
    /// "token"?: {"source"?, "error"?, "permission_warning"?}, "mqtt_password"?: {…},
    /// "state_dir"?: {"path", "problem"?}}`; absent keys mean unknown or not applicable. `error` also
    /// holds the problems beyond the file's own (token, password file, state directory).
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
                Report.StateDirectoryReport(path: $0.agent.stateDir, problem: stateDirectory?.description)
            })
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

        enum CodingKeys: String, CodingKey {
            case path, valid, error, problems, token
            case mqttPassword = "mqtt_password"
            case stateDir = "state_dir"
        }
    }
}
