import EdgeConfig
import Logging
#if canImport(Glibc)
    import Glibc
#endif

/// The agent's state directory, created at start when it is missing: without it no cursor is saved
/// and every restart publishes the backfill again. (The package's unit has `StateDirectory=`; this
/// covers other setups.)
public enum StateDirectory {
    public static func prepare(_ path: String, logger: Logger) {
        guard StateDirectoryFinding.check(path)?.kind == .missing else { return }
        if let failure = create(path) {
            logger.error(
                "cannot create the state directory; no state can be saved and every restart publishes the backfill again",
                metadata: ["state_dir": "\(path)", "error": "\(failure)"])
        } else {
            logger.notice("created the missing state directory", metadata: ["state_dir": "\(path)"])
        }
    }

    /// `mkdir -p` with mode 0700 for what it creates; the error text, or nil.
    private static func create(_ path: String) -> String? {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                return "mkdir \(prefix): \(String(cString: strerror(errno)))"
            }
        }
        return StateDirectoryFinding.check(path).map(\.description)
    }
}
