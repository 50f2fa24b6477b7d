import EdgeCommon
import TOMLKit

/// Reads `emnify-edge.toml` (the agent's) or `relay.toml` (the relay's, with `role: .relay`) into an
/// `EdgeConfiguration`, reporting every problem at once: TOML syntax (with line and column), unknown
/// sections and keys (with the closest known key, or the file a section belongs in), wrong types,
/// invalid values, and keys that contradict each other.
public enum ConfigurationLoader {
    /// The file the agent reads when `--config` is not given.
    public static let defaultPath = ConfigurationRole.agent.defaultPath

    public static func load(
        contentsOf path: String, role: ConfigurationRole = .agent
    ) throws(ConfigurationError) -> EdgeConfiguration {
        switch TextFile.load(path) {
        case .success(let file):
            return try parse(file.text, source: path, role: role)
        case .failure(.notFound):
            throw .notFound(path: path, role: role)
        case .failure(let failure):
            throw .unreadable(path: path, reason: failure.reason)
        }
    }

    /// Parses `text` as `role`'s file; `source` names it in problems (usually the file's path).
    public static func parse(
        _ text: String, source: String, role: ConfigurationRole = .agent
    ) throws(ConfigurationError) -> EdgeConfiguration {
        if let finding = TOMLPreflight.check(text) {
            let problem = ConfigurationProblem(
                key: nil, line: finding.line, column: finding.column, message: finding.message)
            throw .invalid(source: source, problems: [problem])
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let problem = ConfigurationProblem(
                key: nil, line: error.source.begin.line, column: error.source.begin.column, message: error.description
            )
            throw .invalid(source: source, problems: [problem])
        } catch {
            throw .invalid(source: source, problems: [ConfigurationProblem(key: nil, line: nil, message: "\(error)")])
        }

        let locator = TOMLKeyLocator(text)
        var configuration = EdgeConfiguration()
        var problems: [ConfigurationProblem] = []
        // The keys written in the file, for rules about a key being set at all (mqtt.hosts with mqtt.host).
        var written: Set<String> = []
        func report(_ key: String, _ message: String) {
            problems.append(ConfigurationProblem(key: key, line: locator.line(of: key), message: message))
        }

        for sectionName in root.keys {
            guard let value = root[sectionName] else { continue }
            guard role.sections.contains(sectionName) else {
                report(sectionName, KeySuggestion.unknownSection(sectionName, role: role))
                continue
            }
            guard let table = value.table else {
                report(sectionName, "expected a table [\(sectionName)], found \(ConfigurationValue(value).typeName)")
                continue
            }
            for name in table.keys {
                guard let value = table[name] else { continue }
                guard let key = ConfigurationKey.named(sectionName, name, role: role) else {
                    report("\(sectionName).\(name)", KeySuggestion.unknownKey(name, in: sectionName, role: role))
                    continue
                }
                written.insert(key.path)
                if let message = key.assign(ConfigurationValue(value), &configuration) {
                    report(key.path, message.text)
                }
            }
        }

        if problems.isEmpty {
            for (key, message) in crossChecks(configuration, role: role, written: written) { report(key, message) }
        }
        guard problems.isEmpty else {
            throw .invalid(source: source, problems: problems.sorted(by: inFileOrder))
        }
        return configuration
    }

    /// Rules that involve more than one key; run only when each key is valid on its own.
    static func crossChecks(
        _ configuration: EdgeConfiguration, role: ConfigurationRole, written: Set<String>
    ) -> [(key: String, message: String)] {
        var found: [(key: String, message: String)] = []
        if configuration.modem.source == .static && configuration.modem.iccid == nil {
            found.append(("modem.source", "source = \"static\" needs modem.iccid"))
        }
        if configuration.agent.pollInterval < .seconds(1) && !Validators.isLocalAPI(configuration.api.url) {
            found.append(("agent.poll_interval", "poll at most once a second; the fleet shares one API quota"))
        }
        if configuration.api.connectTimeout > configuration.api.timeout {
            found.append(("api.connect_timeout", "connect_timeout must not be longer than api.timeout"))
        }
        let mqtt = configuration.mqtt
        if mqtt.certFile != nil && mqtt.keyFile == nil {
            found.append(("mqtt.cert_file", "a client certificate needs mqtt.key_file too"))
        }
        if mqtt.keyFile != nil && mqtt.certFile == nil {
            found.append(("mqtt.key_file", "a client key needs mqtt.cert_file too"))
        }
        if mqtt.passwordFile != nil && mqtt.username == nil {
            found.append(("mqtt.password_file", "a password needs mqtt.username too"))
        }
        if role == .relay { found += relayCrossChecks(configuration, written: written) }
        return found
    }

    private static func relayCrossChecks(
        _ configuration: EdgeConfiguration, written: Set<String>
    ) -> [(key: String, message: String)] {
        var found: [(key: String, message: String)] = []
        if written.contains("mqtt.hosts") {
            for name in ["host", "port"] where written.contains("mqtt.\(name)") {
                found.append(
                    (
                        "mqtt.\(name)",
                        "mqtt.hosts is set, so mqtt.\(name) must not be: the relay tries the nodes in hosts, in order; "
                            + "remove \(name) (put that node into hosts as \"host:port\" if it is one of them)"
                    ))
            }
        }
        let relay = configuration.relay
        if relay.tlsCertificate != nil && relay.tlsKey == nil {
            found.append(("relay.tls_certificate", "a certificate needs relay.tls_key too (both or neither: HTTPS)"))
        }
        if relay.tlsKey != nil && relay.tlsCertificate == nil {
            found.append(("relay.tls_key", "a key needs relay.tls_certificate too (both or neither: HTTPS)"))
        }
        return found
    }

    private static func inFileOrder(_ a: ConfigurationProblem, _ b: ConfigurationProblem) -> Bool {
        switch (a.line, b.line) {
        case (let x?, let y?) where x != y: return x < y
        case (nil, _?): return false
        case (_?, nil): return true
        default: return (a.key ?? "") < (b.key ?? "")
        }
    }
}

extension ConfigurationValue {
    init(_ value: any TOMLValueConvertible) {
        switch value.type {
        case .string: self = value.string.map(ConfigurationValue.string) ?? .other(typeName: "a string")
        case .int: self = value.int.map(ConfigurationValue.integer) ?? .other(typeName: "an integer")
        case .double: self = value.double.map(ConfigurationValue.float) ?? .other(typeName: "a number")
        case .bool: self = value.bool.map(ConfigurationValue.boolean) ?? .other(typeName: "a boolean")
        case .table: self = .other(typeName: "a table")
        case .array: self = value.array.map { .array($0.map(ConfigurationValue.init)) } ?? .other(typeName: "an array")
        case .date: self = .other(typeName: "a date")
        case .time: self = .other(typeName: "a time")
        case .dateTime: self = .other(typeName: "a date-time")
        }
    }
}
