import EdgeCommon

/// What a bridged agent knows of its bridge, and what it should do next (`next`): nothing, read
/// the API once to close a possible gap (`reconcile`), or poll because the bridge cannot bring
/// events now (`poll`). Pure: the loop feeds it the bridged messages and the monotonic time.
///
/// - At start (skippable when the local broker kept the agent's session, `init`), and after the
///   bridge (re)connects (mosquitto publishes its notification `1`), it
///   reconciles once the bridge has delivered its queue: 3 s after the trigger, pushed back by
///   each message that keeps arriving, at most 30 s. After a reconnect, unless the cluster kept
///   the session: the relay's retained state of the SIM, delivered again on the resubscription,
///   names the newest event the cluster had; when the agent has recorded it by then, and the
///   event of every state that came after it, nothing is missing (`skippableFor`). So a gateway
///   whose link comes and goes makes no API request.
/// - It polls every `pollInterval` (the first poll reads the API from the cursor: a
///   reconciliation) while the bridge cannot bring events, and reconciles once that ends:
///   - the bridge is up but brought nothing at all for `quietLimit`: the relays re-announce their
///     status every 5 minutes, so it is broken somewhere (a lost subscription on the cluster).
///     Events alone are no heartbeat: a SIM has about 20 a day;
///   - no relay is online (after 30 s to receive their retained statuses; a relay not heard for
///     `quietLimit` is not online either);
///   - the bridge has been down for `quietLimit`, or no bridge notification came for `quietLimit`
///     (no bridge, or `notifications` off).
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
    /// Each relay's last status (online or not) and when it came.
    var relays: [String: (online: Bool, at: Int64)] = [:]
    var lastMessageAt: Int64
    var pending: (reason: String, notBefore: Int64, cap: Int64, skippable: Bool)?
    /// The newest event of each relay state of this SIM (`<prefix>/<iccid>/fleet/state`) delivered
    /// since the start or a connect, while its reconciliation is pending and skippable (nil: a state
    /// naming none). The first, retained, is what the cluster had then; the relay publishes a state
    /// a moment after the cluster acknowledged its events, so an event that reached the cluster just
    /// before the resubscription is named only by the next, live one.
    var statesSinceConnect: [(id: Int64, timestampMillis: Int64?)?] = []
    /// More states than this in one settle window: not skippable (the list stays small).
    static let maxStatesSinceConnect = 64
    /// Why the agent polls now (nil: it does not), and when it last did.
    public private(set) var fallback: String?
    var lastPollAt: Int64?
    var failures = 0

    /// `sessionKept`: the local broker kept the agent's session, so it delivered what was bridged while
    /// the agent was away (a bridge reconnect among it: its notification `1` triggers a reconciliation of
    /// its own), and the start's reconciliation is skippable like a reconnect's. Without the session it
    /// is not: the broker's retained copy of the relay's state is as old as the bridge's last subscribe
    /// (live updates reach the gateway unretained), and the agent missed what was bridged meanwhile.
    public init(quietLimit: Duration, pollInterval: Duration, now: Int64, sessionKept: Bool = false) {
        quietLimitMillis = quietLimit.wholeMilliseconds
        pollIntervalMillis = pollInterval.wholeMilliseconds
        startedAt = now
        linkSince = now
        lastMessageAt = now
        pending = ("start", now + Self.settleMillis, now + Self.settleCapMillis, sessionKept)
    }

    /// The events a reconnect's reconciliation may be skipped for: when the agent has recorded the
    /// newest event the cluster had for this SIM when the bridge resubscribed, and that of every state
    /// since (or the event is older than all the agent still watches), once the bridge delivered its
    /// queue, nothing is missing. nil: reconcile.
    public var skippableFor: [(id: Int64, timestampMillis: Int64?)]? {
        guard let pending, pending.skippable, !statesSinceConnect.isEmpty,
            statesSinceConnect.count <= Self.maxStatesSinceConnect
        else { return nil }
        let named = statesSinceConnect.compactMap { $0 }
        return named.count == statesSinceConnect.count ? named : nil
    }

    /// The relay's state of this SIM, bridged in: its `last_event` id and time.
    public mutating func fleetState(newestEventID: Int64?, timestampMillis: Int64? = nil) {
        guard pending?.skippable == true, statesSinceConnect.count <= Self.maxStatesSinceConnect else { return }
        statesSinceConnect.append(newestEventID.map { ($0, timestampMillis) })
    }

    /// A relay repeats `online` every 5 minutes; one not heard for `quietLimit` (at least 10 minutes)
    /// is gone. (The broker's retained copy of a status is as old as the bridge's last subscribe: a
    /// relay that went offline while the bridge was up still reads `online` to an agent that starts
    /// later.)
    public func onlineRelays(now: Int64) -> [String] {
        relays.filter { $0.value.online && now - $0.value.at <= quietLimitMillis }.map(\.key).sorted()
    }

    /// Any message the bridge brought (an event, a relay status, the bridge's own notification).
    public mutating func delivered(now: Int64) {
        lastMessageAt = now
        if let waiting = pending {
            pending?.notBefore = min(max(waiting.notBefore, now + 2_000), waiting.cap)
        }
    }

    /// mosquitto's notification: "1" connected, "0" down. `retained`: delivered because the agent
    /// subscribed (the state as the broker kept it, possibly from before a reboot), not because
    /// mosquitto published it now. Every live "1" is a (re)connect, which may have missed what the
    /// cluster did not keep for this gateway.
    public mutating func bridgeNotification(_ payload: [UInt8], retained: Bool, now: Int64) {
        let fresh: Link = payload == Array("1".utf8) ? .up : .down
        if fresh == .up && (!retained || link == .down) {
            trigger("the bridge reconnected", now: now, skippable: true)
        }
        guard fresh != link else { return }
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
        relays[relay] = (payload == Array("online".utf8), now)
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
                // A fallback that follows (a quiet bridge) polls one interval later, not at once.
                lastPollAt = now
            } else {
                failures += 1
                var generator = SystemRandomNumberGenerator()
                let delay = Backoff(base: .seconds(5), factor: 2, cap: .seconds(300))
                    .delay(attempt: failures, using: &generator)
                pending = (reason, now + delay.wholeMilliseconds, .max, false)
            }
        }
    }

    /// `skippable`: after a (re)subscription, which delivers the relay's retained state again.
    private mutating func trigger(_ reason: String, now: Int64, skippable: Bool = false) {
        pending = (reason, now + Self.settleMillis, now + Self.settleCapMillis, skippable)
        statesSinceConnect = []
    }

    private func fallbackReason(now: Int64) -> String? {
        switch link {
        case .down where now - linkSince >= quietLimitMillis:
            return "the bridge has been down for \(DurationText.format(.milliseconds(now - linkSince)))"
        case .unknown where now - startedAt >= quietLimitMillis:
            return "no bridge notification on the local broker (no bridge, or its notifications are off)"
        case .up where now - lastMessageAt >= quietLimitMillis:
            return "nothing bridged for \(DurationText.format(.milliseconds(now - lastMessageAt)))"
        case .up where now - startedAt >= Self.relayGraceMillis && onlineRelays(now: now).isEmpty:
            return "no relay is online"
        default:
            return nil
        }
    }
}
