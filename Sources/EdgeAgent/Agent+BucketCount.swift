import EdgeCommon
import EmnifyAPI
import Logging

/// A reconciliation's closed buckets (`FeedRead`): downloaded, or confirmed by their count
/// (`BucketCount`) when emnify's `X-Total-Count` has been consistent with the answers it came with.
extension Agent {
    /// How long closed buckets are downloaded again after `X-Total-Count` disagreed with an answer.
    static let totalCountDistrust: Duration = .seconds(3600)

    /// Whether this poll confirms closed buckets by their count. Not in bridge mode: its record holds
    /// events the bridge brought, which the server may not list in this feed.
    var countsBuckets: Bool {
        guard !settings.bridged else { return false }
        guard let until = totalCountDistrustedUntilMillis else { return true }
        return clock.monotonicMilliseconds() >= until
    }

    /// Downloads a closed bucket (a 304 when its ETag is known and nothing arrived in it since).
    func readBucket(
        _ feed: EventFeed, start: Int64, bucketMillis: Int64, known: inout [Int64: String], cursor: inout FeedCursor,
        topics: TopicLayout
    ) async throws -> Int {
        let read = try await read(
            feed, window: (start / 1000, (start + bucketMillis) / 1000), ifNoneMatch: known[start],
            slidesUntil: nil, cursor: &cursor, topics: topics)
        known[start] = read.etag
        bucketETags[Self.key(feed)] = known
        return read.published
    }

    /// A closed bucket not downloaded since it closed: one event's answer when the server's count
    /// matches the record, else the bucket's download (which publishes what arrived late), as when
    /// counting is suspended or the server refuses the count query.
    func confirmBucket(
        _ feed: EventFeed, start: Int64, bucketMillis: Int64, now: Int64, known: inout [Int64: String],
        cursor: inout FeedCursor, topics: TopicLayout
    ) async throws -> Int {
        guard countsBuckets else {
            return try await readBucket(
                feed, start: start, bucketMillis: bucketMillis, known: &known, cursor: &cursor, topics: topics)
        }
        let check = BucketCount(bucketStart: start, bucketMillis: bucketMillis, cursor: cursor, nowMillis: now)
        var query = EventQuery(page: 1, perPage: 1, sort: "timestamp,id")
        query.window = (check.from, check.until)
        let answer: EventPage
        do {
            answer = try await api.eventPage(feed, query: query)
        } catch .badRequest(let status, _, let message) {
            // A server that takes no `per_page=1` (emnify documents no minimum): the download works.
            distrustTotalCount("emnify refused a per_page=1 query (\(status): \(message))", feed: feed)
            return try await readBucket(
                feed, start: start, bucketMillis: bucketMillis, known: &known, cursor: &cursor, topics: topics)
        }
        if let total = answer.paging.totalCount {
            let metadata: Logger.Metadata = [
                "feed": "\(feed)", "from": "\(check.from)", "until": "\(check.until)", "server": "\(total)",
                "recorded": "\(check.expected)",
            ]
            if check.isConfirmed(byTotalCount: total) {
                logger.debug("a closed bucket is confirmed by its count", metadata: metadata)
                return 0
            }
            logger.debug("a closed bucket's count differs from the record: downloading it", metadata: metadata)
        } else {
            distrustTotalCount("emnify sent no X-Total-Count", feed: feed)
        }
        return try await readBucket(
            feed, start: start, bucketMillis: bucketMillis, known: &known, cursor: &cursor, topics: topics)
    }

    /// Checks `X-Total-Count` against an answer that was the query's only page: it must count what
    /// the page brought, exactly when the page is short (a full page may have been the last one only
    /// because it brought nothing new). A count below the page's events would confirm a bucket that
    /// misses one; any disagreement (or a race between the server's count and its page) suspends
    /// counting for a while, which costs downloads, never events.
    func checkTotalCount(of page: EventPage) {
        guard let total = page.paging.totalCount else { return }
        let sent = page.events.count + page.rejected.count
        if total < sent || (sent < settings.pageSize && total != sent) {
            distrustTotalCount("emnify's X-Total-Count (\(total)) disagrees with the \(sent) events it sent", feed: nil)
        }
    }

    private func distrustTotalCount(_ reason: String, feed: EventFeed?) {
        let wasTrusted = countsBuckets
        totalCountDistrustedUntilMillis =
            clock.monotonicMilliseconds() + Self.totalCountDistrust.wholeMilliseconds
        guard wasTrusted else { return }
        var metadata: Logger.Metadata = ["for": "\(DurationText.format(Self.totalCountDistrust))"]
        if let feed { metadata["feed"] = "\(feed)" }
        logger.warning(
            "\(reason): closed buckets of the look-back window are downloaded again instead of counted",
            metadata: metadata)
    }
}
