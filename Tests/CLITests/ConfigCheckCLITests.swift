import Foundation
import Glibc
import Testing
import TestSupport

@Suite struct ConfigCheckCLITests {
    @Test func theShippedConfigurationIsValid() async throws {
        // The token comes from where run takes it; the shipped file names /etc/emnify-edge/application-token.
        let result = try await EdgeCLI.run(
            ["config", "check", "--config", EdgeCLI.repositoryRoot + "/firmware-config/emnify-edge.toml"],
            environment: ["EMNIFY_APPLICATION_TOKEN": "t0ken-for-the-check"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("configuration OK"))
    }

    @Test func everyProblemIsReportedWithKeyAndLine() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(
            """
            [api]
            url = "ftp://example.com"
            timout = "30s"

            [agent]
            poll_interval = "soon"
            """, to: "broken.toml")
        let result = try await EdgeCLI.run(["config", "check", "--config", path])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("\(path):2: api.url"))
        #expect(result.standardError.contains("\(path):3: api.timout"))
        #expect(result.standardError.contains("did you mean timeout?"))
        #expect(result.standardError.contains("\(path):6: agent.poll_interval"))
    }

    @Test func aMissingFileSaysWhatToDo() async throws {
        let result = try await EdgeCLI.run(["events", "--config", "/nonexistent/emnify-edge.toml"])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("/nonexistent/emnify-edge.toml"))
        // Issue 14, defect 8: the hint names the path given, not a source-tree path.
        for command in [["config", "check"], ["run"]] {
            let given = try await EdgeCLI.run(command + ["--config", "/nonexistent/given.toml"])
            #expect(given.exitCode == 1)
            #expect(
                given.standardError.contains("check the path given with --config, or create /nonexistent/given.toml"))
            #expect(!given.standardError.contains("firmware-config"), "\(given.standardError)")
        }
    }

    /// Issue 14, defect 5: `config check` said "configuration OK" (exit 0) for token files `run`
    /// refuses (exit 1). Both use one validation now, with the token from the same sources.
    @Test func configCheckRefusesWhatRunRefuses() async throws {
        let directory = try TemporaryDirectory()
        let token = directory.file("application-token")
        let path = try directory.write(
            """
            [api]
            token_file = "\(token)"
            [modem]
            source = "static"
            iccid = "8988303000012345678"
            [agent]
            state_dir = "\(directory.path)"
            """, to: "edge.toml")
        for (content, message) in [
            (nil, "no emnify application token"), ("", "is empty"), ("two words\n", "more than one word"),
        ] {
            try? FileManager.default.removeItem(atPath: token)
            if let content {
                try Data(content.utf8).write(to: URL(fileURLWithPath: token))
                chmod(token, 0o600)
            }
            let check = try await EdgeCLI.run(["config", "check", "--config", path])
            #expect(check.exitCode == 1, "\(content.debugDescription): \(check.standardOutput)")
            #expect(!check.standardOutput.contains("configuration OK"))
            #expect(check.standardError.contains(message))
            let json = try await EdgeCLI.run(["config", "check", "--json", "--config", path])
            #expect(json.exitCode == 1 && json.standardOutput.contains("\"valid\":false"))
            let run = try await EdgeCLI.run(["run", "--config", path], timeout: .seconds(30))
            #expect(run.exitCode == 1 && !run.timedOut, "run refuses it as well")
            #expect(run.standardError.contains(message))
            for output in [check.standardOutput, check.standardError, json.standardOutput, run.standardError] {
                #expect(!output.contains("two words"), "the token is never printed")
            }
        }
        // The environment comes first, as for run.
        let fromEnvironment = try await EdgeCLI.run(
            ["config", "check", "--config", path], environment: ["EMNIFY_APPLICATION_TOKEN": "env-t0ken"])
        #expect(fromEnvironment.exitCode == 0)
        #expect(
            fromEnvironment.standardOutput.contains(
                "application token: from environment variable EMNIFY_APPLICATION_TOKEN"))
        #expect(!fromEnvironment.standardOutput.contains("env-t0ken"))
    }
}
