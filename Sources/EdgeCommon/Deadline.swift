#if canImport(Glibc)
    import Glibc
#endif

/// A point on the monotonic clock (immune to the wall clock jumping when NTP syncs).
public struct Deadline: Sendable {
    public let nanoseconds: Int64

    public init(after duration: Duration) {
        nanoseconds = Deadline.now() + duration.wholeNanoseconds
    }

    public var remainingMilliseconds: Int { Int(max(0, (nanoseconds - Deadline.now()) / 1_000_000)) }
    public var hasPassed: Bool { Deadline.now() >= nanoseconds }

    public static func now() -> Int64 {
        ClockReading.nanoseconds(CLOCK_MONOTONIC)
    }
}
