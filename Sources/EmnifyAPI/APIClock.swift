import EdgeCommon

/// The API's time, learnt from its answers and carried forward on the monotonic clock.
///
/// A gateway without a real-time clock boots with a wrong date and jumps when NTP syncs, but
/// event timestamps, query windows and JWT expiry are all the API's time. So the client keeps one
/// anchor — the API's time at some moment of the monotonic clock — from the `Date` header of every
/// answer (or, lacking one, a fresh JWT's `iat`), and "now" is that anchor moved forward by the
/// monotonic time since: setting the local clock never changes it.
public struct APIClock: Sendable, Equatable {
    /// The API's time (ms since the epoch) at `monotonic` (ms of the monotonic clock).
    struct Anchor: Sendable, Equatable {
        var api: Int64
        var monotonic: Int64
    }

    private(set) var anchor: Anchor?

    /// The `Date` header has one-second resolution: a sample moves the anchor only when it
    /// disagrees by more than this, so the estimate does not wobble with every answer.
    static let tolerance: Int64 = 2000

    public init() {}

    public var isKnown: Bool { anchor != nil }

    /// The API's time now, or nil before its first answer.
    public func now(monotonic: Int64) -> Int64? {
        anchor.map { $0.api + (monotonic - $0.monotonic) }
    }

    /// Takes the API's time from one answer's `Date` header, received at `monotonic`. Returns
    /// whether the anchor moved.
    @discardableResult
    mutating func record(dateHeader: String?, receivedAt monotonic: Int64) -> Bool {
        guard let dateHeader, let seconds = HTTPDate.parse(dateHeader) else { return false }
        // The server's time was somewhere in [seconds, seconds + 1) when it answered: the middle.
        return record(apiMillis: seconds * 1000 + 500, at: monotonic)
    }

    @discardableResult
    mutating func record(apiMillis: Int64, at monotonic: Int64) -> Bool {
        if let estimate = now(monotonic: monotonic), abs(estimate - apiMillis) <= Self.tolerance { return false }
        anchor = Anchor(api: apiMillis, monotonic: monotonic)
        return true
    }
}
