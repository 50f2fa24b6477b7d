#if canImport(Glibc)
    import Glibc
#endif

/// Time that only moves forward at a steady rate, for intervals and for carrying the API's time
/// forward between its answers: setting the wall clock (NTP after a boot without a real-time
/// clock, an operator's `date -s`) never moves it. A protocol so tests can move time.
public protocol MonotonicClock: Sendable {
    /// Milliseconds since an arbitrary start (the boot); only differences mean anything.
    func monotonicMilliseconds() -> Int64
}

/// `CLOCK_BOOTTIME`: monotonic, and it keeps counting while the system is suspended, so a
/// token's lifetime measured with it does not stretch across a suspend.
public struct SystemMonotonicClock: MonotonicClock {
    public init() {}

    public func monotonicMilliseconds() -> Int64 {
        ClockReading.milliseconds(CLOCK_BOOTTIME)
    }
}
