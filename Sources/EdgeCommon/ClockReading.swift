#if canImport(Glibc)
    import Glibc
#endif

/// One reading of a kernel clock, the one place that calls `clock_gettime`: the wall clock
/// (`CLOCK_REALTIME`), the agent's interval clock (`CLOCK_BOOTTIME`, which keeps counting through
/// suspend) and deadlines (`CLOCK_MONOTONIC`).
enum ClockReading {
    static func nanoseconds(_ clock: clockid_t) -> Int64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    static func milliseconds(_ clock: clockid_t) -> Int64 { nanoseconds(clock) / 1_000_000 }
}
