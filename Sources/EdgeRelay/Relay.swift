import EdgeAgent
import EdgeCommon
import EdgeMQTT
import EmnifyAPI
import FoundationEssentials
import Logging
import ServiceLifecycle

/// One relay: the webhook, org-wide polling (when it leads), and the subscriptions through which
/// it learns what the other relay did. A service: `run` returns at graceful shutdown (SIGTERM:
/// the webhook finishes the requests in flight, so no acknowledged batch is cut short) or when a
/// part fails for good; then `shutdown` publishes `offline`.
public final class Relay: Service, Sendable {
    public struct Settings: Sendable {
        public var topics: RelayTopics
        /// nil: no polling (`poll_interval = "off"`), the stream alone.
        public var pollInterval: Duration?
        public var poller: OrgPoller.Settings
        public var webhook: WebhookServer.Settings
        public var ackTimeout: Duration
        public var stateDirectory: String
        public var healthInterval: Duration = .seconds(15)
        /// How often `online` is re-announced without a reason: the heartbeat by which a bridged
        /// gateway knows that its bridge still delivers (its `quiet_limit` is a few of these).
        public var statusRepeat: Duration = .seconds(300)
        /// Time to learn the other relays' statuses before deciding who polls.
        public var leadershipGrace: Duration = .seconds(3)

        public init(
            topics: RelayTopics, pollInterval: Duration?, poller: OrgPoller.Settings,
            webhook: WebhookServer.Settings, ackTimeout: Duration, stateDirectory: String
        ) {
            self.topics = topics
            self.pollInterval = pollInterval
            self.poller = poller
            self.webhook = webhook
            self.ackTimeout = ackTimeout
            self.stateDirectory = stateDirectory
        }
    }

    public let settings: Settings
    public let pipeline: RelayPipeline
    let cluster: any RelayCluster
    let poller: OrgPoller
    let server: WebhookServer
    let leadership: PollLeadership
    let activity = StreamActivity()
    let sharedCursor = Locked<OrgPollCursor?>(nil)
    /// When `online` was last re-announced (see `announceOnline`).
    let lastAnnouncement = Locked<Int64>(.min / 2)
    let pollStatus = Locked<(last: String?, error: String?, cursor: OrgPollCursor?)>((nil, nil, nil))
    let logger: Logger
    let clock: @Sendable () -> Int64
    let onListening: @Sendable (Int) -> Void

    /// `onListening` gets the webhook's bound port (the one picked for port 0).
    public init(
        settings: Settings, api: any OrgEventSource, cluster: any RelayCluster, webhookSecret: [UInt8],
        logger: Logger, clock: @escaping @Sendable () -> Int64,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.onListening = onListening
        self.settings = settings
        self.cluster = cluster
        self.logger = logger
        self.clock = clock
        let pipeline = RelayPipeline(cluster: cluster, topics: settings.topics, clock: clock)
        pipeline.restore(RecentIDsFile.load(from: settings.stateDirectory))
        self.pipeline = pipeline
        let deadLetters = DeadLetterFile(directory: settings.stateDirectory)
        self.poller = OrgPoller(
            api: api, pipeline: pipeline, deadLetters: deadLetters, settings: settings.poller, logger: logger)
        let intake = WebhookIntake(
            pipeline: pipeline, deadLetters: deadLetters, secret: webhookSecret, ackTimeout: settings.ackTimeout,
            logger: logger, now: clock)
        self.server = WebhookServer(settings: settings.webhook, intake: intake, cluster: cluster, logger: logger)
        self.leadership = PollLeadership(relayID: settings.topics.relayID)
    }

    /// The Last Will to connect with: `offline`, retained, on this relay's status topic.
    public static func will(_ topics: RelayTopics) -> MQTTMessage {
        MQTTMessage(topic: topics.status, text: "offline", qos: 1, retain: true)
    }

    var cursorPath: String { settings.stateDirectory + "/poll-cursor.json" }

