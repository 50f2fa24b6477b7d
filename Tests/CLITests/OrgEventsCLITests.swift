import EmnifyEmulator
import Foundation
import Testing
import TestSupport

/// `emnify-edge events --org`, `--user`, `--summary` and `--list-types` against the emulator's
/// organisation of many SIMs (no modem needed for these).
@Suite(.serialized) struct OrgEventsCLITests {
    let token = "cli-org-application-token-7c1d"

    func emulator() async throws -> TestEmulator {
        try await TestEmulator.start(.init(tls: .selfSigned, applicationToken: token, history: 0))
    }

    func run(_ emulator: TestEmulator, _ arguments: [String]) async throws -> ChildProcess.Result {
        try await EdgeCLI.run(
            ["events", "--config", try writeConfiguration(for: emulator)] + arguments,
            environment: ["EMNIFY_APPLICATION_TOKEN": token])
    }

    @Test func theOrganisationsEventsAsJSONAndAsASummary() async throws {
        let emulator = try await emulator()
        defer { Task { await emulator.stop() } }
        try await emulator.growFleet(to: 50)
        let ids = try await emulator.generateEvents(count: 120)
        _ = try await emulator.controlCall("POST", "events", json: #"{"type":"user_verified","count":2}"#)
        let json = try await run(emulator, ["--org", "--since", "1h", "--json"])
        #expect(json.exitCode == 0, "\(json.standardError)")
        let lines = json.standardOutput.split(separator: "\n")
        #expect(lines.count == 122)
        #expect(
            Set(ids).isSubset(
                of: Set(
                    lines.compactMap { line in
                        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? Int64
                    })))

        let summary = try await run(emulator, ["--org", "--since", "1h", "--summary"])
        #expect(summary.exitCode == 0, "\(summary.standardError)")
        #expect(
            summary.standardOutput.hasPrefix("122 events in the last 1h (2 without a SIM"), "\(summary.standardOutput)")
        #expect(summary.standardOutput.contains("EVENT TYPE"))
        #expect(summary.standardOutput.contains("SEVERITY"))
        #expect(!summary.standardOutput.contains(token) && !summary.standardError.contains(token))
    }

    @Test func eventTypesWithTheirTopicSlugs() async throws {
        let emulator = try await emulator()
        defer { Task { await emulator.stop() } }
        let result = try await run(emulator, ["--list-types"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("ID"))
        #expect(result.standardOutput.contains("create-pdp-context"))
    }

    @Test func contradictoryOptionsAreRefusedBeforeAnyRequest() async throws {
        let emulator = try await emulator()
        defer { Task { await emulator.stop() } }
        let both = try await run(emulator, ["--org", "--user", "7"])
        #expect(both.exitCode == 64)
        #expect(both.standardError.contains("--org and --user"))
        let summary = try await run(emulator, ["--summary"])
        #expect(summary.exitCode == 64)
        #expect(summary.standardError.contains("--summary needs --org or --user"))
        #expect(await emulator.control.counters().totalRequests == 0)
    }
}
