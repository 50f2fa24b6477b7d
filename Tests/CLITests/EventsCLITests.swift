import EmnifyEmulator
import Foundation
import Testing
import TestSupport

/// `emnify-edge events` end to end: the built binary, libcurl, HTTPS, the emulator.
@Suite(.serialized) struct EventsCLITests {
    let token = "cli-test-application-token-5f2a"

    func emulator(_ configure: (inout EmulatorServer.Configuration) -> Void = { _ in }) async throws -> TestEmulator {
        var configuration = EmulatorServer.Configuration(tls: .selfSigned, applicationToken: token, history: 60)
        configure(&configuration)
        return try await TestEmulator.start(configuration)
    }

    @Test func printsThePortalTable() async throws {
        let emulator = try await emulator()
        defer { Task { await emulator.stop() } }
        let ids = await emulator.control.inject(.createPDPContext, count: 1)
        let config = try writeConfiguration(for: emulator)
        let result = try await EdgeCLI.run(
            ["events", "--config", config, "--since", "7d"], environment: ["EMNIFY_APPLICATION_TOKEN": token])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.first?.hasPrefix("SEVERITY  WHEN") == true)
        #expect(lines.count > 10)
        #expect(result.standardOutput.contains(String(ids[0])))
        #expect(result.standardOutput.contains("Create PDP Context ("), "PDP events show the network generation")
        #expect(!result.standardOutput.contains(token) && !result.standardError.contains(token))
    }

    @Test func printsJSONLinesExactlyAsEmnifySentThem() async throws {
        let emulator = try await emulator()
        defer { Task { await emulator.stop() } }
        let config = try writeConfiguration(for: emulator)
        let result = try await EdgeCLI.run(
            ["events", "--config", config, "--since", "30d", "--json", "--type", "update-location", "--type", "3"],
            environment: ["EMNIFY_APPLICATION_TOKEN": token])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(!lines.isEmpty)
        var previous = ""
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let type = try #require((object["event_type"] as? [String: Any])?["id"] as? Int)
            #expect(type == 1 || type == 3)
            let timestamp = try #require(object["timestamp"] as? String)
            #expect(timestamp >= previous || timestamp.hasSuffix("+0000") || previous.hasSuffix("+0000"))
            previous = timestamp
        }
    }

    @Test func aWrongTokenFailsWithAClearMessage() async throws {
        let emulator = try await emulator()
        defer { Task { await emulator.stop() } }
        let result = try await EdgeCLI.run(
            ["events", "--config", try writeConfiguration(for: emulator)],
            environment: ["EMNIFY_APPLICATION_TOKEN": "wrong-token-123"])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("emnify rejected the application token"))
        #expect(!result.standardError.contains("wrong-token-123"))
    }

    @Test func anUnknownSIMFailsWithAClearMessage() async throws {
        let emulator = try await emulator()
        defer { Task { await emulator.stop() } }
        let config = try writeConfiguration(for: emulator, iccid: "89490200000000000001")
        let result = try await EdgeCLI.run(
            ["events", "--config", config], environment: ["EMNIFY_APPLICATION_TOKEN": token])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("no SIM with ICCID 89490200000000000001"))
    }

    @Test func anUntrustedCertificateFails() async throws {
        let emulator = try await emulator { $0.tls = .untrusted }
        defer { Task { await emulator.stop() } }
        let result = try await EdgeCLI.run(
            ["events", "--config", try writeConfiguration(for: emulator)],
            environment: ["EMNIFY_APPLICATION_TOKEN": token])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("TLS certificate was not trusted"))
    }

    @Test func anUnreachableAPIFails() async throws {
        let emulator = try await emulator()
        let config = try writeConfiguration(for: emulator)
        await emulator.stop()
        let result = try await EdgeCLI.run(
            ["events", "--config", config], environment: ["EMNIFY_APPLICATION_TOKEN": token])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("cannot connect to the API"))
    }

    @Test func aMissingTokenSaysTheThreeWaysToProvideIt() async throws {
        let emulator = try await emulator()
        defer { Task { await emulator.stop() } }
        let result = try await EdgeCLI.run(["events", "--config", try writeConfiguration(for: emulator)])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("EMNIFY_APPLICATION_TOKEN"))
    }
}
