import EdgeCommon
import EmnifyAPI
import Logging

/// The agent loop: identity → SIM and endpoint → poll both feeds → publish each new event at
/// QoS 1 → advance the cursor only after the broker acknowledged → save state → sleep.
///
/// Nothing is lost because emnify keeps 30 days of events and is the durable log: the cursor
/// in the state file moves only past acknowledged events, so a crash, a dead broker or an API
/// outage at any moment leads to re-reading, never to skipping.
public actor Agent {
    let settings: AgentSettings
    let api: any AgentAPI
    let identityProvider: any IdentityProvider
    let publisher: any MessagePublisher
    let store: AgentStateStore
    /// For intervals only (fast polling, identity and SIM re-reads): event windows, cursor checks
    /// and lags use the API's time (`AgentAPI.apiTimeMilliseconds`), never the gateway's clock,
    /// which may be days off after a boot without a real-time clock and jump when NTP syncs.
    let clock: any MonotonicClock
    let logger: Logger

    var state: AgentState
    var identity: AgentIdentity?
    var identityReadAtMillis: Int64 = 0
    var simCheckedAtMillis: Int64 = 0
    var fastPollUntilMillis: Int64 = 0
    var consecutiveFailures = 0
    /// The ETag of each feed's last answer, per kind of read (a short read and a full read ask
    /// for different windows).
    var etags: [String: String] = [:]
    /// The ETag of each reconciliation bucket of each feed, by bucket start (see `FeedRead`); in
    /// memory, so a start reads the window again.
    var bucketETags: [String: [Int64: String]] = [:]
    /// The end of the buckets (API time, ms) each feed has read again after they closed, in this process.
    var reconciledThroughMillis: [String: Int64] = [:]
    /// Until when (monotonic ms) closed buckets are downloaded instead of confirmed by their count
    /// (`BucketCount`): emnify's `X-Total-Count` disagreed with an answer it came with.
    var totalCountDistrustedUntilMillis: Int64?
    var gapNoticeSent: Set<String> = []
    var publishedStateJSON: [UInt8] = []
    /// Whether this process has published the retained identity: a broker that lost it (a power
    /// cut before its autosave) gets it again from the first poll, even for an unchanged SIM.
    var identityPublished = false
    /// Why the agent stopped by itself (the SIM changed): a loop driving it ends with it.
    public internal(set) var stopReason: AgentStop?
    var stopRequested = false
    /// The wait for the next poll, while the loop waits.
    var pause: Task<Void, any Error>?
    var isPolling = false
    /// Why the last save of the state failed (nil after a save that worked): on the health topic
    /// with the poll's own error, because a poll that works clears that one.
    var saveProblem: String?
    /// Set by the daemon while a reloaded configuration is refused and the previous one is in use.
    var configurationProblem: String?
    /// Called after each poll with a one-line summary (systemd STATUS=, watchdog).
    var onPoll: (@Sendable (PollOutcome) -> Void)?
    /// Bridge mode (`Agent+Bridge`): reconciliations read the whole window in one query.
    var readsWholeWindow = false
    /// Bridged events that came before the SIM was resolved: recorded once it is.
    var heldBridged: [EmnifyEvent] = []
    /// Bridged events recorded since the state was last saved.
    var bridgedUnsaved = 0
    /// What the bridge loop knows (health topic), and the counts it keeps.
    var bridgeHealth: BridgeHealth?
    var bridgeHealthUnpublished = false

    public init(
        settings: AgentSettings, api: any AgentAPI, identity: any IdentityProvider, publisher: any MessagePublisher,
        clock: any MonotonicClock = SystemMonotonicClock(), logger: Logger = Logger(label: "emnify-edge.agent")
    ) {
        self.settings = settings
        self.api = api
        self.identityProvider = identity
        self.publisher = publisher
        self.store = AgentStateStore(directory: settings.stateDirectory)
        self.clock = clock
        self.logger = logger
        let (loaded, outcome) = store.load()
        self.state = loaded
        switch outcome {
        case .loaded: break
        case .fresh:
            // First start, or state.json and state.json.prev are both gone: say why history is published again.
            logger.warning(
                "no saved state: publishing the backfill of \(DurationText.format(settings.backfill))",
                metadata: ["state_file": "\(store.path)"])
        case .recoveredFromPrevious(let problem):
            logger.warning("state file damaged; using the previous copy", metadata: ["problem": "\(problem)"])
        case .startedOver(let problem):
            logger.error(
                "state file damaged and no usable copy; starting over from the backfill window (events may be published again)",
                metadata: ["problem": "\(problem)"])
        }
    }

    /// Asks the loop to end after the poll in progress (its publishes finish and the cursor is
    /// saved); a loop waiting for its next poll ends at once. Returns whether a poll was in progress.
    @discardableResult
    public func requestStop() -> Bool {
        stopRequested = true
        pause?.cancel()
        return isPolling
    }

    public func setPollObserver(_ observer: @escaping @Sendable (PollOutcome) -> Void) {
        onPoll = observer
    }

    public var currentState: AgentState { state }

    /// Runs until the task is cancelled or the SIM changes (returned, so the caller can exit and
    /// be restarted). Every other failure is logged, recorded in health and retried with backoff.
    public func run() async -> AgentStop? {
        while !Task.isCancelled && !stopRequested {
            isPolling = true
            let outcome = await pollOnce()
            isPolling = false
            onPoll?(outcome)
            if let stopReason { return stopReason }
            if stopRequested { break }
            let delay = nextDelay(after: outcome)
            // A task of its own, so that `requestStop` can end the wait without cancelling the loop.
            let waiting = Task { try await Task.sleep(for: delay) }
            pause = waiting
            do {
                try await withTaskCancellationHandler {
                    try await waiting.value
                } onCancel: {
                    waiting.cancel()
                }
            } catch {
                break
            }
            pause = nil
        }
        return nil
    }

    func nextDelay(after outcome: PollOutcome) -> Duration {
        var generator = SystemRandomNumberGenerator()
        switch outcome {
        case .failed(_, let retryAfter):
            // 5 s, 10 s, 20 s … up to five poll intervals (at least 5 minutes); a Retry-After wins.
            let backoff = Backoff(base: .seconds(5), factor: 2, cap: max(settings.pollInterval * 5, .seconds(300)))
            let delay = backoff.delay(attempt: consecutiveFailures, using: &generator)
            return max(delay, retryAfter ?? .zero)
        case .published, .idle, .waitingForSIM:
            let fast = clock.monotonicMilliseconds() < fastPollUntilMillis
            let base = fast ? min(settings.fastPollInterval, settings.pollInterval) : settings.pollInterval
            if case .waitingForSIM = outcome { return max(base, .seconds(60)) }
            // ±10 % jitter so a fleet does not poll in lockstep.
            return base * Double.random(in: 0.9...1.1, using: &generator)
        }
    }
}

/// What one poll did, for logs, health and systemd's STATUS line.
public enum PollOutcome: Sendable, CustomStringConvertible {
    case published(count: Int)
    case idle
    case waitingForSIM(String)
    case failed(String, retryAfter: Duration?)

    public var description: String {
        switch self {
        case .published(let count): return "published \(count) event\(count == 1 ? "" : "s")"
        case .idle: return "no new events"
        case .waitingForSIM(let reason): return reason
        case .failed(let error, _): return "poll failed: \(error)"
        }
    }
}
