import EdgeCommon
import EmnifyAPI
import Logging

/// The organisation's feed as the relay reads it: one page at a time (a 24 h backfill of a large
/// fleet does not fit in memory), each page published and acknowledged before the next is read.
public protocol OrgEventSource: Sendable {
    func eventPage(_ feed: EventFeed, query: EventQuery) async throws(EmnifyError) -> EventPage
    func apiTimeMilliseconds() async -> Int64
}

extension EmnifyClient: OrgEventSource {}

/// Org-wide polling of `GET /api/v1/event`: without the stream it is the source, with it the
/// reconciliation sweep. Its cost is per organisation: about one request per pass and one per
/// `page_size` events, whatever the number of SIMs.
public struct OrgPoller: Sendable {
    public struct Settings: Sendable {
        public var backfill: Duration
        public var lookBack: Duration
        public var pageSize: Int

        public init(backfill: Duration, lookBack: Duration, pageSize: Int = 1000) {
            self.backfill = backfill
            self.lookBack = lookBack
            self.pageSize = pageSize
        }
    }

    /// What a poll found beyond the events it published.
    public struct Report: Sendable, Equatable {
        public var requests = 0
        public var published = 0
    }

    let api: any OrgEventSource
    let pipeline: RelayPipeline
    let deadLetters: DeadLetterFile
    let settings: Settings
    let logger: Logger

    public init(
        api: any OrgEventSource, pipeline: RelayPipeline, deadLetters: DeadLetterFile, settings: Settings,
        logger: Logger
    ) {
        self.api = api
        self.pipeline = pipeline
        self.deadLetters = deadLetters
        self.settings = settings
        self.logger = logger
    }

    /// One poll. `fresh`: also read what happened since the last read (skipped while the stream
    /// delivers). Returns the cursor to keep; on a throw the cursor given stays valid.
    public func poll(from cursor: OrgPollCursor?, fresh: Bool, report: inout Report) async throws -> OrgPollCursor {
        let now = await api.apiTimeMilliseconds() / 1000
        let lookBack = settings.lookBack.wholeMilliseconds / 1000
        let start = now - settings.backfill.wholeMilliseconds / 1000
        var cursor = cursor ?? OrgPollCursor(freshUntil: start, settledUntil: start)
        if fresh {
            let from = max(cursor.freshUntil, cursor.settledUntil)
            try await read(from: from, until: now, report: &report)
            // A fresh read that starts where the settled part ends settles everything `look_back` old.
            if from <= cursor.settledUntil { cursor.settledUntil = max(cursor.settledUntil, now - lookBack) }
            cursor.freshUntil = now
        }
        let settledEnd = now - lookBack
        if settledEnd > cursor.settledUntil {
            try await read(from: cursor.settledUntil, until: settledEnd, report: &report)
            cursor.settledUntil = settledEnd
        }
        return cursor
    }

    /// Every page of `[from, until]`, sorted by time then id; events arriving meanwhile only shift
    /// later items to later pages (read again, not skipped), and the pipeline drops repeats.
    func read(from: Int64, until: Int64, report: inout Report) async throws {
        var requests = 0
        var published = 0
        let (api, pipeline, deadLetters, logger, pageSize) = (api, pipeline, deadLetters, logger, settings.pageSize)
        let (end, last) = try await EventPaging.walk(perPage: pageSize, maxPages: 100_000) { page in
            var query = EventQuery(page: page, perPage: pageSize, sort: "timestamp,id")
            query.window = (from, until)
            requests += 1
            return try await api.eventPage(.organisation, query: query)
        } _: { result in
            if !result.rejected.isEmpty {
                try deadLetters.append(
                    result.rejected.map { (reason: "org feed: \($0.reason)", raw: $0.raw) },
                    receivedAtMillis: await api.apiTimeMilliseconds())
                pipeline.counters.withLock { $0.deadLettered += result.rejected.count }
                logger.warning(
                    "org feed elements set aside in the dead-letter file",
                    metadata: ["count": "\(result.rejected.count)"])
            }
            published += try await pipeline.publish(result.events, from: .poll).published
        }
        report.requests += requests
        report.published += published
        if end == .repeatedPage {
            logger.warning("the API repeated a page of the org feed; paging stops", metadata: ["page": "\(last)"])
        }
    }
}
