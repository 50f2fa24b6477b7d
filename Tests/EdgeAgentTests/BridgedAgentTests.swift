import AgentTestSupport
@testable import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Foundation
import Synchronization
import Testing

/// The agent in bridge mode, on in-memory parts: what the bridge brought is recorded, and a
/// reconciliation publishes only the rest, in one query per feed.
@Suite struct BridgedAgentTests {
    let clock = TestClock()
    let api: InMemoryAPI
    let publisher = RecordingPublisher()
    let iccid = try! ICCID(parsing: "89883070000012345674")
    let stateDirectory = temporaryDirectory()
    let topics = TopicLayout(prefix: "emnify", iccid: "8988307000001234567")

    init() {
        api = InMemoryAPI(clock: clock)
        api.data.withLock {
            $0.sims["8988307000001234567"] = SIM(
                id: 500, iccid: "8988307000001234567", endpoint: .init(id: 900, name: "gw"))
        }
    }

    func agent() -> Agent {
        var settings = AgentSettings()
        settings.stateDirectory = stateDirectory
        settings.pageSize = 10
        settings.bridged = true
        return Agent(
            settings: settings, api: api,
            identity: FixedIdentity(identity: AgentIdentity(iccid: iccid, source: "static")),
            publisher: publisher, clock: clock)
    }

    var now: Int64 { clock.nowMilliseconds() }

