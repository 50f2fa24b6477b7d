import EdgeCommon

/// What a bridged agent knows of its bridge, and what it should do next (`next`): nothing, read
/// the API once to close a possible gap (`reconcile`), or poll because the bridge cannot bring
/// events now (`poll`). Pure: the loop feeds it the bridged messages and the monotonic time.
///
/// - At start, and after the bridge comes back up (its notification goes from 0 to 1), it
///   reconciles once the bridge has delivered its queue: 3 s after the trigger, pushed back by
///   each message that keeps arriving, at most 30 s.
/// - The relays re-announce their status every 5 minutes, so a bridge that is up but brings
///   nothing for `quietLimit` is broken somewhere (a lost subscription on the cluster): reconcile.
///   Events alone are no heartbeat: a SIM has about 20 a day.
/// - While no relay is online (after 30 s to receive their retained statuses), while the bridge
///   has been down for `quietLimit`, or while no bridge notification came for `quietLimit` (no
///   bridge, or `notifications` off), it polls every `pollInterval`; once that ends it reconciles.
public struct BridgeWatch: Sendable {
    public enum Link: String, Sendable { case unknown, up, down }

    public enum Action: Sendable, Equatable {
        case reconcile(reason: String)
        case poll(reason: String)
    }

    public let quietLimitMillis: Int64
    public let pollIntervalMillis: Int64
    static let settleMillis: Int64 = 3_000
    static let settleCapMillis: Int64 = 30_000
    static let relayGraceMillis: Int64 = 30_000

    public private(set) var link = Link.unknown
    var linkSince: Int64
    let startedAt: Int64
    /// Each relay's last status: online or not.
    public private(set) var relays: [String: Bool] = [:]
    var lastMessageAt: Int64
    var pending: (reason: String, notBefore: Int64, cap: Int64)?
    /// Why the agent polls now (nil: it does not), and when it last did.
    public private(set) var fallback: String?
    var lastPollAt: Int64?
    var failures = 0

    public init(quietLimit: Duration, pollInterval: Duration, now: Int64) {
        quietLimitMillis = quietLimit.wholeMilliseconds
        pollIntervalMillis = pollInterval.wholeMilliseconds
        startedAt = now
        linkSince = now
        lastMessageAt = now
        pending = ("start", now + Self.settleMillis, now + Self.settleCapMillis)
    }

    public var onlineRelays: [String] { relays.filter(\.value).map(\.key).sorted() }

    /// Any message the bridge brought (an event, a relay status, the bridge's own notification).
    public mutating func delivered(now: Int64) {
        lastMessageAt = now
        if let waiting = pending {
            pending?.notBefore = min(max(waiting.notBefore, now + 2_000), waiting.cap)
        }
    }

    /// mosquitto's retained notification: "1" connected, "0" down.
    public mutating func bridgeNotification(_ payload: [UInt8], now: Int64) {
        let fresh: Link = payload == Array("1".utf8) ? .up : .down
        guard fresh != link else { return }
        // The first notification is the retained current state, not a reconnect; a reconnect
        // after a down state may have missed what the cluster did not keep.
        if fresh == .up && link == .down { trigger("the bridge reconnected", now: now) }
        link = fresh
        linkSince = now
    }

    /// The agent's own connection to the local broker came back: the broker may have restarted
    /// (its bridge too, before the agent could hear its notification), or the agent missed what
    /// was bridged meanwhile.
    public mutating func localBrokerReconnected(now: Int64) {
        trigger("the local broker connection came back", now: now)
    }

    public mutating func relayStatus(relay: String, payload: [UInt8], now: Int64) {
        relays[relay] = payload == Array("online".utf8)
    }

    /// What to do now, if anything.
    public mutating func next(now: Int64) -> Action? {
        if let reason = fallbackReason(now: now) {
            fallback = reason
            guard lastPollAt.map({ now - $0 >= pollIntervalMillis }) ?? true else { return nil }
            return .poll(reason: reason)
        }
        if let ended = fallback {
            fallback = nil
            trigger("polling ended (\(ended))", now: now)
        }
        if let waiting = pending, now >= waiting.notBefore { return .reconcile(reason: waiting.reason) }
        if pending == nil && link == .up && now - lastMessageAt >= quietLimitMillis {
            return .reconcile(reason: "nothing bridged for \(DurationText.format(.milliseconds(now - lastMessageAt)))")
        }
        return nil
    }

    /// The action `next` returned was carried out: `succeeded` false retries it with backoff.
    public mutating func done(_ action: Action, succeeded: Bool, now: Int64) {
        switch action {
        case .poll:
            lastPollAt = now
        case .reconcile(let reason):
            if succeeded {
                pending = nil
                failures = 0
                // A quiet bridge is reconciled once per quiet limit, not on every tick.
                lastMessageAt = max(lastMessageAt, now)
            } else {
                failures += 1
                var generator = SystemRandomNumberGenerator()
                let delay = Backoff(base: .seconds(5), factor: 2, cap: .seconds(300))
                    .delay(attempt: failures, using: &generator)
                pending = (reason, now + delay.wholeMilliseconds, .max)
            }
        }
    }

    private mutating func trigger(_ reason: String, now: Int64) {
        pending = (reason, now + Self.settleMillis, now + Self.settleCapMillis)
    }

    private func fallbackReason(now: Int64) -> String? {
        switch link {
        case .down where now - linkSince >= quietLimitMillis:
            return "the bridge has been down for \(DurationText.format(.milliseconds(now - linkSince)))"
        case .unknown where now - startedAt >= quietLimitMillis:
            return "no bridge notification on the local broker (no bridge, or its notifications are off)"
        case .up where now - startedAt >= Self.relayGraceMillis && onlineRelays.isEmpty:
            return "no relay is online"
        default:
            return nil
        }
    }
}
