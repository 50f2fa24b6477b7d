import EdgeAgent
import EdgeCommon
import EdgeMQTT
import EmnifyAPI
import Foundation
import Logging
import TestSupport
import Testing

@testable import EdgeRelay

/// An org feed in memory: events appear at a chosen "API time" (late ones too), windows and paging
/// as emnify answers them (seconds, inclusive; a page past the last repeats the last).
final class InMemoryOrgFeed: OrgEventSource {
    struct Stored {
        var event: EmnifyEvent
        var visibleFrom: Int64
    }

    let store = Locked((events: [Stored](), now: Int64(1_800_000_000_000), requests: 0))

    func add(id: Int64, atSecond second: Int64, visibleAt visible: Int64? = nil, iccid: String = "8988303000012345678")
    {
        let stamp = TimestampText.format(milliseconds: second * 1000)
        let event = EventJSON.event(EventJSON.sim(id: id, iccid: iccid, at: stamp))
        store.withLock { $0.events.append(Stored(event: event, visibleFrom: (visible ?? second) * 1000)) }
    }

    func advance(toSecond second: Int64) { store.withLock { $0.now = second * 1000 } }
    var requests: Int { store.withLock { $0.requests } }

    func apiTimeMilliseconds() async -> Int64 { store.withLock { $0.now } }

    func eventPage(_ feed: EventFeed, query: EventQuery) async throws(EmnifyError) -> EventPage {
        store.withLock { store in
            store.requests += 1
            let window = query.window ?? (.min, .max)
            let matching = store.events.filter {
                $0.visibleFrom <= store.now && $0.event.timestamp.secondsSinceEpoch >= window.from
                    && $0.event.timestamp.secondsSinceEpoch <= window.until
            }
            .map(\.event)
            .sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
            let pages = max(1, (matching.count + query.perPage - 1) / query.perPage)
            let page = min(query.page, pages)
            let slice = matching.dropFirst((page - 1) * query.perPage).prefix(query.perPage)
            return EventPage(events: Array(slice), rejected: [], paging: PagingHeaders(), etag: nil, notModified: false)
        }
    }
}

@Suite struct OrgPollerTests {
    let directory = try! TemporaryDirectory()
    let cluster = InMemoryCluster()
    let feed = InMemoryOrgFeed()

    func poller(pipeline: RelayPipeline, pageSize: Int = 3) -> OrgPoller {
        OrgPoller(
            api: feed, pipeline: pipeline, deadLetters: DeadLetterFile(directory: directory.path),
            settings: .init(backfill: .seconds(3600), lookBack: .seconds(600), pageSize: pageSize),
            logger: Logger(label: "test"))
    }

    var publishedIDs: [Int64] {
        cluster.published.filter { !$0.retain }.compactMap { $0.eventID }
    }

    @Test func backfillThenFreshReadsThenALateEventOnce() async throws {
        let pipeline = RelayPipeline(cluster: cluster, topics: RelayTopics(prefix: "emnify", relayID: "a"))
        let poller = poller(pipeline: pipeline)
        let start: Int64 = 1_800_000_000
        for id in 1...7 { feed.add(id: Int64(id), atSecond: start - 3000 + Int64(id) * 10) }
        feed.add(id: 99, atSecond: start - 7200)  // before the backfill: not published
        feed.advance(toSecond: start)
        var report = OrgPoller.Report()
        var cursor = try await poller.poll(from: nil, fresh: true, report: &report)
        #expect(Set(publishedIDs) == Set(1...7))
        // The first read was contiguous with the settled part: everything look_back old is settled.
        #expect(cursor.settledUntil == start - 600)
        #expect(cursor.freshUntil == start)

        // A new event, and a late one: stamped 100 s ago but visible only now.
        feed.add(id: 8, atSecond: start + 50)
        feed.add(id: 9, atSecond: start - 100, visibleAt: start + 60)
        feed.advance(toSecond: start + 60)
        cursor = try await poller.poll(from: cursor, fresh: true, report: &report)
        #expect(publishedIDs.contains(8))
        #expect(!publishedIDs.contains(9))  // behind the fresh read's start
        // The settled read of that stretch finds it once it is look_back old.
        feed.advance(toSecond: start + 600)
        cursor = try await poller.poll(from: cursor, fresh: true, report: &report)
        #expect(publishedIDs.filter { $0 == 9 }.count == 1)
        #expect(publishedIDs.count == Set(publishedIDs).count)
        #expect(cursor.settledUntil == start)
    }

    @Test func withTheStreamAliveOnlyTheSettledReadRuns() async throws {
        let pipeline = RelayPipeline(cluster: cluster, topics: RelayTopics(prefix: "emnify", relayID: "a"))
        let poller = poller(pipeline: pipeline)
        let start: Int64 = 1_800_000_000
        var cursor = OrgPollCursor(freshUntil: start, settledUntil: start - 600)
        feed.add(id: 1, atSecond: start + 10)
        // The stream brought event 1 already.
        pipeline.observed(id: 1)
        feed.add(id: 2, atSecond: start + 20, visibleAt: start + 30)  // the stream lost this one
        feed.advance(toSecond: start + 60)
        var report = OrgPoller.Report()
        cursor = try await poller.poll(from: cursor, fresh: false, report: &report)
        #expect(publishedIDs.isEmpty)  // nothing is settled yet
        feed.advance(toSecond: start + 660)
        cursor = try await poller.poll(from: cursor, fresh: false, report: &report)
        #expect(publishedIDs == [2])
        #expect(cursor.settledUntil == start + 60)
        // Cost: one request per pass and page, none for the fresh read.
        #expect(report.requests == 2)
    }

    @Test func pagesAreFollowedAndAnIdenticalPageEndsTheWalk() async throws {
        let pipeline = RelayPipeline(cluster: cluster, topics: RelayTopics(prefix: "emnify", relayID: "a"))
        let poller = poller(pipeline: pipeline, pageSize: 3)
        let start: Int64 = 1_800_000_000
        for id in 1...9 { feed.add(id: Int64(id), atSecond: start - 100 + Int64(id)) }
        feed.advance(toSecond: start)
        var report = OrgPoller.Report()
        _ = try await poller.poll(
            from: OrgPollCursor(freshUntil: start - 200, settledUntil: start - 200), fresh: true, report: &report)
        #expect(Set(publishedIDs) == Set(1...9))
        // Three full pages, then the repeated last page (emnify's answer past the last) ends it.
        #expect(report.requests == 4)
    }

    @Test func aRelayTakingOverContinuesFromTheSharedCursor() async throws {
        let start: Int64 = 1_800_000_000
        let a = RelayPipeline(cluster: cluster, topics: RelayTopics(prefix: "emnify", relayID: "a"))
        for id in 1...3 { feed.add(id: Int64(id), atSecond: start - 30 + Int64(id)) }
        feed.advance(toSecond: start)
        var report = OrgPoller.Report()
        let shared = try await poller(pipeline: a).poll(
            from: OrgPollCursor(freshUntil: start - 60, settledUntil: start - 60), fresh: true, report: &report)
        // Relay b never saw a's publications (a fresh subscription) but has its cursor.
        let b = RelayPipeline(cluster: cluster, topics: RelayTopics(prefix: "emnify", relayID: "b"))
        feed.add(id: 4, atSecond: start + 5)
        feed.advance(toSecond: start + 10)
        let local: OrgPollCursor? = nil
        let cursor = local?.merged(with: shared) ?? shared
        _ = try await poller(pipeline: b).poll(from: cursor, fresh: true, report: &report)
        #expect(publishedIDs.sorted() == [1, 2, 3, 4])
    }
}
