import EdgeCommon
import FoundationEssentials

/// Everything mutable about one emulator instance, behind one lock. Requests hold the lock only
/// to read or update state, never while waiting or writing to the network.
final class EmulatorState: Sendable {
    struct Inner: Sendable {
        var store: EventStore
        var fleet: Fleet
        var tokens: TokenIssuer
        var counters = EmulatorCounters()
        var faults: [FaultRule] = []
        /// Requests seen per open connection (for connection counting and idle closing).
        var connectionActivity: [ObjectIdentifier: Int] = [:]
        /// Times (seconds) of recent authenticate calls, for the 100-per-5-minutes limit.
        var authenticationTimes: [Double] = []
        var consecutiveFailedLogins = 0
        var loginLockedUntil: Double?
        var stopping = false
        /// The Data Streamer stand-in's streams by id, and their delivery tasks.
        var streams: [Int: DataStream] = [:]
        var streamTasks: [Int: Task<Void, Never>] = [:]
        var nextStreamID = 1
    }

    let configuration: EmulatorServer.Configuration
    let identity: SimIdentity
    private let inner: Locked<Inner>

    init(configuration: EmulatorServer.Configuration) {
        self.configuration = configuration
        identity = SimIdentity(seed: configuration.seed, hasEndpoint: configuration.hasEndpoint)
        var store = EventStore(seed: configuration.seed, hasEndpoint: configuration.hasEndpoint)
        let end = configuration.historyEnd ?? Date()
        let meanInterval =
            if let span = configuration.historySpan, configuration.history > 0 {
                max(1, Int64(span / .milliseconds(1)) / Int64(configuration.history))
            } else {
                configuration.eventRate.map { Int64(60_000 / max($0, 0.0001)) } ?? 300_000
            }
        store.generateHistory(
            count: configuration.history, endMillis: Int64(end.timeIntervalSince1970 * 1000),
            meanIntervalMillis: meanInterval)
        inner = Locked(
            Inner(
                store: store, fleet: Fleet(first: identity, count: configuration.sims),
                tokens: TokenIssuer(seed: configuration.seed, organisationID: identity.organisationID)))
    }

    func withLock<Result: Sendable>(_ body: (inout Inner) throws -> Result) rethrows -> Result {
        try inner.withLock { try body(&$0) }
    }

    var isStopping: Bool { withLock { $0.stopping } }

    static var nowSeconds: Double { Date().timeIntervalSince1970 }
    static var nowMillis: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Takes the first armed fault matching `path`, counting it down.
    func takeFault(path: String) -> Fault? {
        withLock { inner in
            let now = ContinuousClock.now
            inner.faults.removeAll { $0.isSpent }
            guard let index = inner.faults.firstIndex(where: { $0.matches(path: path, now: now) }) else { return nil }
            if let remaining = inner.faults[index].remaining { inner.faults[index].remaining = remaining - 1 }
            inner.counters.faultsServed += 1
            return inner.faults[index].fault
        }
    }
}
