/// How one poll reads one feed: what follows the newest published event (a short read), and once
/// per reconciliation bucket the look-back window again, for events that appear in the API late.
///
/// The window is read again in fixed buckets, `fullReadPeriod` long and aligned to multiples of
/// their length on the API's clock. A bucket's query (`from` its start, `until` its end) does not
/// change once the bucket is in the past, so its ETag answers 304 unless an event was added to it:
/// on a busy SIM the window's contents change with every event, and reading it as one query
/// downloaded all of it each time. The bucket still open is covered by the short reads; once it
/// has closed it is confirmed by its count (`BucketCount`) or downloaded. The window slides only
/// over buckets confirmed or read after they closed.
enum FeedRead: Equatable {
    /// Only what follows the newest published event, less the short overlap.
    case short
    /// The whole window in one query: a feed without new events since the window last slid, whose
    /// one query then stays the same and costs a 304 (buckets would be several requests).
    case full(closedUntil: Int64)
    /// The window again: from `headFrom` (the window's start, when it lies before the buckets: a
    /// start far behind, a backfill) to the first bucket in one query, then the closed buckets
    /// starting at `bucketStarts` (ms) whose ETags are known, a short read, and the other closed
    /// buckets, confirmed by their count (each a query of its own). Every bucket up to
    /// `closedUntil` has then been read or confirmed after it closed.
    case buckets(headFrom: Int64?, bucketStarts: [Int64], closedUntil: Int64)

    /// A bucket counts as closed this long after its end: events a moment late (the short overlap)
    /// and the one-second resolution of the API's time should be in it when it is first read.
    static let settleMillis: Int64 = 5_000

    /// The end of the newest closed bucket at `now` (ms, API time).
    static func closedUntil(now: Int64, bucketMillis: Int64) -> Int64 {
        let settled = now - settleMillis
        return settled - settled.modulo(bucketMillis)
    }

    /// What a poll at `now` reads, given the feed's cursor and the end of the buckets reconciled by
    /// this process (nil after a start: the window is read again, no bucket's ETag is known).
    static func plan(
        now: Int64, cursor: FeedCursor, reconciledThrough: Int64?, bucketMillis: Int64, lookBackMillis: Int64
    ) -> FeedRead {
        let closedUntil = closedUntil(now: now, bucketMillis: bucketMillis)
        guard let reconciledThrough else { return buckets(cursor: cursor, closedUntil, bucketMillis, lookBackMillis) }
        if closedUntil <= reconciledThrough { return .short }
        guard let newest = cursor.newestMillis, newest - lookBackMillis > cursor.windowStart else {
            return .full(closedUntil: closedUntil)
        }
        return buckets(cursor: cursor, closedUntil, bucketMillis, lookBackMillis)
    }

    /// The buckets the next reconciliations read again (the window of a busy feed spans about
    /// `lookBack + bucket`), and before them what else of the window there is, in one query.
    private static func buckets(
        cursor: FeedCursor, _ closedUntil: Int64, _ bucketMillis: Int64, _ lookBackMillis: Int64
    ) -> FeedRead {
        let holdingStart = cursor.windowStart - cursor.windowStart.modulo(bucketMillis)
        let first = max(holdingStart, closedUntil - (lookBackMillis / bucketMillis + 1) * bucketMillis)
        return .buckets(
            headFrom: cursor.windowStart < first ? cursor.windowStart : nil,
            bucketStarts: Array(stride(from: first, to: closedUntil, by: Int(bucketMillis))), closedUntil: closedUntil)
    }
}

extension Int64 {
    /// The remainder towards minus infinity (`%` keeps the dividend's sign): bucket starts before 1970
    /// stay aligned.
    fileprivate func modulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
