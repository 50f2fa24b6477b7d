import Foundation
import Testing
import TestSupport

/// Issue 14, defect 3 through the binary: `config check` and `run` refuse a NUL with its line and
/// column (before, `config check` said OK and `run` used the defaults for everything after it).
@Suite struct ControlCharacterCLITests {
    @Test func configCheckRefusesANULFollowedByGarbage() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("[log]\nlevel = \"info\"\n\0garbage\n[unknown_table]\nx = 1\n", to: "edge.toml")
        let result = try await EdgeCLI.run(["config", "check", "--config", path])
        #expect(result.exitCode == 1)
        #expect(!result.standardOutput.contains("configuration OK"))
        #expect(
            result.standardError.contains("\(path):3:1: syntax error: control character U+0000 (NUL)"),
            "\(result.standardError)")
    }

    @Test func runRefusesANULBeforeTheAgentSection() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.file("state")
        let path = try directory.write(
            "[modem]\nsource = \"static\"\niccid = \"8988303000012345678\"\n\0\n[agent]\nstate_dir = \"\(state)\"\n",
            to: "edge.toml")
        let result = try await EdgeCLI.run(
            ["run", "--config", path], environment: ["EMNIFY_APPLICATION_TOKEN": "t0ken"], timeout: .seconds(30))
        #expect(!result.timedOut)
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("\(path):4:1"), "\(result.standardError)")
    }
}
