import EdgeCommon
import EdgeMQTT
import EmnifyEmulator
import Foundation
import Glibc
import Testing
import TestSupport

/// `emnify-edge run` end to end: emulator over HTTPS → agent → real mosquitto → subscriber.
@Suite(.serialized) struct AgentRunTests {
    @Test func eventsArriveOnTheirTopicsAndRetainedTopicsTellTheTruth() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 40))
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 10 }
        let injected =
            await harness.emulator.control.inject(.createPDPContext, count: 2)
            + harness.emulator.control.inject(.quotaUsedUp)
        try await harness.wait("the injected events") { Set(harness.receivedEventIDs).isSuperset(of: injected) }

        let pdp = try #require(harness.eventMessages.first { $0.topic.hasSuffix("/event/create-pdp-context") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(pdp.payload)) as? [String: Any])
        #expect((object["event_type"] as? [String: Any])?["id"] as? Int == 3, "the payload is emnify's event JSON")
        #expect(Set(harness.receivedEventIDs).count == harness.receivedEventIDs.count, "no duplicates in steady state")

        try await harness.wait("the state after the injected events") {
            harness.lastPayload("/state")?.contains("\"data_quota\":\"used_up\"") == true
        }
        #expect(harness.lastPayload("/status") == "online")
        let identity = try #require(harness.lastPayload("/identity"))
        #expect(identity.contains("\"sim_id\":\(harness.emulator.emulator.simID)"))
        #expect(identity.contains("\"iccid\":\"\(harness.iccid19)\""))
        let health = try #require(harness.lastPayload("/health"))
        #expect(health.contains("\"requests_today\""))
        #expect(!(harness.agent?.standardError.contains(harness.token) ?? true), "the token never reaches a log line")
    }

    @Test func theLastWillSaysOfflineWhenTheAgentIsKilled() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 5))
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("online") { harness.lastPayload("/status") == "online" }
        harness.agent?.signal(SIGKILL)
        try await harness.wait("the Last Will", timeout: .seconds(15)) { harness.lastPayload("/status") == "offline" }
    }

    @Test func sigtermPublishesOfflineAndExitsCleanly() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 5))
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the first poll") { harness.lastPayload("/health") != nil }
        harness.agent?.signal(SIGTERM)
        let result = await harness.agent!.wait(timeout: .seconds(10))
        #expect(result.exitCode == 0 && !result.timedOut, "stopped within 10 s")
        try await harness.wait("offline") { harness.lastPayload("/status") == "offline" }
    }

    @Test func nothingIsLostWhileTheBrokerIsDown() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 5))
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 4 }
        _ = harness.broker.stop()
        var injected = await harness.emulator.control.inject(.updateLocation, count: 3)
        try await Task.sleep(for: .seconds(3))  // several polls' worth of outage
        try harness.broker.start()
        injected += await harness.emulator.control.inject(.deletePDPContext)
        try await harness.wait("every event after the outage") {
            Set(harness.receivedEventIDs).isSuperset(of: injected)
        }
        try await harness.wait("online again") { harness.lastPayload("/status") == "online" }
    }

    @Test func aRestartedAgentContinuesWithoutDuplicates() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 20))
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 15 }
        try await Task.sleep(for: .seconds(1.5))
        harness.agent?.signal(SIGTERM)
        _ = await harness.agent!.wait(timeout: .seconds(10))
        let before = harness.receivedEventIDs.count
        let injected = await harness.emulator.control.inject(.purgeLocation)
        try harness.startAgent()
        try await harness.wait("the event injected while stopped") {
            Set(harness.receivedEventIDs).isSuperset(of: injected)
        }
        #expect(harness.receivedEventIDs.count == before + 1, "state kept: only the new event")
    }
}

extension AgentRunTests {
    @Test func sighupReloadsTheConfigurationAndKeepsPublishing() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 5))
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 4 }
        // A new topic prefix takes effect after SIGHUP.
        let text = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "[mqtt]\n", with: "[mqtt]\ntopic_prefix = \"reloaded\"\n")
            .write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        harness.agent?.signal(SIGHUP)
        try await harness.wait("the reloaded prefix") {
            harness.allMessages.contains { $0.topic.hasPrefix("reloaded/") && $0.topic.hasSuffix("/status") }
        }
        #expect(harness.agent?.exitCode == nil, "still running")
        await harness.stop()
    }
}

extension AgentRunTests {
    @Test func mqtt5SubscribersGetContentTypeAndUserProperties() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 0))
        try harness.startAgent()
        let subscriber = try RunningProcess(
            "/usr/bin/mosquitto_sub",
            [
                "-h", "127.0.0.1", "-p", String(harness.broker.port), "-V", "mqttv5", "-C", "1", "-t",
                "emnify/+/event/#", "-F", "%t|%C|%P",
            ])
        try await Task.sleep(for: .milliseconds(500))
        let ids = await harness.emulator.control.inject(.createPDPContext)
        let result = await subscriber.wait(timeout: .seconds(20))
        let line = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.hasPrefix("emnify/\(harness.iccid19)/event/create-pdp-context|application/json|"))
        #expect(line.contains("event_id:\(ids[0])") && line.contains("event_type_id:3") && line.contains("severity:"))
        await harness.stop()
    }
}

extension AgentRunTests {
    @Test func sigtermEndsTheWaitForABrokerThatIsNotThere() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 0))
        _ = harness.broker.stop()
        try harness.startAgent()
        try await Task.sleep(for: .seconds(3))  // inside the first connection attempt
        #expect(harness.agent?.exitCode == nil, "still waiting for the broker")
        harness.agent?.signal(SIGTERM)
        let result = await harness.agent!.wait(timeout: .seconds(10))
        #expect(!result.timedOut && result.exitCode == 0)
        await harness.stop()
    }
}