    /// An event as the relay publishes it, with the endpoint's id.
    func bridged(_ id: Int64, millis: Int64) -> (EmnifyEvent, MQTTMessage) {
        let event = makeEvent(id: id, millis: millis, extra: #","endpoint":{"id":900}"#)
        return (event, MQTTMessage.event(event, topics: topics))
    }

    @Test func aReconciliationPublishesOnlyWhatTheBridgeDidNotBring() async {
        let agent = agent()
        await agent.enterBridgeMode()
        #expect(await agent.reconcile(reason: "start").description == "no new events")
        let (first, firstMessage) = bridged(10, millis: now - 30_000)
        let (second, _) = bridged(11, millis: now - 20_000)
        let (third, thirdMessage) = bridged(12, millis: now - 10_000)
        for event in [first, second, third] { api.add(event, to: .endpoint(900), .sim(500)) }
        // The bridge brought 10 and 12; 11 was lost (the cluster dropped the session meanwhile).
        await agent.observeBridged(firstMessage)
        await agent.observeBridged(thirdMessage)
        clock.advance(seconds: 600)
        let before = api.requests.count
        #expect(await agent.reconcile(reason: "the bridge reconnected").description == "published 1 event")
        #expect(publisher.eventIDs == [11])
        #expect(api.requests.count - before == 2, "one query per feed")
        let health = await agent.healthReport().bridge
        #expect(health?.reconciliations == 2)
        #expect(health?.eventsBridged == 2)
        #expect(health?.lastReconciliationPublished == 1)
    }

    @Test func eventsBridgedBeforeTheSIMIsResolvedAreRecordedOnceItIs() async {
        let agent = agent()
        await agent.enterBridgeMode()
        let (early, earlyMessage) = bridged(20, millis: now - 60_000)
        let (other, _) = bridged(19, millis: now - 120_000)
        api.add(early, to: .endpoint(900), .sim(500))
        api.add(other, to: .endpoint(900), .sim(500))
        // Heard before the first start's read: the backfill publishes only what the bridge did not bring.
        await agent.observeBridged(earlyMessage)
        #expect(await agent.reconcile(reason: "start").description == "published 1 event")
        #expect(publisher.eventIDs == [19])
        // A restarted agent (its state from the file) that hears the bridge before its first read.
        let restarted = self.agent()
        await restarted.enterBridgeMode()
        let (late, lateMessage) = bridged(21, millis: now - 5_000)
        api.add(late, to: .endpoint(900), .sim(500))
        await restarted.observeBridged(lateMessage)
        #expect(await restarted.reconcile(reason: "start").description == "no new events")
        #expect(publisher.eventIDs == [19])
    }

    @Test func aBridgedEventDoesNotMoveWhereTheNextReadStarts() async {
        let agent = agent()
        await agent.enterBridgeMode()
        _ = await agent.reconcile(reason: "start")
        let (missed, _) = bridged(30, millis: now - 50_000)
        let (newest, newestMessage) = bridged(31, millis: now - 1_000)
        api.add(missed, to: .endpoint(900))
        api.add(newest, to: .endpoint(900))
        await agent.observeBridged(newestMessage)
        #expect(await agent.currentState.cursors["endpoint:900"]?.newestMillis == nil)
        #expect(await agent.reconcile(reason: "quiet").description == "published 1 event")
        #expect(publisher.eventIDs == [30], "the event before the bridged one is found")
    }

    @Test func aReconciliationIsSkippedOnlyForARecordedEvent() async {
        let agent = agent()
        await agent.enterBridgeMode()
        _ = await agent.reconcile(reason: "start")
        let (_, message) = bridged(40, millis: now - 5_000)
        await agent.observeBridged(message)
        let reason = "the bridge reconnected"
        #expect(await agent.skipsReconciliation(reason, named: [(40, nil)]))
        #expect(!(await agent.skipsReconciliation(reason, named: [(41, nil)])))
        #expect(
            !(await agent.skipsReconciliation(reason, named: [(41, now - 60_000)])),
            "inside the window and not recorded: the bridge missed it")
        #expect(
            await agent.skipsReconciliation(reason, named: [(3, now - 48 * 3_600_000)]),
            "older than every window: the agent read everything since")
        // The retained state names what the agent has; the live one a moment later an event that
        // reached the cluster just before the resubscription, which the bridge did not bring.
        #expect(
            !(await agent.skipsReconciliation(reason, named: [(40, now - 5_000), (41, now - 4_000)])),
            "every state since the connect counts")
        #expect(await agent.healthReport().bridge?.reconciliationsSkipped == 2)
    }

    /// The agent's own publications come back on its subscription. One older than the window (a
    /// backfill's: the read that published it forgot it when the window slid) is not bridged, and a
    /// bridged event older than the state's last event does not turn the state back.
    @Test func anEchoOlderThanTheWindowIsNotCountedAndAnOldEventDoesNotTurnTheStateBack() async {
        let agent = agent()
        await agent.enterBridgeMode()
        let (old, oldMessage) = bridged(20, millis: now - 3_000_000)
        let (recent, _) = bridged(21, millis: now - 60_000)
        api.add(old, to: .endpoint(900), .sim(500))
        api.add(recent, to: .endpoint(900), .sim(500))
        #expect(await agent.reconcile(reason: "start").description == "published 2 events")
        await agent.observeBridged(oldMessage)
        #expect(await agent.bridgeHealth?.eventsBridged == 0, "the agent's own, echoed")

        let newer = makeEvent(id: 31, millis: now - 10_000, type: 4, extra: #","endpoint":{"id":900}"#)
        let older = makeEvent(id: 30, millis: now - 20_000, type: 3, extra: #","endpoint":{"id":900}"#)
        await agent.observeBridged(MQTTMessage.event(newer, topics: topics))
        await agent.observeBridged(MQTTMessage.event(older, topics: topics))
        #expect(await agent.bridgeHealth?.eventsBridged == 2)
        #expect(await agent.state.connectivity.lastEvent?.id == 31, "the newer event's state stays")
    }

    @Test func aMessageThatIsNotAnEventIsIgnored() async {
        let agent = agent()
        await agent.enterBridgeMode()
        _ = await agent.reconcile(reason: "start")
        await agent.observeBridged(
            MQTTMessage(topic: topics.base + "/event/x", text: "not json", qos: 1, retain: false))
        #expect(await agent.healthReport().bridge?.eventsBridged == 0)
    }
}
