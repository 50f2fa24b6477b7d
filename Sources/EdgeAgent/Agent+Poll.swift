import EdgeCommon
import EmnifyAPI
import Logging

extension Agent {
    /// One poll of both feeds. Never throws: every failure becomes a `.failed` outcome, recorded
    /// in `state.lastError` and the health topic.
    public func pollOnce() async -> PollOutcome {
        do {
            try await refreshIdentity()
            guard let identity else { return .waitingForSIM("no modem identity yet") }
            if let waiting = try await resolveSIM(identity) { return waiting }
            guard let simID = state.simID else { return .waitingForSIM("SIM not resolved") }
            var published = 0
            if let endpointID = state.endpointID {
                published += try await poll(.endpoint(endpointID), topics: topicLayout(for: identity))
            }
            published += try await poll(.sim(simID), topics: topicLayout(for: identity))
            state.lastSuccessfulPollMillis = await api.apiTimeMilliseconds()
            state.lastError = nil
            consecutiveFailures = 0
            if published > 0 {
                fastPollUntilMillis = clock.monotonicMilliseconds() + Int64(settings.fastPollPeriod.components.seconds) * 1000
            }
            state.usage = await api.usage
            // Saved before the health topic is published, so that a failed save is on it.
            saveState()
            try await publishStatusTopics(identity)
            return published > 0 ? .published(count: published) : .idle
        } catch let error as AgentStop {
            stopReason = error
            return .failed(error.description, retryAfter: nil)
        } catch {
            consecutiveFailures += 1
            state.lastError = "\(error)"
            logger.warning("poll failed", metadata: ["error": "\(error)", "failures": "\(consecutiveFailures)"])
            saveState()
            var retryAfter: Duration? = nil
            if let error = error as? EmnifyError, case .rateLimited(_, let wait) = error { retryAfter = wait }
            if let identity, !(error is BrokerUnavailable) {
                // Best effort: the health topic says what is wrong while polling is broken.
                try? await publisher.publish([.json(await healthReport(), topic: topicLayout(for: identity).health, retain: true)])
            }
            return .failed("\(error)", retryAfter: retryAfter)
        }
    }

    func refreshIdentity() async throws {
        let now = clock.monotonicMilliseconds()
        guard identity == nil || now - identityReadAtMillis >= Int64(settings.identityInterval.components.seconds) * 1000 else {
            return
        }
        let fresh = try await identityProvider.readIdentity()
        identityReadAtMillis = now
        if let identity, identity.iccid != fresh.iccid {
            // The Last Will names the old SIM's topic and is fixed at connect time: restart.
            logger.notice("SIM changed", metadata: ["from": "\(identity.iccid)", "to": "\(fresh.iccid)"])
            throw AgentStop.identityChanged(from: identity.iccid.normalized, to: fresh.iccid.normalized)
        }
        if identity == nil {
            if let known = state.iccid, known != fresh.iccid.normalized {
                logger.notice("a different SIM than last time: starting with fresh cursors", metadata: ["previous": "\(known)"])
                state = AgentState()
            }
            state.iccid = fresh.iccid.normalized
        }
        identity = fresh
    }

    /// Finds SIM and endpoint; returns an outcome when polling cannot start yet.
    func resolveSIM(_ identity: AgentIdentity) async throws -> PollOutcome? {
        let now = clock.monotonicMilliseconds()
        if state.simID != nil {
            // Looked up once per start, then again only while the SIM has no endpoint.
            let due = simCheckedAtMillis == 0 || (state.endpointID == nil && now - simCheckedAtMillis >= 300_000)
            guard due else { return nil }
        } else if simCheckedAtMillis != 0 && now - simCheckedAtMillis < 600_000 {
            return .waitingForSIM("SIM \(identity.iccid) not found in emnify; checking again in a few minutes")
        }
        simCheckedAtMillis = now
        guard let sim = try await api.findSIM(iccid: identity.iccid) else {
            state.lastError = "SIM \(identity.iccid) is not in the emnify organisation of this application token"
            logger.error("\(state.lastError!)")
            return .waitingForSIM(state.lastError!)
        }
        let changed = sim.id != state.simID || sim.endpoint?.id != state.endpointID
        state.simID = sim.id
        state.endpointID = sim.endpoint?.id
        state.endpointName = sim.endpoint?.name
        if sim.endpoint == nil {
            logger.notice("SIM has no endpoint yet: polling the SIM's events only", metadata: ["sim": "\(sim.id)"])
        }
        if changed {
            logger.info("resolved", metadata: ["sim": "\(sim.id)", "endpoint": "\(sim.endpoint.map { String($0.id) } ?? "none")"])
            try await publish([.json(publishedIdentity(identity), topic: topicLayout(for: identity).identity, retain: true)])
            identityPublished = true
        }
        return nil
    }

