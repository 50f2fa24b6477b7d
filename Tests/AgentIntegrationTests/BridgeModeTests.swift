import EdgeCommon
import EdgeMQTT
import EmnifyAPI
import EmnifyEmulator
import Foundation
import Glibc
import Logging
import Testing
import TestSupport

/// `emnify-edge run` in bridge mode on a real mosquitto, with the emulator as the API. A second
/// client stands in for mosquitto's bridge on the gateway's broker: it publishes what the bridge
/// publishes there (the retained notification `1`/`0`, the relays' retained statuses, and the
/// events as the relay sent them). The whole chain with a cluster, a relay and real bridges is
/// `Tests/Chaos/bridged.py`.
@Suite(.serialized) struct BridgeModeTests {
    /// The bridge's side of the gateway's broker.
    final class BridgeStandIn: Sendable {
        let connection: MQTTConnection
        let harness: AgentHarness

        init(_ harness: AgentHarness) async throws {
            self.harness = harness
            connection = try MQTTConnection(
                settings: MQTTSettings(
                    host: "127.0.0.1", port: harness.broker.port, clientID: "bridge-stand-in", keepalive: .seconds(5),
                    protocolVersion: .v311),
                logger: Logger(label: "bridge-stand-in"))
            try await connection.start(timeout: .seconds(10))
        }

        func link(_ up: Bool) async throws {
            try await connection.publish(
                MQTTMessage(topic: harness.topicBase + "/bridge", text: up ? "1" : "0", qos: 1, retain: true))
        }

        /// The relay's retained state of the SIM, as the bridge delivers it after (re)subscribing.
        func fleetState(newest id: Int64) async throws {
            let state = #"{"data_session":"up","last_event":{"id":\#(id),"type":"create-pdp-context","timestamp":"x"}}"#
            try await connection.publish(
                MQTTMessage(topic: harness.topicBase + "/fleet/state", text: state, qos: 0, retain: true))
        }

        func relay(_ id: String, _ status: String) async throws {
            try await connection.publish(
                // QoS 1 (the bridge's is 0): on the broker before the agent starts, whatever the load.
                MQTTMessage(topic: "emnify/relay/\(id)/status", text: status, qos: 1, retain: true))
        }

