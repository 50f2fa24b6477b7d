@testable import EdgeAgent
import Testing

/// `BucketCount`: where a closed bucket's count query puts its bounds, and the argument that an
/// equal count never hides an event, whatever the server's bounds mean.
@Suite struct BucketCountTests {
    /// Bucket `[1,000 s, 1,300 s)`; the record's events at these seconds (at .500).
    func cursor(seconds: [Int64], windowStart: Int64 = 0) -> FeedCursor {
        var cursor = FeedCursor(windowStart: windowStart)
        for (index, second) in seconds.enumerated() {
            cursor.markPublished(id: Int64(index), timestampMillis: second * 1000 + 500)
        }
        return cursor
    }

    @Test func theBoundsLieOneSecondOutsideTheBucketAndOnlyTheSecondsBetweenAreCounted() {
        let check = BucketCount(
            bucketStart: 1_000_000, bucketMillis: 300_000, cursor: cursor(seconds: [900, 1000, 1150, 1299, 1400]),
            nowMillis: 2_000_000)
        #expect(check == BucketCount(from: 999, until: 1300, expected: 3))
    }

    @Test func aBoundMovesToASecondWithoutRecordedEvents() {
        let check = BucketCount(
            bucketStart: 1_000_000, bucketMillis: 300_000, cursor: cursor(seconds: [997, 998, 999, 1000, 1300, 1301]),
            nowMillis: 2_000_000)
        #expect(check == BucketCount(from: 996, until: 1302, expected: 6))
    }

    @Test func aBoundMovesNoFurtherThanTenSecondsAndNotPastNow() {
        let crowded = cursor(seconds: Array(980...999) + Array(1300...1320))
        let check = BucketCount(bucketStart: 1_000_000, bucketMillis: 300_000, cursor: crowded, nowMillis: 1_305_000)
        // `until` stops a second before now; `from` ten seconds before where it started.
        #expect(check.from == 989)
        #expect(check.until == 1304)
        let far = BucketCount(bucketStart: 1_000_000, bucketMillis: 300_000, cursor: crowded, nowMillis: 2_000_000)
        #expect(far.until == 1310)
    }

    @Test func aBucketTheWindowStartsInsideIsCountedFromTheWindowsStart() {
        let bucket: (Int64) -> BucketCount = { windowStart in
            BucketCount(
                bucketStart: 1_000_000, bucketMillis: 300_000,
                cursor: self.cursor(seconds: [1100, 1200], windowStart: windowStart), nowMillis: 2_000_000)
        }
        #expect(bucket(1_000_000) == BucketCount(from: 999, until: 1300, expected: 2))
        #expect(bucket(1_150_000) == BucketCount(from: 1149, until: 1300, expected: 1))
        // The second the window starts in is counted whole: the server's events before the start
        // there can only make the counts differ.
        #expect(bucket(1_150_300) == BucketCount(from: 1149, until: 1300, expected: 1))
        // A bound is not moved to a second the record does not wholly hold.
        let check = BucketCount(
            bucketStart: 1_000_000, bucketMillis: 300_000, cursor: cursor(seconds: [999], windowStart: 999_000),
            nowMillis: 2_000_000)
        #expect(check.from == 998)
    }

    /// The server's bounds, as emnify could read `from`/`until` (whole seconds, or `until` as the
    /// instant the second starts).
    enum Bounds: CaseIterable {
        case inclusive, exclusive, fromInclusive, untilInclusive, instants

        func includes(_ millis: Int64, from: Int64, until: Int64) -> Bool {
            let second = millis / 1000
            switch self {
            case .inclusive: return second >= from && second <= until
            case .exclusive: return second > from && second < until
            case .fromInclusive: return second >= from && second < until
            case .untilInclusive: return second > from && second <= until
            case .instants: return millis >= from * 1000 && millis <= until * 1000
            }
        }
    }

    /// For many random feeds, with a record that lacks some of the server's events: whenever the
    /// count confirms a bucket, the record holds every event the server has in it. And with a
    /// complete record, most buckets are confirmed.
    @Test(arguments: Bounds.allCases)
    func anEqualCountNeverHidesAMissingEvent(_ bounds: Bounds) {
        var random = SplitMix64(seed: 20_261_202)
        var confirmedComplete = 0
        var casesComplete = 0
        for _ in 0..<2_000 {
            let bucketStart: Int64 = 1_000_000
            // Sparse feeds, and feeds so dense that a bound rarely finds a quiet second.
            let dense = random.next() % 4 == 0
            let busy = dense ? Int64(random.next() % 3_000) + 500 : Int64(random.next() % 200) + 1
            let server = (0..<busy).map { _ in Int64(980_000 + random.next() % 350_000) }
            let complete = random.next() % 2 == 0
            // Half the time the window starts inside the bucket: the record holds nothing before it.
            let windowStart = random.next() % 2 == 0 ? 900_000 : Int64(1_000_000 + random.next() % 200_000)
            var record = FeedCursor(windowStart: windowStart)
            // An incomplete record lacks one of the server's events: the hardest case to see.
            let missing = complete ? nil : Int(random.next() % UInt64(server.count))
            for (id, millis) in server.enumerated() where millis >= windowStart && id != missing {
                record.markPublished(id: Int64(id), timestampMillis: millis)
            }
            let missingInBucket = server.enumerated().contains { id, millis in
                record.published[Int64(id)] == nil && millis >= max(bucketStart, windowStart)
                    && millis < bucketStart + 300_000
            }
            let check = BucketCount(
                bucketStart: bucketStart, bucketMillis: 300_000, cursor: record, nowMillis: 1_400_000)
            let total = server.count { bounds.includes($0, from: check.from, until: check.until) }
            if check.isConfirmed(byTotalCount: total) {
                #expect(!missingInBucket, "confirmed a bucket that misses an event")
                if missingInBucket { return }
                if complete && !dense { confirmedComplete += 1 }
            }
            if complete && !dense { casesComplete += 1 }
        }
        #expect(confirmedComplete > casesComplete / 2, "a complete record of a sparse feed is mostly confirmed")
    }
}

/// A small seeded generator, so that the property test is the same every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
