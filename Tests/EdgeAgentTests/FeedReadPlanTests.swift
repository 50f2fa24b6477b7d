@testable import EdgeAgent
import Testing

/// `FeedRead.plan`: which read a poll makes, with buckets of 300 s and a look-back of 600 s.
@Suite struct FeedReadPlanTests {
    let bucket: Int64 = 300_000
    let lookBack: Int64 = 600_000
    /// A bucket boundary.
    let t0: Int64 = 1_764_000_000_000

    func plan(now: Int64, windowStart: Int64, newest: Int64?, reconciledThrough: Int64?) -> FeedRead {
        var cursor = FeedCursor(windowStart: windowStart)
        if let newest { cursor.markPublished(id: 1, timestampMillis: newest) }
        return FeedRead.plan(
            now: now, cursor: cursor, reconciledThrough: reconciledThrough, bucketMillis: bucket,
            lookBackMillis: lookBack)
    }

    @Test func aBucketClosesAFewSecondsAfterItsEnd() {
        #expect(FeedRead.closedUntil(now: t0 + 4_999, bucketMillis: bucket) == t0 - bucket)
        #expect(FeedRead.closedUntil(now: t0 + 5_000, bucketMillis: bucket) == t0)
    }

    @Test func betweenTwoClosedBucketsAPollReadsOnlyWhatIsNew() {
        let read = plan(now: t0 + 200_000, windowStart: t0 - 500_000, newest: t0 + 190_000, reconciledThrough: t0)
        #expect(read == .short)
    }

    @Test func aBusyFeedReadsEveryClosedBucketFromTheOneHoldingTheWindowStart() {
        let read = plan(now: t0 + 310_000, windowStart: t0 - 295_000, newest: t0 + 309_000, reconciledThrough: t0)
        let starts: [Int64] = [t0 - 300_000, t0]
        #expect(read == FeedRead.buckets(headFrom: nil, bucketStarts: starts, closedUntil: t0 + 300_000))
    }

    /// A start reads the buckets the next reconciliations read again, so that they know their ETags.
    @Test func aStartReadsTheBucketsToo() {
        let read = plan(now: t0 + 10_000, windowStart: t0 - 620_000, newest: t0 + 9_000, reconciledThrough: nil)
        let starts: [Int64] = [t0 - 900_000, t0 - 600_000, t0 - 300_000]
        #expect(read == FeedRead.buckets(headFrom: nil, bucketStarts: starts, closedUntil: t0))
    }

    /// A backfill, or a start after a long outage: what lies before those buckets is one query.
    @Test func aStartFarBehindReadsWhatLiesBeforeTheBucketsAsOneQuery() {
        let read = plan(now: t0 + 10_000, windowStart: t0 - 86_400_000, newest: nil, reconciledThrough: nil)
        let starts: [Int64] = [t0 - 900_000, t0 - 600_000, t0 - 300_000]
        #expect(read == FeedRead.buckets(headFrom: t0 - 86_400_000, bucketStarts: starts, closedUntil: t0))
    }

    /// No event since the window last slid: the one query of the window is unchanged (a 304).
    @Test func aQuietFeedReadsTheWindowAsOneQuery() {
        let read = plan(now: t0 + 310_000, windowStart: t0 - 700_000, newest: t0 - 100_000, reconciledThrough: t0)
        #expect(read == FeedRead.full(closedUntil: t0 + 300_000))
        let never = plan(now: t0 + 310_000, windowStart: t0 - 86_400_000, newest: nil, reconciledThrough: t0)
        #expect(never == FeedRead.full(closedUntil: t0 + 300_000))
    }

    /// The window slides to `lookBack` before the newest event, never past what was read again.
    @Test func theWindowSlidesNoFurtherThanWhatWasReadAgain() {
        var cursor = FeedCursor(windowStart: t0 - 1_000_000)
        cursor.markPublished(id: 1, timestampMillis: t0 - 900_000)
        cursor.markPublished(id: 2, timestampMillis: t0)
        var bounded = cursor
        bounded.slide(lookBackMillis: lookBack, readUntil: t0 - 800_000)
        #expect(bounded.windowStart == t0 - 800_000)
        #expect(bounded.published[1] == nil && bounded.published[2] == t0)
        cursor.slide(lookBackMillis: lookBack)
        #expect(cursor.windowStart == t0 - lookBack)
    }

    /// A whole second, rounded down: a closed bucket's count covers whole seconds, and the record
    /// must hold all of the first one.
    @Test func theWindowStartsOnAWholeSecond() {
        var cursor = FeedCursor(windowStart: t0 - 1_000_000)
        cursor.markPublished(id: 1, timestampMillis: t0 - lookBack + 200)
        cursor.markPublished(id: 2, timestampMillis: t0 + 700)
        cursor.slide(lookBackMillis: lookBack)
        #expect(cursor.windowStart == t0 - lookBack, "700 ms after a whole second: rounded down")
        #expect(cursor.published[1] != nil, "so the event 200 ms into that second stays recorded")
        #expect(t0 % 1000 == 0 && lookBack % 1000 == 0)
    }
}