    public func run() async throws {
        let onListening = self.onListening
        let topics = settings.topics
        // Subscribed before `online` goes out, so this relay's own status is read back like the others'.
        let events = try await cluster.subscribe(topics.eventFilter, qos: 0)
        let states = try await cluster.subscribe(topics.stateFilter, qos: 0)
        let statuses = try await cluster.subscribe(topics.relayStatusFilter, qos: 1)
        let cursors = try await cluster.subscribe(topics.pollCursor, qos: 1)
        let healths = try await cluster.subscribe(topics.relayHealthFilter, qos: 0)
        try await cluster.publish([MQTTMessage(topic: topics.status, text: "online", qos: 1, retain: true)])
        lastAnnouncement.withLock { $0 = clock() }
        logger.notice("relay online", metadata: ["relay": "\(topics.relayID)", "status topic": "\(topics.status)"])

        try await withThrowingTaskGroup(of: Void.self) { group in
            let pipeline = self.pipeline
            group.addTask {
                for await message in events {
                    if let event = try? EmnifyEvent(json: message.payload) { pipeline.observed(id: event.id) }
                }
            }
            group.addTask {
                for await message in states {
                    if let iccid = topics.iccid(inStateTopic: message.topic) {
                        pipeline.states.seed(iccid: iccid, payload: message.payload)
                    }
                }
            }
            group.addTask { [leadership] in
                for await message in statuses {
                    if let relay = topics.relay(inStatusTopic: message.topic) {
                        leadership.update(relay: relay, payload: message.payload)
                        // Our own Last Will, published while we failed over to another node.
                        if relay == topics.relayID && message.payload != Array("online".utf8) {
                            await self.announceOnline(because: "the cluster holds this relay's status as offline")
                        }
                    }
                }
            }
            group.addTask { [sharedCursor] in
                for await message in cursors {
                    if let cursor = try? JSONDecoder().decode(OrgPollCursor.self, from: Data(message.payload)) {
                        sharedCursor.withLock { $0 = cursor.merged(with: $0) }
                    }
                }
            }
            group.addTask { [activity] in
                for await message in healths {
                    guard let health = try? JSONDecoder().decode(RelayHealth.self, from: Data(message.payload)) else {
                        continue
                    }
                    if let delivered = health.lastStreamDeliveryMillis {
                        activity.delivered(relay: health.relay, atMillis: delivered)
                    }
                    // A relay that missed our status (it was failing over when we announced it).
                    if !health.onlineRelays.contains(topics.relayID) {
                        await self.announceOnline(because: "relay \(health.relay) does not count this one as online")
                    }
                }
            }
            group.addTask { try await self.server.run(onListening: onListening) }
            if let interval = settings.pollInterval {
                group.addTask { await self.pollLoop(every: interval) }
            }
            group.addTask { await self.healthLoop() }
            // The webhook ends first at graceful shutdown; the first part to end ends the relay.
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// Publishes `offline` (retained) before the connection closes: a clean stop, not a will.
    public func shutdown() async {
        if let interval = settings.pollInterval { saveRecentIDs(interval: interval) }
        do {
            try await cluster.publish([MQTTMessage.json(health, topic: settings.topics.health, retain: true)])
            try await cluster.publish([MQTTMessage(topic: settings.topics.status, text: "offline", retain: true)])
        } catch {
            logger.warning("could not publish offline at shutdown", metadata: ["error": "\(error)"])
        }
    }

    func pollLoop(every interval: Duration) async {
        var cursor = loadCursor()
        try? await Task.sleep(for: settings.leadershipGrace)
        while !Task.isCancelled {
            if leadership.isLeader {
                let start = cursor.map { $0.merged(with: sharedCursor.withLock { $0 }) } ?? sharedCursor.withLock { $0 }
                // Health topics come every `healthInterval`: a stream is alive if one said so lately.
                let fresh = !streamIsAlive(within: max(interval, settings.healthInterval * 2))
                var report = OrgPoller.Report()
                do {
                    let next = try await poller.poll(from: start, fresh: fresh, report: &report)
                    cursor = next
                    saveCursor(next)
                    try await cluster.publish([MQTTMessage.json(next, topic: settings.topics.pollCursor, retain: true)])
                    pipeline.counters.withLock { $0.polls += 1 }
                    pollStatus.withLock { $0 = (TimestampText.format(milliseconds: clock()), nil, next) }
                    if report.published > 0 {
                        logger.info(
                            "org poll published events the stream had not brought",
                            metadata: ["count": "\(report.published)", "fresh read": "\(fresh)"])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("org poll failed; trying again next interval", metadata: ["error": "\(error)"])
                    pollStatus.withLock { $0.error = "\(error)" }
                }
            }
            saveRecentIDs(interval: interval)
            try? await Task.sleep(for: interval)
        }
    }

    /// What a reconciliation after a restart would re-read: the look-back window and a few intervals.
    func saveRecentIDs(interval: Duration) {
        let keep = settings.poller.lookBack + interval * 3 + .seconds(60)
        do {
            try RecentIDsFile.save(
                pipeline.recentIDs(since: clock() - keep.wholeMilliseconds), in: settings.stateDirectory)
        } catch {
            logger.debug("recent ids not saved", metadata: ["error": "\(error)"])
        }
    }

    /// This relay's deliveries come from its own counters, the others' from their health topics
    /// (only relays online now: a stopped relay's retained health stays on the cluster).
    func streamIsAlive(within window: Duration) -> Bool {
        let now = clock()
        if let own = pipeline.counters.withLock({ $0.lastStreamDeliveryMillis }), now - own <= window.wholeMilliseconds
        {
            return true
        }
        return activity.isAlive(within: window, nowMillis: now, among: Set(leadership.onlineRelays))
    }

    func healthLoop() async {
        while !Task.isCancelled {
            do {
                try await publishHealth()
            } catch {
                logger.debug("health not published", metadata: ["error": "\(error)"])
            }
            await announceOnline(because: nil, notWithin: settings.statusRepeat)
            try? await Task.sleep(for: settings.healthInterval)
        }
    }

    public var health: RelayHealth {
        let poll = pollStatus.withLock { $0 }
        let counters = pipeline.counters.withLock { $0 }
        return RelayHealth(
            relay: settings.topics.relayID, polling: settings.pollInterval != nil && leadership.isLeader,
            onlineRelays: leadership.onlineRelays, lastPoll: poll.last, lastPollError: poll.error,
            pollCursor: poll.cursor, lastStreamDeliveryMillis: counters.lastStreamDeliveryMillis,
            simStates: pipeline.states.count, counters: counters)
    }

    func publishHealth() async throws(MQTTError) {
        try await cluster.publish([MQTTMessage.json(health, topic: settings.topics.health, retain: true)])
    }

    /// `online` again: at once (at most once per health interval) when a relay's health shows it
    /// missed our status (it was failing over when we announced it) or the cluster published our
    /// will, so two relays never both poll for long; otherwise every `statusRepeat`, the bridged
    /// gateways' heartbeat. Not with every health message: gateways bridge the statuses in over
    /// cellular, and a repeat every 15 s would cost each of them megabytes a month.
    func announceOnline(because reason: String?, notWithin gap: Duration? = nil) async {
        let now = clock()
        let gap = gap ?? settings.healthInterval
        let due = lastAnnouncement.withLock { last in
            guard now - last >= gap.wholeMilliseconds else { return false }
            last = now
            return true
        }
        guard due else { return }
        if let reason { logger.info("announcing online again", metadata: ["reason": "\(reason)"]) }
        try? await cluster.publish([MQTTMessage(topic: settings.topics.status, text: "online", qos: 1, retain: true)])
    }

    func loadCursor() -> OrgPollCursor? {
        guard let bytes = try? FileReader.read(cursorPath, limit: 64 * 1024) else { return nil }
        guard let cursor = try? JSONDecoder().decode(OrgPollCursor.self, from: Data(bytes)) else {
            logger.warning("the saved poll cursor is unreadable; starting from the cluster's or the backfill")
            return nil
        }
        return cursor
    }

    func saveCursor(_ cursor: OrgPollCursor) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(cursor) else { return }
        do {
            try AtomicFile.write(Array(data), to: cursorPath)
        } catch {
            logger.warning("cannot save the poll cursor (the cluster keeps a copy)", metadata: ["error": "\(error)"])
        }
    }
}
