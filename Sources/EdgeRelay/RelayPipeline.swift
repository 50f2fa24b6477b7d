import EdgeAgent
import EdgeCommon
import EdgeMQTT
import EmnifyAPI

/// From events (pushed by the Data Streamer or found by polling) to acknowledged messages on the
/// cluster, each event once: ids already on the cluster are skipped, the rest are published at
/// QoS 1, and `publish` returns only when the cluster acknowledged every one. Then the SIMs'
/// retained states follow.
///
/// "Once" is bounded by `RecentEventIDs`: an id is recorded when the cluster acknowledged it,
/// by this relay or (seen through its subscription) by the other one. Two copies of one event
/// that arrive while neither is acknowledged yet are both published: duplicates happen around
/// a failure, never losses.
public final class RelayPipeline: Sendable {
    public enum Source: String, Sendable { case stream, poll }

    public struct Outcome: Sendable, Equatable {
        public var published = 0
        public var duplicates = 0
    }

    public let topics: RelayTopics
    public let states: SIMStateBook
    let cluster: any ClusterPublishing
    let recent: Locked<RecentEventIDs>
    public let counters = Locked(RelayCounters())

    let clock: @Sendable () -> Int64

    public init(
        cluster: any ClusterPublishing, topics: RelayTopics, recentCapacity: Int = 1_000_000,
        clock: @escaping @Sendable () -> Int64 = { 0 }
    ) {
        self.clock = clock
        self.cluster = cluster
        self.topics = topics
        self.states = SIMStateBook(topics: topics)
        self.recent = Locked(RecentEventIDs(capacity: recentCapacity))
    }

    /// The ids recorded since `since` (ms), to save; and ids saved before, to restore at start.
    public func recentIDs(since: Int64) -> [(id: Int64, at: Int64)] { recent.withLock { $0.ids(recordedSince: since) } }

    public func restore(_ ids: [(id: Int64, at: Int64)]) {
        recent.withLock { recent in for entry in ids { recent.insert(entry.id, at: entry.at) } }
    }

    /// An event id seen on the cluster (published by either relay).
    public func observed(id: Int64) {
        let now = clock()
        recent.withLock { _ = $0.insert(id, at: now) }
    }

    /// Publishes the events not on the cluster yet, oldest first; returns when all are acknowledged.
    /// On a throw nothing is recorded that was not acknowledged, so sending them again is safe.
    @discardableResult
    public func publish(_ events: [EmnifyEvent], from source: Source) async throws(MQTTError) -> Outcome {
        var seen = Set<Int64>()
        let fresh = recent.withLock { recent in
            events.filter { seen.insert($0.id).inserted && !recent.contains($0.id) }
        }
        .sorted(by: EmnifyEvent.oldestFirst)
        let outcome = Outcome(published: fresh.count, duplicates: events.count - fresh.count)
        if !fresh.isEmpty {
            try await cluster.publish(fresh.map(message(for:)))
            let now = clock()
            recent.withLock { recent in for event in fresh { recent.insert(event.id, at: now) } }
            states.apply(fresh)
        }
        counters.withLock { $0.count(outcome, from: source) }
        try await publishStates()
        return outcome
    }

    /// The states changed and not acknowledged yet (also those a failed batch left behind).
    func publishStates() async throws(MQTTError) {
        let pending = states.pendingMessages()
        guard !pending.isEmpty else { return }
        try await cluster.publish(pending.map(\.message))
        states.published(pending)
    }

    /// The agent's message (payload exactly as emnify sent it, id and type as MQTT 5 properties) on
    /// the relay's topic, which for a SIM event is the agent's topic.
    func message(for event: EmnifyEvent) -> MQTTMessage { .event(event, topic: topics.event(event)) }
}

/// What the relay has done since it started, for its health topic and the benchmark.
public struct RelayCounters: Sendable, Equatable, Codable {
    public var publishedFromStream = 0
    public var publishedFromPoll = 0
    public var duplicatesSkipped = 0
    public var webhookRequests = 0
    public var webhookRefused = 0
    public var deadLettered = 0
    public var usageRecordsIgnored = 0
    public var polls = 0
    /// When the Data Streamer last delivered events (repeats included), milliseconds since the epoch.
    public var lastStreamDeliveryMillis: Int64?

    mutating func count(_ outcome: RelayPipeline.Outcome, from source: RelayPipeline.Source) {
        switch source {
        case .stream: publishedFromStream += outcome.published
        case .poll: publishedFromPoll += outcome.published
        }
        duplicatesSkipped += outcome.duplicates
    }

    enum CodingKeys: String, CodingKey {
        case polls
        case lastStreamDeliveryMillis = "last_stream_delivery_ms"
        case publishedFromStream = "published_from_stream"
        case publishedFromPoll = "published_from_poll"
        case duplicatesSkipped = "duplicates_skipped"
        case webhookRequests = "webhook_requests"
        case webhookRefused = "webhook_refused"
        case deadLettered = "dead_lettered"
        case usageRecordsIgnored = "usage_records_ignored"
    }
}
