/// One thing wrong with a configuration file: which key, on which line, and what to do.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    /// The dotted key (`"api.timeout"`), a section (`"apii"`), or nil for a TOML syntax error.
    public let key: String?
    /// 1-based line in the file, when known.
    public let line: Int?
    /// 1-based column, for syntax errors.
    public let column: Int?
    public let message: String

    public init(key: String?, line: Int?, column: Int? = nil, message: String) {
        self.key = key
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line:column: key: message`, the parts that are known.
    public var description: String {
        var parts: [String] = []
        if let line { parts.append(column.map { "\(line):\($0)" } ?? "\(line)") }
        parts.append(key ?? "syntax error")
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    /// `path:line: key: message`, as compilers write it.
    public func description(in source: String) -> String {
        "\(source):\(description)"
    }
}

/// A configuration that could not be loaded. The description says what to do.
public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No file at the path; `role` is the file's (its messages name that role's default file).
    case notFound(path: String, role: ConfigurationRole = .agent)
    /// The file exists but cannot be read (permission, a directory, too large, not UTF-8).
    case unreadable(path: String, reason: String)
    /// The file was read; these are all its problems, in line order.
    case invalid(source: String, problems: [ConfigurationProblem])

    /// The problems, one per key; empty for a file that could not be read.
    public var problems: [ConfigurationProblem] {
        if case .invalid(_, let problems) = self { return problems }
        return []
    }

    public var description: String {
        switch self {
        case .notFound(let path, let role) where path == role.defaultPath:
            return "no configuration at \(path); reinstall the package (apt-get install --reinstall emnify-edge) "
                + "to get the commented default back, or pass --config FILE"
        case .notFound(let path, let role):
            // A path given with --config: name it, not a source-tree file the gateway does not have.
            return "no configuration at \(path); check the path given with --config, or create \(path) "
                + "(every key has a default: an empty file is valid; \(role.defaultPath) "
                + "holds the commented default)"
        case .unreadable(let path, let reason):
            return "cannot read the configuration \(path): \(reason)"
        case .invalid(let source, let problems):
            return problems.map { $0.description(in: source) }.joined(separator: "\n")
        }
    }
}
