import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import Testing

@testable import EdgeDiagnostics

/// What the bridge checks take from the local broker's retained messages, and where they run.
@Suite struct BridgeTopicsTests {
    let topics = TopicLayout(prefix: "site/7/emnify", iccid: "8988303000012345678")

    func message(_ topic: String, _ text: String, retained: Bool = true) -> MQTTMessage {
        MQTTMessage(topic: topic, text: text, qos: 0, retain: retained)
    }

    @Test func onlyRetainedNotificationsAndRelayStatusesCount() {
        let found = BridgeTopics.parse(
            [
                message("site/7/emnify/8988303000012345678/bridge", "1\n"),
                message("site/7/emnify/relay/r1/status", "online"),
                message("site/7/emnify/relay/r2/status", "offline"),
                // Live, not retained: a status published now says nothing about what the broker holds.
                message("site/7/emnify/relay/r3/status", "online", retained: false),
                message("site/7/emnify/relay/r4/health", "{}"),
                message("site/7/emnify/relay/a/b/status", "online"),
                message("site/7/emnify/8988303000099999999/bridge", "0"),
            ], topics, complete: true)
        #expect(found.notification == "1")
        #expect(found.relays == ["r1": "online", "r2": "offline"])
        #expect(found.onlineRelays == ["r1"])
    }

    @Test func anIncompleteReadSaysSo() {
        let incomplete = BridgeTopics.parse([], topics, complete: false)
        #expect(incomplete.caveat(topics).contains("the read of site/7/emnify/# did not finish"))
        #expect(BridgeTopics.parse([], topics, complete: true).caveat(topics).isEmpty)
    }

    @Test func payloadsAreShownWithoutControlCharactersAndCut() {
        #expect(BridgeTopics.shown("on\u{1B}[31mline") == "on?[31mline")
        #expect(BridgeTopics.shown(String(repeating: "x", count: 50)) == String(repeating: "x", count: 40) + "…")
    }

    @Test func bridgeModeAddsItsChecksAfterTheBroker() {
        #expect(DiagnosticChecks.checks(for: .poll).map(\.id) == DiagnosticChecks.all.map(\.id))
        #expect(
            DiagnosticChecks.checks(for: .bridge).map(\.id) == [
                "configuration", "clock", "modem", "network", "account", "connectivity", "events", "broker", "bridge",
                "relays", "event-lag", "agent",
            ])
    }

    @Test func theGatewayHasWhatIsOlderThanItsNewestOrRecorded() throws {
        var state = AgentState()
        var endpoint = FeedCursor(windowStart: 0)
        endpoint.markPublished(id: 10, timestampMillis: 5_000)
        var sim = FeedCursor(windowStart: 0)
        sim.markPublished(id: 11, timestampMillis: 6_000)
        state.cursors = ["endpoint:1": endpoint, "sim:2": sim]
        let local = EventLagCheck.LocalEvents(state)
        #expect(local.newestMillis == 6_000)
        func event(_ id: Int64, _ millis: Int64) throws -> EmnifyEvent {
            let time = UTCDateTime(secondsSinceEpoch: millis / 1000).iso8601
            return try EmnifyEvent(json: Array(#"{"id":\#(id),"timestamp":"\#(time)","event_type":{"id":3}}"#.utf8))
        }
        #expect(local.has(try event(9, 1_000)))
        #expect(local.has(try event(11, 6_000)))
        #expect(!local.has(try event(12, 6_000)), "as new as the newest, not recorded")
        #expect(!local.has(try event(13, 7_000)))
        #expect(!EventLagCheck.LocalEvents(AgentState()).has(try event(1, 1_000)), "no state: nothing is had")
    }

    @Test func theTextReportNamesTheMode() {
        let report = DiagnosticReport(tool: "t", generatedAt: "g", configFile: "c", mode: "bridge", checks: [])
        #expect(report.text(colour: false).hasPrefix("t diagnose, g, c\nmode: bridge (events come from the fleet"))
        #expect(report.json().contains(#""mode" : "bridge""#))
    }
}
