import EdgeCommon
@testable import EmnifyAPI
import Testing

/// A restart continues today's request counters from the saved state, so the health topic's day
/// totals do not drop to zero at every restart; yesterday's are not carried over.
@Suite struct UsageContinuationTests {
    let clock = ManualClock()

    func client(initialUsage: UsageCounters?) -> EmnifyClient {
        let transport = ScriptedTransport { _, _ in .json(200, "[]") }
        return EmnifyClient(
            configuration: .init(baseURL: "https://api.test", applicationToken: "t", initialUsage: initialUsage),
            transport: transport, clock: clock, monotonic: clock)
    }

    @Test func todaysSavedCountersAreContinued() async {
        var saved = UsageCounters(day: UsageCounters.day(ofMilliseconds: clock.nowMilliseconds()))
        saved.requests = 41
        saved.bytesReceived = 9000
        let usage = await client(initialUsage: saved).usage
        #expect(usage == saved)
    }

    @Test func anotherDaysCountersStartOver() async {
        var saved = UsageCounters(day: "2020-01-01")
        saved.requests = 41
        let usage = await client(initialUsage: saved).usage
        #expect(usage.requests == 0)
        #expect(usage.day == UsageCounters.day(ofMilliseconds: clock.nowMilliseconds()))
    }
}
