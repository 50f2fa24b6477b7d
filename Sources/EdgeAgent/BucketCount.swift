/// A closed reconciliation bucket confirmed by a count instead of a second download: one
/// `per_page=1` query whose `X-Total-Count` is compared with the events the feed's record holds in
/// the same seconds. On a busy SIM the short reads have already brought every event of the bucket,
/// so its first read after it closed downloaded all of them again.
///
/// Safe whatever emnify's `from`/`until` bounds mean (inclusive or not, to the second or to the
/// millisecond): only the seconds strictly between the bounds are counted, and every reading of
/// the bounds includes them. Each recorded event is one the server sent for this feed, so the
/// server's count is at least the recorded events between the bounds, plus every event it has
/// there that the record lacks: an equal count means none is missing. Any other difference (an
/// event in a bound's second, one the record forgot, a rejected one) costs the download the check
/// would have saved, never an event. The bounds move to seconds without recorded events, where an
/// inclusive bound is least likely to spoil the comparison.
struct BucketCount: Equatable {
    /// The count query's bounds, whole seconds.
    let from: Int64
    let until: Int64
    /// The recorded events strictly between the bounds.
    let expected: Int

    /// How far a bound moves, at most, to a second without recorded events.
    static let maxShiftSeconds: Int64 = 10

    /// The check of the bucket `[bucketStart, bucketStart + bucketMillis)` (ms, API time) against
    /// `cursor`'s record, read up to `nowMillis`. Only the part from the window's start counts: a
    /// download would not publish an older event either.
    init(bucketStart: Int64, bucketMillis: Int64, cursor: FeedCursor, nowMillis: Int64) {
        let busySeconds = Set(cursor.published.values.map { $0.floorDivided(by: 1000) })
        let firstSecond = max(bucketStart, cursor.windowStart).floorDivided(by: 1000)
        let lastSecond = (bucketStart + bucketMillis - 1).floorDivided(by: 1000)
        // The seconds counted, strictly between the bounds, hold the bucket's. A bound moves only
        // over seconds the record wholly holds (an event the record never had there would only make
        // the counts differ; the record starts at the window).
        let lowestFrom = (cursor.windowStart + 999).floorDivided(by: 1000) - 1
        var from = firstSecond - 1
        while busySeconds.contains(from), from > firstSecond - 1 - Self.maxShiftSeconds, from > lowestFrom {
            from -= 1
        }
        // Not past what the record has been read up to: the next events arrive there.
        let highestUntil = max(lastSecond + 1, nowMillis.floorDivided(by: 1000) - 1)
        var until = lastSecond + 1
        while busySeconds.contains(until), until < lastSecond + 1 + Self.maxShiftSeconds, until < highestUntil {
            until += 1
        }
        self.from = from
        self.until = until
        self.expected = cursor.published.values.count { millis in
            let second = millis.floorDivided(by: 1000)
            return second > from && second < until
        }
    }

    init(from: Int64, until: Int64, expected: Int) {
        self.from = from
        self.until = until
        self.expected = expected
    }

    /// Whether the server's count for the query proves that the record holds every event between
    /// the bounds.
    func isConfirmed(byTotalCount total: Int) -> Bool { total == expected }
}

extension Int64 {
    /// The quotient towards minus infinity: the second a millisecond time lies in, before 1970 too.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}
