import AgentTestSupport
@testable import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Foundation
import Synchronization
import Testing

@Suite struct AgentPollingTests {
    let clock = TestClock()
    let api: InMemoryAPI
    let publisher = RecordingPublisher()
    let iccid = try! ICCID(parsing: "89883070000012345674")
    let stateDirectory = temporaryDirectory()

    init() {
        api = InMemoryAPI(clock: clock)
        api.data.withLock {
            $0.sims["8988307000001234567"] = SIM(
                id: 500, iccid: "8988307000001234567", endpoint: .init(id: 900, name: "gw"))
        }
    }

    func agent(settings: AgentSettings? = nil) -> Agent {
        var defaults = AgentSettings()
        defaults.stateDirectory = stateDirectory
        defaults.pageSize = 10
        return Agent(
            settings: settings ?? defaults, api: api,
            identity: FixedIdentity(identity: AgentIdentity(iccid: iccid, source: "static")),
            publisher: publisher, clock: clock)
    }

    var now: Int64 { clock.nowMilliseconds() }

    @Test func firstStartPublishesOnlyTheBackfillWindowInTimeOrder() async {
        api.add(makeEvent(id: 1, millis: now - 25 * 3_600_000), to: .endpoint(900))  // older than 24 h
        api.add(makeEvent(id: 30, millis: now - 3_600_000), to: .endpoint(900))
        api.add(makeEvent(id: 20, millis: now - 7_200_000), to: .endpoint(900))
        api.add(makeEvent(id: 40, millis: now - 60_000), to: .sim(500))
        let outcome = await agent().pollOnce()
        #expect(outcome.description == "published 3 events")
        #expect(publisher.eventIDs == [20, 30, 40])
        #expect(publisher.last("/status") == nil, "status belongs to the MQTT session, not the poll")
        #expect(
            publisher.last("/identity") != nil && publisher.last("/state") != nil && publisher.last("/health") != nil)
        #expect(
            publisher.messages.withLock { $0 }.first { $0.topic.contains("/event/") }?.topic
                == "emnify/8988307000001234567/event/update-location")
    }

    @Test func idlePollsCostTwoRequestsAndPublishNothingTwice() async {
        api.add(makeEvent(id: 1, millis: now - 60_000), to: .endpoint(900), .sim(500))
        let agent = agent()
        _ = await agent.pollOnce()
        let before = api.requests.count
        for _ in 0..<3 {
            clock.advance(seconds: 60)
            #expect(await agent.pollOnce().description == "no new events")
        }
        #expect(publisher.eventIDs == [1], "an event in both feeds is published once")
        #expect(api.requests.count - before == 6, "two requests per idle poll")
    }

    @Test func lateEventsInsideTheLookBackAreStillPublished() async {
        api.add(makeEvent(id: 10, millis: now - 60_000), to: .endpoint(900))
        let agent = agent()
        _ = await agent.pollOnce()
        // Appears later with an older timestamp than the newest published event.
        api.add(makeEvent(id: 9, millis: now - 300_000), to: .endpoint(900))
        clock.advance(seconds: 60)
        _ = await agent.pollOnce()
        // The next reconciliation, at most `fullReadPeriod` after the last one, finds it.
        clock.advance(seconds: 240)
        _ = await agent.pollOnce()
        #expect(publisher.eventIDs == [10, 9])
    }

    /// A busy SIM: polls between two reconciliations ask only for what follows the newest published
    /// event (less a short overlap), and the window does not slide until the next reconciliation,
    /// which reads the window again in its closed buckets, so an event that appears late is
    /// published by it, once.
    @Test func pollsBetweenReconciliationsAskOnlyForWhatIsNew() async {
        // Half a minute into a bucket (the test clock starts on a bucket boundary): the next one
        // closes between the fourth and the fifth poll after the start.
        clock.advance(seconds: 30)
        let start = now
        let bucket = start - 30_000
        api.add(makeEvent(id: 1, millis: start - 60_000), to: .endpoint(900))
        let agent = agent()
        _ = await agent.pollOnce()  // a start: the whole window
        let window = await agent.currentState.cursors["endpoint:900"]!.windowStart
        for (index, id) in (2...4).enumerated() {
            clock.advance(seconds: 60)
            api.add(makeEvent(id: Int64(id), millis: start + Int64(index) * 60_000), to: .endpoint(900))
            #expect(await agent.pollOnce().description == "published 1 event")
        }
        let starts = api.data.withLock { $0.windowStarts[.endpoint(900)]! }
        #expect(starts[0] == (start - 24 * 3_600_000) / 1000, "the first poll reads the backfill window")
        let newestBefore = [start - 60_000, start, start + 60_000]
        // (The start read the window as a reconciliation does: its start, its closed buckets, a short read.)
        #expect(Array(starts[5...7]) == newestBefore.map { ($0 - 2_000) / 1000 }, "then only what is new")
        #expect(await agent.currentState.cursors["endpoint:900"]!.windowStart == window, "no slide without a full read")

        // Late: older than the newest published event by more than the overlap.
        api.add(makeEvent(id: 5, millis: start - 30_000), to: .endpoint(900))
        clock.advance(seconds: 60)
        #expect(await agent.pollOnce().description == "no new events", "a short read does not see it")
        clock.advance(seconds: 60)  // the bucket of the start has closed
        #expect(await agent.pollOnce().description == "published 1 event")
        #expect(publisher.eventIDs == [1, 2, 3, 4, 5])
        let (from, until) = api.data.withLock { ($0.windowStarts[.endpoint(900)]!, $0.windowEnds[.endpoint(900)]!) }
        // The window again: its start up to the last three closed buckets in one query, then a short
        // read, then each bucket confirmed by its count (`per_page=1`, bounds a second outside it).
        // The late event lies on the second where one bucket ends and the next begins, which this
        // API includes in both: the first bucket's count differs and it is downloaded (publishing
        // the event), and the next bucket's count then matches.
        let buckets = stride(from: bucket - 600_000, through: bucket, by: 300_000).map { $0 / 1000 }
        let perPage = api.data.withLock { $0.perPages[.endpoint(900)]! }
        let short = (start + 120_000 - 2_000) / 1000
        #expect(
            Array(from.suffix(6)) == [window / 1000, short, buckets[0] - 1, buckets[1] - 1, buckets[1], buckets[2] - 1])
        #expect(
            Array(until.suffix(6)) == [
                buckets[0], (clock.nowMilliseconds() / 1000 / 3600 + 2) * 3600, buckets[1], buckets[2], buckets[2],
                buckets[2] + 300,
            ])
        #expect(Array(perPage.suffix(6)) == [10, 10, 1, 1, 10, 1])
        #expect(await agent.currentState.cursors["endpoint:900"]!.windowStart > window, "and then it slides")
    }

    /// A server that ignores `page` repeats the first page: the poll stops at the repeat instead of
    /// asking for ever (it compares a page with the one before, not with every id of the poll).
    @Test func aServerThatIgnoresThePageNumberIsNotFollowedForever() async {
        // In the bucket still open: a start reads the window's closed buckets (empty here) before.
        for id in 1...25 {
            api.add(makeEvent(id: Int64(id), millis: now - 30_000 + Int64(id) * 1000), to: .endpoint(900))
        }
        api.data.withLock { $0.ignoresPage = true }
        let outcome = await agent().pollOnce()
        #expect(outcome.description == "published 10 events")
        #expect(publisher.eventIDs == Array(1...10))
        #expect(
            api.requests.filter { $0 == EventFeed.endpoint(900).description }.count == 4 + 2,
            "the window's start and its three closed buckets, empty; then page 1, then its repeat")
    }

    @Test func aBrokerFailureKeepsTheCursorSoNothingIsLost() async {
        for id in 1...25 {
            api.add(makeEvent(id: Int64(id), millis: now - 600_000 + Int64(id) * 1000), to: .endpoint(900))
        }
        publisher.failAfterEvents.withLock { $0 = 15 }
        let agent = agent()
        let failed = await agent.pollOnce()
        #expect(failed.description.hasPrefix("poll failed"))
        #expect(publisher.eventIDs == Array(1...10), "the first page was acknowledged, the second was refused")
        publisher.failAfterEvents.withLock { $0 = nil }
        _ = await agent.pollOnce()
        #expect(publisher.eventIDs == Array(1...25), "each event once, in order")
    }

    @Test func aRestartReusesTheCursorWithoutDuplicates() async {
        for id in 1...5 { api.add(makeEvent(id: Int64(id), millis: now - 100_000 + Int64(id)), to: .endpoint(900)) }
        _ = await agent().pollOnce()
        api.add(makeEvent(id: 6, millis: now), to: .endpoint(900))
        clock.advance(seconds: 30)
        _ = await agent().pollOnce()  // a new process reading the same state directory
        #expect(publisher.eventIDs == [1, 2, 3, 4, 5, 6])
    }

    @Test func aDamagedStateFileFallsBackToThePreviousCopy() async throws {
        api.add(makeEvent(id: 1, millis: now - 100_000), to: .endpoint(900))
        _ = await agent().pollOnce()
        clock.advance(seconds: 60)
        _ = await agent().pollOnce()  // a second save moves the first to state.json.prev
        try "{\"version\": 1, \"cursors\": {".write(
            toFile: stateDirectory + "/state.json", atomically: false, encoding: .utf8)
        clock.advance(seconds: 60)
        _ = await agent().pollOnce()
        #expect(publisher.eventIDs == [1], "recovered: no duplicate, nothing lost")
        // Both copies damaged: starts over from the backfill, publishing again rather than losing.
        try "garbage".write(toFile: stateDirectory + "/state.json", atomically: false, encoding: .utf8)
        try "garbage".write(toFile: stateDirectory + "/state.json.prev", atomically: false, encoding: .utf8)
        _ = await agent().pollOnce()
        #expect(publisher.eventIDs == [1, 1])
    }

    @Test func aSIMWithoutEndpointPollsTheSIMFeedOnly() async {
        api.data.withLock { $0.sims["8988307000001234567"] = SIM(id: 500, iccid: "8988307000001234567") }
        api.add(makeEvent(id: 7, millis: now - 1000, type: 51), to: .sim(500))
        _ = await agent().pollOnce()
        #expect(publisher.eventIDs == [7])
        #expect(!api.requests.contains("endpoint 900"))
    }

    @Test func anUnknownSIMIsReportedAndNotHammered() async {
        api.data.withLock { $0.sims = [:] }
        let agent = agent()
        #expect(await agent.pollOnce().description.contains("not in the emnify organisation"))
        #expect(await agent.pollOnce().description.contains("checking again"))
        #expect(api.requests == ["sim"])
    }

    @Test func aLongAbsenceAnnouncesAPossibleGap() async {
        var settings = AgentSettings()
        settings.stateDirectory = stateDirectory
        settings.backfill = .seconds(29 * 86400)
        _ = await agent(settings: settings).pollOnce()
        clock.advance(seconds: 5 * 86400)
        _ = await agent(settings: settings).pollOnce()
        let notice = publisher.last("/notice")
        #expect(notice.map { String(decoding: $0.payload, as: UTF8.self).contains("possible_gap") } == true)
    }

    @Test func stateIsDerivedFromTheEvents() async throws {
        api.add(
            makeEvent(
                id: 1, millis: now - 5000, type: 1,
                extra: #", "detail": {"name": "Vodafone", "country": {"name": "Germany"}}"#), to: .endpoint(900))
        api.add(
            makeEvent(id: 2, millis: now - 4000, type: 3, extra: #", "detail": {"pdp_context": {"rat_type": 6}}"#),
            to: .endpoint(900))
        api.add(makeEvent(id: 3, millis: now - 3000, type: 19, severity: 1), to: .endpoint(900))
        _ = await agent().pollOnce()
        let payload = try #require(publisher.last("/state")).payload
        let state = try JSONDecoder().decode(ConnectivityState.self, from: Data(payload))
        #expect(state.registered == true && state.dataSession == "up" && state.networkGeneration == "4G")
        #expect(state.operatorName == "Vodafone" && state.country == "Germany" && state.dataQuota == "used_up")
        #expect(state.lastEvent?.id == 3)
    }

    @Test func topicLevelsFromDataAreSanitised() {
        let topics = TopicLayout(prefix: "/site/+/emnify/", iccid: "89#88/30\u{0}")
        #expect(topics.base == "site/_/emnify/89_88_30_")
        #expect(TopicSegment.sanitize("") == "_")
    }
}

extension AgentPollingTests {
    @Test func endpointEventsOlderThanTheLookBackAreNotRepublishedFromTheSIMFeed() async {
        let endpoint = #", "endpoint": {"id": 900, "name": "gw"}, "sim": {"id": 500}"#
        for id in 1...5 {
            let event = makeEvent(id: Int64(id), millis: now - 3_600_000 + Int64(id) * 60_000, extra: endpoint)
            api.add(event, to: .endpoint(900), .sim(500))
        }
        let simOnly = makeEvent(id: 6, millis: now - 3_000_000, type: 51, extra: #", "sim": {"id": 500}"#)
        api.add(simOnly, to: .sim(500))
        _ = await agent().pollOnce()
        #expect(publisher.eventIDs.sorted() == [1, 2, 3, 4, 5, 6])
    }
}

extension AgentPollingTests {
    /// An event that appears in the SIM feed before the endpoint feed shows it must still be
    /// published by the endpoint feed later (the SIM feed's skip is not a publication).
    @Test func anEventSeenFirstInTheSIMFeedIsStillPublished() async {
        let endpoint = #", "endpoint": {"id": 900, "name": "gw"}, "sim": {"id": 500}"#
        let event = makeEvent(id: 77, millis: now - 1000, extra: endpoint)
        api.add(event, to: .sim(500))  // the endpoint feed does not show it yet
        let agent = agent()
        _ = await agent.pollOnce()
        #expect(publisher.eventIDs.isEmpty)
        api.add(event, to: .endpoint(900))
        clock.advance(seconds: 60)
        _ = await agent.pollOnce()
        #expect(publisher.eventIDs == [77])
    }
}

extension AgentPollingTests {
    @Test func anEndpointAssignedLaterIsPickedUp() async {
        api.data.withLock { $0.sims["8988307000001234567"] = SIM(id: 500, iccid: "8988307000001234567") }
        let agent = agent()
        _ = await agent.pollOnce()
        #expect(!api.requests.contains("endpoint 900"))
        api.data.withLock {
            $0.sims["8988307000001234567"] = SIM(id: 500, iccid: "8988307000001234567", endpoint: .init(id: 900))
        }
        api.add(makeEvent(id: 5, millis: now), to: .endpoint(900))
        clock.advance(seconds: 301)
        _ = await agent.pollOnce()
        #expect(api.requests.contains("endpoint 900"))
        #expect(publisher.eventIDs == [5])
        #expect(
            publisher.last("/identity").map {
                String(decoding: $0.payload, as: UTF8.self).contains("\"endpoint_id\":900")
            } == true)
    }

    @Test func aChangedSIMStopsTheLoopForARestart() async throws {
        final class SwappingIdentity: IdentityProvider, @unchecked Sendable {
            var iccid = "89883070000012345674"
            func readIdentity() async throws -> AgentIdentity {
                AgentIdentity(iccid: try ICCID(parsing: iccid), source: "static")
            }
        }
        let identity = SwappingIdentity()
        var settings = AgentSettings()
        settings.stateDirectory = stateDirectory
        settings.pollInterval = .milliseconds(10)
        settings.fastPollInterval = .milliseconds(10)
        settings.identityInterval = .zero
        let agent = Agent(settings: settings, api: api, identity: identity, publisher: publisher, clock: clock)
        _ = await agent.pollOnce()
        identity.iccid = "89490200000863940628"
        let reason = await agent.run()
        #expect(reason?.description.contains("the SIM changed") == true)
    }
}

extension AgentPollingTests {
    /// A power cut takes the broker's retained messages since its last autosave with it; the agent
    /// starts again on its own (fsynced) state with the same SIM. Its first poll publishes the
    /// retained identity again (before, only a changed SIM or a broker reconnect did), and only once.
    @Test func aRestartPublishesTheIdentityAgainForABrokerThatLostIt() async {
        api.add(makeEvent(id: 1, millis: now - 60_000), to: .endpoint(900))
        _ = await agent().pollOnce()
        #expect(publisher.last("/identity") != nil)

        let afterPowerCut = RecordingPublisher()
        var settings = AgentSettings()
        settings.stateDirectory = stateDirectory
        let restarted = Agent(
            settings: settings, api: api,
            identity: FixedIdentity(identity: AgentIdentity(iccid: iccid, source: "static")),
            publisher: afterPowerCut, clock: clock)
        _ = await restarted.pollOnce()
        clock.advance(seconds: 60)
        _ = await restarted.pollOnce()
        let identities = afterPowerCut.messages.withLock { $0 }.filter { $0.topic.hasSuffix("/identity") }
        #expect(identities.count == 1)
        #expect(
            identities.first.map { String(decoding: $0.payload, as: UTF8.self).contains("\"endpoint_id\":900") } == true
        )
        #expect(identities.first?.retain == true)
    }
}
