import EdgeCommon

/// One key of a configuration file: where it lives, which roles' files have it, its type, what
/// it means, how it is read into `EdgeConfiguration` and how its value is written back as TOML.
/// The table of every key is `ConfigurationKey.table` (`ConfigurationKeys.swift`,
/// `RelayConfigurationKeys.swift`), the single source of truth for the loader, the reference
/// documentation and the shipped files' tests; `keys(for:)` is one role's share of it.
public struct ConfigurationKey: Sendable {
    public let section: String
    public let name: String
    /// The roles whose file has this key: by default every role whose file has the section.
    public private(set) var roles: Set<ConfigurationRole>
    /// For the reference: `"string"`, `"path"`, `"duration"`, `"integer (1–65535)"`, …
    public let type: String
    /// One or two sentences for the reference.
    public let summary: String
    /// Where a role's file needs other words (the relay's broker is a cluster, not the local one).
    private var roleSummaries: [ConfigurationRole: String] = [:]
    /// Where unset means something else in a role's file (the relay's own client id).
    private var roleUnsetMeanings: [ConfigurationRole: String] = [:]
    /// What an unset optional key means (`"the system trust store"`); nil for keys with a value.
    public let unsetMeaning: String?

    /// Reads `value` into `configuration`, or says what is wrong with it.
    let assign: @Sendable (_ value: ConfigurationValue, _ configuration: inout EdgeConfiguration) -> Message?
    /// The key's value in `configuration` as TOML text (`"\"60s\""`, `1883`), nil when unset.
    public let render: @Sendable (_ configuration: EdgeConfiguration) -> String?

    init(
        section: String, name: String, type: String, summary: String, unsetMeaning: String?,
        assign: @escaping @Sendable (ConfigurationValue, inout EdgeConfiguration) -> Message?,
        render: @escaping @Sendable (EdgeConfiguration) -> String?
    ) {
        self.section = section
        self.name = name
        self.roles = Set(ConfigurationRole.allCases.filter { $0.sections.contains(section) })
        self.type = type
        self.summary = summary
        self.unsetMeaning = unsetMeaning
        self.assign = assign
        self.render = render
    }

    /// `section.name`, as problems and the reference name it.
    public var path: String { "\(section).\(name)" }

    /// The summary as `role`'s reference gives it.
    public func summary(for role: ConfigurationRole) -> String { roleSummaries[role] ?? summary }

    /// What unset means in `role`'s file.
    public func unsetMeaning(for role: ConfigurationRole) -> String? { roleUnsetMeanings[role] ?? unsetMeaning }

    /// The same key with another summary, or another meaning of unset, in `role`'s reference.
    func described(_ text: String? = nil, unset: String? = nil, for role: ConfigurationRole) -> ConfigurationKey {
        var key = self
        if let text { key.roleSummaries[role] = text }
        if let unset { key.roleUnsetMeanings[role] = unset }
        return key
    }

    /// The same key, in the files of `role` only (`mqtt.hosts` is the relay's).
    func only(_ role: ConfigurationRole) -> ConfigurationKey {
        var key = self
        key.roles = [role]
        return key
    }

    /// The default as TOML text, or what unset means.
    public var defaultText: String {
        render(EdgeConfiguration()) ?? "unset (\(unsetMeaning ?? "none"))"
    }
}

extension ConfigurationKey {
    typealias Path<Value> = any WritableKeyPath<EdgeConfiguration, Value> & Sendable

    static func string(
        _ section: String, _ name: String, _ keyPath: Path<String>, type: String = "string",
        check: @escaping @Sendable (String) -> Message? = Validators.nonEmpty, _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(
            section: section, name: name, type: type, summary: summary, unsetMeaning: nil,
            assign: { value, configuration in
                store(ValueReader.string(value), check: check) { configuration[keyPath: keyPath] = $0 }
            },
            render: { quoted($0[keyPath: keyPath]) }
        )
    }

    static func optionalString(
        _ section: String, _ name: String, _ keyPath: Path<String?>, type: String = "string",
        unset: String, check: @escaping @Sendable (String) -> Message? = Validators.nonEmpty, _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(
            section: section, name: name, type: type, summary: summary, unsetMeaning: unset,
            assign: { value, configuration in
                // Many write `key = ""` meaning "unset"; TOML has no null, so say how to unset it.
                // Not taken as unset silently: an empty [mqtt] ca_file must not quietly mean "no TLS".
                let emptyMeansUnset: @Sendable (String) -> Message? = { text in
                    text.isEmpty ? "the value is empty; remove the line to get the default (\(unset))" : check(text)
                }
                return store(ValueReader.string(value), check: emptyMeansUnset) { configuration[keyPath: keyPath] = $0 }
            },
            render: { $0[keyPath: keyPath].map(quoted) }
        )
    }

    static func integer(
        _ section: String, _ name: String, _ keyPath: Path<Int>, range: ClosedRange<Int>, type: String? = nil,
        _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(
            section: section, name: name, type: type ?? "integer (\(range.lowerBound)–\(range.upperBound))",
            summary: summary, unsetMeaning: nil,
            assign: { value, configuration in
                store(ValueReader.integer(value, in: range)) { configuration[keyPath: keyPath] = $0 }
            },
            render: { String($0[keyPath: keyPath]) }
        )
    }

    static func duration(
        _ section: String, _ name: String, _ keyPath: Path<Duration>, max: Duration? = nil,
        check: @escaping @Sendable (Duration) -> Message? = { _ in nil }, _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(
            section: section, name: name, type: "duration", summary: summary, unsetMeaning: nil,
            assign: { value, configuration in
                store(ValueReader.duration(value, max: max), check: check) { configuration[keyPath: keyPath] = $0 }
            },
            render: { quoted(DurationText.format($0[keyPath: keyPath])) }
        )
    }

    static func choice<E: RawRepresentable & CaseIterable & Sendable>(
        _ section: String, _ name: String, _ keyPath: Path<E>, _ summary: String
    ) -> ConfigurationKey where E.RawValue == String {
        ConfigurationKey(
            section: section, name: name,
            type: "one of " + E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "),
            summary: summary, unsetMeaning: nil,
            assign: { value, configuration in
                store(ValueReader.choice(value, E.self)) { configuration[keyPath: keyPath] = $0 }
            },
            render: { quoted($0[keyPath: keyPath].rawValue) }
        )
    }
}

/// Stores a value that was read (`ValueReader`) and passes `check`; returns the problem, if any.
/// What every key's `assign` does once its value is read.
func store<Value>(
    _ read: Result<Value, Message>, check: (Value) -> Message? = { _ in nil }, into store: (Value) -> Void
) -> Message? {
    switch read {
    case .failure(let message): return message
    case .success(let value):
        if let problem = check(value) { return problem }
        store(value)
        return nil
    }
}

/// A TOML basic string (for rendering defaults in the reference and man page).
func quoted(_ text: String) -> String {
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
