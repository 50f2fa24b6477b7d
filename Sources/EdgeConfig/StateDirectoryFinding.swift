#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What is wrong with `agent.state_dir` (or the relay's `relay.state_dir`) before the daemon starts.
/// A missing directory is a warning (`run` and `relay` create it); a path that is there but not a
/// directory is an error (no state could be saved, so every restart would publish the backfill again).
public struct StateDirectoryFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case missing
        case notADirectory
    }

    public let path: String
    public let kind: Kind
    /// Whose state directory: the messages name its key and its command.
    public let role: ConfigurationRole

    public init(path: String, kind: Kind, role: ConfigurationRole = .agent) {
        self.path = path
        self.kind = kind
        self.role = role
    }

    public var isError: Bool { kind == .notADirectory }

    public var description: String {
        let key = "\(role.rawValue).state_dir"  // [agent] and [relay]: each role's own section is named after it
        // The relay's restart also polls the backfill again before publishing it.
        let backfill = role == .relay ? "poll and publish the backfill again" : "publish the backfill again"
        switch kind {
        case .missing:
            let unit = role == .relay ? "; the packaged unit's StateDirectory= creates it" : ""
            return "\(key) \(path) does not exist; \(role.command) creates it (its parent must be writable "
                + "by the user that runs the \(role.rawValue)\(unit)), otherwise every restart would \(backfill)"
        case .notADirectory:
            return "\(key) \(path) is not a directory; the \(role.rawValue) could save no state and every restart "
                + "would \(backfill): remove it or choose another state_dir"
        }
    }

    /// nil when `path` is a directory (or cannot be examined for another reason, which saving reports).
    public static func check(_ path: String, role: ConfigurationRole = .agent) -> StateDirectoryFinding? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return errno == ENOENT ? StateDirectoryFinding(path: path, kind: .missing, role: role) : nil
        }
        return (status.st_mode & S_IFMT) == S_IFDIR
            ? nil : StateDirectoryFinding(path: path, kind: .notADirectory, role: role)
    }
}
