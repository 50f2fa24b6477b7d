/// Where a connection (`MQTTConnection`, `MQTTFailoverConnection`) is in its life: `start` once, `stop` once.
/// The transitions both share live here, so the two cannot drift apart.
enum LifecyclePhase {
    case idle, starting, running, stopping, stopped

    /// Enters `.starting` for `start`. False when already running (nothing to do); throws when another start is
    /// under way or after `stop`.
    mutating func beginStart() throws(MQTTError) -> Bool {
        switch self {
        case .idle:
            self = .starting
            return true
        case .running: return false
        case .starting: throw .invalidSettings("start called twice at the same time")
        case .stopping, .stopped: throw .stopped
        }
    }

    /// Enters `.stopping` for `stop`; false when a stop already began.
    mutating func beginStop() -> Bool {
        guard self != .stopped && self != .stopping else { return false }
        self = .stopping
        return true
    }
}
