import EdgeCommon

/// Which relay polls the organisation's feed: the online relay whose id sorts first. Every relay
/// publishes its retained `status` (`online`, and `offline` as its Last Will) and reads the
/// others', so when the polling relay dies the cluster publishes its will and the next one takes
/// over (after the broker notices: about 1.5 × the MQTT keepalive). Two relays can both poll for
/// a moment (at start, around a failure): that costs a few requests and duplicates, never events.
public final class PollLeadership: Sendable {
    public let relayID: String
    private let online = Locked<Set<String>>([])

    public init(relayID: String) {
        self.relayID = relayID
    }

    /// A retained status message of some relay (this one included).
    public func update(relay: String, payload: [UInt8]) {
        let isOnline = String(decoding: payload, as: UTF8.self) == "online"
        online.withLock { relays in
            if isOnline { relays.insert(relay) } else { relays.remove(relay) }
        }
    }

    public var isLeader: Bool {
        online.withLock { relays in relays.filter { $0 != relayID }.allSatisfy { relayID < $0 } }
    }

    public var onlineRelays: [String] { online.withLock { $0.sorted() } }
}

/// When the Data Streamer last delivered events to any relay (each relay's health topic says when
/// it did): while the stream is alive, polling only reconciles and skips the fresh read.
public final class StreamActivity: Sendable {
    private let last = Locked<[String: Int64]>([:])

    public init() {}

    public func delivered(relay: String, atMillis: Int64) {
        last.withLock { $0[relay] = max($0[relay] ?? .min, atMillis) }
    }

    public var newestMillis: Int64? { last.withLock { $0.values.max() } }

    /// Whether one of `relays` (the online ones: a stopped relay's retained health stays on the
    /// cluster) had the stream deliver within `window`.
    public func isAlive(within window: Duration, nowMillis: Int64, among relays: Set<String>) -> Bool {
        let newest = last.withLock { $0.filter { relays.contains($0.key) }.values.max() }
        guard let newest else { return false }
        return nowMillis - newest <= window.wholeMilliseconds
    }
}
