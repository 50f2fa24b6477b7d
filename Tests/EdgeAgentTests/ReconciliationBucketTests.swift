import AgentTestSupport
@testable import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Foundation
import Synchronization
import Testing

/// A busy SIM (an event every 15 s, a poll every 15 s): the look-back window is read again in
/// closed, aligned buckets whose ETags answer 304 unless an event arrived late (`FeedRead`).
/// The test clock starts on a bucket boundary (`t0`); buckets are 300 s (`look_back` 600 s).
/// This API sends no `X-Total-Count`, so closed buckets are downloaded, not confirmed by their
/// count (`BucketCountAgentTests`): the first check finds the header missing.
@Suite struct ReconciliationBucketTests {
    let clock = TestClock()
    let api: InMemoryAPI
    let publisher = RecordingPublisher()
    let iccid = try! ICCID(parsing: "89883070000012345674")
    let stateDirectory = temporaryDirectory()
    let t0: Int64
    static let lateID: Int64 = 9_999

    init() {
        api = InMemoryAPI(clock: clock)
        t0 = clock.nowMilliseconds()
        api.data.withLock {
            $0.sims["8988307000001234567"] = SIM(
                id: 500, iccid: "8988307000001234567", endpoint: .init(id: 900, name: "gw"))
            $0.sendsETags = true
            $0.sendsTotalCount = false
        }
        // The last ten minutes: 40 events.
        for index in 0..<40 {
            api.add(makeEvent(id: Int64(1 + index), millis: t0 - 600_000 + Int64(index) * 15_000), to: .endpoint(900))
        }
    }

    func agent() -> Agent {
        var settings = AgentSettings()
        settings.stateDirectory = stateDirectory
        settings.pageSize = 100  // a bucket is one page, so it keeps its ETag
        return Agent(
            settings: settings, api: api,
            identity: FixedIdentity(identity: AgentIdentity(iccid: iccid, source: "static")),
            publisher: publisher, clock: clock)
    }

    var seconds: Int64 { (clock.nowMilliseconds() - t0) / 1000 }

    /// Every 15 s until `through` (seconds after `t0`): a new event of now, then a poll.
    @discardableResult
    func busy(_ agent: Agent, through: Int64) async -> [String] {
        var outcomes: [String] = []
        while seconds < through {
            clock.advance(seconds: 15)
            api.add(makeEvent(id: 100 + seconds / 15, millis: clock.nowMilliseconds()), to: .endpoint(900))
            outcomes.append(await agent.pollOnce().description)
        }
        return outcomes
    }

    /// An event with a timestamp in the bucket `[t0, t0 + 300 s]`, which has closed and been read.
    func addLateEvent() {
        api.add(makeEvent(id: Self.lateID, millis: t0 + 100_000), to: .endpoint(900))
    }

    /// The endpoint feed's 304s (the SIM feed here is empty: its queries answer 304 too).
    var notModified: Int { api.data.withLock { $0.notModifiedAnswers[.endpoint(900)] ?? 0 } }

    func windowStart(_ agent: Agent) async -> Int64 {
        await agent.currentState.cursors["endpoint:900"]!.windowStart
    }

    func expectEachEventOnce() {
        let ids = publisher.eventIDs
        #expect(Set(ids).count == ids.count, "nothing published twice")
        let added = api.data.withLock { $0.feeds[.endpoint(900)]!.map(\.id) }
        #expect(Set(ids) == Set(added), "every event published")
    }

