#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What is wrong with `agent.state_dir` (or the relay's `relay.state_dir`) before the daemon starts. A missing directory is a warning
/// (`run` creates it); a path that is there but not a directory is an error (no state could be saved,
/// so every restart would publish the backfill again).
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
        if role == .relay { return relayDescription }
        switch kind {
        case .missing:
            return "agent.state_dir \(path) does not exist; emnify-edge run creates it (its parent must be writable "
                + "by the user that runs the agent), otherwise every restart publishes the backfill again"
        case .notADirectory:
            return "agent.state_dir \(path) is not a directory; the agent could save no state and every restart "
                + "would publish the backfill again: remove it or choose another state_dir"
        }
    }

    private var relayDescription: String {
        switch kind {
        case .missing:
            return "relay.state_dir \(path) does not exist; emnify-edge relay creates it (its parent must be "
                + "writable by the user that runs the relay; the packaged unit's StateDirectory= creates it), "
                + "otherwise every restart polls and publishes the backfill again"
        case .notADirectory:
            return "relay.state_dir \(path) is not a directory; the relay could save no state and every restart "
                + "would poll and publish the backfill again: remove it or choose another state_dir"
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
