#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock time (token expiry, event windows). A protocol so tests can move time.
public protocol WallClock: Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    func nowMilliseconds() -> Int64
}

extension WallClock {
    public func nowSeconds() -> Int64 { nowMilliseconds() / 1000 }
}

public struct SystemWallClock: WallClock {
    public init() {}

    public func nowMilliseconds() -> Int64 {
        ClockReading.milliseconds(CLOCK_REALTIME)
    }
}
