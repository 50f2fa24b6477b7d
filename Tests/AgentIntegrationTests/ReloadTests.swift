import EdgeCommon
import EdgeMQTT
import EmnifyEmulator
import Foundation
import Glibc
import Testing
import TestSupport

/// Issue 14, defects 1 and 2: SIGHUP validates the new configuration before it touches the running
/// session, and no signal kills the agent before its first broker connection.
@Suite(.serialized) struct ReloadTests {
    /// Every listed breakage, one after the other, on one running agent that takes its token from a
    /// file (so that an empty token file is a breakage too): each is refused, logged with file and
    /// line, put on the health topic, and the agent keeps publishing on the previous configuration.
    @Test func aBrokenConfigurationIsRefusedAndTheAgentKeepsRunning() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 3))
        let tokenFile = harness.directory.file("application-token")
        try (harness.token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let valid = try String(contentsOfFile: harness.configPath, encoding: .utf8)
            .replacingOccurrences(of: harness.directory.file("no-token-file"), with: tokenFile)
        try valid.write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        try await harness.subscribe()
        let agent = try RunningProcess(
            BuiltProducts.path(of: "emnify-edge"), ["run", "--config", harness.configPath],
            environment: ["PATH": "/usr/bin:/bin"])
        defer { agent.kill() }
        func stderr() -> String { agent.standardError }
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 3 }

        let lines = valid.components(separatedBy: "\n")
        let agentLine = try #require(lines.firstIndex(of: "[agent]")) + 1
        let pollLine = try #require(lines.firstIndex { $0.hasPrefix("poll_interval") }) + 1
        let path = harness.configPath
        let breakages: [(what: String, apply: () throws -> Void, expected: String)] = [
            (
                "[api without ]",
                {
                    try valid.replacingOccurrences(of: "[api]\n", with: "[api\n").write(
                        toFile: path, atomically: true, encoding: .utf8)
                }, "\(path):1:"
            ),
            (
                "an unknown key",
                {
                    try valid.replacingOccurrences(of: "[agent]\n", with: "[agent]\npol_interval = \"5s\"\n").write(
                        toFile: path, atomically: true, encoding: .utf8)
                }, "\(path):\(agentLine + 1): agent.pol_interval"
            ),
            (
                "poll_interval 0s",
                {
                    try valid.replacingOccurrences(of: "poll_interval = \"1s\"", with: "poll_interval = \"0s\"").write(
                        toFile: path, atomically: true, encoding: .utf8)
                }, "\(path):\(pollLine): agent.poll_interval"
            ),
            (
                "an empty token file",
                {
                    try valid.write(toFile: path, atomically: true, encoding: .utf8)
                    try "".write(toFile: tokenFile, atomically: false, encoding: .utf8)
                }, "file \(tokenFile) is empty"
            ),
            (
                "a deleted file",
                {
                    try (harness.token + "\n").write(toFile: tokenFile, atomically: false, encoding: .utf8)
                    try FileManager.default.removeItem(atPath: path)
                }, "no configuration at \(path)"
            ),
        ]
        for (index, breakage) in breakages.enumerated() {
            try breakage.apply()
            agent.signal(SIGHUP)
            try await harness.wait("the refusal of \(breakage.what)") {
                stderr().components(separatedBy: "the new configuration is refused").count == index + 2
            }
            try await harness.wait("the problem of \(breakage.what) on the health topic") {
                let error = harness.healthLastError ?? ""
                return error.contains("the configuration reload was refused") && error.contains(breakage.expected)
            }
            #expect(stderr().contains(breakage.expected), "logged with file and line: \(breakage.what)")
            #expect(agent.exitCode == nil, "still running after \(breakage.what)")
            let injected = await harness.emulator.control.inject(.createPDPContext)
            try await harness.wait("an event after \(breakage.what)") {
                Set(harness.receivedEventIDs).isSuperset(of: injected)
            }
        }
        #expect(
            !stderr().contains("MQTT stopped") && !stderr().contains("MQTT disconnected"),
            "the session was never torn down")
        #expect(!stderr().contains(harness.token), "the token never reaches the log")

        // A valid configuration is applied.
        try valid.replacingOccurrences(of: "[mqtt]\n", with: "[mqtt]\ntopic_prefix = \"reloaded\"\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        try await harness.wait("the reloaded prefix") {
            harness.allMessages.contains { $0.topic.hasPrefix("reloaded/") && $0.topic.hasSuffix("/health") }
        }
        let reloadedHealth = try #require(
            harness.allMessages.last { $0.topic.hasPrefix("reloaded/") && $0.topic.hasSuffix("/health") })
        #expect(!String(decoding: reloadedHealth.payload, as: UTF8.self).contains("reload was refused"))
        agent.signal(SIGTERM)
        let result = await agent.wait(timeout: .seconds(15))
        #expect(result.exitCode == 0 && !result.timedOut)
        await harness.stop()
    }

    /// Before: exit 129 and nothing logged. Now SIGHUP while waiting for the broker reloads (a broken
    /// file is refused, the wait goes on), the agent connects once the broker is there, and SIGTERM
    /// ends it with 0.
    @Test func sighupBeforeTheFirstBrokerConnectionDoesNotKillTheAgent() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 0))
        _ = harness.broker.stop()
        try harness.startAgent()
        let agent = try #require(harness.agent)
        func attempts() -> Int {
            agent.standardError.components(separatedBy: "cannot connect to the MQTT broker").count - 1
        }
        try await harness.wait("a failed connection attempt") { attempts() >= 1 }
        agent.signal(SIGHUP)
        try await harness.wait("the reload while starting") {
            agent.standardError.contains("SIGHUP while starting: reloading the configuration")
        }
        let before = attempts()
        try await harness.wait("another connection attempt after the reload", timeout: .seconds(60)) {
            attempts() > before
        }
        #expect(agent.exitCode == nil)

        // A broken file is refused while starting too; the start goes on with the previous one.
        let valid = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        try valid.replacingOccurrences(of: "[api]\n", with: "[api\n").write(
            toFile: harness.configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        try await harness.wait("the refusal while starting") {
            agent.standardError.contains("the new configuration is refused")
        }
        try valid.write(toFile: harness.configPath, atomically: true, encoding: .utf8)

        try harness.broker.start()
        try await harness.subscribe()
        try await harness.wait("online once the broker is there", timeout: .seconds(90)) {
            harness.lastPayload("/status") == "online"
        }
        agent.signal(SIGTERM)
        let result = await agent.wait(timeout: .seconds(15))
        #expect(
            !result.timedOut && result.exitCode == 0, "exit \(result.exitCode)\n\(result.standardError.suffix(2000))")
        await harness.stop()
    }

    @Test func sighupAndSigtermBeforeTheFirstBrokerConnection() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 0))
        _ = harness.broker.stop()
        try harness.startAgent()
        let agent = try #require(harness.agent)
        try await harness.wait("a failed connection attempt") {
            agent.standardError.contains("cannot connect to the MQTT broker")
        }
        agent.signal(SIGHUP)
        try await harness.wait("the SIGHUP logged") { agent.standardError.contains("SIGHUP while starting") }
        agent.signal(SIGTERM)
        let result = await agent.wait(timeout: .seconds(15))
        #expect(
            !result.timedOut && result.exitCode == 0, "exit \(result.exitCode)\n\(result.standardError.suffix(2000))")
        #expect(result.standardError.contains("while starting: stopping"))
        await harness.stop()
    }
}

extension AgentHarness {
    /// `last_error` of the newest health message, decoded (the JSON escapes the slashes of paths).
    var healthLastError: String? {
        guard let payload = lastPayload("/health"),
            let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
        else { return nil }
        return object["last_error"] as? String
    }
}
