import AgentTestSupport
import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Synchronization
import Testing

/// The poll hands the next batch to the broker while the previous one's acknowledgements arrive; the
/// cursor moves past a batch only once it is acknowledged, in order, and a failure keeps what was.
@Suite struct PipelinedPollTests {
    let setup = PipeliningSetup()
    var clock: TestClock { setup.clock }
    var api: InMemoryAPI { setup.api }
    var publisher: PipeliningPublisher { setup.publisher }
    var stateDirectory: String { setup.stateDirectory }

    init() {
        // 35 events in the endpoint feed: pages of 10, 10, 10 and 5, one batch each.
        let start = clock.nowMilliseconds() - 600_000
        for id in 1...35 { api.add(makeEvent(id: Int64(id), millis: start + Int64(id) * 1000), to: .endpoint(900)) }
    }

    func agent(api: (any AgentAPI)? = nil) -> Agent { setup.agent(api: api) }

    /// Event ids the endpoint feed's cursor counts as published, as saved in the state file.
    var savedIDs: Set<Int64> {
        let cursor = AgentStateStore(directory: stateDirectory).load().0.cursors["endpoint:900"]
        return Set(cursor?.published.keys.map { $0 } ?? [])
    }

    @Test func aBackfillOfFourPagesIsPipelinedAndEveryEventPublishedOnceInOrder() async {
        let outcome = await agent().pollOnce()
        #expect(outcome.description == "published 35 events")
        let record = publisher.snapshot
        #expect(record.handedOver.map(\.count) == [10, 10, 10, 5])
        #expect(record.handedOver.flatMap { $0 } == Array(1...35), "every event once, in time order")
        #expect(record.acknowledged.flatMap { $0 } == Array(1...35))
        #expect(
            record.trace == [
                "hand over 1", "hand over 2", "acknowledged 1", "hand over 3", "acknowledged 2", "hand over 4",
                "acknowledged 3", "acknowledged 4",
            ], "each batch is handed over before the previous one's acknowledgement is awaited")
        #expect(savedIDs == Set(1...35))
    }

    @Test func aFailedAcknowledgementKeepsTheBatchesBeforeItAndLosesNothing() async {
        publisher.failingAcknowledgements.withLock { $0 = [2] }
        let agent = agent()
        let failed = await agent.pollOnce()
        #expect(failed.description.hasPrefix("poll failed: the local MQTT broker did not acknowledge"))
        #expect(
            publisher.snapshot.trace == [
                "hand over 1", "hand over 2", "acknowledged 1", "hand over 3", "acknowledgement 2 failed",
            ])
        // The 3rd batch was handed over before the 2nd failed; it must not count ahead of the 2nd.
        #expect(savedIDs == Set(1...10), "only the 1st batch counts as published")
        #expect(await agent.currentState.connectivity.lastEvent?.id == 10)

        publisher.failingAcknowledgements.withLock { $0 = [] }
        clock.advance(seconds: 60)
        #expect(await agent.pollOnce().description == "published 25 events")
        let record = publisher.snapshot
        let handedOver = record.handedOver.flatMap { $0 }
        #expect(Set(handedOver) == Set(1...35), "no event is missing")
        #expect(handedOver.filter { $0 <= 10 } == Array(1...10), "the acknowledged 1st batch is not handed over again")
        #expect(record.acknowledged.flatMap { $0 } == Array(1...35), "each event acknowledged once, in order")
        #expect(savedIDs == Set(1...35))
    }

    @Test func aFailedHandOverStillSettlesTheBatchInFlight() async {
        publisher.failingHandOvers.withLock { $0 = [3] }
        let agent = agent()
        let failed = await agent.pollOnce()
        #expect(failed.description.hasPrefix("poll failed: the local MQTT broker did not acknowledge"))
        #expect(
            publisher.snapshot.trace == [
                "hand over 1", "hand over 2", "acknowledged 1", "hand over 3 failed", "acknowledged 2",
            ])
        #expect(savedIDs == Set(1...20), "the 2nd batch was acknowledged, so it counts")
        #expect(await agent.currentState.connectivity.lastEvent?.id == 20)

        publisher.failingHandOvers.withLock { $0 = [] }
        clock.advance(seconds: 60)
        #expect(await agent.pollOnce().description == "published 15 events")
        #expect(publisher.snapshot.handedOver.flatMap { $0 } == Array(1...35), "each event handed over once, in order")
        #expect(savedIDs == Set(1...35))
    }

    @Test func aFailedPageRequestStillSettlesTheBatchInFlight() async {
        let failing = OnePageFailingAPI(api)
        failing.failingPage.withLock { $0 = 3 }
        let agent = agent(api: failing)
        let failed = await agent.pollOnce()
        #expect(failed.description.contains("503"))
        #expect(publisher.snapshot.trace == ["hand over 1", "hand over 2", "acknowledged 1", "acknowledged 2"])
        #expect(savedIDs == Set(1...20), "the batch handed over before the failed request counts once acknowledged")

        clock.advance(seconds: 60)
        #expect(await agent.pollOnce().description == "published 15 events")
        #expect(publisher.snapshot.handedOver.flatMap { $0 } == Array(1...35), "each event handed over once, in order")
        #expect(savedIDs == Set(1...35))
    }
}