    /// Reads one feed from its window and publishes what is new, page by page in time order.
    func poll(_ feed: EventFeed, topics: TopicLayout) async throws -> Int {
        let key = Self.key(feed)
        // The API's time: its events' timestamps and the window are on its clock.
        let now = await api.apiTimeMilliseconds()
        var cursor = state.cursors[key] ?? FeedCursor(windowStart: now - Self.millis(settings.backfill))
        if cursor.lead(over: now) > Self.cursorTolerance {
            repairCursorAhead(&cursor, key: key, apiNow: now)
        }
        let oldestKept = now - Self.millis(settings.retention) + 3_600_000
        if cursor.windowStart < oldestKept {
            try await announceGap(feed, cursor: cursor, oldestKept: oldestKept, topics: topics)
            cursor.windowStart = oldestKept
        }
        let from = cursor.windowStart / 1000
        // `until` rounded up to the hour: the query stays the same between idle polls, so the
        // server can answer a matching If-None-Match with 304 and no body.
        let until = (now / 1000 / 3600 + 2) * 3600
        var published = 0
        var page = 1
        var firstQuery = pageQuery(1, window: (from, until))
        firstQuery.ifNoneMatch = etags[key]
        var fetching = prefetch(feed, firstQuery)
        defer { fetching.cancel() }
        // Ids read in this poll: a later page with none new means the server ignores `page`.
        var seenThisPoll = Set<Int64>()
        // The batch handed to the broker whose acknowledgements are still arriving: the next batch
        // is handed over meanwhile, and the cursor moves past a batch only once it is acknowledged.
        var inFlight: InFlightBatch?
        do {
            while true {
                let current = fetching
                let result = try await withTaskCancellationHandler { try await current.value } onCancel: { current.cancel() }
                if result.notModified { return 0 }
                let received = result.events.count + result.rejected.count
                let new = result.events.reduce(0) { $0 + (seenThisPoll.insert($1.id).inserted ? 1 : 0) }
                let repeated = page > 1 && new == 0 && result.rejected.isEmpty
                if repeated {
                    logger.warning("the API repeated a page; paging stops for this poll", metadata: ["feed": "\(feed)", "page": "\(page)"])
                }
                // Never on the paging headers: they can lie (see PagingHeaders).
                let lastPage = received < settings.pageSize || repeated || page >= 100_000
                // The next page is fetched while this one goes to the broker: a backfill pays for
                // the slower of the two, not for both.
                if !lastPage { fetching = prefetch(feed, pageQuery(page + 1, window: (from, until))) }
                for rejected in result.rejected {
                    logger.error(
                        "emnify sent an event that cannot be read; it is not published",
                        metadata: ["feed": "\(feed)", "reason": "\(rejected.reason)", "json": "\(String(decoding: rejected.raw.prefix(2000), as: UTF8.self))"])
                }
                // An event of the endpoint appears in the SIM's feed too: publish it once. The endpoint
                // feed owns every event that names our endpoint (its record may already have forgotten
                // older ones); the SIM feed publishes the rest, e.g. events from before the assignment.
                var fresh: [EmnifyEvent] = []
                var skipped: [EmnifyEvent] = []
                for event in cursor.unpublished(result.events) {
                    // Only the SIM feed defers: it skips (and records as handled) what the endpoint feed
                    // owns. The endpoint feed never trusts the SIM cursor, whose record holds such skips.
                    if Self.isSIMFeed(feed) && ownedByEndpointFeed(event) {
                        skipped.append(event)
                    } else {
                        fresh.append(event)
                    }
                }
                for start in stride(from: 0, to: fresh.count, by: settings.pageSize) {
                    let batch = fresh[start..<min(start + settings.pageSize, fresh.count)]
                    let acknowledgement = try await handOver(batch.map { AgentMessage.event($0, topics: topics) })
                    try await settle(&inFlight, cursor: &cursor, key: key, published: &published)
                    inFlight = InFlightBatch(acknowledgement: acknowledgement, events: batch)
                }
                // The skips are recorded with the batch in flight, once it is acknowledged: saved
                // before, they could slide the window past older events of a batch not yet acknowledged.
                if inFlight != nil { inFlight?.skipped += skipped } else { Self.mark(skipped, in: &cursor) }
                if lastPage {
                    try await settle(&inFlight, cursor: &cursor, key: key, published: &published)
                    etags[key] = page == 1 ? result.etag : nil
                    break
                }
                page += 1
            }
        } catch {
            // What the broker acknowledged before the failure still moves the cursor.
            try? await settle(&inFlight, cursor: &cursor, key: key, published: &published)
            throw error
        }
        cursor.slide(lookBackMillis: Self.millis(settings.lookBack))
        state.cursors[key] = cursor
        return published
    }

