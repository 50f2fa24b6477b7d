import EdgeCommon
import EmnifyAPI
import FoundationEssentials
#if canImport(Glibc)
    import Glibc
#endif

/// Everything the agent must remember across restarts, in one JSON file in the state directory,
/// written atomically (temp file, fsync, rename, fsync of the directory). The previous version
/// is kept beside it, so a file damaged by a failing disk still leaves a usable cursor.
public struct AgentState: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public var version = AgentState.currentVersion
    /// The ICCID the cursors belong to: another SIM starts over.
    public var iccid: String?
    public var simID: Int64?
    public var endpointID: Int64?
    public var endpointName: String?
    public var cursors: [String: FeedCursor] = [:]
    public var connectivity = ConnectivityState()
    public var lastSuccessfulPollMillis: Int64?
    public var lastError: String?
    /// Today's API requests and bytes: the next start continues them (`EmnifyClient`'s
    /// `initialUsage`), so the health topic's day totals survive restarts, and `diagnose` reads
    /// them when the broker is not there to show the health topic.
    public var usage: UsageCounters?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case version, iccid, cursors, connectivity, usage
        case simID = "sim_id"
        case endpointID = "endpoint_id"
        case endpointName = "endpoint_name"
        case lastSuccessfulPollMillis = "last_successful_poll_ms"
        case lastError = "last_error"
    }
}

/// Loads and saves `AgentState` in `state_dir/state.json`.
public struct AgentStateStore: Sendable {
    public enum LoadOutcome: Sendable, Equatable {
        case fresh
        case loaded
        /// The main file was unreadable; the previous copy was used.
        case recoveredFromPrevious(problem: String)
        /// Neither file was usable: the agent starts over from the backfill window.
        case startedOver(problem: String)
    }

    public let directory: String
    public var path: String { directory + "/state.json" }
    public var previousPath: String { directory + "/state.json.prev" }

    public init(directory: String) {
        self.directory = directory
    }

    public func load() -> (AgentState, LoadOutcome) {
        switch read(path) {
        case .success(let state): return (state, .loaded)
        case .failure(let problem):
            if problem.text == Self.missing, !FileReader.exists(previousPath) { return (AgentState(), .fresh) }
            // Only the previous copy: `save` had renamed the file away and not yet written the new
            // one (a crash or power cut between the two renames).
            let reason = problem.text == Self.missing ? "\(path) is missing (a save was interrupted)" : problem.text
            if case .success(let state) = read(previousPath) {
                return (state, .recoveredFromPrevious(problem: reason))
            }
            return (AgentState(), .startedOver(problem: reason))
        }
    }

    public func save(_ state: AgentState) throws(FileError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(state))
        } catch {
            throw FileError(path: path, operation: "encode", errno: 0)
        }
        // The current file becomes the previous one (a rename: cheap and atomic). A crash between
        // the two steps leaves only the previous file, which `load` falls back to.
        _ = rename(path, previousPath)
        try AtomicFile.write(bytes, to: path, mode: 0o600)
    }

    static let missing = "missing"

    private func read(_ file: String) -> Result<AgentState, StateProblem> {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(file, limit: 64 * 1024 * 1024)
        } catch {
            return .failure(StateProblem(text: error.isMissing ? Self.missing : "\(error)"))
        }
        do {
            let state = try JSONDecoder().decode(AgentState.self, from: Data(bytes))
            guard state.version == AgentState.currentVersion else {
                return .failure(
                    StateProblem(
                        text: "\(file) has state version \(state.version), expected \(AgentState.currentVersion)"))
            }
            return .success(state)
        } catch {
            return .failure(StateProblem(text: "\(file) is damaged (\(bytes.count) bytes, not valid state JSON)"))
        }
    }
}

struct StateProblem: Error {
    let text: String
}