    @Test func aLateEventInAClosedBucketIsPublishedExactlyOnce() async {
        let agent = agent()
        #expect(await agent.pollOnce().description == "published 40 events")
        await busy(agent, through: 330)  // the bucket [t0, t0 + 300] closed and was read at t0 + 315
        addLateEvent()
        let before = notModified
        let outcomes = await busy(agent, through: 615)
        #expect(outcomes.dropLast().allSatisfy { $0 == "published 1 event" }, "the short reads do not see it")
        #expect(outcomes.last == "published 2 events", "the next reconciliation does")
        #expect(notModified == before + 1, "the bucket without a late event answered 304")
        let afterLate = notModified
        await busy(agent, through: 915)  // its bucket is read once more, unchanged since
        #expect(notModified == afterLate + 2, "both buckets read before answered 304")
        #expect(publisher.eventIDs.filter { $0 == Self.lateID }.count == 1)
        expectEachEventOnce()
    }

    /// A reconciliation that failed after its buckets is retried: the buckets answer 304 (their
    /// ETags were kept once each was handled), nothing is published again, and the window slides.
    @Test func aReconciliationAnsweredWith304sPublishesNothingAndSlidesTheWindow() async {
        let agent = agent()
        _ = await agent.pollOnce()
        await busy(agent, through: 600)
        let window = await windowStart(agent)
        // The short read after the buckets fails, at t0 + 615 (no new event meanwhile).
        let clock = self.clock
        api.data.withLock {
            $0.failsQuery = { feed, query in
                feed == .endpoint(900) && query.window!.until * 1000 > clock.nowMilliseconds()
            }
        }
        clock.advance(seconds: 15)
        let before = notModified
        #expect(await agent.pollOnce().description.hasPrefix("poll failed"))
        #expect(notModified == before + 2, "the buckets read at t0 + 315 answered 304, the new one was read")
        #expect(await windowStart(agent) == window, "no slide: the reconciliation did not finish")
        api.data.withLock { $0.failsQuery = nil }
        clock.advance(seconds: 15)
        let retried = notModified
        #expect(await agent.pollOnce().description == "no new events")
        #expect(notModified == retried + 3, "every bucket answered 304")
        #expect(await windowStart(agent) == t0, "the window slid to look_back before the newest event")
        expectEachEventOnce()
    }

    /// The buckets' ETags are in memory: a new process reads the window again, bucket by bucket,
    /// and publishes a late event that appeared meanwhile, once.
    @Test func aRestartReadsTheWindowAgain() async {
        let first = agent()
        _ = await first.pollOnce()
        await busy(first, through: 330)
        addLateEvent()
        let requests = api.data.withLock { $0.windowStarts[.endpoint(900)]!.count }
        let before = notModified
        let restarted = agent()
        #expect(await busy(restarted, through: 345) == ["published 2 events"])
        #expect(notModified == before, "nothing known, nothing answered 304")
        let (from, until) = api.data.withLock { ($0.windowStarts[.endpoint(900)]!, $0.windowEnds[.endpoint(900)]!) }
        // After the short read, the closed buckets: the first count check finds no X-Total-Count,
        // so the buckets are downloaded (this API would answer their ETags from then on).
        let windowStart = t0 - 285_000  // the newest event at the slide, t0 + 315 s, less look_back
        #expect(
            Array(from[requests...]) == [
                (t0 + 330_000 - 2_000) / 1000, windowStart / 1000 - 1, (t0 - 300_000) / 1000, t0 / 1000,
            ])
        #expect(until[requests + 2] == t0 / 1000)
        #expect(until.last == (t0 + 300_000) / 1000)
        #expect(publisher.eventIDs.filter { $0 == Self.lateID }.count == 1)
        expectEachEventOnce()
    }

    @Test func aServerThatNeverSendsETagsStillWorks() async {
        api.data.withLock { $0.sendsETags = false }
        let agent = agent()
        _ = await agent.pollOnce()
        await busy(agent, through: 330)
        let window = await windowStart(agent)
        addLateEvent()
        let outcomes = await busy(agent, through: 615)
        #expect(outcomes.last == "published 2 events")
        await busy(agent, through: 915)
        #expect(notModified == 0)
        #expect(await windowStart(agent) > window)
        #expect(publisher.eventIDs.filter { $0 == Self.lateID }.count == 1)
        expectEachEventOnce()
    }
}
