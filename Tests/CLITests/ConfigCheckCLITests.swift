import Foundation
import Testing
import TestSupport

@Suite struct ConfigCheckCLITests {
    @Test func theShippedConfigurationIsValid() async throws {
        let result = try await EdgeCLI.run(["config", "check", "--config", EdgeCLI.repositoryRoot + "/firmware-config/emnify-edge.toml"])
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
    }
}
