import EdgeMQTT
import EmnifyEmulator
import Foundation
import Glibc
import Testing
import TestSupport

/// Issue 14, defect 8: a missing state directory is created at start; starting without saved state
/// says so; a state the agent cannot save shows on the health topic.
@Suite(.serialized) struct StateDirectoryTests {
    @Test func aMissingStateDirectoryIsCreatedAndABackfillWithoutStateIsLogged() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 3))
        let missing = harness.directory.file("var/lib/emnify-edge")
        let text = try String(contentsOfFile: harness.configPath, encoding: .utf8)
            .replacingOccurrences(
                of: "state_dir = \"\(harness.directory.file("state"))\"", with: "state_dir = \"\(missing)\"")
        try text.write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        try await harness.subscribe()
        try harness.startAgent()
        let agent = try #require(harness.agent)
        try await harness.wait("the state saved in the created directory") {
            FileManager.default.fileExists(atPath: missing + "/state.json")
        }
        #expect(agent.standardError.contains("created the missing state directory"))
        #expect(agent.standardError.contains("no saved state: publishing the backfill of 1h"))
        agent.signal(SIGTERM)
        #expect(await agent.wait(timeout: .seconds(15)).exitCode == 0)

        // Both copies gone: the backfill is published again, and the log says why.
        for name in ["state.json", "state.json.prev"] {
            try? FileManager.default.removeItem(atPath: missing + "/" + name)
        }
        try harness.startAgent()
        let restarted = try #require(harness.agent)
        try await harness.wait("the warning about the missing state") {
            restarted.standardError.contains("warning")
                && restarted.standardError.contains("no saved state: publishing the backfill of 1h")
        }
        await harness.stop()
    }

    /// Before: "cannot save the agent state" in the log at every poll, and health said nothing.
    @Test func aStateThatCannotBeSavedIsOnTheHealthTopic() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 2))
        let state = harness.directory.file("state")
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the first health") { harness.lastPayload("/health") != nil }
        // Immutable: not even root can create the temporary file of the next save.
        try await chattr("+i", state)
        do {
            try await harness.wait("the save error on the health topic") {
                harness.healthLastError?.contains("cannot save state: cannot create \(state)/state.json.tmp") == true
            }
            #expect(harness.agent?.exitCode == nil)
        } catch {
            try? await chattr("-i", state)
            throw error
        }
        try await chattr("-i", state)
        try await harness.wait("the error cleared once saving works again") {
            harness.lastPayload("/health") != nil && harness.healthLastError == nil
        }
        await harness.stop()
    }
}

private func chattr(_ flag: String, _ path: String) async throws {
    let result = try await ChildProcess.run("/usr/bin/chattr", [flag, path], timeout: .seconds(10))
    guard result.exitCode == 0 else { throw TestSupportError("chattr \(flag) \(path): \(result.standardError)") }
}
