import EmnifyEmulator
import Foundation
import TestSupport
import Testing

/// `diagnose` in bridge mode, against a real mosquitto and the emulator. The bridge's notification
/// and the relays' statuses are what the test publishes retained on the local broker: on a gateway
/// that is exactly what they are there (mosquitto's bridge leaves them). The state file is the one
/// a real agent wrote while polling the emulator, stopped before the diagnosis.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DiagnoseBridgeTests {
    /// A bridged gateway whose agent has every event the API has so far.
    func bridgedGateway() async throws -> DiagnoseFixture {
        let fixture = try await DiagnoseFixture(events: "bridge")
        do {
            try await fixture.startAgent(configPath: try fixture.configuration(events: "poll"))
            await fixture.stopAgent()
        } catch {
            await fixture.stop()
            throw error
        }
        return fixture
    }

    func topic(_ fixture: DiagnoseFixture, _ leaf: String) -> String {
        "emnify/\(fixture.emulator.emulator.identity.iccid)/\(leaf)"
    }

    @Test func bridgeUpARelayOnlineAndNoLagPass() async throws {
        let fixture = try await bridgedGateway()
        try await fixture.using {
            try await fixture.publishRetained(topic(fixture, "bridge"), "1")
            try await fixture.publishRetained("emnify/relay/relay-a/status", "online")
            try await fixture.publishRetained("emnify/relay/relay-b/status", "offline")

            let (result, object, checks) = try await fixture.diagnoseJSON()
            #expect(object["mode"] as? String == "bridge")
            let bridge = try #require(checks["bridge"], "\(result.standardOutput)")
            #expect(bridge["status"] as? String == "pass", "\(bridge)")
            let relays = try #require(checks["relays"])
            #expect(relays["status"] as? String == "pass", "\(relays)")
            #expect(relays["finding"] as? String == "1 relay(s) online: relay-a", "\(relays)")
            #expect((relays["details"] as? [String: String])?["relays"] == "relay-a online, relay-b offline")
            let lag = try #require(checks["event-lag"])
            #expect(lag["status"] as? String == "pass", "\(lag)")
            #expect((lag["details"] as? [String: String])?["events_missing"] == "0", "\(lag)")

            // In chain order: after the local broker, before the agent.
            let ids = try #require(object["checks"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(
                ids == [
                    "configuration", "clock", "modem", "network", "account", "connectivity", "events", "broker",
                    "bridge", "relays", "event-lag", "agent",
                ])

            let text = try await fixture.diagnose()
            #expect(text.standardOutput.contains("\nmode: bridge ("), "\(text.standardOutput)")
            #expect(text.standardOutput.contains("PASS  Bridge to the fleet cluster"), "\(text.standardOutput)")
            DiagnoseFixture.expectNoSecrets(text.standardOutput + text.standardError, "the text report")
            DiagnoseFixture.expectNoSecrets(result.standardOutput + result.standardError, "the JSON report")
        }
    }

    @Test func aBridgeThatIsDownFailsWithWhatToDo() async throws {
        let fixture = try await bridgedGateway()
        try await fixture.using {
            try await fixture.publishRetained(topic(fixture, "bridge"), "0")
            try await fixture.publishRetained("emnify/relay/relay-a/status", "online")
            let (result, _, checks) = try await fixture.diagnoseJSON()
            #expect(result.exitCode == 1)
            let bridge = try #require(checks["bridge"])
            #expect(bridge["status"] as? String == "fail", "\(bridge)")
            #expect((bridge["finding"] as? String)?.contains("the bridge is down") == true, "\(bridge)")
            let next = try #require(bridge["next_step"] as? String)
            for advice in [
                "coverage", "cluster addresses and credentials", "journalctl -u mosquitto",
                "/etc/mosquitto/conf.d/emnify-bridge.conf",
            ] {
                #expect(next.contains(advice), "\(advice) missing: \(next)")
            }
            // What the relays' topics say comes through a bridge that is down: the last word it brought.
            let relays = try #require(checks["relays"])
            #expect((relays["finding"] as? String)?.contains("as last bridged") == true, "\(relays)")
        }
    }

    @Test func noBridgeNotificationFails() async throws {
        let fixture = try await bridgedGateway()
        try await fixture.using {
            let (result, _, checks) = try await fixture.diagnoseJSON()
            #expect(result.exitCode == 1)
            let bridge = try #require(checks["bridge"])
            #expect(bridge["status"] as? String == "fail", "\(bridge)")
            #expect(
                bridge["finding"] as? String
                    == "no bridge notification on the local broker: the bridge is not configured "
                    + "(emnify-edge bridge-config) or notifications are off", "\(bridge)")
            #expect((bridge["next_step"] as? String)?.contains("emnify-edge bridge-config") == true)
            let relays = try #require(checks["relays"])
            #expect(relays["status"] as? String == "warn", "\(relays)")
            #expect((relays["finding"] as? String)?.contains("no relay status on the local broker") == true)
        }
    }

    @Test func everyRelayOfflineSaysTheAgentFallsBackToPolling() async throws {
        let fixture = try await bridgedGateway()
        try await fixture.using {
            try await fixture.publishRetained(topic(fixture, "bridge"), "1")
            try await fixture.publishRetained("emnify/relay/relay-a/status", "offline")
            try await fixture.publishRetained("emnify/relay/relay-b/status", "offline")
            let (result, _, checks) = try await fixture.diagnoseJSON()
            let relays = try #require(checks["relays"], "\(result.standardOutput)")
            #expect(relays["status"] as? String == "warn", "\(relays)")
            let finding = try #require(relays["finding"] as? String)
            #expect(finding.contains("every relay is offline (2 known)"), "\(finding)")
            #expect(
                finding.contains("the agent falls back to polling the API (every 1 s) while no relay is online"),
                "\(finding)")
            #expect((relays["next_step"] as? String)?.contains("emnify-edge-relay") == true)
            #expect(checks["bridge"]?["status"] as? String == "pass")
        }
    }

    @Test func twoEventsTheGatewayLacksAreAWarningThatNamesThem() async throws {
        let fixture = try await bridgedGateway()
        try await fixture.using {
            try await fixture.publishRetained(topic(fixture, "bridge"), "1")
            try await fixture.publishRetained("emnify/relay/relay-a/status", "online")
            // Raised in the API after the agent's last save: the bridge did not bring them.
            let injected = await fixture.emulator.control.inject(.deletePDPContext, count: 2)
            #expect(injected.count == 2)

            let (result, _, checks) = try await fixture.diagnoseJSON()
            let lag = try #require(checks["event-lag"], "\(result.standardOutput)")
            #expect(lag["status"] as? String == "warn", "\(lag)")
            let finding = try #require(lag["finding"] as? String)
            #expect(finding.contains("the API has 2 event(s) the gateway lacks"), "\(finding)")
            #expect(finding.contains("behind the API's"), "\(finding)")
            let details = try #require(lag["details"] as? [String: String])
            #expect(details["events_missing"] == "2")
            #expect(details["lag_seconds"].flatMap(Int.init) != nil, "\(details)")
            #expect(details["api_newest"]?.contains("id \(injected.max()!)") == true, "\(details)")
            let next = try #require(lag["next_step"] as? String)
            #expect(next.contains("the bridge's next reconnect or after quiet_limit (15 min)"), "\(next)")
            #expect(next.contains("systemctl restart emnify-edge"), "\(next)")
            DiagnoseFixture.expectNoSecrets(result.standardOutput + result.standardError, "the JSON report")
        }
    }

    /// A bridged agent reads the API only to close a gap: a last read hours ago is no warning there,
    /// while a polling agent with the same state is warned about.
    @Test func aBridgedAgentIsNotJudgedByTheAgeOfItsLastAPIRead() async throws {
        let fixture = try await DiagnoseFixture(pollInterval: "1h")
        try await fixture.using {
            try await fixture.startAgent()
            // Frozen, the agent still runs (this configuration's process) but cannot save over the edit.
            fixture.freezeAgent(true)
            let statePath = fixture.directory.file("state/state.json")
            var state = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath)))
                    as? [String: Any])
            // 4 h 10 min: the API's clock (learnt from its Date header) may lag this machine's by a second,
            // and exactly 4 h would then read as "3 h".
            let fourHoursAgo = Int64(Date().timeIntervalSince1970 * 1000) - 4 * 3_600_000 - 600_000
            state["last_successful_poll_ms"] = fourHoursAgo
            try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: statePath))

            let (_, _, polling) = try await fixture.diagnoseJSON()
            let pollAgent = try #require(polling["agent"])
            #expect(pollAgent["status"] as? String == "warn", "\(pollAgent)")
            #expect((pollAgent["finding"] as? String)?.contains("the last successful poll was 4 h ago") == true)

            try fixture.configuration(events: "bridge", replacing: true)
            let (_, _, bridged) = try await fixture.diagnoseJSON()
            let bridgeAgent = try #require(bridged["agent"])
            #expect(bridgeAgent["status"] as? String == "pass", "\(bridgeAgent)")
            #expect((bridgeAgent["finding"] as? String)?.contains("last read of the API 4 h ago") == true)
            fixture.freezeAgent(false)
        }
    }

    @Test func pollModeNamesItsModeAndRunsNoBridgeCheck() async throws {
        let fixture = try await DiagnoseFixture(broker: false)
        try await fixture.using {
            let (_, object, checks) = try await fixture.diagnoseJSON()
            #expect(object["mode"] as? String == "poll")
            #expect(checks["bridge"] == nil && checks["relays"] == nil && checks["event-lag"] == nil)
            let text = try await fixture.diagnose()
            #expect(
                text.standardOutput.contains("\nmode: poll (the agent polls the emnify API)\n\n"),
                "\(text.standardOutput)")
        }
    }
}
