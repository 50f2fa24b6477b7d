import Foundation
import Testing
import TestSupport

/// The help text is a contract with field engineers and the man pages: a change must be
/// deliberate. To accept a change, run the tests with `UPDATE_GOLDEN=1` and review the diff.
@Suite struct HelpContractTests {
    static let commands: [[String]] = [
        [], ["run"], ["events"], ["identity"], ["config", "check"], ["diagnose"], ["bridge-config"],
    ]

    @Test(arguments: commands)
    func helpMatchesTheGoldenFile(command: [String]) async throws {
        let result = try await EdgeCLI.run(command + ["--help"])
        #expect(result.exitCode == 0)
        let name = (["emnify-edge"] + command).joined(separator: "-") + ".txt"
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Golden/\(name)")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try result.standardOutput.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(
            result.standardOutput == expected, "help of '\(command.joined(separator: " "))' changed; see \(golden.path)"
        )
    }

    @Test func versionIsPrinted() async throws {
        let result = try await EdgeCLI.run(["--version"])
        #expect(result.exitCode == 0)
        #expect(result.standardOutput.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
    }

    @Test func anUnknownOptionShowsUsageAndFails() async throws {
        let result = try await EdgeCLI.run(["events", "--sinse", "2h"])
        #expect(result.exitCode == 64)
        #expect(result.standardError.contains("Unknown option '--sinse'"))
    }
}
