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

    /// One JSON object: `{"path", "valid", "error", "problems": [{key, line, column, message}],
    /// "token": {"source", "error", "permission_warning"}, "mqtt_password": {…}}`.
    public var json: String {
        var fields: [(String, String)] = [("path", JSONText.string(path)), ("valid", isValid ? "true" : "false")]
        if let error {
            if error.problems.isEmpty { fields.append(("error", JSONText.string(error.description))) }
            let problems = error.problems.map { problem in
                JSONText.object([
                    ("key", problem.key.map(JSONText.string) ?? "null"),
                    ("line", problem.line.map(String.init) ?? "null"),
                    ("column", problem.column.map(String.init) ?? "null"),
                    ("message", JSONText.string(problem.message)),
                ])
            }
            fields.append(("problems", "[" + problems.joined(separator: ",") + "]"))
        } else {
            fields.append(("problems", "[]"))
        }
        if let token { fields.append(("token", Self.json(token.map(Optional.some)))) }
        if let mqttPassword { fields.append(("mqtt_password", Self.json(mqttPassword))) }
        return JSONText.object(fields)
    }

    private static func json(_ result: Result<Secret?, SecretError>) -> String {
        switch result {
        case .success(nil):
            return "null"
        case .success(let secret?):
            return JSONText.object([
                ("source", JSONText.string(secret.source.description)),
                ("permission_warning", secret.permissionFinding.map { JSONText.string($0.description) } ?? "null"),
            ])
        case .failure(let error):
            return JSONText.object([("source", "null"), ("error", JSONText.string(error.description))])
        }
    }
}

/// Just enough JSON writing for the check report, without Foundation.
enum JSONText {
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func string(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
