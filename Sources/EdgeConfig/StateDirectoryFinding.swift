#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What is wrong with `agent.state_dir` before the agent starts. A missing directory is a warning
/// (`run` creates it); a path that is there but not a directory is an error (no state could be saved,
/// so every restart would publish the backfill again).
public struct StateDirectoryFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case missing
        case notADirectory
    }

    public let path: String
    public let kind: Kind

    public var isError: Bool { kind == .notADirectory }

    public var description: String {
        switch kind {
        case .missing:
            return "agent.state_dir \(path) does not exist; emnify-edge run creates it (its parent must be writable "
                + "by the user that runs the agent), otherwise every restart publishes the backfill again"
        case .notADirectory:
            return "agent.state_dir \(path) is not a directory; the agent could save no state and every restart "
                + "would publish the backfill again: remove it or choose another state_dir"
        }
    }

    /// nil when `path` is a directory (or cannot be examined for another reason, which saving reports).
    public static func check(_ path: String) -> StateDirectoryFinding? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return errno == ENOENT ? StateDirectoryFinding(path: path, kind: .missing) : nil
        }
        return (status.st_mode & S_IFMT) == S_IFDIR ? nil : StateDirectoryFinding(path: path, kind: .notADirectory)
    }
}
