import Foundation
import Testing
import TestSupport

/// `emnify-edge config check --relay`, and the relay's file found by its name.
@Suite struct RelayConfigCheckCLITests {
    static let tokens = [
        "EMNIFY_APPLICATION_TOKEN": "t0ken-for-the-check", "EMNIFY_WEBHOOK_TOKEN": "webhook-secret-for-the-check",
    ]

    @Test func theShippedRelayFileIsValidAndDetectedByItsName() async throws {
        let directory = try TemporaryDirectory()
        // The shipped file's state_dir (/var/lib/emnify-edge-relay) is absent here: a warning, not a problem.
        let shipped = try String(contentsOfFile: EdgeCLI.repositoryRoot + "/packaging/relay.toml", encoding: .utf8)
        let path = try directory.write(shipped, to: "relay.toml")
        let result = try await EdgeCLI.run(["config", "check", "--config", path], environment: Self.tokens)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("configuration OK: \(path)\n"))
        #expect(result.standardOutput.contains("webhook token: from environment variable EMNIFY_WEBHOOK_TOKEN"))
        #expect(result.standardOutput.contains("webhook: http://127.0.0.1:8088/emnify/events"))
        #expect(!result.standardOutput.contains("webhook-secret-for-the-check"))
        // The same file under another name is the agent's unless --relay says otherwise ([relay] is not the agent's).
        let renamed = try directory.write(shipped, to: "fleet.toml")
        let asAgent = try await EdgeCLI.run(["config", "check", "--config", renamed], environment: Self.tokens)
        #expect(asAgent.exitCode == 1)
        #expect(asAgent.standardError.contains("\(renamed):"))
        #expect(asAgent.standardError.contains("[relay] belongs in the relay's file (/etc/emnify-edge/relay.toml"))
        let withFlag = try await EdgeCLI.run(
            ["config", "check", "--relay", "--config", renamed], environment: Self.tokens)
        #expect(withFlag.exitCode == 0, "\(withFlag.standardError)")
    }

    @Test func everyProblemIsReportedWithFileLineAndKey() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(
            """
            [mqtt]
            host = "nats-1"
            hosts = ["nats-1:1883", "nats-2"]

            [agent]
            poll_interval = "30s"

            [relay]
            listen = "8088"
            poll_intervall = "1m"
            """, to: "relay.toml")
        let result = try await EdgeCLI.run(["config", "check", "--config", path], environment: Self.tokens)
        #expect(result.exitCode == 1)
        let errors = result.standardError
        #expect(errors.contains("\(path):3: mqtt.hosts: entry 2: \"nats-2\" has no port; write \"nats-2:1883\""))
        #expect(
            errors.contains(
                "\(path):5: agent: [agent] belongs in the agent's file (/etc/emnify-edge/emnify-edge.toml, emnify-edge run)"
            ))
        #expect(errors.contains("\(path):9: relay.listen:"))
        #expect(
            errors.contains(
                "\(path):10: relay.poll_intervall: unknown key poll_intervall in [relay]; did you mean poll_interval?"))
        #expect(errors.contains("4 problems in \(path)"))
        let json = try await EdgeCLI.run(["config", "check", "--json", "--config", path], environment: Self.tokens)
        #expect(json.exitCode == 1 && json.standardOutput.contains("\"valid\":false"))
        #expect(json.standardOutput.contains("\"key\":\"mqtt.hosts\",\"line\":3"))
    }

    @Test func withoutAWebhookTokenTheRelaysCheckFails() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(
            "[relay]\nwebhook_token_file = \"\(directory.file("absent"))\"\n", to: "relay.toml")
        let result = try await EdgeCLI.run(
            ["config", "check", "--config", path], environment: ["EMNIFY_APPLICATION_TOKEN": "t0ken"])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("error: no webhook token: set EMNIFY_WEBHOOK_TOKEN"))
        #expect(result.standardError.contains("emnify-edge relay refuses \(path)"))
    }

    @Test func aMissingRelayFileNamesTheRelaysDefault() async throws {
        let result = try await EdgeCLI.run(["config", "check", "--relay", "--config", "/nonexistent/relay.toml"])
        #expect(result.exitCode == 1)
        #expect(
            result.standardError.contains(
                "check the path given with --config, or create /nonexistent/relay.toml (every key has a default: an "
                    + "empty file is valid; /etc/emnify-edge/relay.toml holds the commented default)"))
    }
}
