import AgentTestSupport
import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Synchronization
import Testing

/// The SIM feed skips (records as handled) the events the endpoint feed owns. With pipelining, the skips
/// of a page must not reach the saved cursor before that page's batch is acknowledged: the window slides
/// to the newest recorded event minus the look-back, and could pass older events still in flight.
@Suite struct PipelinedSIMFeedTests {
    let setup = PipeliningSetup()
    var clock: TestClock { setup.clock }
    var api: InMemoryAPI { setup.api }
    var publisher: PipeliningPublisher { setup.publisher }
    var stateDirectory: String { setup.stateDirectory }

    init() {
        let start = clock.nowMilliseconds() - 3 * 3_600_000
        let minute: Int64 = 60_000
        // SIM feed, page 1: events 1…10 of the SIM only, two minutes apart.
        // Page 2: events 11…15 of the SIM only, then 16…19 of the endpoint an hour later (beyond the look-back).
        for id in 1...15 {
            api.add(makeEvent(id: Int64(id), millis: start + Int64(id) * 2 * minute, type: 51), to: .sim(500))
        }
        let endpoint = #", "endpoint": {"id": 900, "name": "gw"}, "sim": {"id": 500}"#
        for id in 16...19 {
            let event = makeEvent(id: Int64(id), millis: start + Int64(id) * 5 * minute, extra: endpoint)
            api.add(event, to: .endpoint(900), .sim(500))
        }
    }

    func agent(api: (any AgentAPI)? = nil) -> Agent { setup.agent(api: api) }

    /// Hand-over 1: the endpoint feed's 16…19; 2: the SIM feed's page 1; 3: its page 2 (11…15), which fails
    /// (its acknowledgement, or the hand-over itself while page 1 is in flight).
    @Test(arguments: ["acknowledgement", "hand-over"])
    func skippedEventsDoNotMoveTheCursorPastABatchNotAcknowledged(failing: String) async {
        let publisher = self.publisher
        func fail(_ numbers: Set<Int>) {
            if failing == "hand-over" {
                publisher.failingHandOvers.withLock { $0 = numbers }
            } else {
                publisher.failingAcknowledgements.withLock { $0 = numbers }
            }
        }
        fail([3])
        let agent = agent()
        let failed = await agent.pollOnce()
        #expect(failed.description.hasPrefix("poll failed"))
        #expect(publisher.snapshot.acknowledged == [Array(16...19), Array(1...10)])

        fail([])
        clock.advance(seconds: 60)
        _ = await agent.pollOnce()
        let record = publisher.snapshot
        #expect(Set(record.acknowledged.flatMap { $0 }) == Set(1...19), "no event is lost")
        let handedOver = record.handedOver.flatMap { $0 }
        #expect(handedOver.filter { $0 <= 10 } == Array(1...10), "the acknowledged batch is not handed over again")
    }
}