        /// A new event of the SIM, in the API; `bridged`: the bridge brings it too.
        @discardableResult
        func event(_ id: Int64, bridged: Bool) async throws -> Int64 {
            let emulator = harness.emulator.emulator
            let timestamp = EmnifyTimestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)).text
            let json =
                #"{"id":\#(id),"timestamp":"\#(timestamp)","alert":false,"description":"PDP Context created","#
                + #""event_type":{"id":3,"description":"Create PDP Context"},"event_source":{"id":0,"description":"Network"},"#
                + #""event_severity":{"id":0,"description":"INFO"},"organisation":{"id":2,"name":"Fleet"},"#
                + #""endpoint":{"id":\#(emulator.endpointID!),"name":"gateway"},"#
                + #""sim":{"id":\#(emulator.simID),"iccid":"\#(harness.iccid19)"}}"#
            // As on the real chain, where the relay publishes what emnify already has; but here the bridge's
            // copy goes first, so that a reconciliation the agent may run meanwhile (after a reconnect of
            // its own connection on a loaded machine) cannot publish it before the bridge does.
            if bridged {
                try await connection.publish(
                    MQTTMessage(
                        topic: harness.topicBase + "/event/create-pdp-context", text: json, qos: 1, retain: false))
            }
            try await harness.emulator.control.injectRaw(json)
            return id
        }

        func stop() async { await connection.stop(timeout: .seconds(2)) }
    }

    /// API requests for the SIM's two event feeds so far.
    func eventRequests(_ harness: AgentHarness) async -> Int {
        let emulator = harness.emulator.emulator
        let counters = await harness.emulator.control.counters()
        return counters.requests("/api/v1/endpoint/\(emulator.endpointID!)/event")
            + counters.requests("/api/v1/sim/\(emulator.simID)/event")
    }

    /// The last health message, for a failure's text.
    func healthText(_ harness: AgentHarness) -> String {
        "(health: \(harness.lastPayload("/health") ?? "none"); events received: \(harness.receivedEventIDs))"
    }

    func bridgeHealth(_ harness: AgentHarness) -> [String: Any]? {
        guard let health = harness.lastPayload("/health"),
            let object = try? JSONSerialization.jsonObject(with: Data(health.utf8)) as? [String: Any]
        else { return nil }
        return object["bridge"] as? [String: Any]
    }

    func bridgedHarness(relayOnline: Bool) async throws -> (AgentHarness, BridgeStandIn) {
        let harness = try await AgentHarness(
            emulator: .init(tls: .selfSigned, history: 5),
            extraAgentConfiguration: "events = \"bridge\"\n\n[log]\nlevel = \"info\"")
        let bridge = try await BridgeStandIn(harness)
        try await bridge.link(true)
        try await bridge.relay("relay-a", relayOnline ? "online" : "offline")
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the start reconciliation's backfill", detail: { healthText(harness) }) {
            harness.receivedEventIDs.count >= 5
        }
        try await harness.wait(
            "the start reconciliation on the health topic, with the relay's status", detail: { healthText(harness) }
        ) {
            bridgeHealth(harness)?["reconciliations"] as? Int == 1
                && bridgeHealth(harness)?["relays_online"] as? [String] == (relayOnline ? ["relay-a"] : [])
        }
        return (harness, bridge)
    }

    @Test func theBridgeBringsTheEventsAndAReconnectClosesTheGapWithTwoRequests() async throws {
        let (harness, bridge) = try await bridgedHarness(relayOnline: true)
        let startRequests = await eventRequests(harness)
        #expect(startRequests == 2, "one query per feed at start")

        var bridged: [Int64] = []
        for id in Int64(9_000_000_001)...9_000_000_003 { bridged.append(try await bridge.event(id, bridged: true)) }
        try await harness.wait(
            "the agent recording the bridged events", timeout: .seconds(60), detail: { healthText(harness) }
        ) {
            bridgeHealth(harness)?["events_bridged"] as? Int == 3
        }
        // poll_interval is 1 s: a polling agent would have made about ten requests meanwhile.
        try await Task.sleep(for: .seconds(10))
        #expect(await eventRequests(harness) == startRequests, "no API requests in steady state")

        // The link goes down and comes back, and the cluster kept the session: its newest event for
        // the SIM (the relay's retained state, delivered after the resubscription) was bridged.
        try await bridge.link(false)
        try await harness.wait("the link down on the health topic", detail: { healthText(harness) }) {
            bridgeHealth(harness)?["link"] as? String == "down"
        }
        try await bridge.link(true)
        try await bridge.fleetState(newest: bridged.last!)
        try await harness.wait("the reconciliation skipped", detail: { healthText(harness) }) {
            bridgeHealth(harness)?["reconciliations_skipped"] as? Int == 1
        }
        #expect(await eventRequests(harness) == startRequests, "a reconnect that lost nothing costs no request")

        // Again, but meanwhile two events reach the API and not the bridge (the cluster lost the
        // session): the relay's state names one the agent never saw.
        try await bridge.link(false)
        try await harness.wait("the link down again", detail: { healthText(harness) }) {
            bridgeHealth(harness)?["link"] as? String == "down"
        }
        let missed = [
            try await bridge.event(9_000_000_004, bridged: false),
            try await bridge.event(9_000_000_005, bridged: false),
        ]
        try await bridge.link(true)
        try await bridge.fleetState(newest: missed.last!)
        try await harness.wait(
            "the reconciliation after the reconnect", timeout: .seconds(60), detail: { healthText(harness) }
        ) {
            Set(harness.receivedEventIDs).isSuperset(of: missed)
        }
        try await harness.wait("its record on the health topic", detail: { healthText(harness) }) {
            bridgeHealth(harness)?["last_reconciliation"] as? String == "the bridge reconnected"
        }
        let health = try #require(bridgeHealth(harness))
        #expect(health["reconciliations"] as? Int == 2)
        #expect(health["last_reconciliation_published"] as? Int == 2, "only what the bridge did not bring")
        #expect(await eventRequests(harness) == startRequests + 2, "one query per feed at the reconnect")
        let received = harness.receivedEventIDs
        for id in bridged + missed {
            #expect(received.filter { $0 == id }.count == 1, "event \(id) reached the subscriber once")
        }

        // The field engineer's view of this gateway: the mode, the bridge, the relay, no lag.
        let report = try await ChildProcess.run(
            BuiltProducts.path(of: "emnify-edge"), ["diagnose", "--config", harness.configPath, "--json"],
            environment: ["EMNIFY_APPLICATION_TOKEN": harness.token, "PATH": "/usr/bin:/bin"], timeout: .seconds(60))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any],
            "\(report.standardOutput)\n\(report.standardError)")
        #expect(object["mode"] as? String == "bridge")
        let checks = try #require(object["checks"] as? [[String: Any]])
        for id in ["bridge", "relays", "event-lag", "agent"] {
            let check = checks.first { $0["id"] as? String == id }
            #expect(check?["status"] as? String == "pass", "\(id): \(String(describing: check))")
        }
        #expect(!report.standardOutput.contains(harness.token), "no secret in the report")

        // A restart: the broker kept the agent's session, so what the bridge brought while the agent
        // was away reaches it at the connect, and the relay's state names it: no request, and
        // nothing published twice.
        let before = await eventRequests(harness)
        harness.agent?.signal(SIGTERM)
        _ = await harness.agent?.wait(timeout: .seconds(10))
        let whileAway = try await bridge.event(9_000_000_006, bridged: true)
        try await bridge.fleetState(newest: whileAway)
        try harness.startAgent()
        try await harness.wait(
            "the restarted agent's start, skipped", timeout: .seconds(60), detail: { healthText(harness) }
        ) {
            bridgeHealth(harness)?["reconciliations_skipped"] as? Int == 1
                && bridgeHealth(harness)?["events_bridged"] as? Int == 1
        }
        #expect(await eventRequests(harness) == before, "a restart that lost nothing costs no request")
        #expect(bridgeHealth(harness)?["reconciliations"] as? Int == 0)
        let all = harness.receivedEventIDs
        for id in bridged + missed + [whileAway] {
            #expect(all.filter { $0 == id }.count == 1, "event \(id) reached the subscriber once")
        }
        await bridge.stop()
        await harness.stop()
    }

    @Test func withNoRelayOnlineTheAgentPollsAndStopsWhenOneIsBack() async throws {
        let (harness, bridge) = try await bridgedHarness(relayOnline: false)
        // After 30 s for the relays' retained statuses, it polls every poll_interval (1 s).
        try await harness.wait("polling", timeout: .seconds(90), detail: { healthText(harness) }) {
            (bridgeHealth(harness)?["fallback"] as? String) == "no relay is online"
        }
        let polled = try await bridge.event(9_000_000_011, bridged: false)
        try await harness.wait("the polled event", timeout: .seconds(60), detail: { healthText(harness) }) {
            harness.receivedEventIDs.contains(polled)
        }

        try await bridge.relay("relay-a", "online")
        try await harness.wait("polling ended", timeout: .seconds(60), detail: { healthText(harness) }) {
            bridgeHealth(harness)?["fallback"] == nil
                && (bridgeHealth(harness)?["last_reconciliation"] as? String)?.hasPrefix("polling ended") == true
        }
        let after = await eventRequests(harness)
        try await Task.sleep(for: .seconds(5))
        #expect(await eventRequests(harness) == after, "no polling once a relay is online")
        #expect(harness.receivedEventIDs.filter { $0 == polled }.count == 1)
        await bridge.stop()
        await harness.stop()
    }
}
