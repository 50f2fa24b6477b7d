import FoundationEssentials

/// What `emnify-edge config check` finds: the file's problems, and where the secrets come
/// from with their permission findings. Never holds a secret's value in its output.
///
/// Only the file decides validity: a missing token is reported as a warning (the file may be
/// checked on a build machine before the token is provisioned).
public struct ConfigurationCheck: Sendable {
    public let path: String
    public let configuration: EdgeConfiguration?
    public let error: ConfigurationError?
    /// nil when the configuration could not be loaded.
    public let token: Result<Secret, SecretError>?
    /// nil when the configuration could not be loaded; `.success(nil)` without a password file.
    public let mqttPassword: Result<Secret?, SecretError>?

    public var isValid: Bool { error == nil }

    public static func run(path: String, environment: [String: String]) -> ConfigurationCheck {
        let configuration: EdgeConfiguration
        do {
            configuration = try ConfigurationLoader.load(contentsOf: path)
        } catch {
            return ConfigurationCheck(path: path, configuration: nil, error: error, token: nil, mqttPassword: nil)
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
            path: path, configuration: configuration, error: nil, token: token, mqttPassword: password
        )
    }

    /// Human-readable lines: the verdict (or every problem) first, then the secrets.
    public var lines: [String] {
        guard error == nil else {
            guard let error else { return [] }
            let count = error.problems.count
            if count == 0 { return ["error: \(error.description)"] }
            return error.problems.map { $0.description(in: path) }
                + ["\(count) \(count == 1 ? "problem" : "problems") in \(path)"]
        }
        var lines = ["configuration OK: \(path)"]
        switch token {
        case .success(let secret):
            lines.append("application token: from \(secret.source)")
            if let finding = secret.permissionFinding { lines.append(finding.description) }
        case .failure(let error):
            lines.append("warning: \(error.description)")
        case nil:
            break
        }
        switch mqttPassword {
        case .success(let secret?):
            lines.append("mqtt password: from \(secret.source)")
            if let finding = secret.permissionFinding { lines.append(finding.description) }
        case .failure(let error):
            lines.append("warning: \(error.description)")
        case .success(nil), nil:
            break
        }
        return lines
    }

    /// One JSON object: `{"path", "valid", "error"?, "problems": [{key?, line?, column?, message}],
    /// "token"?: {"source"?, "error"?, "permission_warning"?}, "mqtt_password"?: {…}}`; absent keys
    /// mean unknown or not applicable.
    public var json: String {
        let report = Report(
            path: path, valid: isValid,
            error: error.flatMap { $0.problems.isEmpty ? $0.description : nil },
            problems: (error?.problems ?? []).map {
                Report.Problem(key: $0.key, line: $0.line, column: $0.column, message: $0.message)
            },
            token: token.flatMap { Report.SecretReport($0.map(Optional.some)) },
            mqttPassword: mqttPassword.flatMap(Report.SecretReport.init))
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

        var path: String
        var valid: Bool
        var error: String?
        var problems: [Problem]
        var token: SecretReport?
        var mqttPassword: SecretReport?

        enum CodingKeys: String, CodingKey {
            case path, valid, error, problems, token
            case mqttPassword = "mqtt_password"
        }
    }
}

