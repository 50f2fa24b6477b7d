import EdgeCommon
import FoundationEssentials
#if canImport(Glibc)
    import Glibc
#endif

/// "Do not call `/authenticate` before this time", kept in the state directory: emnify locks the
/// account after three failed logins, and a service manager restarting the agent (systemd
/// `Restart=`) would otherwise make one failed login per start.
public struct AuthenticationPause: Sendable, Equatable, Codable {
    /// End of the pause in the API's time, milliseconds since the epoch.
    public var untilMillis: Int64
    /// The same as an ISO 8601 date, for whoever reads the file.
    public var until: String
    public var reason: String
    /// Failed logins in a row; each doubles the next pause.
    public var consecutiveFailures: Int
    /// How long the pause was when it began: at a start before the API has answered, the end is
    /// estimated with the local clock, and a clock set back meanwhile must not stretch it.
    public var pauseMillis: Int64
    /// The API's clock minus the gateway's when the pause began (see `remaining`).
    public var clockOffsetMillis: Int64

    public init(
        untilMillis: Int64, reason: String, consecutiveFailures: Int, pauseMillis: Int64, clockOffsetMillis: Int64
    ) {
        self.untilMillis = untilMillis
        self.until = UTCDateTime(secondsSinceEpoch: untilMillis / 1000).iso8601
        self.reason = reason
        self.consecutiveFailures = consecutiveFailures
        self.pauseMillis = pauseMillis
        self.clockOffsetMillis = clockOffsetMillis
    }

    /// What is left of the pause at local wall time `localMillis`, in 0...`pauseMillis`.
    public func remaining(atLocalMillis localMillis: Int64) -> Int64 {
        min(max(0, untilMillis - (localMillis + clockOffsetMillis)), pauseMillis)
    }

    enum CodingKeys: String, CodingKey {
        case until, reason
        case untilMillis = "until_ms"
        case consecutiveFailures = "consecutive_failures"
        case pauseMillis = "pause_ms"
        case clockOffsetMillis = "clock_offset_ms"
    }
}

/// `state_dir/auth-pause`: the pause for one application token and API (its
/// `CredentialFingerprint`), so a corrected token is tried at once.
public struct AuthenticationPauseFile: Sendable {
    public let path: String
    let fingerprint: String

    public init(path: String, applicationToken: String, baseURL: String) {
        self.path = path
        self.fingerprint = CredentialFingerprint.of(applicationToken: applicationToken, baseURL: baseURL)
    }

    private struct Stored: Codable {
        var fingerprint: String
        var pause: AuthenticationPause
    }

    /// The pause for this token, or nil (none, another token's, or unreadable).
    public func load() -> AuthenticationPause? {
        guard let bytes = try? FileReader.read(path, limit: 64 * 1024),
            let stored = try? JSONDecoder().decode(Stored.self, from: Data(bytes)), stored.fingerprint == fingerprint
        else { return nil }
        return stored.pause
    }

    /// The pause whatever token it belongs to (for `diagnose`, which shows it).
    public static func loadAny(path: String) -> AuthenticationPause? {
        guard let bytes = try? FileReader.read(path, limit: 64 * 1024) else { return nil }
        return (try? JSONDecoder().decode(Stored.self, from: Data(bytes)))?.pause
    }

    public func store(_ pause: AuthenticationPause) throws(FileError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let bytes = try? encoder.encode(Stored(fingerprint: fingerprint, pause: pause)) else {
            throw FileError(path: path, operation: "encode", errno: 0)
        }
        try AtomicFile.write(Array(bytes), to: path, mode: 0o600)
    }

    /// After a successful login. Not fsynced: a pause that comes back after a power cut only
    /// delays the next login; it never causes one.
    public func remove() {
        _ = unlink(path)
    }
}