    /// A cursor may lie this far ahead of the API's time estimate (the `Date` header has
    /// one-second resolution); beyond, it is damaged.
    static let cursorTolerance: Int64 = 60_000

    /// A cursor ahead of the API's clock would query a window in the future and publish nothing,
    /// ever: it was written by a gateway with a wrong clock or an edited state file. Reading again
    /// from the backfill window may publish events again (subscribers drop repeats by id), but
    /// never skips one.
    private func repairCursorAhead(_ cursor: inout FeedCursor, key: String, apiNow: Int64) {
        let lead = cursor.lead(over: apiNow)
        let restart = apiNow - Self.millis(settings.backfill)
        let message =
            "the cursor of feed \(key) lies \(lead / 1000) s ahead of the API's clock: damaged (written with a wrong gateway "
            + "clock, or an edited state file); reading again from the backfill window, events may be published again"
        logger.error(
            "\(message)",
            metadata: [
                "feed": "\(key)", "cursor_window_start": "\(EmnifyTimestamp(millisecondsSinceEpoch: cursor.windowStart).text)",
                "api_time": "\(EmnifyTimestamp(millisecondsSinceEpoch: apiNow).text)",
                "restart_from": "\(EmnifyTimestamp(millisecondsSinceEpoch: restart).text)",
            ])
        cursor.restart(from: restart, notAfter: apiNow)
        state.cursors[key] = cursor
        saveState()
    }

    struct InFlightBatch {
        var acknowledgement: PublishAcknowledgement
        var events: ArraySlice<EmnifyEvent>
        /// The SIM feed's skips up to this batch's page, recorded as handled with the batch.
        var skipped: [EmnifyEvent] = []
    }

    private static func mark(_ events: some Sequence<EmnifyEvent>, in cursor: inout FeedCursor) {
        for event in events {
            cursor.markPublished(id: event.id, timestampMillis: event.timestamp.millisecondsSinceEpoch)
        }
    }

    /// Waits for the batch in flight, then moves the cursor past it and saves the state.
    private func settle(_ inFlight: inout InFlightBatch?, cursor: inout FeedCursor, key: String, published: inout Int) async throws {
        guard let batch = inFlight else { return }
        inFlight = nil
        try await acknowledged(batch.acknowledgement)
        Self.mark(batch.events, in: &cursor)
        Self.mark(batch.skipped, in: &cursor)
        for event in batch.events { state.connectivity.apply(event) }
        published += batch.events.count
        cursor.slide(lookBackMillis: Self.millis(settings.lookBack))
        state.cursors[key] = cursor
        saveState()
    }

    private func pageQuery(_ page: Int, window: (from: Int64, until: Int64)) -> EventQuery {
        var query = EventQuery(page: page, perPage: settings.pageSize, sort: "timestamp,id")
        query.window = window
        return query
    }

