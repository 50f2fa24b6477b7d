import EmnifyAPI

/// Where one event feed stands: the newest event time published, and the ids published
/// within the look-back window (events can appear in the API after newer ones).
///
/// Invariant: every event with a timestamp at or after `windowStart` that was ever published
/// is in `published`. So re-reading the feed from `windowStart` finds exactly the events not
/// yet published, late ones included, and nothing twice.
public struct FeedCursor: Codable, Sendable, Equatable {
    /// Newest published event time, milliseconds since the epoch; nil before the first event.
    public var newestMillis: Int64?
    /// id → timestamp (ms) of events published at or after `windowStart`.
    public var published: [Int64: Int64]
    /// Start of the window the feed is read from, milliseconds.
    public var windowStart: Int64

    /// The record is bounded: past this many ids the oldest are forgotten and the window moves
    /// forward with them, so the invariant holds.
    public static let maxRecordedIDs = 20_000

    public init(windowStart: Int64) {
        self.newestMillis = nil
        self.published = [:]
        self.windowStart = windowStart
    }

    /// Events of `fetched` not published yet, oldest first (ties by id), and only those inside
    /// the window (an older event would have been published before, or lies before the start).
    public func unpublished(_ fetched: [EmnifyEvent]) -> [EmnifyEvent] {
        var seen = Set<Int64>()
        return fetched.filter { event in
            event.timestamp.millisecondsSinceEpoch >= windowStart && published[event.id] == nil
                && seen.insert(event.id).inserted
        }
        .sorted(by: EmnifyEvent.oldestFirst)
    }

    /// Records an event the broker acknowledged.
    public mutating func markPublished(id: Int64, timestampMillis: Int64) {
        published[id] = timestampMillis
        newestMillis = max(newestMillis ?? timestampMillis, timestampMillis)
    }

    /// Records an event that reached the broker another way (bridged in from the fleet cluster):
    /// a read of the API will not publish it again. `newestMillis` stays: it says how far the
    /// API was read, and a read starting after a bridged event could skip one the bridge missed.
    public mutating func markDelivered(id: Int64, timestampMillis: Int64) {
        guard timestampMillis >= windowStart else { return }
        published[id] = timestampMillis
    }

    /// How far the cursor lies ahead of `apiNow` (ms; negative when behind it, as it should be).
    public func lead(over apiNow: Int64) -> Int64 {
        max(windowStart, newestMillis ?? .min) - apiNow
    }

    /// Starts the window again at `windowStart`, for a damaged cursor that lies in the future.
    /// Only recorded ids of events not after `notAfter` (the API's time) are kept: the others
    /// cannot be real. The invariant may then miss ids published before: they can be published
    /// again, but no event is skipped.
    public mutating func restart(from windowStart: Int64, notAfter: Int64) {
        published = published.filter { $0.value >= windowStart && $0.value <= notAfter }
        newestMillis = published.values.max()
        self.windowStart = windowStart
    }

    /// Moves the window to `lookBack` before the newest published event (never backwards), but not
    /// beyond `readUntil`, and forgets ids before it; enforces the size bound. Only over what was read
    /// again after the short reads passed it: a short read has not looked for late events before it.
    /// So `readUntil` is the end of the last reconciliation bucket read or confirmed after it closed (see
    /// `FeedRead`), or nothing after a read of the whole window up to now.
    /// The new start is a whole second (rounded down): the API's `from`/`until` are whole seconds, and
    /// a closed bucket's count (`BucketCount`) covers whole seconds, so a window starting inside one
    /// would lack the server's events of that second before it, and the counts would differ.
    public mutating func slide(lookBackMillis: Int64, readUntil: Int64 = .max) {
        if let newestMillis {
            let target = min(newestMillis - lookBackMillis, readUntil)
            let remainder = target % 1000
            windowStart = max(windowStart, target - (remainder < 0 ? remainder + 1000 : remainder))
        }
        keepWithinBound()
    }

    /// Where a short read starts: `overlap` before the newest published event, inside the window.
    public func shortReadStart(overlapMillis: Int64) -> Int64 {
        max(windowStart, (newestMillis ?? windowStart) - overlapMillis)
    }

    /// Enforces the size bound of the record, moving the window forward with the ids it forgets.
    public mutating func keepWithinBound() {
        if published.count > Self.maxRecordedIDs {
            let times = published.values.sorted()
            windowStart = max(windowStart, times[published.count - Self.maxRecordedIDs])
        }
        published = published.filter { $0.value >= windowStart }
    }
}
