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
            if settings.bridged { await recordHeldBridged() }
            var published = 0
            if let endpointID = state.endpointID {
                published += try await poll(.endpoint(endpointID), topics: topicLayout(for: identity))
            }
            published += try await poll(.sim(simID), topics: topicLayout(for: identity))
            state.lastSuccessfulPollMillis = await api.apiTimeMilliseconds()
            state.lastError = nil
            consecutiveFailures = 0
            if published > 0 {
                fastPollUntilMillis = clock.monotonicMilliseconds() + settings.fastPollPeriod.wholeMilliseconds
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
                try? await publisher.publish([
                    .json(await healthReport(), topic: topicLayout(for: identity).health, retain: true)
                ])
            }
            return .failed("\(error)", retryAfter: retryAfter)
        }
    }

    /// Reads one feed and publishes what is new, page by page in time order: what follows the newest
    /// published event, and once per reconciliation bucket the look-back window again (`FeedRead`).
    func poll(_ feed: EventFeed, topics: TopicLayout) async throws -> Int {
        let key = Self.key(feed)
        // The API's time: its events' timestamps and the window are on its clock.
        let now = await api.apiTimeMilliseconds()
        var cursor = state.cursors[key] ?? FeedCursor(windowStart: now - settings.backfill.wholeMilliseconds)
        if cursor.lead(over: now) > Self.cursorTolerance {
            repairCursorAhead(&cursor, key: key, apiNow: now)
        }
        let oldestKept = now - settings.retention.wholeMilliseconds + 3_600_000
        if cursor.windowStart < oldestKept {
            try await announceGap(feed, cursor: cursor, oldestKept: oldestKept, topics: topics)
            cursor.windowStart = oldestKept
        }
        let lookBack = settings.lookBack.wholeMilliseconds
        // `until` rounded up to the hour: the query stays the same between idle polls, so the
        // server can answer a matching If-None-Match with 304 and no body.
        let until = (now / 1000 / 3600 + 2) * 3600
        let bucketMillis = settings.fullReadPeriod.wholeMilliseconds
        // A bridged agent reads seldom, so its cheapest reconciliation is one query per feed.
        let plan =
            readsWholeWindow
            ? .full(closedUntil: FeedRead.closedUntil(now: now, bucketMillis: bucketMillis))
            : FeedRead.plan(
                now: now, cursor: cursor, reconciledThrough: reconciledThroughMillis[key], bucketMillis: bucketMillis,
                lookBackMillis: lookBack)
        var published = 0
        switch plan {
        case .full(let closedUntil):
            let etagKey = key + "/full"
            let read = try await read(
                feed, window: (cursor.windowStart / 1000, until), ifNoneMatch: etags[etagKey], slidesUntil: .max,
                cursor: &cursor, topics: topics)
            etags[etagKey] = read.etag
            published += read.published
            // Read up to now: every bucket closed before is covered, the known ETags of none changed.
            reconciledThroughMillis[key] = closedUntil
            return published
        case .buckets(let headFrom, let starts, let closedUntil):
            if let headFrom {
                // Before the buckets, in time order; it may slide the window, but not into them.
                let headUntil = starts.first ?? closedUntil
                let read = try await read(
                    feed, window: (headFrom / 1000, headUntil / 1000), ifNoneMatch: nil, slidesUntil: headUntil,
                    cursor: &cursor, topics: topics)
                published += read.published
            }
            var known = bucketETags[key] ?? [:]
            // A bucket never downloaded since it closed is confirmed by its count after the short
            // read, which brings the record up to now; the others answer their ETag now, in time order.
            let counts = countsBuckets
            for start in starts where !counts || known[start] != nil {
                published += try await readBucket(
                    feed, start: start, bucketMillis: bucketMillis, known: &known, cursor: &cursor, topics: topics)
            }
            published += try await shortRead(feed, until: until, cursor: &cursor, topics: topics)
            for start in starts where counts && known[start] == nil {
                published += try await confirmBucket(
                    feed, start: start, bucketMillis: bucketMillis, now: now, known: &known, cursor: &cursor,
                    topics: topics)
            }
            // Every bucket from the one holding `windowStart` to `closedUntil` was read after it closed.
            cursor.slide(lookBackMillis: lookBack, readUntil: closedUntil)
            state.cursors[key] = cursor
            bucketETags[key] = known.filter { $0.key + bucketMillis > cursor.windowStart }
            reconciledThroughMillis[key] = closedUntil
            return published
        case .short:
            return try await shortRead(feed, until: until, cursor: &cursor, topics: topics)
        }
    }

    private func shortRead(
        _ feed: EventFeed, until: Int64, cursor: inout FeedCursor, topics: TopicLayout
    ) async throws -> Int {
        let etagKey = Self.key(feed) + "/short"
        let from = cursor.shortReadStart(overlapMillis: settings.shortOverlap.wholeMilliseconds) / 1000
        let read = try await read(
            feed, window: (from, until), ifNoneMatch: etags[etagKey], slidesUntil: nil, cursor: &cursor,
            topics: topics)
        etags[etagKey] = read.etag
        return read.published
    }

    /// What one query brought: the events acknowledged, and the ETag to send next time (nil when the
    /// server sent none, or the answer had several pages).
    struct QueryRead {
        var published: Int
        var etag: String?
    }

    /// Reads one query page by page and publishes what is new; the cursor (and the state) moves past
    /// each batch once the broker acknowledged it. `slidesUntil`: the query reads the window from its
    /// start in time order, so the window may slide over what it read, up to there (see
    /// `FeedCursor.slide`); nil for the other reads.
    func read(
        _ feed: EventFeed, window: (from: Int64, until: Int64), ifNoneMatch: String?, slidesUntil: Int64?,
        cursor: inout FeedCursor, topics: TopicLayout
    ) async throws -> QueryRead {
        let key = Self.key(feed)
        var progress = FeedProgress(key: key, cursor: cursor, slidesUntil: slidesUntil)
        var page = 1
        var firstQuery = pageQuery(1, window: window)
        firstQuery.ifNoneMatch = ifNoneMatch
        var fetching = prefetch(feed, firstQuery)
        defer { fetching.cancel() }
        // The previous page's ids: a page that brings none new means the server ignores `page` (it
        // repeats the page). One page only: a backfill of 100,000 events must not hold all their ids.
        var previousPage = Set<Int64>()
        var etag: String?
        do {
            while true {
                let current = fetching
                let result = try await withTaskCancellationHandler {
                    try await current.value
                } onCancel: {
                    current.cancel()
                }
                // Unchanged since the read that stored this ETag, which was handled completely.
                if result.notModified { return QueryRead(published: 0, etag: ifNoneMatch) }
                // An id of the previous page was handled there (its batch may still be in flight, so
                // the cursor may not show it yet): a page that overlaps it must not publish it again.
                let unseen = result.events.filter { !previousPage.contains($0.id) }
                let new = unseen.count
                previousPage = Set(result.events.map(\.id))
                let paging = EventPaging.decide(
                    after: page, of: result, newEvents: new, perPage: settings.pageSize, maxPages: 100_000)
                if paging == .repeatedPage {
                    logger.warning(
                        "the API repeated a page; paging stops for this poll",
                        metadata: ["feed": "\(feed)", "page": "\(page)"])
                }
                let lastPage = paging != .nextPage
                // The next page is fetched while this one goes to the broker: a backfill pays for
                // the slower of the two, not for both.
                if !lastPage { fetching = prefetch(feed, pageQuery(page + 1, window: window)) }
                for rejected in result.rejected {
                    logger.error(
                        "emnify sent an event that cannot be read; it is not published",
                        metadata: [
                            "feed": "\(feed)", "reason": "\(rejected.reason)",
                            "json": "\(String(decoding: rejected.raw.prefix(2000), as: UTF8.self))",
                        ])
                }
                // An event of the endpoint appears in the SIM's feed too: publish it once. The endpoint
                // feed owns every event that names our endpoint (its record may already have forgotten
                // older ones); the SIM feed publishes the rest, e.g. events from before the assignment.
                var fresh: [EmnifyEvent] = []
                var skipped: [EmnifyEvent] = []
                for event in progress.cursor.unpublished(unseen) {
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
                    let acknowledgement = try await handOver(batch.map { MQTTMessage.event($0, topics: topics) })
                    try await settle(&progress)
                    progress.inFlight = InFlightBatch(acknowledgement: acknowledgement, events: batch)
                }
                // The skips are recorded with the batch in flight, once it is acknowledged: saved
                // before, they could slide the window past older events of a batch not yet acknowledged.
                if progress.inFlight != nil {
                    progress.inFlight?.skipped += skipped
                } else {
                    progress.mark(skipped)
                }
                if lastPage {
                    if page == 1 { checkTotalCount(of: result) }
                    try await settle(&progress)
                    // Kept only once all of the answer is handled: a 304 to it then means nothing to do.
                    etag = page == 1 ? result.etag : nil
                    break
                }
                page += 1
            }
        } catch {
            // What the broker acknowledged before the failure still moves the cursor.
            try? await settle(&progress)
            cursor = progress.cursor
            throw error
        }
        progress.settled(lookBackMillis: settings.lookBack.wholeMilliseconds, complete: true)
        state.cursors[key] = progress.cursor
        cursor = progress.cursor
        return QueryRead(published: progress.published, etag: etag)
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
        let restart = apiNow - settings.backfill.wholeMilliseconds
        let message =
            "the cursor of feed \(key) lies \(lead / 1000) s ahead of the API's clock: damaged (written with a wrong gateway "
            + "clock, or an edited state file); reading again from the backfill window, events may be published again"
        logger.error(
            "\(message)",
            metadata: [
                "feed": "\(key)",
                "cursor_window_start": "\(EmnifyTimestamp(millisecondsSinceEpoch: cursor.windowStart).text)",
                "api_time": "\(EmnifyTimestamp(millisecondsSinceEpoch: apiNow).text)",
                "restart_from": "\(EmnifyTimestamp(millisecondsSinceEpoch: restart).text)",
            ])
        cursor.restart(from: restart, notAfter: apiNow)
        state.cursors[key] = cursor
        saveState()
    }

    /// One feed's walk through a poll: its cursor, the batch handed to the broker whose
    /// acknowledgements are still arriving (the next batch is handed over meanwhile; the cursor moves
    /// past a batch only once it is acknowledged), and how many events were acknowledged so far.
    struct FeedProgress {
        let key: String
        var cursor: FeedCursor
        /// How far the window may slide (see `FeedCursor.slide`): the query reads it from its start in
        /// time order, up to here; nil: it may not.
        let slidesUntil: Int64?
        var inFlight: InFlightBatch?
        var published = 0

        /// The newest event this query marked: it is read in time order, so up to there it is read.
        var readThrough: Int64?

        mutating func mark(_ events: some Sequence<EmnifyEvent>) {
            for event in events {
                let timestamp = event.timestamp.millisecondsSinceEpoch
                cursor.markPublished(id: event.id, timestampMillis: timestamp)
                readThrough = max(readThrough ?? timestamp, timestamp)
            }
        }

        /// `complete`: every page of the query was handled. Before, the window slides no further than
        /// the query has come: the newest event could be from an earlier read, ahead of this one.
        mutating func settled(lookBackMillis: Int64, complete: Bool = false) {
            if let slidesUntil {
                cursor.slide(
                    lookBackMillis: lookBackMillis,
                    readUntil: complete ? slidesUntil : min(slidesUntil, readThrough ?? .min))
            } else {
                cursor.keepWithinBound()
            }
        }
    }

    struct InFlightBatch {
        var acknowledgement: PublishAcknowledgement
        var events: ArraySlice<EmnifyEvent>
        /// The SIM feed's skips up to this batch's page, recorded as handled with the batch.
        var skipped: [EmnifyEvent] = []
    }

    /// Waits for the batch in flight, then moves the cursor past it and saves the state.
    private func settle(_ progress: inout FeedProgress) async throws {
        guard let batch = progress.inFlight else { return }
        progress.inFlight = nil
        try await acknowledged(batch.acknowledgement)
        progress.mark(batch.events)
        progress.mark(batch.skipped)
        for event in batch.events { state.connectivity.apply(event) }
        progress.published += batch.events.count
        progress.settled(lookBackMillis: settings.lookBack.wholeMilliseconds)
        state.cursors[progress.key] = progress.cursor
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

    func saveState() {
        do {
            try store.save(state)
            saveProblem = nil
        } catch {
            logger.error(
                "cannot save the agent state; events may be published again after a restart",
                metadata: ["error": "\(error)"])
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
        case .organisation: return "organisation"
        case .user(let id): return "user:\(id)"
        }
    }
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
