import AgentTestSupport
@testable import EdgeAgent
import EmnifyAPI
import Synchronization
import Testing

/// The same busy SIM, against an API that sends `X-Total-Count`: a closed bucket that the short
/// reads brought completely is confirmed by a `per_page=1` count instead of a download
/// (`BucketCount`), so each event is downloaded once, and a late one is still published, once.
extension ReconciliationBucketTests {
    func sendTotalCount(error: Int = 0) {
        api.data.withLock {
            $0.sendsTotalCount = true
            $0.totalCountError = error
        }
    }

    /// The endpoint feed's queries: per page, and how long a window each asked for (seconds).
    var endpointQueries: [(perPage: Int, seconds: Int64)] {
        api.data.withLock { data in
            let feed = EventFeed.endpoint(900)
            return zip(data.perPages[feed]!, zip(data.windowStarts[feed]!, data.windowEnds[feed]!)).map {
                ($0, $1.1 - $1.0)
            }
        }
    }

    @Test func aBusySIMDownloadsEachEventOnceAndConfirmsClosedBucketsByTheirCount() async {
        sendTotalCount()
        let agent = agent()
        #expect(await agent.pollOnce().description == "published 40 events")
        // The start slid the window to look_back before the newest event, and the next bucket closes:
        // that reconciliation finds the window quiet and reads it as one query (`FeedRead.full`).
        await busy(agent, through: 15)
        let (queriesBefore, sentBefore, publishedBefore) = (
            endpointQueries.count, api.data.withLock { $0.eventsSent[.endpoint(900)]! }, publisher.eventIDs.count
        )
        let outcomes = await busy(agent, through: 915)  // three reconciliations, at t0 + 315, 615 and 915
        #expect(outcomes.allSatisfy { $0 == "published 1 event" })
        let queries = endpointQueries.dropFirst(queriesBefore)
        let counts = queries.filter { $0.perPage == 1 }
        #expect(counts.count == 3 * 3, "three closed buckets at each reconciliation")
        #expect(!queries.contains { $0.perPage > 1 && $0.seconds < 3_600 }, "no bucket was downloaded")
        // Each new event once, the newest again by each short read (the overlap), one per count answer.
        let sent = api.data.withLock { $0.eventsSent[.endpoint(900)]! } - sentBefore
        #expect(sent == publisher.eventIDs.count - publishedBefore + outcomes.count + counts.count)
        #expect(await windowStart(agent) == t0 + 915_000 - 600_000, "the window slides over confirmed buckets")
        expectEachEventOnce()
    }

    @Test func aLateEventInAConfirmedBucketIsFoundByItsCountAndPublishedOnce() async {
        sendTotalCount()
        let agent = agent()
        _ = await agent.pollOnce()
        await busy(agent, through: 330)  // the bucket [t0, t0 + 300] closed and was confirmed at t0 + 315
        addLateEvent()
        let outcomes = await busy(agent, through: 615)
        #expect(outcomes.dropLast().allSatisfy { $0 == "published 1 event" }, "the short reads do not see it")
        #expect(outcomes.last == "published 2 events", "the next reconciliation's count does")
        #expect(endpointQueries.last { $0.perPage > 1 && $0.seconds == 300 } != nil, "its bucket was downloaded")
        let before = notModified
        await busy(agent, through: 915)
        #expect(notModified == before + 1, "then it answers its ETag; the others are counted")
        #expect(publisher.eventIDs.filter { $0 == Self.lateID }.count == 1)
        expectEachEventOnce()
    }

    /// A count that disagrees with the one page it came with is not trusted for an hour. One too
    /// low would otherwise confirm the bucket that holds an event the short reads missed.
    @Test(arguments: [-1, 1])
    func aTotalCountThatDisagreesWithItsPageIsNotTrusted(error: Int) async {
        sendTotalCount(error: error)
        let agent = agent()
        _ = await agent.pollOnce()
        await busy(agent, through: 200)
        addLateEvent()  // before its bucket closes, after the short reads passed it
        let outcomes = await busy(agent, through: 315)
        #expect(outcomes.last == "published 2 events", "the reconciliation at t0 + 315 s downloads its bucket")
        #expect(!endpointQueries.contains { $0.perPage == 1 }, "no count query at all")
        #expect(publisher.eventIDs.filter { $0 == Self.lateID }.count == 1)
        expectEachEventOnce()
    }

    /// emnify documents no minimum `per_page`: a server that refuses 1 gets the downloads instead,
    /// and polling goes on.
    @Test func aServerThatRefusesTheCountQueryGetsTheBucketsDownloaded() async {
        sendTotalCount()
        api.data.withLock {
            $0.refusesQuery = { _, query in
                query.perPage == 1
                    ? .badRequest(status: 400, path: "/api/v1/event", message: "per_page too small") : nil
            }
        }
        let agent = agent()
        _ = await agent.pollOnce()
        await busy(agent, through: 330)
        addLateEvent()
        let outcomes = await busy(agent, through: 615)
        #expect(!outcomes.contains { $0.hasPrefix("poll failed") })
        #expect(outcomes.last == "published 2 events")
        #expect(endpointQueries.count { $0.perPage == 1 } == 1, "asked once, then counting is suspended")
        expectEachEventOnce()
    }
}