    /// One page, fetched in a task of its own so that the agent can publish meanwhile.
    private func prefetch(_ feed: EventFeed, _ query: EventQuery) -> Task<EventPage, any Error> {
        let api = self.api
        return Task { try await api.eventPage(feed, query: query) }
    }

    func announceGap(_ feed: EventFeed, cursor: FeedCursor, oldestKept: Int64, topics: TopicLayout) async throws {
        let key = Self.key(feed)
        guard gapNoticeSent.insert(key).inserted else { return }
        let notice = GapNotice(
            feed: key,
            message: "emnify-edge was away longer than emnify keeps events (30 days): events between these times may be missing",
            from: EmnifyTimestamp(millisecondsSinceEpoch: cursor.newestMillis ?? cursor.windowStart).text,
            until: EmnifyTimestamp(millisecondsSinceEpoch: oldestKept).text)
        logger.warning("possible gap in the event history", metadata: ["feed": "\(key)", "until": "\(notice.until)"])
        try await publish([.json(notice, topic: topics.notice, retain: false)])
    }

    func publishStatusTopics(_ identity: AgentIdentity) async throws {
        let topics = topicLayout(for: identity)
        var messages: [AgentMessage] = []
        if !identityPublished {
            messages.append(.json(publishedIdentity(identity), topic: topics.identity, retain: true))
        }
        let stateMessage = AgentMessage.json(state.connectivity, topic: topics.state, retain: true)
        if stateMessage.payload != publishedStateJSON {
            messages.append(stateMessage)
        }
        messages.append(.json(await healthReport(), topic: topics.health, retain: true))
        try await publish(messages)
        identityPublished = true
        publishedStateJSON = stateMessage.payload
    }

    /// Forgets what was published as retained, so that it is published again (after a reconnect).
    public func invalidateRetained() {
        publishedStateJSON = []
    }

    func publish(_ messages: [AgentMessage]) async throws {
        try await brokerCall { try await publisher.publish(messages) }
    }

    func handOver(_ messages: [AgentMessage]) async throws -> PublishAcknowledgement {
        try await brokerCall { try await publisher.handOver(messages) }
    }

    func acknowledged(_ acknowledgement: PublishAcknowledgement) async throws {
        try await brokerCall { try await acknowledgement.get() }
    }

    /// A broker failure as `BrokerUnavailable` (the poll stops; the cursor stays).
    private func brokerCall<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw BrokerUnavailable(reason: "\(error)")
        }
    }

    func saveState() {
        do {
            try store.save(state)
            saveProblem = nil
        } catch {
            logger.error("cannot save the agent state; events may be published again after a restart", metadata: ["error": "\(error)"])
            saveProblem = "cannot save state: \(error)"
        }
    }

    /// Whether the endpoint feed publishes this event: it names our endpoint, or the endpoint feed
    /// already published its id.
    func ownedByEndpointFeed(_ event: EmnifyEvent) -> Bool {
        guard let endpointID = state.endpointID else { return false }
        if event.endpointID == endpointID { return true }
        return state.cursors[Self.key(.endpoint(endpointID))]?.published[event.id] != nil
    }

    static func isSIMFeed(_ feed: EventFeed) -> Bool {
        if case .sim = feed { return true }
        return false
    }

    static func key(_ feed: EventFeed) -> String {
        switch feed {
        case .endpoint(let id): return "endpoint:\(id)"
        case .sim(let id): return "sim:\(id)"
        }
    }

    static func millis(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// The broker did not take a message; the poll stops and the cursor stays where it was.
struct BrokerUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the local MQTT broker did not acknowledge: \(reason)" }
}

/// Ends the agent loop on purpose (the service manager restarts it).
public enum AgentStop: Error, CustomStringConvertible {
    case identityChanged(from: String, to: String)

    public var description: String {
        switch self {
        case .identityChanged(let from, let to):
            return "the SIM changed from \(from) to \(to); restarting so that the broker's Last Will names the new SIM"
        }
    }
}
