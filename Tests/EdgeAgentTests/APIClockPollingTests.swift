import AgentTestSupport
@testable import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Foundation
import Synchronization
import Testing

/// The agent's windows and cursor checks run on the API's clock (issue 14, defect 4): a gateway
/// clock days off, or a cursor written with one, must not make it query a window in the future.
@Suite struct APIClockPollingTests {
    /// The API's clock; the agent's own (monotonic) clock is another one, days apart.
    let apiClock = TestClock()
    let api: InMemoryAPI
    let publisher = RecordingPublisher()
    let iccid = try! ICCID(parsing: "89883070000012345674")
    let stateDirectory = temporaryDirectory()

    init() {
        api = InMemoryAPI(clock: apiClock)
        api.data.withLock {
            $0.sims["8988307000001234567"] = SIM(
                id: 500, iccid: "8988307000001234567", endpoint: .init(id: 900, name: "gw"))
        }
    }

    var now: Int64 { apiClock.nowMilliseconds() }

    func agent(clock: TestClock) -> Agent {
        var settings = AgentSettings()
        settings.stateDirectory = stateDirectory
        settings.pageSize = 10
        return Agent(
            settings: settings, api: api,
            identity: FixedIdentity(identity: AgentIdentity(iccid: iccid, source: "static")),
            publisher: publisher, clock: clock)
    }

    @Test(arguments: [2 * 86_400, -2 * 86_400, 3 * 3600, -3 * 3600] as [Int64])
    func eventsArePublishedWhateverTheGatewayClockSays(skewSeconds: Int64) async {
        let gatewayClock = TestClock()
        gatewayClock.advance(seconds: skewSeconds)
        let agent = agent(clock: gatewayClock)
        api.add(makeEvent(id: 1, millis: now - 60_000), to: .endpoint(900))
        _ = await agent.pollOnce()
        for round in 2...4 {
            apiClock.advance(seconds: 60)
            gatewayClock.advance(seconds: 60)
            api.add(makeEvent(id: Int64(round), millis: now - 1000), to: .endpoint(900))
            _ = await agent.pollOnce()
        }
        #expect(publisher.eventIDs == [1, 2, 3, 4])
        let health = try? JSONDecoder().decode(HealthReport.self, from: Data(publisher.last("/health")?.payload ?? []))
        #expect(health?.cursorLagSeconds == 1, "the lag is measured on the API's clock")
    }

    @Test func aCursorAheadOfTheAPIsClockIsDamagedAndReadAgainFromTheBackfill() async throws {
        // A valid state file whose cursor lies 10^12 ms ahead (as in the issue), with one real id.
        var cursor = FeedCursor(windowStart: now - 600_000 + 1_000_000_000_000)
        cursor.markPublished(id: 5, timestampMillis: now - 7_200_000)
        cursor.markPublished(id: 99, timestampMillis: now + 1_000_000_000_000)
        var state = AgentState()
        state.iccid = iccid.normalized
        state.simID = 500
        state.endpointID = 900
        state.cursors["endpoint:900"] = cursor
        try AgentStateStore(directory: stateDirectory).save(state)
        api.add(makeEvent(id: 5, millis: now - 7_200_000), to: .endpoint(900))
        api.add(makeEvent(id: 6, millis: now - 3_600_000), to: .endpoint(900))
        api.add(makeEvent(id: 7, millis: now - 1000), to: .endpoint(900))

        let agent = agent(clock: TestClock())
        _ = await agent.pollOnce()
        #expect(publisher.eventIDs == [6, 7], "nothing skipped; the real id the cursor knew is not published again")
        let repaired = try #require(await agent.currentState.cursors["endpoint:900"])
        #expect(repaired.lead(over: now) <= 0)
        #expect(repaired.published[99] == nil, "an id from the future is not kept")
        apiClock.advance(seconds: 60)
        api.add(makeEvent(id: 8, millis: now - 1000), to: .endpoint(900))
        _ = await agent.pollOnce()
        #expect(publisher.eventIDs == [6, 7, 8])
    }

    @Test func aCursorJustAheadWithinTheDateHeadersResolutionIsKept() {
        var cursor = FeedCursor(windowStart: now - 600_000)
        cursor.markPublished(id: 1, timestampMillis: now + 1500)
        #expect(cursor.lead(over: now) == 1500)
        #expect(cursor.lead(over: now) <= Agent.cursorTolerance)
    }
}
